"""Cockpit's α: does the step over- or undershoot the local minimum along its direction?"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from debugkit.functional.alpha import alpha as alpha_fn
from debugkit.instruments.base import GRAD_SAMPLE, GRAD_SUBSAMPLE, PER_SAMPLE_LOSS, SNAPSHOT, Instrument


@dataclass
class _Start:
    step: int
    direction: dict  # unit vector d/‖d‖ per parameter
    t: float  # ‖d‖
    f: float
    var_f: float
    df: float
    var_df: float


class Alpha(Instrument):
    """Normalised step length α (Cockpit), recorded under the step it describes.

    α at step t needs the loss and the directional derivative along the update
    ``d = θₜ₊₁ − θₜ`` at θₜ (this step's batch) and θₜ₊₁ (the next step's batch), with
    their noise estimated from per-sample losses and per-sample gradient projections.
    Per-sample projections come from ``subsample`` samples (all, if ``None``); the
    mean projection always uses the full batch gradient.

    Args:
        exact: Use every sample for the projection variance (as Cockpit does).
    """

    name = "alpha"
    phase = "post"

    def __init__(self, schedule=None, *, name=None, exact: bool = False):
        super().__init__(schedule, name=name)
        self.exact = exact
        self._start: _Start | None = None

    def due(self, step: int) -> bool:
        return self.active(step) or self.active(step - 1)

    def needs(self, step: int) -> frozenset[str]:
        if not self.due(step):
            return frozenset()
        out = {PER_SAMPLE_LOSS, GRAD_SAMPLE if self.exact else GRAD_SUBSAMPLE}
        if self.active(step):
            out.add(SNAPSHOT)
        return frozenset(out)

    def prepare(self, ctx) -> None:
        """Pre-step: make sure per-sample quantities exist while parameters are still θₜ."""
        self._sample(ctx)
        ctx.per_sample_losses()

    def _sample(self, ctx):
        return ctx.grad_sample() if self.exact else ctx.grad_subsample()

    def compute(self, ctx) -> None:
        step = ctx.step
        start = self._start if self._start is not None and self._start.step == step - 1 else None
        begin = self.active(step)
        if start is None and not begin:
            return
        sample = self._sample(ctx)
        grads = ctx.grads()
        names = [n for n in sample.names if n in grads]

        new_dir, t = None, 0.0
        if begin:
            before = ctx.snapshot()
            d = {n: (p.detach() - before[n]) for n, p in ctx.params.items()}
            t = math.sqrt(sum(v.float().pow(2).sum().item() for v in d.values()))
            new_dir = {n: v / t if t > 0 else v for n, v in d.items()}

        dirs = [x.direction for x in (start,) if x is not None] + ([new_dir] if begin else [])
        proj = sample.dots([{n: dd[n] for n in names} for dd in dirs])  # (units, K)
        dfs = [sum(torch.dot(grads[n].flatten(), dd[n].flatten()).item() for n in names) for dd in dirs]
        var_dfs = [_var(proj[:, j]) * sample.unit_size for j in range(len(dirs))]

        f = ctx.loss
        psl = ctx.per_sample_losses()
        var_f = _var(psl) * ctx.loss_unit_size if psl is not None else 0.0

        if start is not None:
            a = alpha_fn(start.t, [start.f, f], [start.df, dfs[0]], [start.var_f, var_f], [start.var_df, var_dfs[0]])
            ctx.scalar(self.key("alpha"), a, step=start.step)
        if begin and f is not None:
            self._start = _Start(step, new_dir, t, f, var_f, dfs[-1], var_dfs[-1])
        else:
            self._start = None


def _var(x) -> float:
    if x is None or x.numel() < 2:
        return 0.0
    return x.double().var().item()
