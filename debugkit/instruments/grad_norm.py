"""Gradient norms, global and per layer."""

from __future__ import annotations

import math

from debugkit.instruments.base import Instrument


class GradNorm(Instrument):
    """‖g‖ of this step's batch gradient (``grad_norm``) and per layer.

    The batch gradient is ``.grad`` minus anything that was already in ``.grad``
    before this step's backward (a forgotten ``zero_grad()``), which is reported
    separately as ``grad_norm_accumulated`` — the norm of what the optimizer uses.
    """

    name = "grad_norm"
    phase = "pre"

    def compute(self, ctx) -> None:
        grads = ctx.grads()
        sq = {n: g.float().pow(2).sum().item() for n, g in grads.items()}
        ctx.scalar(self.key("grad_norm"), math.sqrt(sum(sq.values())))
        ctx.layer(self.key("grad_norm"), ctx.group_by_layer(sq))
        if ctx.state.grad_before is not None:
            total = sum(p.grad.float().pow(2).sum().item() for p in ctx.params.values() if p.grad is not None)
            ctx.scalar(self.key("grad_norm_accumulated"), math.sqrt(total))
