"""Loss, the spread of per-sample losses, and the learning rate."""

from __future__ import annotations

from debugkit.instruments.base import LOSS, PER_SAMPLE_LOSS, Instrument


class Loss(Instrument):
    """Mini-batch loss (``loss``), standard deviation of per-sample losses (``loss_std``) and ``lr``."""

    name = "loss"
    requires = frozenset({LOSS, PER_SAMPLE_LOSS})
    phase = "pre"

    def compute(self, ctx) -> None:
        ctx.scalar(self.key("loss"), ctx.loss)
        lr = ctx.lr
        if lr is not None:
            ctx.scalar(self.key("lr"), lr)
        # only losses the loss module already gives per sample: no extra forward passes
        psl = ctx.exact_per_sample_losses()
        if psl is not None and psl.numel() > 1:
            ctx.scalar(self.key("loss_std"), psl.float().std().item())
