"""What an export writes, independent of the backend: tagged points read from a :class:`Run`.

Both the TensorBoard and the W&B exporter consume these functions, so a quantity has the
same name in both tools:

=====================  ===================================  ==========================
source                 tag                                  step
=====================  ===================================  ==========================
``run.scalars``        ``<group>/<column>`` (see below)     optimizer step
``run.layers``         ``layers/<quantity>/<layer>``        optimizer step
``run.epochs``         ``epoch/<metric>``                   epoch
``run.hists`` (1-D)    ``hists/<name>`` or                  optimizer step
                       ``hists/<name>/<layer>``
=====================  ===================================  ==========================

Scalar columns are grouped by :data:`SCALAR_GROUPS` (``curvature/hess_max_ev``,
``noise/norm_test``, ...); anything not listed is ``debugkit/<column>``. Values that were
not measured (NaN in the run store) are left out; 2-D histograms (``grad_2d``) have no
counterpart in either tool and are left out too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from debugkit.store.reader import Run

#: Scalar column → section (the part of the tag before the slash). Unlisted columns go to
#: :data:`DEFAULT_GROUP`, except those matched by :data:`PREFIX_GROUPS`.
SCALAR_GROUPS: dict[str, str] = {
    "hess_max_ev": "curvature",
    "hess_max_ev_hvps": "curvature",
    "hess_trace": "curvature",
    "tic": "curvature",
    "norm_test": "noise",
    "inner_test": "noise",
    "ortho_test": "noise",
    "mean_gsnr": "noise",
    "cabs_batch_size": "noise",
    "early_stopping": "noise",
    "step_time": "system",
    "peak_memory": "system",
    "monitor_time": "system",
    "model_training": "system",
    "accumulated_grad": "system",
}

#: Column-name prefix → section, for families of columns (model inputs and outputs).
PREFIX_GROUPS: dict[str, str] = {"input_": "io", "output_": "io"}

DEFAULT_GROUP = "debugkit"


@dataclass(frozen=True)
class Point:
    """One value of one series."""

    tag: str
    step: int
    value: float


@dataclass(frozen=True)
class HistPoint:
    """One 1-D histogram: ``counts[i]`` values fell in ``[edges[i], edges[i+1])``."""

    tag: str
    step: int
    counts: np.ndarray
    edges: np.ndarray


def scalar_tag(column: str) -> str:
    """The tag of a ``run.scalars`` column, e.g. ``hess_max_ev`` → ``curvature/hess_max_ev``."""
    group = SCALAR_GROUPS.get(column)
    if group is None:
        group = next((g for p, g in PREFIX_GROUPS.items() if column.startswith(p)), DEFAULT_GROUP)
    return f"{group}/{column}"


def layer_tag(quantity: str, layer: str) -> str:
    return f"layers/{quantity}/{layer}"


def epoch_tag(metric: str) -> str:
    return f"epoch/{metric}"


def hist_tag(name: str, layer: str | None) -> str:
    return f"hists/{name}" if layer is None else f"hists/{name}/{layer}"


def _number(value: Any) -> float | None:
    """``value`` as a float, or ``None`` when it is missing (NaN) or not a number."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        return None if math.isnan(v) else v
    return None


def _numeric_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])]


def scalar_points(run: Run) -> Iterator[Point]:
    """Every measured value of every numeric ``run.scalars`` column (text columns are skipped)."""
    df = run.scalars
    for col in _numeric_columns(df):
        tag = scalar_tag(str(col))
        for step, value in df[col].items():
            v = _number(value)
            if v is not None:
                yield Point(tag, int(step), v)


def layer_points(run: Run) -> Iterator[Point]:
    """Every per-layer value, tagged ``layers/<quantity>/<layer>``."""
    df = run.layers
    if df.empty:
        return
    for step, quantity, layer, value in df[["step", "quantity", "layer", "value"]].itertuples(index=False):
        v = _number(value)
        if v is not None:
            yield Point(layer_tag(str(quantity), str(layer)), int(step), v)


