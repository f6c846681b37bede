"""Trace of the loss Hessian."""

from __future__ import annotations

from debugkit.instruments.base import GRAD_SAMPLE, GRAPH, Instrument
from debugkit.instruments.curvature import GGN_METHODS, TRACE_METHODS, hessian_trace
from debugkit.schedules import every


class HessTrace(Instrument):
    """tr(H) of the mini-batch loss (``hess_trace``), global and per layer.

    Args:
        method: ``auto`` (default): ``ggn`` where it applies, else ``hutchinson``.
            ``ggn``: the Gauss-Newton trace with ``samples`` labels drawn from the model — equal
            to the Hessian trace in expectation for piecewise-linear networks trained with
            cross-entropy, at the cost of one ordinary backward pass per sample (see
            :mod:`debugkit.functional.ggn`). ``hutchinson``: unbiased, ``samples``
            Hessian-vector products (any model). ``exact``: one product per parameter (tiny
            models only). ``ggn_exact``: the Gauss-Newton trace summed over all classes.
            The estimator used is recorded as ``hess_trace_method``.
    """

    name = "hess_trace"
    requires = frozenset({GRAPH})
    phase = "pre"
    default_schedule = every(50)

    def __init__(self, schedule=None, *, name=None, method: str = "auto", samples: int = 8):
        super().__init__(schedule, name=name)
        if method not in TRACE_METHODS:
            raise ValueError(f"HessTrace(method=...) must be one of {', '.join(TRACE_METHODS)}, got {method!r}")
        self.method, self.samples = method, samples
        if method in GGN_METHODS:
            self.requires = frozenset({GRAPH, GRAD_SAMPLE})  # per-sample factors of the layers

    def compute(self, ctx) -> None:
        total, per, _, names, used = hessian_trace(ctx, self.method, self.samples)
        ctx.scalar(self.key("hess_trace"), total)
        ctx.scalar(self.key("hess_trace_method"), used)
        ctx.layer(self.key("hess_trace"), ctx.group_by_layer(dict(zip(names, per)), how="sum"))
