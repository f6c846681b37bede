"""Parameter norms, global and per layer."""

from __future__ import annotations

import math

from debugkit.instruments.base import Instrument


class ParamNorm(Instrument):
    """‖θ‖ (``param_norm``), global and per layer, before the update."""

    name = "param_norm"
    phase = "pre"

    def compute(self, ctx) -> None:
        sq = {n: p.detach().float().pow(2).sum().item() for n, p in ctx.params.items()}
        ctx.scalar(self.key("param_norm"), math.sqrt(sum(sq.values())))
        ctx.layer(self.key("param_norm"), ctx.group_by_layer(sq))
