"""Largest Hessian eigenvalue by power iteration."""

from __future__ import annotations

import torch

from debugkit.functional.hessian import power_iteration
from debugkit.instruments.base import GRAPH, Instrument
from debugkit.schedules import every


class HessMaxEV(Instrument):
    """λ_max of the mini-batch loss Hessian (``hess_max_ev``).

    With plain gradient descent, ``lr · λ_max > 2`` means the step diverges along
    the sharpest direction — the classic sign of a learning rate that is too high.
    """

    name = "hess_max_ev"
    requires = frozenset({GRAPH})
    phase = "pre"
    default_schedule = every(50)

    def __init__(self, schedule=None, *, name=None, max_iter: int = 100, rtol: float = 1e-3, warm_start: bool = True):
        super().__init__(schedule, name=name)
        self.max_iter, self.rtol, self.warm_start = max_iter, rtol, warm_start
        self._vec = None

    def compute(self, ctx) -> None:
        hvp, names, params = ctx.hvp()
        gen = torch.Generator().manual_seed(ctx.step)
        # The top eigenvector moves little between steps: starting from the last one
        # typically converges in a few products instead of dozens.
        init = self._vec if self.warm_start and self._vec is not None and self._vec[0] == names else None
        ev, n, vec = power_iteration(hvp, params, max_iter=self.max_iter, rtol=self.rtol, generator=gen,
                                     init=None if init is None else init[1], return_vector=True)
        self._vec = (names, vec)
        ctx.scalar(self.key("hess_max_ev"), ev)
        ctx.scalar(self.key("hess_max_ev_hvps"), n)
