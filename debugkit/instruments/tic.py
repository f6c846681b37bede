"""Takeuchi information criterion (generalisation-gap proxy)."""

from __future__ import annotations

from debugkit.functional.noise import second_moment_trace
from debugkit.instruments.base import GRAD_SAMPLE, GRAPH, Instrument
from debugkit.instruments.curvature import hessian_trace
from debugkit.schedules import every


class TIC(Instrument):
    """TIC ≈ tr(H⁻¹C), approximated as Cockpit does (``tic``).

    ``variant="trace"`` (default) is Cockpit's ``TICTrace``: ``tr(C)/tr(H)`` with the
    uncentred per-sample gradient second moment ``C`` and ``tr(H)`` shared with
    :class:`~debugkit.instruments.hess_trace.HessTrace` (same ``method`` choices).  ``variant="diag"`` is
    ``TICDiag``: ``Σ_j C_jj/(H_jj + ε)`` and needs the Hessian diagonal
    (``method="exact"``).
    """

    name = "tic"
    requires = frozenset({GRAPH, GRAD_SAMPLE})
    phase = "pre"
    default_schedule = every(50)

    def __init__(self, schedule=None, *, name=None, variant: str = "trace", method: str = "auto",
                 samples: int = 8, eps: float = 1e-7):
        super().__init__(schedule, name=name)
        if variant not in ("trace", "diag"):
            raise ValueError(f"TIC(variant=...) must be 'trace' or 'diag', got {variant!r}")
        if variant == "diag" and method != "exact":
            raise ValueError("TIC(variant='diag') needs the Hessian diagonal: use method='exact' (tiny models)")
        self.variant, self.method, self.samples, self.eps = variant, method, samples, eps

    def compute(self, ctx) -> None:
        total, _, diag, names, used = hessian_trace(ctx, self.method, self.samples)
        ctx.scalar(self.key("tic_trace_method"), used)
        sample = ctx.grad_sample()
        g_sq = ctx.batch_grad_sq(sample.names)
        b = sample.batch_size
        if self.variant == "trace":
            c = second_moment_trace(ctx.unit_sq_norms(), g_sq, b, sample.unit_size)
            ctx.scalar(self.key("tic"), c / (total + self.eps))
            return
        var = ctx.unit_variance()
        grads = ctx.grads()
        tic = 0.0
        for n, h in zip(names, diag):
            if n in var:
                c_diag = var[n] * (b - 1) / b + grads[n].pow(2)
                tic += (c_diag / (h + self.eps)).sum().item()
        ctx.scalar(self.key("tic"), tic)
