"""The Cockpit-style dashboard: every instrument of one or several runs in one figure."""

from __future__ import annotations

import os

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from debugkit.plot import data as D
from debugkit.plot.draw import Ctx, finish
from debugkit.plot.panels import PANELS
from debugkit.plot.style import GROUP_TINT, new_figure, save, style

# (panel, tint group) row by row; Cockpit groups step size, gradients and curvature by colour
LAYOUT = (
    (("loss", "performance"), ("alpha", "step"), ("distance", "step")),
    (("grad_norm", "step"), ("gradient_tests", "gradients"), ("curvature", "curvature")),
    (("hist_1d", "gradients"), ("hist_2d", "gradients"), ("activations", "activations")),
)
FIGSIZE = (21.0, 15.0)
DPI = 100


def plot_cockpit(
    runs,
    path: str | os.PathLike | None = None,
    *,
    title: str | None = None,
    figsize: tuple[float, float] = FIGSIZE,
    dpi: float = DPI,
) -> Figure:
    """Draw the dashboard of one run, or overlay several (one colour per run).

    Panels: loss, alpha, distance & update size, gradient norm (global and per layer),
    gradient tests / GSNR / CABS / EB, curvature (λmax, trace, TIC, lr·λmax), 1-D and 2-D
    gradient histograms, activation statistics. A panel whose data the run does not hold
    shows a grey "not recorded" note. Image panels (heat maps, histograms over steps)
    show the first run of an overlay.

    Args:
        runs: A :class:`~debugkit.store.Run`, a run directory, or a list of them.
        path: Also write the figure here (``.png``, ``.svg`` or ``.pdf``).
        title: Figure title; defaults to the run name(s).
        figsize: Size in inches (the default suits a screen or an A3 page).
        dpi: Resolution of raster output.

    Returns:
        The :class:`matplotlib.figure.Figure` (Agg canvas; not shown anywhere).

    Raises:
        debugkit.store.reader.RunNotFoundError: a run directory does not exist.

    Example:
        >>> fig = plot_cockpit("runs/demo", "cockpit.png")        # doctest: +SKIP
        >>> plot_cockpit(load_runs(["runs/a", "runs/b"]))          # doctest: +SKIP
    """
    runs = D.as_runs(runs)
    ctx = Ctx(runs, compact=True)
    with style():
        fig = new_figure(figsize, dpi)
        rows = fig.subfigures(len(LAYOUT), 1, hspace=0.015)
        for row_fig, row in zip(rows, LAYOUT):
            cells = row_fig.subfigures(1, len(row), wspace=0.012)
            for sub, (name, group) in zip(cells, row):
                sub.set_facecolor(GROUP_TINT[group])
                draw, _ = PANELS[name]
                draw(sub, ctx)
                finish(sub)
        fig.suptitle(title or _default_title(ctx), x=0.005, ha="left", fontsize=15)
        fig.supxlabel(_details(ctx), x=0.005, ha="left", fontsize=8, color="#555555")
        if ctx.multi:
            handles = [Line2D([], [], color=c, lw=2.5) for c in ctx.colors]
            fig.legend(handles, ctx.labels, loc="outside upper right", ncols=min(len(runs), 6), fontsize=9,
                       title="runs", title_fontsize=9)
    if path is not None:
        save(fig, path)
    return fig


def _default_title(ctx: Ctx) -> str:
    if not ctx.multi:
        return f"debugkit cockpit — {ctx.labels[0]}"
    return f"debugkit cockpit — {len(ctx.runs)} runs"


def _details(ctx: Ctx) -> str:
    """One line per run: model, data, optimiser, batch size, preset, steps, status."""
    lines = []
    for run, label in zip(ctx.runs, ctx.labels):
        meta = run.meta
        cfg = meta.get("config") or {}
        model = meta.get("model") or {}
        parts = []
        if model.get("num_params"):
            kind = f"{model['class']}, " if model.get("class") else ""
            parts.append(f"{kind}{len(model.get('layers', []))} layers, {model['num_params']:,} params")
        dataset = meta.get("dataset") or cfg.get("dataset")
        if dataset:
            parts.append(str(dataset))
        parts.extend(_optimizer(meta.get("optimizer") or cfg.get("optimizer"), meta.get("lr", cfg.get("lr"))))
        batch = meta.get("batch_size", cfg.get("batch_size"))
        if batch:
            parts.append(f"batch {batch}")
        if meta.get("preset"):
            parts.append(f"preset {meta['preset']}")
        steps = run.scalars.index
        parts.append(f"{int(steps.max()) + 1 if len(steps) else 0} steps")
        if meta.get("status") and meta["status"] != "finished":
            parts.append(f"status {meta['status']}")
        if run.skipped_lines:
            parts.append(f"{run.skipped_lines} unreadable line(s) skipped")
        lines.append(f"{label}: " + "  ·  ".join(parts))
    return "\n".join(lines)


def _optimizer(opt, lr) -> list[str]:
    """``["SGD", "lr 0.1", "momentum 0.9"]`` from a name or the monitor's optimizer summary dict."""
    out = []
    if isinstance(opt, dict):
        if opt.get("class") or opt.get("name"):
            out.append(str(opt.get("class") or opt.get("name")))
        lr = opt.get("lr", lr)
        if opt.get("momentum"):
            out.append(f"momentum {opt['momentum']}")
        if opt.get("weight_decay"):
            out.append(f"weight decay {opt['weight_decay']}")
    elif opt:
        out.append(str(opt))
    if lr not in (None, ""):
        out.insert(min(1, len(out)), f"lr {lr:g}" if isinstance(lr, (int, float)) else f"lr {lr}")
    return out
