"""Activation statistics: dead and saturated fraction per layer and step, as two heat maps."""

from __future__ import annotations

from matplotlib import colors as mcolors

from debugkit.plot import data as D
from debugkit.plot.draw import Ctx, heatmap, panel_title, step_axis
from debugkit.plot.style import FRAC_CMAP, NOT_RECORDED, note

MAPS = (
    ("act_dead", "dead units (zero for the whole batch)"),
    ("act_saturated", "saturated units (tanh/sigmoid at bounds)"),
)


def draw_activations(fig, ctx: Ctx) -> None:
    """Two layer × step heat maps on one 0–1 colour scale (first run of an overlay)."""
    panel_title(fig, "Activations" + ctx.first_note())
    run = ctx.runs[0]
    heats = [D.layer_heat(run, q, span=ctx.span) for q, _ in MAPS]
    types = D.layer_types(run)
    if all(h is None for h in heats):
        note(fig.subplots(), "activation statistics " + NOT_RECORDED)
        return
    ax_d, ax_s, cax = fig.subplots(1, 3, width_ratios=[1, 1, 0.04])
    norm = mcolors.Normalize(0.0, 1.0)
    mesh = None
    max_labels = 30 if not ctx.compact else 16
    for i, (ax, (q, title), heat) in enumerate(zip((ax_d, ax_s), MAPS, heats)):
        ax.set_title(title, loc="left", fontsize=8)
        if heat is None:
            note(ax, f"{q} " + NOT_RECORDED)
            continue
        mesh = heatmap(ax, heat, cmap=FRAC_CMAP, norm=norm, max_labels=max_labels, types=types, gid=q)
        ax.set_facecolor("#dddddd")
        step_axis(ax, ctx)
        if i == 1 and heats[0] is not None and heats[0].layers == heat.layers:
            ax.tick_params(labelleft=False)  # same rows as the left map
    fig.colorbar(mesh, cax=cax, label="fraction of units")
