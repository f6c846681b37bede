"""Curvature: Hessian max eigenvalue, trace, TIC, and lr × λmax against the stability line 2."""

from __future__ import annotations

import numpy as np
import pandas as pd

from debugkit.plot import data as D
from debugkit.plot.draw import Ctx, auto_log, guide, panel_title, sparse, step_axis
from debugkit.plot.style import NOT_RECORDED, WARN, note

CELLS = (
    ("hess_max_ev", "λmax", "Hessian max eigenvalue"),
    ("hess_trace", "tr(H)", "Hessian trace"),
    ("tic", "TIC", "Takeuchi information criterion"),
)


def lr_times_max_ev(run) -> tuple[np.ndarray, np.ndarray] | None:
    """``lr · λmax`` at the steps where λmax was measured (lr carried forward from its last record)."""
    ev = D.scalar(run, "hess_max_ev")
    if ev is None or "lr" not in run.scalars.columns:
        return None
    lr = pd.to_numeric(run.scalars["lr"], errors="coerce").astype(float).ffill()
    vals = lr.reindex(ev[0]).to_numpy() * ev[1]
    ok = np.isfinite(vals)
    if not ok.any():
        return None
    return ev[0][ok], vals[ok]


def draw_curvature(fig, ctx: Ctx) -> None:
    """Sparse curvature measurements (every k steps) in a 2 × 2 grid."""
    panel_title(fig, "Curvature")
    present = {q for q, _, _ in CELLS if any(D.has_scalar(r, q) for r in ctx.runs)}
    if not present:
        note(fig.subplots(), "Hessian max eigenvalue, trace and TIC " + NOT_RECORDED)
        return
    axes = fig.subplots(2, 2, sharex=True).ravel()
    for ax, (q, ylabel, title) in zip(axes, CELLS):
        ax.set_title(title, loc="left", fontsize=8.5)
        if q not in present:
            note(ax, NOT_RECORDED)
            continue
        ys = []
        for run, label, color in ctx.items():
            d = D.scalar(run, q)
            if d is not None:
                sparse(ax, *d, color=color, gid=f"{q}:{label}")
                ys.append(d[1])
        auto_log(ax, *ys, ratio=30)
        ax.set_ylabel(ylabel)
        step_axis(ax, ctx, label=ax in axes[2:])
    ax = axes[3]
    ax.set_title("lr × λmax  (stable below 2)", loc="left", fontsize=8.5)
    products = [lr_times_max_ev(r) for r in ctx.runs]
    if all(p is None for p in products):
        note(ax, "needs λmax and lr — " + ("lr not recorded" if "hess_max_ev" in present else NOT_RECORDED))
        return
    top = 2.4
    for (run, label, color), p in zip(ctx.items(), products):
        if p is not None:
            sparse(ax, *p, color=color, gid=f"lr_max_ev:{label}")
            top = max(top, float(np.max(p[1])) * 1.1)
    guide(ax, 2.0, color=WARN, ls="--", lw=1.0)
    ax.axhspan(2.0, top * 10, color=WARN, alpha=0.07, lw=0)
    ax.set_ylim(0, top)
    ax.text(0.99, 2.0, "2 = GD stability limit", transform=ax.get_yaxis_transform(), ha="right", va="bottom",
            fontsize=7, color=WARN)
    ax.set_ylabel("lr · λmax")
    step_axis(ax, ctx)
