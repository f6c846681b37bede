"""Input normalisation from training-set statistics."""

from __future__ import annotations

from typing import Callable

import torch

#: Added to the per-pixel standard deviation, as in the DS405B assignment, so that
#: constant pixels (the black border of MNIST) do not divide by zero.
PER_PIXEL_EPS = 1e-5


def per_channel_statistics(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (population) standard deviation of each channel, shaped ``(C, 1, 1)``.

    A channel that is constant gets std 1, so it maps to 0 instead of NaN.

    Example:
        >>> mean, std = per_channel_statistics(torch.rand(10, 3, 4, 4))
        >>> mean.shape
        torch.Size([3, 1, 1])
    """
    std, mean = torch.std_mean(images, dim=(0, 2, 3), correction=0, keepdim=True)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return mean[0], std[0]


def per_pixel_statistics(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean image and std image (+1e-5), shaped ``(C, H, W)``.

    Implements X_mu = 1/N sum X_i and X_sigma = sqrt(1/N sum (X_i - X_mu)^2) + 1e-5.

    Example:
        >>> mean, std = per_pixel_statistics(torch.rand(10, 1, 8, 8))
        >>> mean.shape
        torch.Size([1, 8, 8])
    """
    std, mean = torch.std_mean(images, dim=0, correction=0)
    return mean, std + PER_PIXEL_EPS


#: Normalisation mode -> function computing ``(mean, std)`` from training images.
NORMALIZATIONS: dict[str, Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]] = {
    "per_channel": per_channel_statistics,
    "per_pixel": per_pixel_statistics,
}


def normalization_statistics(
    images: torch.Tensor, mode: str | None
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """``(mean, std)`` of ``images`` for ``mode``; ``(None, None)`` for no normalisation.

    Args:
        images: Training images ``(N, C, H, W)``.
        mode: ``"per_channel"``, ``"per_pixel"``, or ``None`` / ``"none"``.
    """
    if mode is None or mode == "none":
        return None, None
    if mode not in NORMALIZATIONS:
        raise ValueError(
            f"normalize={mode!r} is not a normalisation; use one of "
            f"{sorted(NORMALIZATIONS)} or None for raw inputs"
        )
    if len(images) == 0:
        raise ValueError("cannot compute normalisation statistics: the training split is empty")
    return NORMALIZATIONS[mode](images)


def normalize(images: torch.Tensor, mean: torch.Tensor | None, std: torch.Tensor | None) -> torch.Tensor:
    """``(images - mean) / std``; returns ``images`` unchanged when ``mean`` is ``None``."""
    if mean is None:
        return images
    return (images - mean) / std
