"""Histograms of gradient elements (1-D) and of (gradient, parameter) pairs (2-D)."""

from __future__ import annotations

import torch
from torch import Tensor


def symmetric_range(values: Tensor, quantile: float | None = 0.999, min_size: float = 1e-8) -> tuple[float, float]:
    """A symmetric range ``(−a, a)`` covering the values (``a`` = a high quantile of ``|v|``)."""
    v = values.detach().abs().flatten()
    if v.numel() == 0:
        return (-1.0, 1.0)
    if quantile is None or v.numel() < 100:
        a = v.max().item()
    else:
        if v.numel() > 200_000:  # quantile() needs a sort; a subsample estimates it well
            v = v[torch.randint(0, v.numel(), (200_000,), generator=torch.Generator().manual_seed(0))]
        a = torch.quantile(v.float(), quantile).item()
    a = max(a, min_size)
    return (-a, a)


def hist1d(values: Tensor, bins: int, range: tuple[float, float]) -> tuple[Tensor, Tensor]:
    """Counts of ``values`` in ``bins`` equal bins over ``range``; outliers go to the edge bins."""
    lo, hi = range
    v = values.detach().flatten().float().clamp(lo, hi)
    counts = torch.histc(v, bins=bins, min=lo, max=hi)
    return counts, torch.linspace(lo, hi, bins + 1)


def hist2d(
    x: Tensor, y: Tensor, bins: tuple[int, int], range: tuple[tuple[float, float], tuple[float, float]]
) -> tuple[Tensor, list[Tensor]]:
    """2-D counts ``[i, j]`` of pairs (``x`` bin i, ``y`` bin j); outliers go to the edge bins."""
    (xlo, xhi), (ylo, yhi) = range
    bx, by = bins
    xs = x.detach().flatten().float()
    ys = y.detach().flatten().float()
    ix = ((xs - xlo) / (xhi - xlo) * bx).floor().clamp(0, bx - 1).long()
    iy = ((ys - ylo) / (yhi - ylo) * by).floor().clamp(0, by - 1).long()
    counts = torch.bincount(ix * by + iy, minlength=bx * by).reshape(bx, by).float()
    return counts, [torch.linspace(xlo, xhi, bx + 1), torch.linspace(ylo, yhi, by + 1)]
