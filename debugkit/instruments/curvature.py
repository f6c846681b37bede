"""Shared curvature ingredients: the Hessian trace estimate, computed once per step."""

from __future__ import annotations

import torch

from debugkit.functional.hessian import exact_diagonal, hutchinson_trace


def hessian_trace(ctx, method: str = "hutchinson", samples: int = 8):
    """``(total, per_parameter_list, diagonal_or_None, names)``, cached per step and method."""
    key = ("hess_trace", method, samples)
    if key not in ctx._cache:
        hvp, names, params = ctx.hvp()
        if method == "exact":
            diag = exact_diagonal(hvp, params)
            per = [d.sum().item() for d in diag]
            ctx._cache[key] = (sum(per), per, diag, names)
        elif method == "hutchinson":
            gen = torch.Generator().manual_seed(ctx.step)
            total, per = hutchinson_trace(hvp, params, samples=samples, generator=gen)
            ctx._cache[key] = (total, per, None, names)
        else:
            raise ValueError(f"unknown Hessian trace method {method!r}; use 'hutchinson' or 'exact'")
    return ctx._cache[key]
