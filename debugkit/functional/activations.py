"""Statistics of layer outputs, input batches and network outputs (pure functions)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

# Output ranges whose ends mean "saturated": |y| near the bound kills the gradient.
SATURATION_BOUNDS = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "hardtanh": (-1.0, 1.0), "softsign": (-1.0, 1.0)}
SATURATION_MARGIN = 0.01  # within 1 % of the range from a bound
PREACT_LARGE = 5.0  # pre-activations beyond ±5 saturate tanh/sigmoid (AUTOTRAINER's rule)


def unit_dim(y: Tensor) -> int:
    """Dimension that indexes units: features for (N, F) and (N, T, F), channels for images."""
    return 1 if y.dim() in (2, 4, 5) else y.dim() - 1


@torch.no_grad()
def activation_stats(y: Tensor, kind: str, max_samples: int | None = 32) -> dict[str, float]:
    """Mean, std, zero and dead fractions (ReLU family), saturation (bounded activations).

    Args:
        y: A layer output with a leading batch dimension.
        kind: ``relu`` (any activation with a flat zero region), one of
            :data:`SATURATION_BOUNDS`, ``linear`` (a pre-activation) or ``other``.
        max_samples: Statistics use the first ``max_samples`` samples of the batch (the
            batch is shuffled, so this is a random subsample); ``None`` uses all. A unit
            counts as dead when it is zero for every one of these samples.
    """
    y = y.detach()
    if not y.is_floating_point() or y.dim() < 2 or y.numel() == 0:
        return {}
    if max_samples is not None and y.shape[0] > max_samples:
        y = y[:max_samples]
    yf = (y if y.dtype == torch.float32 else y.float()).contiguous()
    flat = yf.view(-1)
    n = flat.numel()
    # sums and a BLAS dot product are far cheaper than std()/comparisons on CPU
    mean = flat.sum().item() / n
    var = max(torch.dot(flat, flat).item() / n - mean * mean, 0.0) * n / max(n - 1, 1)
    out = {"act_mean": mean, "act_std": math.sqrt(var)}
    ud = unit_dim(y)
    dims = [d for d in range(y.dim()) if d != ud]
    if kind == "relu":
        out["act_zero"] = 1.0 - torch.sign(flat).sum().item() / n  # outputs are >= 0
        out["act_dead"] = (yf.amax(dim=dims) <= 0).float().mean().item()
    elif kind in SATURATION_BOUNDS:
        lo, hi = SATURATION_BOUNDS[kind]
        margin = SATURATION_MARGIN * (hi - lo)
        out["act_saturated"] = ((yf <= lo + margin) | (yf >= hi - margin)).sum().item() / n
    elif kind == "linear":
        out = {"pre_mean": mean, "pre_std": out["act_std"]}
        out["pre_large"] = (flat.abs() > PREACT_LARGE).sum().item() / n
        out["pre_dead"] = (yf.amax(dim=dims) <= 0).float().mean().item()
    return out


@torch.no_grad()
def input_stats(x: Tensor) -> dict[str, float]:
    """Mean, std and range of a floating-point input batch."""
    if not isinstance(x, Tensor) or not x.is_floating_point() or x.numel() == 0:
        return {}
    xf = x.detach().float()
    lo, hi = torch.aminmax(xf)
    return {
        "input_mean": xf.mean().item(),
        "input_std": xf.std().item() if xf.numel() > 1 else 0.0,
        "input_min": lo.item(),
        "input_max": hi.item(),
    }


@torch.no_grad()
def output_stats(y: Tensor, class_dim: int = 1) -> dict[str, float]:
    """Scale of the outputs and whether they already look like (log-)probabilities.

    Outputs that are already probabilities (non-negative, summing to 1) or
    log-probabilities (non-positive, log-sum-exp 0) fed into ``CrossEntropyLoss`` mean a
    softmax is applied twice.
    """
    if not isinstance(y, Tensor) or not y.is_floating_point() or y.dim() < 2 or y.shape[class_dim] < 2:
        return {}
    yf = y.detach().float()
    out = {"output_logit_std": yf.std().item(), "output_logit_absmax": yf.abs().max().item()}
    sums = yf.sum(class_dim)
    out["output_is_prob"] = float(bool((yf >= 0).all() and (sums - 1).abs().max() < 1e-3))
    lse = torch.logsumexp(yf, class_dim)
    out["output_is_logprob"] = float(bool((yf <= 1e-6).all() and lse.abs().max() < 1e-3))
    logp = torch.log_softmax(yf, class_dim)
    ent = -(logp.exp() * logp).sum(class_dim).mean().item()
    out["output_entropy"] = ent
    out["output_entropy_max"] = math.log(y.shape[class_dim])
    return out


@torch.no_grad()
def value_histogram(y: Tensor, bins: int = 40, max_values: int = 200_000) -> tuple[list[float], list[float]]:
    """Histogram of a tensor's values over its own range (a fixed random subsample if large)."""
    v = y.detach().flatten().float()
    if v.numel() > max_values:
        v = v[torch.randint(0, v.numel(), (max_values,), generator=torch.Generator().manual_seed(0))]
    lo, hi = torch.aminmax(v)
    lo, hi = lo.item(), hi.item()
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [], []
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(v, bins=bins, min=lo, max=hi)
    return counts.tolist(), torch.linspace(lo, hi, bins + 1).tolist()
