"""Size of the optimizer's update and its ratio to the weights."""

from __future__ import annotations

import math

from debugkit.instruments.base import SNAPSHOT, Instrument


class UpdateSize(Instrument):
    """‖θₜ₊₁ − θₜ‖ (``update_size``) and ‖Δθ‖/‖θ‖ (``update_ratio``), global and per layer.

    The update-to-weight ratio is the classic health signal (≈1e-3 per step is typical
    for SGD; ≫1e-2 is too aggressive, ≪1e-5 means the layer barely learns).
    """

    name = "update_size"
    requires = frozenset({SNAPSHOT})
    phase = "post"

    def compute(self, ctx) -> None:
        before = ctx.snapshot()
        upd = {n: (p.detach() - before[n]).float().pow(2).sum().item() for n, p in ctx.params.items()}
        wsq = {n: before[n].float().pow(2).sum().item() for n in ctx.params}
        ctx.scalar(self.key("update_size"), math.sqrt(sum(upd.values())))
        total_w = math.sqrt(sum(wsq.values()))
        ctx.scalar(self.key("update_ratio"), math.sqrt(sum(upd.values())) / total_w if total_w > 0 else math.nan)
        per_layer_u = ctx.group_by_layer(upd)
        per_layer_w = ctx.group_by_layer(wsq)
        ctx.layer(self.key("update_size"), per_layer_u)
        ctx.layer(
            self.key("update_ratio"),
            {k: (u / per_layer_w[k] if per_layer_w[k] > 0 else math.nan) for k, u in per_layer_u.items()},
        )
