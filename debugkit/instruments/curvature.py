"""Shared curvature ingredients: the Hessian trace estimate, computed once per step."""

from __future__ import annotations

import torch

from debugkit.functional.hessian import exact_diagonal, hutchinson_trace

#: ``auto``: the Gauss-Newton estimate where it equals the Hessian trace in expectation
#: (piecewise-linear network, cross-entropy), else Hutchinson.
TRACE_METHODS = ("auto", "hutchinson", "ggn", "ggn_exact", "exact")
#: Methods that try the Gauss-Newton trace (and so need the layers' per-sample factors).
GGN_METHODS = ("auto", "ggn", "ggn_exact")


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

        result = None
        if method in GGN_METHODS and ctx.phase == "pre":
            if ctx.distributed:
                outcome = "Gauss-Newton trace is not averaged across processes"
            else:
                gen = torch.Generator().manual_seed(ctx.step)
                outcome = ctx.monitor._ggn_trace(ctx.state, None if method == "ggn_exact" else samples, gen)
            if isinstance(outcome, tuple):  # (total, {parameter: trace})
                total, per_param = outcome
                names = list(per_param)
                used = "ggn_exact" if method == "ggn_exact" else "ggn"
                result = (total, [per_param[n] for n in names], None, names, used)
            elif method != "auto":  # a string: why it does not apply
                raise IngredientUnavailable(f"Gauss-Newton Hessian trace unavailable: {outcome}")
        if result is None:
            hvp, names, params = ctx.hvp()
            if method == "exact":
                diag = exact_diagonal(hvp, params)
                per = [d.sum().item() for d in diag]
                result = (sum(per), per, diag, names, "exact")
            else:
                gen = torch.Generator().manual_seed(ctx.step)
                total, per = hutchinson_trace(hvp, params, samples=samples, generator=gen)
                result = (total, per, None, names, "hutchinson")
        ctx._cache[key] = result
    return ctx._cache[key]
