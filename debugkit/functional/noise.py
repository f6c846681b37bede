"""Gradient-noise statistics (Cockpit's gradient tests, GSNR, CABS, early stopping).

All functions take statistics of gradient *units* ``u_k`` (k = 1..n, each the mean
gradient of ``m`` samples; ``m = 1`` for exact per-sample gradients) whose mean is the
batch gradient ``g`` of ``B = n·m`` samples.  A unit's covariance is ``Σ/m``, so the
per-sample variance is estimated by ``m · Var_k``.  With ``m = 1`` every formula
reduces to the one in Cockpit (Schneider et al., 2021), which the tests check.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _var_scale(n: int, m: int) -> float:
    return m / (n - 1) if n > 1 else float("nan")


def trace_variance(sq_norms: Tensor, g_sq: float, m: int = 1) -> float:
    """Unbiased estimate of ``tr Σ`` (per-sample gradient variance, summed over elements)."""
    n = sq_norms.numel()
    return _var_scale(n, m) * (sq_norms.sum().item() - n * g_sq)


def norm_test(sq_norms: Tensor, g_sq: float, batch_size: int, m: int = 1) -> float:
    """Norm test θ (Byrd et al., 2012): ``sqrt(tr Σ / (B ‖g‖²))``; ≤ 1 means the batch is large enough."""
    var = trace_variance(sq_norms, g_sq, m)
    return _safe_sqrt(var / (batch_size * g_sq))


def inner_product_test(proj: Tensor, g_sq: float, batch_size: int, m: int = 1) -> float:
    """Inner-product test (Bollapragada et al., 2017) from ``proj_k = ⟨u_k, g⟩``."""
    n = proj.numel()
    var = _var_scale(n, m) * (proj.pow(2).sum().item() - n * g_sq**2)
    return _safe_sqrt(var / (batch_size * g_sq**2))


def orthogonality_test(sq_norms: Tensor, proj: Tensor, g_sq: float, batch_size: int, m: int = 1) -> float:
    """Orthogonality test ν (Bollapragada et al., 2017): spread orthogonal to ``g``."""
    n = sq_norms.numel()
    var = _var_scale(n, m) * (sq_norms.sum().item() - (proj.pow(2) / g_sq).sum().item())
    return _safe_sqrt(var / (batch_size * g_sq))


def elementwise_variance(sum_sq: Tensor, g: Tensor, n: int, m: int = 1) -> Tensor:
    """Unbiased per-element variance of per-sample gradients, from ``Σ_k u_k²``."""
    return _var_scale(n, m) * (sum_sq - n * g.pow(2))


def mean_gsnr(variances: list[Tensor], grads: list[Tensor], batch_size: int, eps: float = 1e-5) -> float:
    """Mean gradient signal-to-noise ratio ``g² / (E[g_i²] − g²)`` over all elements (Liu et al., 2020)."""
    b = batch_size
    num = torch.cat([g.flatten().pow(2) for g in grads])
    den = torch.cat([v.flatten() for v in variances]) * (b - 1) / b
    return (num / (den + eps)).mean().item()


def cabs_batch_size(variances: list[Tensor], lr: float, loss: float, batch_size: int) -> float:
    """CABS batch-size suggestion ``lr · tr Σ / loss`` (Balles et al., 2017), Cockpit's convention."""
    b = batch_size
    trace = sum(v.sum().item() for v in variances) * (b - 1) / b
    return lr * trace / loss if loss != 0 else float("nan")


def early_stopping(variances: list[Tensor], grads: list[Tensor], batch_size: int, eps: float = 1e-5) -> float:
    """Evidence-based early-stopping criterion (Mahsereci et al., 2017); > 0 suggests stopping."""
    snr = torch.cat([(g.pow(2) / (v + eps)).flatten() for g, v in zip(grads, variances)])
    return 1.0 - batch_size * snr.mean().item()


def second_moment_trace(sq_norms: Tensor, g_sq: float, batch_size: int, m: int = 1) -> float:
    """``tr E[g_i g_iᵀ]`` (uncentred per-sample second moment), e.g. for TIC."""
    b = batch_size
    return trace_variance(sq_norms, g_sq, m) * (b - 1) / b + g_sq


def _safe_sqrt(x: float) -> float:
    if x != x or x == math.inf:
        return x
    return math.sqrt(max(x, 0.0))
