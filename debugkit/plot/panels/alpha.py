"""Alpha: where on the local loss parabola each step lands (Cockpit's alpha gauge)."""

from __future__ import annotations

import numpy as np

from debugkit.plot import data as D
from debugkit.plot.draw import Ctx, guide, panel_title, step_axis
from debugkit.plot.style import GUIDE, NOT_RECORDED, note

N_BINS = 30
LAST_MIN = 5  # the last-10 % curve needs at least this many values (a run of 50 steps)


def alpha_limit(values: list[np.ndarray]) -> float:
    """Half-width of the α axis: wide enough for most values, at least ±1.5, at most ±5."""
    allv = np.abs(np.concatenate(values))
    return float(np.clip(np.percentile(allv, 98) * 1.1, 1.5, 5.0))


def draw_alpha(fig, ctx: Ctx) -> None:
    """α per step (left) and its histogram against the 0 line (right).

    α = 0: the step lands on the valley floor of the local parabola; α < 0: it stops short
    (understep); α > 0: it goes past the floor (overstep); α = 1: to the same height on the
    opposite side. The histogram shows all steps and, for one run, the last 10 % of them.
    """
    panel_title(fig, "Alpha (local step length)")
    data = [D.scalar(r, "alpha") for r in ctx.runs]
    if all(d is None for d in data):
        note(fig.subplots(), "alpha " + NOT_RECORDED)
        return
    ax_t, ax_h = fig.subplots(1, 2, width_ratios=[1.5, 1])
    lim = alpha_limit([d[1] for d in data if d is not None])
    edges = np.linspace(-lim, lim, N_BINS + 1)
    outside = 0
    for (run, label, color), d in zip(ctx.items(), data):
        if d is None:
            continue
        x, y = d
        red = D.reduce(x, y)
        if red.binned:
            ax_t.fill_between(red.x, red.lo, red.hi, color=color, alpha=0.15, lw=0, gid=f"alpha:{label}:band")
        else:
            ax_t.plot(x, y, ls="none", marker=".", ms=3 if len(y) < 300 else 2, color=color,
                      alpha=0.55 if len(y) >= D.SMOOTH_MIN_POINTS else 1.0, gid=f"alpha:{label}")
        if len(y) >= D.SMOOTH_MIN_POINTS:
            ax_t.plot(*D.thin(x, D.smooth(y)), color=color, lw=1.8, gid=f"alpha:{label}:smooth")
        outside += int(np.sum(np.abs(y) > lim))
        n = len(y)
        counts, _ = np.histogram(y, bins=edges)
        if not ctx.multi:
            ax_h.stairs(counts / n, edges, fill=True, color="#bbbbbb", alpha=0.9,
                        label=f"all steps (mean {np.mean(y):+.2f})", gid=f"alpha_hist:{label}")
            k = n // 10
            if k >= LAST_MIN:
                # a density curve: a histogram of a few dozen values would be mostly noise
                grid = np.linspace(-lim, lim, 200)
                dens = D.kde(y[-k:], grid) * (edges[1] - edges[0])  # same unit: fraction per bin
                ax_h.fill_between(grid, dens, color=color, alpha=0.3, lw=0)
                ax_h.plot(grid, dens, color=color, lw=1.6, label=f"last 10 % (mean {np.mean(y[-k:]):+.2f})",
                          gid=f"alpha_kde_last:{label}")
        else:
            ax_h.stairs(counts / n, edges, color=color, lw=1.5, label=f"{label} (mean {np.mean(y):+.2f})",
                        gid=f"alpha_hist:{label}")
    ax_t.axhline(0, color="#333333", lw=1.0, zorder=1.5)
    for v in (-1, 1):
        guide(ax_t, v, ls=":", lw=0.7)
    ax_t.set_ylim(-lim, lim)
    ax_t.set_ylabel("α")
    step_axis(ax_t, ctx)
    ax_h.axvline(0, color="#333333", lw=1.2, zorder=3)
    for v in (-1, 1):
        guide(ax_h, v, axis="x", ls=":", lw=0.7)
    ax_h.set_xlim(-lim, lim)
    ax_h.set_xlabel("α  (0 = valley floor)")
    ax_h.set_ylabel("fraction of steps per bin")
    ax_h.text(0.02, 0.98, "under-\nstep", transform=ax_h.transAxes, ha="left", va="top", fontsize=7, color=GUIDE)
    ax_h.text(0.98, 0.98, "over-\nstep", transform=ax_h.transAxes, ha="right", va="top", fontsize=7, color=GUIDE)
    ax_h.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=7, ncols=1, frameon=False)
    if outside:
        ax_t.set_title(f"{outside} value(s) beyond ±{lim:.1f} not shown", fontsize=7.5, fontweight="normal",
                       color="#555555", loc="right")
