"""Shared curvature ingredients: the Hessian trace estimate, computed once per step."""

from __future__ import annotations

import torch

from debugkit.functional.hessian import exact_diagonal, hutchinson_trace

#: ``auto``: the Gauss-Newton estimate where it equals the Hessian trace in expectation
#: (piecewise-linear network, cross-entropy), else Hutchinson.
TRACE_METHODS = ("auto", "hutchinson", "ggn", "ggn_exact", "exact")


def hessian_trace(ctx, method: str = "auto", samples: int = 8):
    """``(total, per_parameter_list, diagonal_or_None, names, method_used)``, cached per step and method.

    ``method_used`` (``ggn``, ``ggn_exact``, ``hutchinson`` or ``exact``) is for the caller to
    record, so every value says which estimator produced it.
    """
    if method not in TRACE_METHODS:
        raise ValueError(f"unknown Hessian trace method {method!r}; use one of {', '.join(TRACE_METHODS)}")
    key = ("hess_trace", method, samples)
    if key not in ctx._cache:
        from debugkit.step_context import IngredientUnavailable

        used = method
        result = None
        if method in ("auto", "ggn", "ggn_exact") and ctx.phase == "pre":
            if ctx.distributed:
                why = "Gauss-Newton trace is not averaged across processes"
            else:
                gen = torch.Generator().manual_seed(ctx.step)
                why = ctx.monitor._ggn_trace(ctx.state, None if method == "ggn_exact" else samples, gen)
            if isinstance(why, tuple):
                total, per_param = why
                names = list(per_param)
                result = (total, [per_param[n] for n in names], None, names, None)
                used = "ggn_exact" if method == "ggn_exact" else "ggn"
            elif method != "auto":
                raise IngredientUnavailable(f"Gauss-Newton Hessian trace unavailable: {why}")
        if result is None:
            hvp, names, params = ctx.hvp()
            if method == "exact":
                diag = exact_diagonal(hvp, params)
                per = [d.sum().item() for d in diag]
                result = (sum(per), per, diag, names, None)
            else:
                gen = torch.Generator().manual_seed(ctx.step)
                total, per = hutchinson_trace(hvp, params, samples=samples, generator=gen)
                result = (total, per, None, names, None)
                used = "hutchinson"
        ctx._cache[key] = result[:4] + (used,)
    return ctx._cache[key]
