"""Study figures: learning curves with mean ± std bands, the lr × batch-size grid, comparisons.

Inputs are DataFrames read from the run store (``run.epochs``) and the study tables, never
torch objects. Figures are built on an Agg canvas in debugkit's style.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from debugkit.plot.style import new_figure, run_color, style
from debugkit.study.stats import Comparison

DPI = 150
LABELS = {"train_loss": "training loss", "val_loss": "validation loss", "val_acc": "validation accuracy",
          "train_acc": "training accuracy", "val_f1": "validation macro F1"}
GREY = "#6b6b6b"


def mean_std_curve(frames: Sequence[pd.DataFrame], metric: str
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(epoch, mean, std, n)`` of ``metric`` over runs; non-finite values (divergence) are left out."""
    series = []
    for f in frames:
        if metric in f and "epoch" in f:
            s = pd.Series(pd.to_numeric(f[metric], errors="coerce").to_numpy(dtype=float),
                          index=f["epoch"].to_numpy(dtype=float))
            series.append(s[np.isfinite(s.to_numpy())])
    if not series:
        return (np.array([]),) * 4
    frame = pd.concat(series, axis=1).sort_index()
    return (frame.index.to_numpy(dtype=float), frame.mean(axis=1).to_numpy(),
            frame.std(axis=1, ddof=1).fillna(0.0).to_numpy(), frame.notna().sum(axis=1).to_numpy())


def _draw_curves(ax, curves: dict[str, list[pd.DataFrame]], metric: str, colors: dict[str, str],
                 show_runs: bool = False) -> bool:
    drawn = False
    for label, frames in curves.items():
        x, mean, std, n = mean_std_curve(frames, metric)
        if len(x) == 0:
            continue
        drawn = True
        c = colors[label]
        if show_runs:
            for f in frames:
                if metric in f:
                    ax.plot(f["epoch"], pd.to_numeric(f[metric], errors="coerce"), color=c, lw=0.6, alpha=0.35)
        ax.plot(x, mean, color=c, lw=1.6, marker="o" if len(x) <= 12 else None, ms=2.5, gid=f"{metric}:{label}")
        if (n > 1).any():
            ax.fill_between(x, mean - std, mean + std, color=c, alpha=0.2, lw=0, gid=f"{metric}:{label}:band")
    if drawn:
        ax.set_xlabel("epoch")
        ax.set_ylabel(LABELS.get(metric, metric))
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        if metric.endswith("loss"):
            lo, hi = ax.get_ylim()
            ys = [v for line in ax.get_lines() for v in np.asarray(line.get_ydata(), dtype=float) if np.isfinite(v)]
            if ys and min(ys) > 0 and max(ys) / min(ys) > 20:
                ax.set_yscale("log")
        if metric.endswith("acc") or metric.endswith("f1"):
            ax.yaxis.set_major_formatter(ticker.PercentFormatter(xmax=1.0))
    else:
        ax.text(0.5, 0.5, f"no {metric} recorded", transform=ax.transAxes, ha="center", color=GREY)
    return drawn


def learning_curves_figure(curves: dict[str, list[pd.DataFrame]], *, title: str,
                           metrics: Sequence[str] = ("train_loss", "val_loss", "val_acc"),
                           show_runs: bool = False) -> Figure:
    """One panel per metric, one line per configuration: mean over its runs, band ± 1 std."""
    colors = {label: run_color(i) for i, label in enumerate(curves)}
    many = len(curves) > 8
    with style():
        fig = new_figure((4.0 * len(metrics), 3.6 + (0.25 * math.ceil(len(curves) / 3) if not many else 0)), DPI)
        axes = fig.subplots(1, len(metrics))
        for ax, metric in zip(np.atleast_1d(axes), metrics):
            _draw_curves(ax, curves, metric, colors, show_runs)
            ax.set_title(LABELS.get(metric, metric), loc="left")
        ns = {label: len(frames) for label, frames in curves.items()}
        handles = [Line2D([], [], color=colors[lb], lw=2) for lb in curves]
        labels = [f"{lb} (n={ns[lb]})" for lb in curves]
        if any(n > 1 for n in ns.values()):
            handles.append(Line2D([], [], color="#999999", lw=6, alpha=0.4))
            labels.append("mean ± 1 std over runs")
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize=7.5)
        fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    return fig


