"""Learning curves per epoch; runs sharing ``meta["group"]`` (e.g. seeds) as mean ± std."""

from __future__ import annotations

import numpy as np
from matplotlib import ticker
from matplotlib.lines import Line2D

from debugkit.plot import data as D
from debugkit.plot.draw import Ctx, panel_title
from debugkit.plot.style import run_color, note

NOT_LOGGED = "no per-epoch metrics recorded (train/val loss, accuracy)"
PANES = (("loss", "loss"), ("acc", "accuracy"))


def draw_learning_curves(fig, ctx: Ctx) -> None:
    """Train (solid) and validation (dashed) loss and accuracy per epoch."""
    panel_title(fig, "Learning curves")
    groups = D.group_runs(ctx.runs)
    if all(ctx.runs[i].epochs.empty for _, idx in groups for i in idx):
        note(fig.subplots(), NOT_LOGGED)
        return
    axes = fig.subplots(1, 2)
    for ax, (key, ylabel) in zip(axes, PANES):
        drawn = False
        for g, (label, idx) in enumerate(groups):
            color = run_color(g)
            for split, ls in (("train", "-"), ("val", "--")):
                per_run = [d for d in (D.epoch_metric(ctx.runs[i], f"{split}_{key}") for i in idx) if d is not None]
                if not per_run:
                    continue
                drawn = True
                gid = f"{split}_{key}:{label}"
                if len(per_run) == 1:
                    ax.plot(*per_run[0], color=color, ls=ls, marker="o", ms=3, gid=gid)
                else:
                    x, mean, std, _ = D.mean_std(per_run)
                    ax.plot(x, mean, color=color, ls=ls, marker="o", ms=3, gid=gid)
                    ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.18, lw=0, gid=f"{gid}:band")
        if not drawn:
            note(ax, f"{ylabel}: " + NOT_LOGGED)
            continue
        ax.set_title(f"{ylabel}: train (solid), validation (dashed)", loc="left", fontsize=8.5)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        if key == "acc":
            top = max(np.nanmax(line.get_ydata()) for line in ax.get_lines())
            if top <= 1.0:
                ax.yaxis.set_major_formatter(ticker.PercentFormatter(xmax=1.0))
                ax.set_ylabel("accuracy (%)")
                ax.set_ylim(top=min(ax.get_ylim()[1], 1.02))
    handles = [Line2D([], [], color=run_color(g), lw=2) for g in range(len(groups))]
    labels = [label for label, _ in groups]
    handles += [Line2D([], [], color="#555555", ls="-"), Line2D([], [], color="#555555", ls="--")]
    labels += ["train", "validation"]
    if any(len(idx) > 1 for _, idx in groups):
        handles.append(Line2D([], [], color="#999999", lw=6, alpha=0.4))
        labels.append("mean ± std over runs")
    fig.legend(handles, labels, loc="outside right upper", fontsize=7.5)
