"""What goes into the model and what comes out: input statistics, logit scale, softmax entropy."""

from __future__ import annotations

import math

import numpy as np

from debugkit.plot import data as D
from debugkit.plot.draw import Ctx, guide, panel_title, series, step_axis
from debugkit.plot.style import NOT_RECORDED, WARN, note


def draw_inputs_outputs(fig, ctx: Ctx) -> None:
    """Input mean ± std and range (left), logit std / |max| (middle), softmax entropy (right)."""
    panel_title(fig, "Inputs & outputs")
    cols = ("input_mean", "input_std", "output_logit_std", "output_logit_absmax", "output_entropy")
    if not any(D.has_scalar(r, c) for r in ctx.runs for c in cols):
        note(fig.subplots(), "input and output statistics " + NOT_RECORDED)
        return
    ax_in, ax_out, ax_h = fig.subplots(1, 3, sharex=True)
    _inputs(ax_in, ctx)
    _logits(ax_out, ctx)
    _entropy(ax_h, ctx)


def _inputs(ax, ctx: Ctx) -> None:
    ax.set_title("input batch: mean ± std, min/max", loc="left", fontsize=8.5)
    drawn = False
    for run, label, color in ctx.items():
        mean = D.scalar(run, "input_mean")
        if mean is None:
            continue
        drawn = True
        x, m = mean
        red = D.reduce(x, m)  # long runs: bin means
        ax.plot(red.x, red.y, color=color, lw=1.4, gid=f"input_mean:{label}")
        std = D.scalar(run, "input_std")
        if std is not None:
            s = D.reduce(x, np.interp(x, *std)).y
            ax.fill_between(red.x, red.y - s, red.y + s, color=color, alpha=0.18, lw=0, gid=f"input_std:{label}")
        for q in ("input_min", "input_max"):
            d = D.scalar(run, q)
            if d is not None:
                r = D.reduce(*d)  # the extreme of each bin, not its mean
                y = r.y if not r.binned else (r.lo if q == "input_min" else r.hi)
                ax.plot(r.x, y, color=color, lw=0.8, ls=":", gid=f"{q}:{label}")
    if not drawn:
        note(ax, "input statistics " + NOT_RECORDED)
        return
    guide(ax, 0.0, ls="-", lw=0.6)
    ax.set_ylabel("input value")
    step_axis(ax, ctx)


def _logits(ax, ctx: Ctx) -> None:
    ax.set_title("output logits: std (solid), |max| (dotted)", loc="left", fontsize=8.5)
    drawn = False
    for run, label, color in ctx.items():
        for q, ls in (("output_logit_std", "-"), ("output_logit_absmax", ":")):
            d = D.scalar(run, q)
            if d is None:
                continue
            drawn = True
            red = D.reduce(*d)
            ax.plot(red.x, red.y, color=color, ls=ls, lw=1.3, gid=f"{q}:{label}")
        flags = [q for q in ("output_is_prob", "output_is_logprob") if _ever(run, q)]
        if flags:
            ax.text(0.02, 0.98, "outputs look like " + ("probabilities" if "output_is_prob" in flags else "log-probabilities")
                    + "\n— is softmax applied twice?", transform=ax.transAxes, va="top", fontsize=7.5, color=WARN)
    if not drawn:
        note(ax, "logit statistics " + NOT_RECORDED)
        return
    ax.set_ylabel("logit value")
    step_axis(ax, ctx)


def _entropy(ax, ctx: Ctx) -> None:
    ax.set_title("softmax entropy of predictions", loc="left", fontsize=8.5)
    drawn = False
    for run, label, color in ctx.items():
        d = D.scalar(run, "output_entropy")
        if d is not None:
            drawn = True
            series(ax, *d, color=color, gid=f"output_entropy:{label}")
    if not drawn:
        note(ax, "output entropy " + NOT_RECORDED)
        return
    classes = {r.meta.get("num_classes") for r in ctx.runs} - {None}
    if len(classes) == 1:
        c = classes.pop()
        if isinstance(c, (int, float)) and c > 1:
            guide(ax, math.log(c), label=f"uniform over {int(c)} classes (ln {int(c)})", ls=":")
            ax.legend(loc="upper right", fontsize=7)
            ax.set_ylim(0, max(ax.get_ylim()[1], math.log(c) * 1.25))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("entropy (nats)")
    step_axis(ax, ctx)


def _ever(run, column: str) -> bool:
    """Whether a 0/1 flag column was ever 1."""
    d = D.scalar(run, column)
    return d is not None and bool(np.max(d[1]) >= 1)