def lr_batch_curves_figure(curves: dict[str, list[pd.DataFrame]], lrs: Sequence[float],
                           batch_sizes: Sequence[int | str], *, title: str,
                           metrics: Sequence[str] = ("val_loss", "val_acc")) -> Figure:
    """A panel per batch size (columns) and metric (rows); one line per learning rate."""
    colors = {f"{lr:g}": run_color(i) for i, lr in enumerate(lrs)}
    with style():
        fig = new_figure((3.3 * len(batch_sizes) + 0.4, 2.8 * len(metrics) + 0.7), DPI)
        axes = np.atleast_2d(fig.subplots(len(metrics), len(batch_sizes), squeeze=False, sharey="row"))
        for j, bs in enumerate(batch_sizes):
            sub = {f"{lr:g}": curves.get(f"lr={lr:g}, bs={bs}", []) for lr in lrs}
            for i, metric in enumerate(metrics):
                ax = axes[i, j]
                _draw_curves(ax, sub, metric, colors)
                ax.set_title(f"batch size {bs}: {LABELS.get(metric, metric)}", loc="left", fontsize=8.5)
                if j:
                    ax.set_ylabel("")
        handles = [Line2D([], [], color=c, lw=2) for c in colors.values()]
        labels = [f"lr = {k}" for k in colors]
        handles.append(Line2D([], [], color="#999999", lw=6, alpha=0.4))
        labels.append("mean ± 1 std over seeds")
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6), fontsize=7.5)
        fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    return fig


def lr_batch_heatmap(table: pd.DataFrame, lrs: Sequence[float], batch_sizes: Sequence[int | str], metric: str,
                     *, title: str, best: str | None = None) -> Figure:
    """Mean final ``metric`` for every (learning rate, batch size), annotated with ± std."""
    grid = np.full((len(batch_sizes), len(lrs)), np.nan)
    text = [["" for _ in lrs] for _ in batch_sizes]
    for i, bs in enumerate(batch_sizes):
        for j, lr in enumerate(lrs):
            key = f"lr={lr:g}, bs={bs}"
            if key in table.index:
                row = table.loc[key]
                grid[i, j] = row.get(f"{metric}_mean", np.nan)
                mean, std, n = grid[i, j], row.get(f"{metric}_std", np.nan), int(row.get("n", 0))
                if n == 0:
                    text[i][j] = "no finished run"
                elif not np.isfinite(mean):
                    text[i][j] = "diverged"
                else:
                    text[i][j] = f"{mean:.3f}\n± {std:.3f}" if n > 1 else f"{mean:.3f}\n(n=1)"
                if row.get("n_diverged", 0) and np.isfinite(mean):
                    text[i][j] += f"\n{int(row['n_diverged'])} div."
    lower = "loss" in metric
    with style():
        fig = new_figure((1.25 * len(lrs) + 2.4, 0.85 * len(batch_sizes) + 1.6), DPI)
        ax = fig.subplots()
        im = ax.imshow(grid, cmap="viridis_r" if lower else "viridis", aspect="auto")
        ax.grid(False)
        ax.set_xticks(range(len(lrs)), [f"{lr:g}" for lr in lrs])
        ax.set_yticks(range(len(batch_sizes)), [str(b) for b in batch_sizes])
        ax.set_xlabel("learning rate")
        ax.set_ylabel("batch size")
        finite = grid[np.isfinite(grid)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0
        for i in range(len(batch_sizes)):
            for j in range(len(lrs)):
                v = grid[i, j]
                dark = np.isfinite(v) and ((v < mid) != lower)
                key = f"lr={lrs[j]:g}, bs={batch_sizes[i]}"
                ax.text(j, i, text[i][j], ha="center", va="center", fontsize=7,
                        color="white" if dark else "#222222")
                if key == best and np.isfinite(v):
                    ax.add_patch(_frame(j, i))
        for spine in ax.spines.values():
            spine.set_visible(False)
        fig.colorbar(im, ax=ax, shrink=0.85, label=f"final {LABELS.get(metric, metric)} (mean)")
        ax.set_title(title, loc="left")
    return fig


def _frame(x: float, y: float):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.48, y - 0.48), 0.96, 0.96, fill=False, ec="#D55E00", lw=2)


