"""Gradient norm: the whole model per step, and per layer as a layer × step heat map."""

from __future__ import annotations

from debugkit.plot import data as D
from debugkit.plot.draw import Ctx, auto_log, heatmap, log_norm, panel_title, series, step_axis
from debugkit.plot.style import NOT_RECORDED, SEQ_CMAP, note


def draw_grad_norm(fig, ctx: Ctx) -> None:
    """‖∇L‖ of every run (top) and per layer for the first run (bottom, log colour scale)."""
    panel_title(fig, "Gradient norm")
    glob = [D.scalar(r, "grad_norm") for r in ctx.runs]
    heat = D.layer_heat(ctx.runs[0], "grad_norm", span=ctx.span)
    if all(g is None for g in glob) and heat is None:
        note(fig.subplots(), "gradient norm " + NOT_RECORDED)
        return
    if heat is None:
        ax_g, ax_l = fig.subplots(2, 1, height_ratios=[1, 1.25])
        cax = None
    else:
        # a narrow second column holds the colour bar, so both rows keep the same width and align
        (ax_g, spare), (ax_l, cax) = fig.subplots(2, 2, height_ratios=[1, 1.25], width_ratios=[1, 0.025])
        spare.set_axis_off()
    if all(g is None for g in glob):
        note(ax_g, "global gradient norm " + NOT_RECORDED)
    else:
        for (run, label, color), g in zip(ctx.items(), glob):
            if g is not None:
                series(ax_g, *g, color=color, gid=f"grad_norm:{label}")
        auto_log(ax_g, *[g[1] for g in glob if g is not None], ratio=20)
        ax_g.set_ylabel("‖∇L‖₂")
        ax_g.set_title("whole model", loc="left", fontsize=8.5)
        step_axis(ax_g, ctx, label=False)
    if heat is None:
        note(ax_l, "per-layer gradient norm " + NOT_RECORDED)
        return
    norm = log_norm(heat.values)
    mesh = heatmap(ax_l, heat, cmap=SEQ_CMAP, norm=norm, max_labels=10 if ctx.compact else 30, types=D.layer_types(ctx.runs[0]),
                   gid="grad_norm_layers")
    ax_l.set_title("per layer" + ctx.first_note(), loc="left", fontsize=8.5)
    fig.colorbar(mesh, cax=cax, label="‖∇L‖₂ of layer")
    step_axis(ax_l, ctx)
    if any(g is not None for g in glob):
        ax_g.sharex(ax_l)  # after drawing, so the line adopts the heat map's step range
