"""Gradient tests (norm, inner product, orthogonality), mean GSNR, CABS and the EB criterion."""

from __future__ import annotations

import numpy as np

from debugkit.plot import data as D
from debugkit.plot.draw import Ctx, guide, panel_title, series, sparse, step_axis
from debugkit.plot.style import GUIDE, NOT_RECORDED, note

CAPTION = (
    "dashed lines — tests: threshold 1 (above it gradient noise dominates; a larger batch helps)\n"
    "GSNR: 1 (signal = noise) · CABS: the batch size used · EB criterion: stop when > 0"
)

# column, y label, title, reference value (dashed), log scale
CELLS = (
    ("norm_test", "test value", "norm test", 1.0, True),
    ("inner_test", "test value", "inner-product test", 1.0, True),
    ("ortho_test", "test value", "orthogonality test", 1.0, True),
    ("mean_gsnr", "GSNR", "mean GSNR", 1.0, True),
    ("cabs_batch_size", "batch size (samples)", "CABS batch size", None, True),
    ("early_stopping", "EB criterion", "early stopping", 0.0, False),
)


def draw_per_step_or_sparse(ax, x, y, **kw):
    """Per-step series get a smoothed line; quantities measured every k steps get points."""
    gaps = np.diff(x)
    if len(x) >= 8 and np.median(gaps) <= 1:
        return series(ax, x, y, **kw)
    return sparse(ax, x, y, **kw)


def draw_gradient_tests(fig, ctx: Ctx) -> None:
    """Six small plots, log scales for the tests with Cockpit's threshold 1.

    Values above 1 mean the mini-batch gradient is too noisy for the test's criterion
    (Bollapragada et al. 2018; Byrd et al. 2012): a larger batch would help.
    """
    panel_title(fig, "Gradient tests & noise")
    present = {c[0] for c in CELLS if any(D.has_scalar(r, c[0]) for r in ctx.runs)}
    if not present:
        note(fig.subplots(), "gradient tests, GSNR and CABS " + NOT_RECORDED)
        return
    axes = fig.subplots(2, 3, sharex=True).ravel()
    for ax, (q, ylabel, title, ref, log) in zip(axes, CELLS):
        ax.set_title(title, loc="left", fontsize=8.5)
        if q not in present:
            note(ax, NOT_RECORDED)
            continue
        ys = []
        for run, label, color in ctx.items():
            d = D.scalar(run, q)
            if d is None:
                continue
            draw_per_step_or_sparse(ax, *d, color=color, gid=f"{q}:{label}")
            ys.append(d[1])
        allv = np.concatenate(ys)
        if log and np.all(allv > 0):
            ax.set_yscale("log")
        if q == "cabs_batch_size":
            used = {r.meta.get("batch_size") for r in ctx.runs} - {None}
            if len(used) == 1:
                ref = float(used.pop())
        if ref is not None:
            guide(ax, ref, color=GUIDE, ls="--", lw=1.0)
            _include(ax, ref)
        ax.set_ylabel(ylabel)
        step_axis(ax, ctx, label=ax in axes[3:])
    fig.supxlabel(CAPTION, fontsize=7.5, color=GUIDE)


def _include(ax, ref: float) -> None:
    """Widen the y range so the reference line is always visible."""
    lo, hi = ax.get_ylim()
    if ax.get_yscale() == "log":
        ax.set_ylim(min(lo, ref / 1.25), max(hi, ref * 1.25))
    else:
        pad = 0.08 * (max(hi, ref) - min(lo, ref) or 1.0)
        ax.set_ylim(min(lo, ref - pad), max(hi, ref + pad))
