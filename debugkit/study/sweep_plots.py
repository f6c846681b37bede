"""Sweep figures and summaries: parallel coordinates, importance (fANOVA and correlation), history.

W&B's sweep pages show a parallel-coordinates plot and a parameter-importance panel with
two columns: an importance from a random forest and the linear correlation with the
metric. Here the importance is Optuna's fANOVA (:class:`optuna.importance.FanovaImportanceEvaluator`)
and the correlation is Pearson's r between the parameter (log10 for log ranges; one-hot per
value for categories, as W&B does) and the objective, over complete trials.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps, ticker
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from debugkit.plot.style import new_figure, save, style
from debugkit.study.space import Param

DPI = 150
GREY = "#9a9a9a"
MIN_TRIALS_IMPORTANCE = 4


def _complete(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[(trials["state"] == "COMPLETE") & trials["value"].notna()] if len(trials) else trials


def fanova_importance(study, params: dict[str, Param], notes: list[str]) -> dict[str, float]:
    """fANOVA importance of each parameter over complete trials (``{}`` with a note when impossible)."""
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances
    from optuna.trial import TrialState

    n = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    if n < MIN_TRIALS_IMPORTANCE:
        notes.append(f"fANOVA importance needs at least {MIN_TRIALS_IMPORTANCE} complete trials, the sweep has {n}")
        return {}
    try:
        imp = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
    except Exception as exc:  # e.g. every trial has the same parameters
        notes.append(f"fANOVA importance could not be computed: {type(exc).__name__}: {exc}")
        return {}
    if n < 20:
        notes.append(f"fANOVA was fitted on {n} complete trials; with fewer than ~20 its ranking is noisy")
    return {k: float(v) for k, v in imp.items()}


def correlations(trials: pd.DataFrame, params: dict[str, Param], metric: str) -> dict[str, float]:
    """Pearson r of each parameter (or ``param=value`` for categories) with the objective."""
    done = _complete(trials)
    out: dict[str, float] = {}
    if len(done) < 3:
        return out
    y = done["value"].to_numpy(dtype=float)
    for name, p in params.items():
        if name not in done:
            continue
        if p.kind == "categorical" and not p.numeric_choices:
            keys = done[name].map(p.label)
            for choice in p.choices:
                x = (keys == p.label(choice)).to_numpy(dtype=float)
                r = _pearson(x, y)
                if r is not None:
                    out[f"{name}={p.label(choice)}"] = r
        else:
            x = np.array([p.numeric(v) for v in done[name]], dtype=float)
            r = _pearson(x, y)
            if r is not None:
                out[name] = r
    return out


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def _axis_ticks(p: Param) -> list[tuple[float, str]]:
    if p.kind == "categorical":
        return [(p.position(c), p.label(c)) for c in p.choices]
    if p.log:
        lo, hi = math.log10(p.low), math.log10(p.high)
        vals = [10**v for v in np.linspace(lo, hi, 5)]
    else:
        vals = list(np.linspace(p.low, p.high, 5))
    if p.kind == "int":
        vals = sorted({int(round(v)) for v in vals})
    return [(p.position(v), f"{v:.3g}") for v in vals]


def parallel_coordinates_figure(trials: pd.DataFrame, params: dict[str, Param], metric: str, direction: str,
                                *, title: str) -> Figure:
    """One vertical axis per parameter plus the objective; one line per trial, coloured by the objective.

    Pruned trials (stopped early, so no final value) are thin grey lines through the
    parameter axes only.
    """
    names = list(params)
    done = _complete(trials)
    pruned = trials[trials["state"] == "PRUNED"] if len(trials) else trials
    values = done["value"].to_numpy(dtype=float) if len(done) else np.array([])
    cmap = colormaps["viridis" if direction == "maximize" else "viridis_r"]
    norm = Normalize(vmin=values.min() if len(values) else 0, vmax=values.max() if len(values) else 1)
    if len(values) and norm.vmin == norm.vmax:
        norm = Normalize(vmin=norm.vmin - 1e-9, vmax=norm.vmax + 1e-9)
    xs = np.arange(len(names) + 1)
    with style():
        fig = new_figure((max(6.0, 1.7 * (len(names) + 1) + 1.5), 4.4), DPI)
        ax = fig.subplots()
        ax.grid(False)
        for _, row in pruned.iterrows():
            ys = [params[n].position(row[n]) for n in names]
            ax.plot(xs[:-1], ys, color=GREY, lw=0.7, alpha=0.45, zorder=1, gid="pruned")
        order = np.argsort(values if direction == "maximize" else -values)  # best drawn last, on top
        for i in order:
            row = done.iloc[i]
            ys = [params[n].position(row[n]) for n in names]
            ys.append(norm(values[i]))
            ax.plot(xs, ys, color=cmap(norm(values[i])), lw=1.4, alpha=0.9, zorder=2, gid="complete")
        for x, n in zip(xs, names + [metric]):
            ax.axvline(x, color="#444444", lw=0.8, zorder=3)
            ticks = _axis_ticks(params[n]) if n in params else [
                (norm(v), f"{v:.3g}") for v in np.linspace(norm.vmin, norm.vmax, 5)] if len(values) else []
            for y, text in ticks:
                if np.isfinite(y):
                    ax.plot([x - 0.03, x], [y, y], color="#444444", lw=0.8, zorder=3)
                    ax.text(x - 0.05, y, text, ha="right", va="center", fontsize=6.5, zorder=4,
                            bbox=dict(facecolor="white", edgecolor="none", alpha=0.7, pad=0.5))
        ax.set_xticks(xs, [*(f"{n}\n(log)" if params[n].log else n for n in names), f"{metric}\n(objective)"],
                      fontsize=8)
        ax.set_yticks([])
        ax.set_ylim(-0.06, 1.06)
        ax.set_xlim(-0.45, len(names) + 0.15)
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        sm = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.85, pad=0.02)
        sm.set_label(metric)
        handles = [Line2D([], [], color=cmap(0.85), lw=1.4), Line2D([], [], color=GREY, lw=0.7)]
        fig.legend(handles, [f"complete ({len(done)})", f"pruned, stopped early ({len(pruned)})"],
                   loc="outside lower center", ncols=2, fontsize=7.5)
        ax.set_title(title, loc="left")
    return fig


def importance_figure(importance: dict[str, float], corr: dict[str, float], metric: str, *, title: str,
                      notes: list[str] = ()) -> Figure:
    """fANOVA importance (left) and correlation with the objective (right), as W&B shows them."""
    with style():
        rows = max(len(importance), len(corr), 1)
        fig = new_figure((9.0, 0.32 * rows + 1.9), DPI)
        ax1, ax2 = fig.subplots(1, 2)
        if importance:
            items = sorted(importance.items(), key=lambda kv: kv[1])
            ax1.barh([k for k, _ in items], [v for _, v in items], color="#0072B2")
            ax1.set_xlim(0, 1)
            ax1.xaxis.set_major_formatter(ticker.PercentFormatter(xmax=1.0))
            for i, (_, v) in enumerate(items):
                ax1.text(v + 0.01, i, f"{v:.0%}", va="center", fontsize=7)
        else:
            ax1.text(0.5, 0.5, "\n".join(n for n in notes if "fANOVA" in n) or "not available", ha="center",
                     va="center", fontsize=7.5, color="#777777", wrap=True, transform=ax1.transAxes)
            ax1.set_xticks([])
            ax1.set_yticks([])
        ax1.set_title("importance (fANOVA)", loc="left")
        if corr:
            items = sorted(corr.items(), key=lambda kv: abs(kv[1]))
            ax2.barh([k for k, _ in items], [v for _, v in items],
                     color=["#009E73" if v > 0 else "#D55E00" for _, v in items])
            ax2.set_xlim(-1, 1)
            ax2.axvline(0, color="#444444", lw=0.8)
            ax2.tick_params(axis="y", labelsize=7)
        else:
            ax2.text(0.5, 0.5, "needs at least 3 complete trials", ha="center", va="center", fontsize=7.5,
                     color="#777777", transform=ax2.transAxes)
            ax2.set_xticks([])
            ax2.set_yticks([])
        ax2.set_title(f"correlation with {metric} (Pearson r)", loc="left")
        fig.suptitle(title, x=0.01, ha="left", fontsize=10.5)
    return fig


def history_figure(trials: pd.DataFrame, metric: str, direction: str, *, title: str) -> Figure:
    """Objective of every trial in order, the best so far, and where pruned trials stopped."""
    with style():
        fig = new_figure((7.0, 3.4), DPI)
        ax = fig.subplots()
        done = _complete(trials).sort_values("number")
        pruned = trials[trials["state"] == "PRUNED"] if len(trials) else trials
        failed = trials[trials["state"] == "FAIL"] if len(trials) else trials
        ax.scatter(done["number"], done["value"], color="#0072B2", s=18, zorder=3, label="complete")
        if len(pruned):
            ax.scatter(pruned["number"], pruned["last_epoch_value"], color=GREY, marker="x", s=18, zorder=2,
                       label="pruned (value at the epoch it stopped)")
        if len(done):
            best = done["value"].cummax() if direction == "maximize" else done["value"].cummin()
            ax.step(done["number"], best, where="post", color="#D55E00", lw=1.4, label="best so far")
        for n in failed["number"]:
            ax.axvline(n, color="#D55E00", lw=0.6, ls=":", alpha=0.6)
        if len(failed):
            ax.plot([], [], color="#D55E00", lw=0.6, ls=":", label="failed / interrupted")
        ax.set_xlabel("trial")
        ax.set_ylabel(metric)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax.legend(fontsize=7, loc="best")
        ax.set_title(title, loc="left")
    return fig


def write_figures(result, spec: dict[str, Any]) -> dict[str, Path]:
    out_dir = result.out_dir
    what = f"sweep '{spec['study_name']}' ({spec['sampler']}, pruner {spec['pruner']}, {len(result.trials)} trials)"
    figs = {
        "parallel_coordinates": parallel_coordinates_figure(result.trials, result.space, result.metric,
                                                            result.direction, title=f"Parallel coordinates — {what}"),
        "importance": importance_figure(result.importance, result.correlations, result.metric,
                                        title=f"Hyperparameter importance — {what}", notes=result.notes),
        "history": history_figure(result.trials, result.metric, result.direction, title=f"History — {what}"),
    }
    return {name: save(fig, out_dir / f"{name}.png") for name, fig in figs.items()}


def sweep_markdown(result, spec: dict[str, Any]) -> str:
    t = result.trials
    counts = t["state"].value_counts().to_dict() if len(t) else {}
    lines = [
        f"# Sweep `{spec['study_name']}`",
        "",
        f"Sampler {spec['sampler']}, pruner {spec['pruner']}, objective {spec['metric']} ({spec['direction']}), "
        f"budget {spec['base']['epochs']} epochs per trial. Trials: "
        + ", ".join(f"{v} {k.lower()}" for k, v in counts.items()) + ".",
        "",
    ]
    if result.best_params is not None:
        lines += [f"Best trial: {spec['metric']} = {result.best_value:.4f} with "
                  + ", ".join(f"`{k}` = {v!r}" for k, v in result.best_params.items())
                  + " (config in `best_config.toml`).",
                  "",
                  "This is the best of many noisy trials, each with one seed: its value is optimistic. Re-run the "
                  "best configuration with several seeds (`run_study('seeds', ...)`) before comparing it with "
                  "anything, and touch the test split once, at the very end.", ""]
    done = _complete(t)
    if len(done):
        top = done.sort_values("value", ascending=result.direction == "minimize").head(10)
        cols = ["number", "value", *result.space]
        lines += ["## Top trials", "", "| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
        for _, row in top.iterrows():
            lines.append("| " + " | ".join(f"{row[c]:.4f}" if c == "value" else str(row[c]) for c in cols) + " |")
        lines.append("")
    if result.importance:
        lines += ["## Importance", "", "| parameter | fANOVA | correlation |", "| --- | --- | --- |"]
        for k, v in result.importance.items():
            r = result.correlations.get(k)
            lines.append(f"| {k} | {v:.2f} | {'' if r is None else f'{r:+.2f}'} |")
        lines.append("")
    if result.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in result.notes] + [""]
    if result.figures:
        lines += ["## Figures", ""] + [f"![{k}]({Path(v).name})" for k, v in result.figures.items()]
    return "\n".join(lines) + "\n"
