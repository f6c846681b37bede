"""Trace of the loss Hessian."""

from __future__ import annotations

from debugkit.instruments.base import GRAPH, Instrument
from debugkit.instruments.curvature import hessian_trace
from debugkit.schedules import every


class HessTrace(Instrument):
    """tr(H) of the mini-batch loss (``hess_trace``), global and per layer.

    Args:
        method: ``hutchinson`` (unbiased, ``samples`` Hessian-vector products) or
            ``exact`` (one product per parameter: tiny models only).
    """

    name = "hess_trace"
    requires = frozenset({GRAPH})
    phase = "pre"
    default_schedule = every(50)

    def __init__(self, schedule=None, *, name=None, method: str = "hutchinson", samples: int = 8):
        super().__init__(schedule, name=name)
        self.method, self.samples = method, samples

    def compute(self, ctx) -> None:
        total, per, _, names = hessian_trace(ctx, self.method, self.samples)
        ctx.scalar(self.key("hess_trace"), total)
        ctx.layer(self.key("hess_trace"), ctx.group_by_layer(dict(zip(names, per)), how="sum"))
