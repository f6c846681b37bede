"""Distance from the initial parameters."""

from __future__ import annotations

import math

from debugkit.instruments.base import Instrument


class Distance(Instrument):
    """‖θₜ − θ₀‖ (``distance``), global and per layer (Cockpit's ``Distance``)."""

    name = "distance"
    phase = "pre"

    def compute(self, ctx) -> None:
        init = ctx.monitor._init_params
        sq = {n: (p.detach() - init[n]).float().pow(2).sum().item() for n, p in ctx.params.items()}
        ctx.scalar(self.key("distance"), math.sqrt(sum(sq.values())))
        ctx.layer(self.key("distance"), ctx.group_by_layer(sq))
