"""Turn a :class:`~debugkit.store.Run` into arrays ready to draw (no matplotlib here).

Everything a panel draws goes through these functions, so "what is drawn" can be tested
against "what is in the run" without looking at pixels.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from debugkit.store import Run, load_run

MAX_POINTS = 1500  # above this many points a per-step line is drawn as bin means + min/max band
MAX_COLUMNS = 400  # above this many measured steps a heat map averages neighbouring steps


def as_runs(runs) -> list[Run]:
    """Accept one run or several, as :class:`Run` objects or run directories.

    Raises:
        debugkit.store.reader.RunNotFoundError: a path is not a run directory.
        TypeError / ValueError: nothing usable was passed.
    """
    if isinstance(runs, (Run, str, os.PathLike)):
        runs = [runs]
    try:
        items = list(runs)
    except TypeError:
        raise TypeError(
            f"runs must be a Run, a run directory or a list of them, not {type(runs).__name__}"
        ) from None
    if not items:
        raise ValueError("runs is empty: pass at least one Run or run directory")
    out = []
    for r in items:
        if isinstance(r, Run):
            out.append(r)
        elif isinstance(r, (str, os.PathLike)):
            out.append(load_run(r))
        else:
            raise TypeError(f"runs must hold Run objects or run directories, got {type(r).__name__}")
    return out


def run_labels(runs: Sequence[Run]) -> list[str]:
    """Run names for legends, made unique (``name``, ``name #2``, ...)."""
    seen: dict[str, int] = {}
    labels = []
    for r in runs:
        base = str(r.name)
        seen[base] = seen.get(base, 0) + 1
        labels.append(base if seen[base] == 1 else f"{base} #{seen[base]}")
    return labels


# -- scalars -------------------------------------------------------------------------------
def has_scalar(run: Run, column: str) -> bool:
    return scalar(run, column) is not None


def scalar(run: Run, column: str, *, finite: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
    """``(steps, values)`` of one scalar column, measured steps only; ``None`` if never measured.

    With ``finite=True`` NaN and ±inf are dropped (they cannot be drawn); see
    :func:`nonfinite_steps` to mark them.
    """
    df = run.scalars
    if column not in df.columns:
        return None
    s = pd.to_numeric(df[column], errors="coerce").astype(float)
    s = s[np.isfinite(s)] if finite else s.dropna()
    if s.empty:
        return None
    return s.index.to_numpy(dtype=float), s.to_numpy(dtype=float)


def nonfinite_steps(run: Run, column: str, event: str | None = None) -> np.ndarray:
    """Steps where ``column`` was recorded as ±inf, or where an ``event`` of that kind was logged.

    The reader turns a recorded NaN into "not measured", so a NaN loss is only visible
    through its event (the monitor logs ``nan_loss``).
    """
    steps: list[float] = []
    df = run.scalars
    if column in df.columns:
        raw = df[column]
        s = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = (raw.notna() & ~np.isfinite(s)).to_numpy()
        steps.extend(df.index[bad].to_numpy(dtype=float))
    ev = run.events
    if event is not None and not ev.empty and "kind" in ev.columns:
        hit = pd.to_numeric(ev.loc[ev["kind"] == event, "step"], errors="coerce").dropna()
        steps.extend(hit.to_numpy(dtype=float))
    return np.unique(np.asarray(steps, dtype=float))


SMOOTH_MIN_POINTS = 30  # shorter series are drawn as they are, without a smoothed line


def smooth(values: np.ndarray, window: int | None = None) -> np.ndarray:
    """Centred moving average (no lag, unlike an EMA); the window grows with the run length."""
    if window is None:
        window = smoothing_window(len(values))
    return pd.Series(values).rolling(window, center=True, min_periods=1).mean().to_numpy()


def smoothing_window(n: int) -> int:
    return int(np.clip(n // 25, 3, 250)) | 1  # odd, so the window is centred on a step


def kde(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density estimate on ``grid`` (Silverman's bandwidth)."""
    values = np.asarray(values, dtype=float)
    bw = max(1.06 * values.std() * len(values) ** (-0.2), 1e-3 * (grid[-1] - grid[0]), 1e-12)
    z = (grid[:, None] - values[None, :]) / bw
    return np.exp(-0.5 * z**2).sum(axis=1) / (len(values) * bw * np.sqrt(2 * np.pi))


def step_range(runs: Sequence[Run]) -> tuple[float, float] | None:
    """First and last step recorded in any of ``runs`` (scalars, per-layer values, histograms)."""
    lo, hi = np.inf, -np.inf
    for run in runs:
        for steps in (run.scalars.index, run.layers["step"], run.hists["step"] if not run.hists.empty else []):
            arr = pd.to_numeric(pd.Series(steps), errors="coerce").dropna()
            if len(arr):
                lo, hi = min(lo, arr.min()), max(hi, arr.max())
    return (float(lo), float(hi)) if np.isfinite(lo) else None


@dataclass
class Reduced:
    """A series ready to draw: ``y`` at ``x``; ``lo``/``hi`` set when steps were binned."""

    x: np.ndarray
    y: np.ndarray
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None

    @property
    def binned(self) -> bool:
        return self.lo is not None


def reduce(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> Reduced:
    """Bin a long series into at most ``max_points`` means with their min/max envelope.

    Short series are returned unchanged, so for them the drawn line *is* the data.
    """
    n = len(x)
    if n <= max_points:
        return Reduced(x, y)
    idx = np.array_split(np.arange(n), max_points)
    return Reduced(
        np.array([x[i].mean() for i in idx]),
        np.array([y[i].mean() for i in idx]),
        np.array([y[i].min() for i in idx]),
        np.array([y[i].max() for i in idx]),
    )


def thin(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Keep every k-th point of an already smooth series (always keeping the last)."""
    n = len(x)
    if n <= max_points:
        return x, y
    keep = np.unique(np.r_[np.linspace(0, n - 1, max_points).astype(int), n - 1])
    return x[keep], y[keep]


def log_scale_suits(*arrays: np.ndarray, ratio: float = 50.0) -> bool:
    """A log axis suits positive data spanning more than ``ratio`` (max/min)."""
    vals = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays if a is not None and len(a)] or [[]])
    vals = vals[np.isfinite(vals)]
    if vals.size == 0 or np.any(vals <= 0):
        return False
    return vals.max() / vals.min() > ratio


# -- per-layer tables -----------------------------------------------------------------------
def layer_types(run: Run) -> dict[str, str]:
    """Module type of each layer from the run's model summary (``{"features.0": "Conv2d"}``)."""
    layers = (run.meta.get("model") or {}).get("layers") or []
    return {str(layer["name"]): str(layer["type"]) for layer in layers if isinstance(layer, dict)
            and "name" in layer and layer.get("type")}

@dataclass
class Heat:
    """A layer × step image: ``values[i, j]`` is layer ``layers[i]`` over steps ``x_edges[j:j+2]``."""

    x_edges: np.ndarray
    layers: list[str]
    values: np.ndarray


def layer_heat(run: Run, quantity: str, max_columns: int = MAX_COLUMNS, span: tuple[float, float] | None = None) -> Heat | None:
    """Per-layer quantity as a heat map; neighbouring steps are averaged for long runs.

    Each cell covers the steps nearest to its measurement; ``span`` (first, last step of
    the run) stretches the outer cells to the whole run.
    """
    table = run.layer_table(quantity)
    if table.empty:
        return None
    table = table.apply(pd.to_numeric, errors="coerce").sort_index()
    table = table.dropna(how="all")
    if table.empty:
        return None
    steps = table.index.to_numpy(dtype=float)
    vals = table.to_numpy(dtype=float)  # steps × layers
    if len(steps) > max_columns:
        groups = np.array_split(np.arange(len(steps)), max_columns)
        with warnings.catch_warnings():  # all-NaN groups are expected (layer not measured there)
            warnings.simplefilter("ignore", RuntimeWarning)
            vals = np.stack([np.nanmean(vals[g], axis=0) for g in groups])
        bounds = step_edges(steps, span)
        x_edges = np.r_[[bounds[g[0]] for g in groups], bounds[-1]]
    else:
        x_edges = step_edges(steps, span)
    return Heat(x_edges=x_edges, layers=[str(c) for c in table.columns], values=vals.T)


def step_edges(steps: np.ndarray, span: tuple[float, float] | None = None) -> np.ndarray:
    """Cell edges around measured steps: halfway between neighbours.

    The outer edges reach half a step beyond the measurements, or beyond ``span`` (the run's
    first and last step) when that is wider, so every step shows its nearest measurement.
    """
    steps = np.asarray(steps, dtype=float)
    mid = (steps[1:] + steps[:-1]) / 2
    first, last = steps[0] - 0.5, steps[-1] + 0.5
    if span is not None:
        first, last = min(first, span[0] - 0.5), max(last, span[1] + 0.5)
    return np.r_[first, mid, last]


# -- histograms ------------------------------------------------------------------------------
def hist_series(run: Run, name: str) -> tuple[list, str | None]:
    """The histogram series ``name`` of the whole model, or of its first layer if only per-layer.

    Returns ``(series, layer)`` where ``layer`` is ``None`` for the whole-model series.
    """
    series = run.hist(name)
    if series:
        return series, None
    df = run.hists
    if df.empty or "layer" not in df.columns:
        return [], None
    layers = df.loc[(df["name"] == name) & df["layer"].notna(), "layer"]
    if layers.empty:
        return [], None
    layer = str(layers.iloc[0])
    return run.hist(name, layer=layer), layer


def rebin_1d(
    series: list, n_bins: int = 60, max_columns: int = MAX_COLUMNS, span: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Put 1-D histograms with differing edges on one grid: ``(step_edges, value_edges, counts)``.

    Counts are spread uniformly within each original bin (exact when the edges already agree).
    ``counts[i, j]`` is value bin ``i`` at step column ``j``.
    """
    series = sorted(series, key=lambda s: s[0])
    if len(series) > max_columns:
        keep = np.unique(np.linspace(0, len(series) - 1, max_columns).astype(int))
        series = [series[i] for i in keep]
    edges_all = [np.asarray(e, dtype=float) for _, _, e in series]
    same = all(len(e) == len(edges_all[0]) and np.allclose(e, edges_all[0]) for e in edges_all)
    if same:
        grid = edges_all[0]
        cols = [np.asarray(c, dtype=float) for _, c, _ in series]
    else:
        lo = min(e[0] for e in edges_all)
        hi = max(e[-1] for e in edges_all)
        grid = np.linspace(lo, hi, n_bins + 1)
        cols = []
        for (_, c, e) in series:
            cum = np.r_[0.0, np.cumsum(np.asarray(c, dtype=float))]
            cols.append(np.diff(np.interp(grid, np.asarray(e, dtype=float), cum)))
    steps = np.array([s for s, _, _ in series], dtype=float)
    return step_edges(steps, span), grid, np.stack(cols, axis=1)


# -- epochs ------------------------------------------------------------------------------------
def epoch_metric(run: Run, column: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``(epochs, values)`` of one per-epoch metric (finite values only)."""
    df = run.epochs
    if df.empty or column not in df.columns:
        return None
    s = pd.Series(pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float), index=df["epoch"].to_numpy())
    s = s[np.isfinite(s.to_numpy())]
    if s.empty:
        return None
    return s.index.to_numpy(dtype=float), s.to_numpy()


def group_runs(runs: Sequence[Run]) -> list[tuple[str, list[int]]]:
    """Group run indices by ``meta["group"]`` (ungrouped runs stay alone), in first-seen order."""
    labels = run_labels(runs)
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(runs):
        g = r.meta.get("group")
        key = f"group:{g}" if g not in (None, "") else f"run:{labels[i]}"
        groups.setdefault(key, []).append(i)
    out = []
    for key, idx in groups.items():
        kind, _, label = key.partition(":")
        out.append((label if kind == "run" or len(idx) == 1 else f"{label} (n={len(idx)})", idx))
    return out


def mean_std(per_run: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean and standard deviation over runs at each x present in any run: ``(x, mean, std, n)``."""
    frame = pd.concat([pd.Series(y, index=x) for x, y in per_run], axis=1)
    frame = frame.groupby(level=0).mean().sort_index()
    return (
        frame.index.to_numpy(dtype=float),
        frame.mean(axis=1).to_numpy(),
        frame.std(axis=1, ddof=1).fillna(0.0).to_numpy(),
        frame.notna().sum(axis=1).to_numpy(),
    )