def epoch_metrics(run: Run) -> list[tuple[int, int | None, dict[str, float]]]:
    """``[(epoch, step, {metric: value})]`` of ``run.epochs`` (numeric metrics only)."""
    df = run.epochs
    out = []
    for rec in df.to_dict("records"):
        epoch = _number(rec.get("epoch"))
        if epoch is None:
            continue
        step = _number(rec.get("step"))
        metrics = {str(k): v for k, val in rec.items() if k not in ("epoch", "step")
                   for v in [_number(val)] if v is not None}
        out.append((int(epoch), None if step is None else int(step), metrics))
    return out


def epoch_points(run: Run) -> Iterator[Point]:
    """Epoch metrics tagged ``epoch/<metric>``, with the epoch as step."""
    for epoch, _, metrics in epoch_metrics(run):
        for name, v in metrics.items():
            yield Point(epoch_tag(name), epoch, v)


def hist_points(run: Run) -> Iterator[HistPoint]:
    """Every 1-D histogram (``grad_1d``, activation histograms); 2-D and empty ones are skipped."""
    df = run.hists
    if df.empty:
        return
    for rec in df.to_dict("records"):
        edges, counts = rec.get("edges"), rec.get("counts")
        if not isinstance(edges, list) or not isinstance(counts, list) or not counts:
            continue
        if isinstance(edges[0], list):  # 2-D (grad_2d): [grad_edges, param_edges]
            continue
        layer = rec.get("layer")
        layer = None if layer is None or (isinstance(layer, float) and math.isnan(layer)) else str(layer)
        c = np.asarray(counts, dtype=float)
        e = np.asarray(edges, dtype=float)
        if len(e) != len(c) + 1:
            continue
        yield HistPoint(hist_tag(str(rec["name"]), layer), int(rec["step"]), c, e)


def final_metrics(run: Run) -> dict[str, float]:
    """The run's end state: last value of each scalar and each epoch metric.

    Keys are ``final/<column>`` for scalars and ``final/epoch/<metric>`` for epoch metrics,
    plus ``final/steps`` (number of optimizer steps recorded).
    """
    out: dict[str, float] = {}
    df = run.scalars
    for col in _numeric_columns(df):
        vals = df[col].dropna()
        if len(vals):
            v = _number(vals.iloc[-1])
            if v is not None:
                out[f"final/{col}"] = v
    for _, _, metrics in epoch_metrics(run):
        for name, v in metrics.items():
            out[f"final/epoch/{name}"] = v
    out["final/steps"] = float(int(df.index.max()) + 1) if len(df) else 0.0
    return out


def flat_config(config: Any, prefix: str = "") -> dict[str, int | float | str | bool]:
    """Nested config → ``{"a.b": value}`` with values TensorBoard's HParams accepts.

    Lists, ``None`` and other objects become their JSON text.
    """
    out: dict[str, int | float | str | bool] = {}
    if not isinstance(config, dict):
        return out
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_config(value, f"{name}."))
        elif isinstance(value, (bool, int, float, str)) and not isinstance(value, np.generic):
            out[name] = value
        elif isinstance(value, np.generic):
            out[name] = value.item()
        else:
            out[name] = json.dumps(value, default=str)
    return out


#: Metadata fields that summarise a run in one line each (the text export shows them first).
META_HEADLINE = ("name", "status", "created", "preset", "seed", "dataset", "batch_size", "num_classes", "steps")


def meta_markdown(run: Run) -> str:
    """The run's metadata as Markdown: headline fields, then the full ``meta.json``."""
    meta = run.meta
    lines = [f"**debugkit run** `{run.name}`", ""]
    for key in META_HEADLINE:
        if meta.get(key) is not None:
            lines.append(f"* {key}: `{meta[key]}`")
    model = meta.get("model") or {}
    if model:
        lines.append(f"* model: `{model.get('class')}` ({model.get('num_params')} parameters)")
    opt = meta.get("optimizer") or {}
    if opt:
        lines.append(f"* optimizer: `{opt.get('class')}`")
    lines += ["", "Full metadata:", ""]
    # an indented block renders as code in TensorBoard's Markdown
    lines += ["    " + ln for ln in json.dumps(meta, indent=2, sort_keys=True, default=str).splitlines()]
    return "\n".join(lines)


_UNSAFE = re.compile(r"[^A-Za-z0-9._=+\-]+")


def safe_name(name: str) -> str:
    """A directory name for a run: path separators and odd characters become ``_``."""
    cleaned = _UNSAFE.sub("_", name).strip("._")
    return cleaned or "run"
