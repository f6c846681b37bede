"""Pixel scaling, resizing and channel conversion of whole image tensors."""

from __future__ import annotations

from typing import Sequence

import torch

_CHUNK = 4096  # images per resize call; bounds peak memory on the large sets


def to_float(images: torch.Tensor, max_value: float, scale: float = 1.0) -> torch.Tensor:
    """Map raw pixels to float32 in ``[0, scale]`` (``scale=255`` reproduces raw 0–255 inputs)."""
    return images.to(torch.float32) * (float(scale) / float(max_value))


def as_size(image_size: int | Sequence[int] | None) -> tuple[int, int] | None:
    """``28`` -> ``(28, 28)``; ``(32, 28)`` stays; ``None`` stays ``None``."""
    if image_size is None:
        return None
    size = (int(image_size), int(image_size)) if isinstance(image_size, int) else tuple(int(s) for s in image_size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"image_size must be a positive int or (height, width), got {image_size!r}")
    return size


def resize_images(images: torch.Tensor, size: tuple[int, int] | None) -> torch.Tensor:
    """Bilinear resize of ``(N, C, H, W)`` float images (antialiased when shrinking)."""
    if size is None or tuple(images.shape[-2:]) == tuple(size):
        return images
    from torchvision.transforms.v2 import functional as F

    chunks = [
        F.resize(images[i : i + _CHUNK], list(size), interpolation=F.InterpolationMode.BILINEAR, antialias=True)
        for i in range(0, len(images), _CHUNK)
    ]
    if not chunks:
        return images.new_zeros((0, images.shape[1], *size))
    return torch.cat(chunks)


def convert_channels(images: torch.Tensor, channels: int | None) -> torch.Tensor:
    """Convert ``(N, C, H, W)`` images to ``channels`` channels.

    Grey to RGB repeats the channel; RGB to grey uses the ITU-R 601 luma weights.
    """
    if channels is None or images.shape[1] == channels:
        return images
    if images.shape[1] == 1 and channels == 3:
        return images.repeat(1, 3, 1, 1)
    if images.shape[1] == 3 and channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=images.dtype).view(1, 3, 1, 1)
        return (images * weights).sum(dim=1, keepdim=True)
    raise ValueError(
        f"channels={channels!r}: can only convert between 1 and 3 channels, images have {images.shape[1]}"
    )