def comparison_figure(runs: pd.DataFrame, metric: str, *, title: str, order: Sequence[str],
                      reference: str | None = None, comparisons: Sequence[Comparison] = ()) -> Figure:
    """Every run's final ``metric`` (dots), mean ± 1 std (thick) and ± 2 std (thin) per configuration.

    A vertical line marks the reference's mean; each row says whether its difference to
    the reference is within noise.
    """
    verdicts = {c.name: c for c in comparisons}
    rng = np.random.default_rng(0)
    with style():
        fig = new_figure((7.8, 0.5 * len(order) + 1.5), DPI)
        ax = fig.subplots()
        for y, variant in enumerate(order):
            vals = pd.to_numeric(runs.loc[runs["variant"] == variant, metric], errors="coerce").to_numpy(float)
            vals = vals[np.isfinite(vals)]
            c = verdicts.get(variant)
            color = GREY if variant == reference or c is None or c.within_noise else (
                "#009E73" if (c.diff > 0) != ("loss" in metric) else "#D55E00")
            if len(vals) == 0:
                ax.text(0.02, y, "no finite value (diverged)", va="center", transform=ax.get_yaxis_transform(),
                        color=GREY, fontsize=7)
                continue
            ax.scatter(vals, y + rng.uniform(-0.12, 0.12, len(vals)), s=12, color=color, alpha=0.6, lw=0, zorder=3)
            mean = vals.mean()
            if len(vals) > 1:
                sd = vals.std(ddof=1)
                ax.errorbar(mean, y, xerr=2 * sd, fmt="none", ecolor=color, elinewidth=0.8, capsize=3, zorder=2)
                ax.errorbar(mean, y, xerr=sd, fmt="none", ecolor=color, elinewidth=3, capsize=0, zorder=2)
            ax.plot([mean], [y], marker="D", color="black" if variant == reference else color, ms=5, zorder=4)
        if reference is not None:
            ref = pd.to_numeric(runs.loc[runs["variant"] == reference, metric], errors="coerce").to_numpy(float)
            ref = ref[np.isfinite(ref)]
            if len(ref):
                ax.axvline(ref.mean(), color="black", lw=0.8, ls="--", zorder=1)
        labels = []
        for variant in order:
            c = verdicts.get(variant)
            note = "reference" if variant == reference else (
                ("within noise" if c.within_noise else ("better" if (c.diff > 0) != ("loss" in metric) else "worse"))
                if c is not None else "")
            labels.append(f"{variant}\n({note})" if note else variant)
        ax.set_yticks(range(len(order)), labels, fontsize=7.5)
        ax.set_ylim(len(order) - 0.5, -0.5)
        ax.set_xlabel(f"final {LABELS.get(metric, metric)}")
        if metric.endswith("acc") or metric.endswith("f1"):
            ax.xaxis.set_major_formatter(ticker.PercentFormatter(xmax=1.0, decimals=1))
        ax.set_title(title, loc="left")
        handles = [Line2D([], [], color=GREY, marker="o", lw=0, ms=4, alpha=0.6),
                   Line2D([], [], color=GREY, lw=3), Line2D([], [], color=GREY, lw=0.8),
                   Line2D([], [], color="black", ls="--", lw=0.8)]
        fig.legend(handles, ["one run", "mean ± 1 std", "± 2 std", "reference mean"], loc="outside lower center",
                   ncols=4, fontsize=7)
    return fig


def cv_figure(runs: pd.DataFrame, metrics: Sequence[str] = ("val_acc", "val_f1", "val_loss"), *,
              title: str) -> Figure:
    """Each fold's final metric with the mean and a ± 1 std band (k-fold error bars)."""
    with style():
        fig = new_figure((3.6 * len(metrics), 3.2), DPI)
        axes = np.atleast_1d(fig.subplots(1, len(metrics)))
        folds = np.arange(len(runs))
        for ax, metric in zip(axes, metrics):
            vals = pd.to_numeric(runs[metric], errors="coerce").to_numpy(float)
            ok = np.isfinite(vals)
            if ok.sum() >= 1:
                mean = vals[ok].mean()
                sd = vals[ok].std(ddof=1) if ok.sum() > 1 else 0.0
                ax.axhspan(mean - sd, mean + sd, color="#E69F00", alpha=0.25, lw=0, zorder=0)
                ax.axhline(mean, color="black", lw=1, zorder=1)
                ax.set_title(f"{LABELS.get(metric, metric)}\n{mean:.4f} ± {sd:.4f} (k={ok.sum()})", loc="left",
                             fontsize=8.5)
                pad = 3 * max(sd, 1e-3)
                ax.set_ylim(np.nanmin(vals[ok]) - pad, np.nanmax(vals[ok]) + pad)
            ax.vlines(folds[ok], mean if ok.any() else 0, vals[ok], color="#0072B2", lw=1, alpha=0.5, zorder=2)
            ax.plot(folds[ok], vals[ok], "o", color="#0072B2", ms=6, zorder=3)
            ax.set_xlim(-0.6, len(folds) - 0.4)
            ax.set_xticks(folds, [str(r) for r in runs["replicate"]], rotation=30, fontsize=7)
            if metric.endswith("acc") or metric.endswith("f1"):
                ax.yaxis.set_major_formatter(ticker.PercentFormatter(xmax=1.0, decimals=1))
        handles = [Line2D([], [], color="#0072B2", marker="o", lw=0, ms=6), Line2D([], [], color="black", lw=1),
                   Line2D([], [], color="#E69F00", lw=6, alpha=0.4)]
        fig.legend(handles, ["one fold", "mean over folds", "± 1 std"], loc="outside lower center", ncols=3,
                   fontsize=7.5)
        fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    return fig
