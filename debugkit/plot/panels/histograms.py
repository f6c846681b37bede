"""Histograms of per-sample gradient elements: 1-D (latest and over steps) and 2-D (× parameter)."""

from __future__ import annotations

import numpy as np
from matplotlib import colors as mcolors

from debugkit.plot import data as D
from debugkit.plot.draw import Ctx, panel_title, step_axis
from debugkit.plot.style import GUIDE, NOT_RECORDED, SEQ_CMAP, note

COUNT_LABEL = "log₁₀(count + 1)"


def draw_hist_1d(fig, ctx: Ctx) -> None:
    """Latest 1-D histogram of every run (left, log counts) and how it evolved (right, first run)."""
    panel_title(fig, "Gradient elements: 1-D histogram")
    found = [D.hist_series(r, "grad_1d") for r in ctx.runs]
    if all(not s for s, _ in found):
        note(fig.subplots(), "per-sample gradient histogram " + NOT_RECORDED)
        return
    ax_l, ax_e, cax = fig.subplots(1, 3, width_ratios=[1, 1.25, 0.04])
    steps_shown = []
    for (run, label, color), (series, layer) in zip(ctx.items(), found):
        if not series:
            continue
        step, counts, edges = series[-1]
        steps_shown.append(step)
        ax_l.stairs(counts, edges, fill=not ctx.multi, color=color, alpha=0.75 if not ctx.multi else 1.0,
                    lw=1.4, label=label if ctx.multi else None, gid=f"hist_1d:{label}")
    if any(np.any(np.asarray(st.get_data()[0]) > 0) for st in ax_l.patches):
        ax_l.set_yscale("log")
        ax_l.set_ylim(bottom=0.8)
    ax_l.axvline(0, color=GUIDE, lw=0.8)
    ax_l.set_xlabel("gradient element value")
    ax_l.set_ylabel("count")
    latest = f"step {steps_shown[0]}" if len(set(steps_shown)) == 1 else "latest step"
    ax_l.set_title(f"{latest}" + (f" (layer {found[0][1]})" if found[0][1] else ""), loc="left", fontsize=8.5)
    if ctx.multi:
        ax_l.legend(loc="upper right", fontsize=7)
    series, _ = found[0]
    if not series or all(np.sum(c) == 0 for _, c, _ in series):
        note(ax_e, f"{ctx.labels[0]}: " + (NOT_RECORDED if not series else "every histogram is empty (all counts 0)"))
        cax.set_axis_off()
        return
    x_edges, v_edges, counts = D.rebin_1d(series, span=ctx.span)
    img = np.log10(counts + 1.0)
    mesh = ax_e.pcolormesh(x_edges, v_edges, img, cmap=SEQ_CMAP, shading="flat", rasterized=True,
                           gid="hist_1d_evolution")
    ax_e.axhline(0, color="white", lw=0.6, alpha=0.7)
    ax_e.grid(False)
    ax_e.set_ylabel("gradient element value")
    ax_e.set_title("over steps" + ctx.first_note(), loc="left", fontsize=8.5)
    step_axis(ax_e, ctx)
    fig.colorbar(mesh, cax=cax, label=COUNT_LABEL)


def draw_hist_2d(fig, ctx: Ctx) -> None:
    """Gradient element × parameter value at the latest step (first run), with both marginals.

    Like Cockpit's 2-D histogram: the joint counts on a log colour scale, the parameter
    marginal on top and the gradient marginal on the right (log counts).
    """
    panel_title(fig, "Gradient × parameter: 2-D histogram")
    series, layer = D.hist_series(ctx.runs[0], "grad_2d")
    if not series:
        note(fig.subplots(), "gradient × parameter histogram " + NOT_RECORDED)
        return
    step, counts, edges = series[-1]
    if not (isinstance(edges, list) and len(edges) == 2):
        note(fig.subplots(), "grad_2d record has no [gradient edges, parameter edges] pair")
        return
    g_edges, p_edges = edges
    counts = np.atleast_2d(counts)  # counts[i][j]: gradient bin i × parameter bin j
    if counts.sum() == 0:
        note(fig.subplots(), f"step {step}: the histogram is empty (all counts 0)")
        return
    axd = fig.subplot_mosaic([["top", ".", "."], ["joint", "right", "cbar"]],
                             width_ratios=[1, 0.22, 0.035], height_ratios=[0.22, 1],
                             gridspec_kw={"wspace": 0.02, "hspace": 0.02})
    ax, top, right, cax = axd["joint"], axd["top"], axd["right"], axd["cbar"]
    top.sharex(ax)
    right.sharey(ax)
    img = np.log10(counts + 1.0)
    mesh = ax.pcolormesh(p_edges, g_edges, img, cmap=SEQ_CMAP, shading="flat", rasterized=True,
                         norm=mcolors.Normalize(0, max(img.max(), 1e-9)), gid="hist_2d")
    if p_edges[0] < 0 < p_edges[-1]:
        ax.axvline(0, color="white", lw=0.7, alpha=0.8)
    if g_edges[0] < 0 < g_edges[-1]:
        ax.axhline(0, color="white", lw=0.7, alpha=0.8)
    ax.grid(False)
    ax.set_xlabel("parameter value")
    ax.set_ylabel("gradient element value")
    top.stairs(counts.sum(axis=0), p_edges, fill=True, color=ctx.colors[0], alpha=0.8, gid="hist_2d:param")
    right.stairs(counts.sum(axis=1), g_edges, fill=True, color=ctx.colors[0], alpha=0.8, orientation="horizontal",
                 gid="hist_2d:grad")
    top.set_yscale("log")
    right.set_xscale("log")
    top.tick_params(labelbottom=False)
    right.tick_params(labelleft=False)
    top.set_ylabel("count", fontsize=7)
    right.set_xlabel("count", fontsize=7)
    where = f"step {step}" + (f", layer {layer}" if layer else "") + ctx.first_note()
    top.set_title(where, loc="left", fontsize=8.5)
    fig.colorbar(mesh, cax=cax, label=COUNT_LABEL)
