"""The per-sample pipeline of an augmented training split."""

from __future__ import annotations

from typing import Callable

import torch

from debugkit.data.normalization import normalize


class SampleTransform:
    """Augment one raw image, then normalise it, then optionally flatten it.

    Augmenting before normalising keeps rotation/crop fill values at the black
    background (0) instead of the data mean.

    Args:
        augment: Random transform on a ``(C, H, W)`` tensor, or ``None``.
        mean: Training mean (``(C, 1, 1)`` or ``(C, H, W)``) or ``None``.
        std: Training standard deviation, same shape as ``mean``.
        flatten: Return a 1-D tensor.
    """

    def __init__(
        self,
        augment: Callable[[torch.Tensor], torch.Tensor] | None,
        mean: torch.Tensor | None,
        std: torch.Tensor | None,
        flatten: bool = False,
    ):
        self.augment = augment
        self.mean = mean
        self.std = std
        self.flatten = flatten

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        if self.augment is not None:
            image = self.augment(image)
        image = normalize(image, self.mean, self.std)
        return image.reshape(-1) if self.flatten else image

    def __repr__(self) -> str:
        return f"SampleTransform(augment={self.augment!r}, normalize={self.mean is not None}, flatten={self.flatten})"
