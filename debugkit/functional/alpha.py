"""Cockpit's α: where along the step did we land on a noise-aware 1-D quadratic?

Along the update ``d = θ_{t+1} − θ_t`` of length ``t = ‖d‖`` we observe the loss
``f`` and the directional derivative ``f' = gᵀd/‖d‖`` at both ends, each from a
mini-batch, with variances estimated from per-sample losses and projected per-sample
gradients.  A quadratic ``q(s) = w₀ + w₁ s + w₂ s²`` is fitted by weighted least
squares; its minimum sits at ``ᾱ/2`` with ``ᾱ = −w₁/w₂``, and

    α = 2t/ᾱ − 1

so α = −1: the step stopped at the start, 0: it hit the minimum, 1: it jumped to the
same height on the other side (overshoot), > 1: it went uphill.  A concave fit or a
zero step gives −1, as in Cockpit.
"""

from __future__ import annotations

import math

import numpy as np

_EPS = 1e-10


def fit_quadratic(t: float, fs, dfs, var_fs, var_dfs) -> np.ndarray | None:
    """Weighted least-squares fit of ``(w₀, w₁, w₂)`` to two noisy value/slope pairs."""
    phi = np.array([[1.0, 0.0, 0.0], [1.0, t, t * t], [0.0, 1.0, 0.0], [0.0, 1.0, 2.0 * t]])
    y = np.array([fs[0], fs[1], dfs[0], dfs[1]], dtype=float)
    var = np.array([*var_fs, *var_dfs], dtype=float)
    var = np.where((var == 0) | ~np.isfinite(var), _EPS, var)
    w = 1.0 / var
    with np.errstate(all="ignore"):  # huge (but finite) losses overflow: no fit, not a warning
        a = phi.T @ (w[:, None] * phi)
        b = phi.T @ (w * y)
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            return None
        try:
            mu = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            return None
    return mu if np.all(np.isfinite(mu)) else None


def alpha_from_fit(mu: np.ndarray | None, t: float) -> float:
    """α from a quadratic fit along a step of length ``t`` (−1 if concave or no move)."""
    if mu is None:
        return -1.0 if t == 0.0 else math.nan
    if mu[2] < 0:
        return -1.0
    if mu[1] == 0:
        return math.nan
    alpha_bar = -mu[1] / mu[2]
    return 2.0 * t / alpha_bar - 1.0


def alpha(t: float, fs, dfs, var_fs, var_dfs) -> float:
    """Compute α for a step of length ``t`` from start/end observations."""
    if t == 0.0 or not all(math.isfinite(v) for v in (*fs, *dfs)):
        return -1.0 if t == 0.0 else math.nan
    return alpha_from_fit(fit_quadratic(t, fs, dfs, var_fs, var_dfs), t)
