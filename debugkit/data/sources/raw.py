"""What every data-set source hands to :func:`debugkit.data.load_dataset`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch


@dataclass
class RawData:
    """Images and labels exactly as stored on disk, before any preprocessing.

    Attributes:
        train_images: ``(N, C, H, W)`` tensor of raw pixel values (``uint8`` for the
            image sets, integers 0..16 for ``digits``).
        train_labels: ``(N,)`` int64 class indices.
        test_images: The official test images, or ``None`` when the set has no
            official split (then the test split is carved out of ``train_*``).
        test_labels: Labels of ``test_images`` or ``None``.
        class_names: Human-readable name of each class index.
        max_value: Largest possible raw pixel value; dividing by it maps pixels to [0, 1].
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor | None
    test_labels: torch.Tensor | None
    class_names: Sequence[str]
    max_value: float = 255.0

    def __post_init__(self) -> None:
        pairs = [("train", self.train_images, self.train_labels)]
        if self.test_images is not None:
            pairs.append(("test", self.test_images, self.test_labels))
        for split, images, labels in pairs:
            if images.ndim != 4:
                raise ValueError(f"{split} images must be (N, C, H, W), got shape {tuple(images.shape)}")
            if labels is None or labels.shape != (images.shape[0],):
                raise ValueError(f"{split} labels must have shape ({images.shape[0]},)")
            if len(labels) and (labels.min() < 0 or labels.max() >= len(self.class_names)):
                raise ValueError(
                    f"{split} labels must lie in 0..{len(self.class_names) - 1} "
                    f"(one per class name), found {int(labels.min())}..{int(labels.max())}"
                )
