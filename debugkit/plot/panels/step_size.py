"""Distance from initialisation, update size and update-to-weight ratio (Cockpit's distance gauge)."""

from __future__ import annotations

from debugkit.plot import data as D
from debugkit.plot.draw import Ctx, auto_log, guide, panel_title, series, step_axis
from debugkit.plot.style import NOT_RECORDED, note

ROWS = (
    ("distance", "‖θ − θ₀‖₂", "distance from initialisation"),
    ("update_size", "‖Δθ‖₂", "update size"),
    ("update_ratio", "‖Δθ‖₂ / ‖θ‖₂", "update / weight ratio"),
)


def draw_distance(fig, ctx: Ctx) -> None:
    """How far the parameters moved from where they started, and how big each step is."""
    panel_title(fig, "Distance & update size")
    present = [q for q, _, _ in ROWS if any(D.has_scalar(r, q) for r in ctx.runs)]
    if not present:
        note(fig.subplots(), "distance and update size " + NOT_RECORDED)
        return
    axes = fig.subplots(len(ROWS), 1, sharex=True)
    for ax, (q, ylabel, title) in zip(axes, ROWS):
        if q not in present:
            note(ax, f"{title}: {NOT_RECORDED}")
            continue
        ys = []
        for run, label, color in ctx.items():
            d = D.scalar(run, q)
            if d is not None:
                series(ax, *d, color=color, gid=f"{q}:{label}")
                ys.append(d[1])
        log = auto_log(ax, *ys, ratio=20 if q != "distance" else 1e9)
        if q == "update_ratio":
            if not log:
                ax.set_yscale("log")
            guide(ax, 1e-3, label="≈10⁻³ (rule of thumb)", ls=":")
            ax.legend(loc="best", fontsize=7)
        ax.set_ylabel(ylabel)
        ax.set_title(title, loc="left", fontsize=8.5)
        step_axis(ax, ctx, label=ax is axes[-1])
