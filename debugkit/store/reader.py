"""Read run directories into pandas DataFrames."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

_NONFINITE = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}


class RunNotFoundError(FileNotFoundError):
    """Raised when a path is not a readable run directory."""


def _read_jsonl(path: Path) -> tuple[list[dict], int]:
    """Return the records of a JSON Lines file and how many lines were unreadable.

    A run killed mid-write can leave a truncated last line; it is skipped.
    """
    records: list[dict] = []
    bad = 0
    if not path.exists():
        return records, bad
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                bad += 1
    return records, bad


def _restore_nonfinite(value):
    if isinstance(value, str) and value in _NONFINITE:
        return _NONFINITE[value]
    return value


@dataclass
class Run:
    """A recorded run, read lazily from its directory.

    Attributes:
        path: The run directory.
        meta: Contents of ``meta.json`` (config, model summary, versions, seed).

    Example:
        >>> run = load_run("runs/demo")            # doctest: +SKIP
        >>> run.scalars[["loss", "alpha"]].tail()   # doctest: +SKIP
    """

    path: Path
    meta: dict = field(default_factory=dict)
    skipped_lines: int = 0

    @property
    def name(self) -> str:
        return self.meta.get("name") or self.path.name

    def _records(self, stream: str) -> list[dict]:
        records, bad = _read_jsonl(self.path / f"{stream}.jsonl")
        self.skipped_lines += bad
        return records

    @cached_property
    def scalars(self) -> pd.DataFrame:
        """One row per step, one column per scalar quantity (NaN where not measured)."""
        records = self._records("scalars")
        if not records:
            return pd.DataFrame(index=pd.Index([], name="step", dtype=int))
        df = pd.DataFrame.from_records(records)
        for col in df.columns:
            if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
                restored = df[col].map(_restore_nonfinite)
                numeric = pd.to_numeric(restored, errors="coerce")
                # keep genuinely textual columns (e.g. the estimator name) as text
                df[col] = numeric if numeric.notna().sum() >= restored.notna().sum() else restored
        # several records can describe one step (e.g. alpha is finished a step later)
        df = df.groupby("step", sort=True).last()
        return df

    @cached_property
    def layers(self) -> pd.DataFrame:
        """Long table with columns ``step, quantity, layer, value``."""
        rows = [
            (r["step"], r["quantity"], layer, _restore_nonfinite(v))
            for r in self._records("layers")
            for layer, v in r.get("values", {}).items()
        ]
        df = pd.DataFrame(rows, columns=["step", "quantity", "layer", "value"])
        df["value"] = pd.to_numeric(df["value"], errors="coerce")
        return df

    def layer_table(self, quantity: str) -> pd.DataFrame:
        """Wide table of one per-layer quantity: index step, one column per layer."""
        df = self.layers[self.layers["quantity"] == quantity]
        if df.empty:
            return pd.DataFrame()
        wide = df.pivot_table(index="step", columns="layer", values="value", aggfunc="last", sort=False)
        order = list(dict.fromkeys(df["layer"]))
        return wide[[c for c in order if c in wide.columns]]

    @cached_property
    def hists(self) -> pd.DataFrame:
        """Histograms: columns ``step, name, layer, counts, edges`` plus extras (e.g. ``estimator``)."""
        records = self._records("hists")
        cols = ["step", "name", "layer", "counts", "edges"]
        if not records:
            return pd.DataFrame(columns=cols)
        return pd.DataFrame.from_records(records)

    def hist(self, name: str, layer: str | None = None) -> list[tuple[int, np.ndarray, object]]:
        """Return ``[(step, counts, edges), ...]`` of one histogram series."""
        df = self.hists
        if df.empty:
            return []
        sel = df[df["name"] == name]
        if layer is not None:
            sel = sel[sel["layer"] == layer]
        else:
            sel = sel[sel["layer"].isna()]
        out = []
        for _, r in sel.iterrows():
            edges = r["edges"]
            if edges and isinstance(edges[0], list):
                edges = [np.asarray(e, dtype=float) for e in edges]
            else:
                edges = np.asarray(edges, dtype=float)
            out.append((int(r["step"]), np.asarray(r["counts"], dtype=float), edges))
        return out

    @cached_property
    def epochs(self) -> pd.DataFrame:
        """Per-epoch metrics (one row per epoch; later records of an epoch win)."""
        records = self._records("epochs")
        if not records:
            return pd.DataFrame(columns=["epoch", "step"])
        df = pd.DataFrame.from_records(records)
        for col in df.columns:
            df[col] = df[col].map(_restore_nonfinite)
        return df.groupby("epoch", sort=True).last().reset_index()

    @cached_property
    def events(self) -> pd.DataFrame:
        records = self._records("events")
        if not records:
            return pd.DataFrame(columns=["step", "kind", "message"])
        return pd.DataFrame.from_records(records)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, steps={len(self.scalars)})"


def load_run(path: str | os.PathLike) -> Run:
    """Open a run directory written by :class:`debugkit.Monitor` or :class:`RunWriter`.

    Args:
        path: The run directory.

    Raises:
        RunNotFoundError: ``path`` does not exist, is a file, or holds no ``meta.json``.
    """
    p = Path(path)
    if not p.exists():
        raise RunNotFoundError(f"run directory {str(p)!r} does not exist")
    if not p.is_dir():
        raise RunNotFoundError(f"{str(p)!r} is a file, not a run directory")
    meta_path = p / "meta.json"
    if not meta_path.exists():
        raise RunNotFoundError(
            f"{str(p)!r} is not a debugkit run directory (no meta.json); "
            "runs are written by debugkit.Monitor(run_dir=...) or `debugkit run`"
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:  # only possible if edited by hand
        raise RunNotFoundError(f"{str(meta_path)!r} is not valid JSON: {exc}") from exc
    return Run(path=p, meta=meta)


def load_runs(paths: Iterable[str | os.PathLike]) -> list[Run]:
    """Load several runs, e.g. to compare them in one plot."""
    return [load_run(p) for p in paths]


def list_runs(root: str | os.PathLike) -> list[Run]:
    """All run directories directly or indirectly below ``root``, oldest first."""
    root = Path(root)
    if not root.exists():
        return []
    if (root / "meta.json").exists():
        return [load_run(root)]
    runs = [load_run(m.parent) for m in sorted(root.rglob("meta.json"))]
    return sorted(runs, key=lambda r: r.meta.get("created", ""))
