"""Loss per step, smoothed, with the validation loss at the end of each epoch."""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from debugkit.plot import data as D
from debugkit.plot.draw import Ctx, auto_log, panel_title, series, step_axis
from debugkit.plot.style import WARN, note


def draw_loss(fig, ctx: Ctx) -> None:
    """Training loss of every run (thin: per step, thick: smoothed); one legend entry per run."""
    panel_title(fig, "Loss")
    ax = fig.subplots()
    data = [D.scalar(r, "loss") for r in ctx.runs]
    if all(d is None for d in data):
        note(ax, "no loss recorded (yet): the run has no training step")
        return
    ys = []
    val_shown = False
    for (run, label, color), d in zip(ctx.items(), data):
        if d is None:
            continue
        ys.append(d[1])
        series(ax, *d, color=color, label=label, gid=f"loss:{label}")
        val = D.epoch_metric(run, "val_loss")
        if val is not None and "step" in run.epochs.columns:
            steps = run.epochs.set_index("epoch")["step"].reindex(val[0]).to_numpy(dtype=float)
            ok = np.isfinite(steps)
            if ok.any():
                ax.plot(steps[ok], val[1][ok], ls="none", marker="D", ms=4.5, mfc="white", mec=color, mew=1.3,
                        label="_nolegend_", gid=f"val_loss:{label}", zorder=3)
                ys.append(val[1][ok])
                val_shown = True
        bad = D.nonfinite_steps(run, "loss", event="nan_loss")
        if bad.size:
            ax.axvline(bad[0], color=WARN, lw=1.2, ls=":")
            ax.annotate(f"loss NaN/inf from step {int(bad[0])}", (bad[0], 1), xycoords=("data", "axes fraction"),
                        xytext=(-3, -3), textcoords="offset points", ha="right", va="top", color=WARN, fontsize=7.5)
    auto_log(ax, *ys)
    ax.set_ylabel("loss")
    if any(d is not None and len(d[0]) >= D.SMOOTH_MIN_POINTS for d in data):
        ax.set_title("thin: every step · thick: moving average", fontsize=7.5, fontweight="normal",
                     color="#555555", loc="right")
    step_axis(ax, ctx)
    handles, labels = ax.get_legend_handles_labels()
    if val_shown:
        handles.append(Line2D([], [], ls="none", marker="D", mfc="white", mec="#555555", mew=1.3))
        labels.append("val loss (end of epoch)")
    ax.legend(handles, labels, loc="best")
