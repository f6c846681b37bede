"""Robust summaries of a recorded run that diagnosis rules read.

Every rule looks at a :class:`Signals` view of a run cut at some step (to find the
first step at which a finding would have been raised).  Summaries use medians over
windows, never single steps, so one bad batch raises nothing.
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np
import pandas as pd

from debugkit.store.reader import Run

ACT_RELU_TYPES = {"ReLU", "ReLU6"}
BOUNDED_TYPES = {"Tanh", "Sigmoid", "Hardtanh", "Hardsigmoid", "Softsign"}
STOCHASTIC_TYPES = {"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "BatchNorm1d", "BatchNorm2d",
                    "BatchNorm3d"}


class Signals:
    """Derived signals of ``run`` using steps ``≤ upto`` (all steps if None)."""

    def __init__(self, run: Run, upto: int | None = None):
        self.run = run
        self.upto = upto
        s = run.scalars
        self.scalars = s if upto is None else s[s.index <= upto]
        lay = run.layers
        self.layers = lay if upto is None else lay[lay["step"] <= upto]
        ep = run.epochs
        if upto is not None and "step" in ep.columns and len(ep):
            ep = ep[pd.to_numeric(ep["step"], errors="coerce").fillna(0) <= upto + 1]
        self.epochs = ep
        ev = run.events
        self.events = ev if upto is None or not len(ev) else ev[pd.to_numeric(ev["step"], errors="coerce").fillna(0) <= upto]
        self.meta = run.meta

    # -- basics ----------------------------------------------------------------------
    @property
    def steps(self) -> int:
        return len(self.scalars)

    def col(self, name: str) -> pd.Series:
        """A scalar column as floats (empty if never recorded)."""
        if name not in self.scalars.columns:
            return pd.Series(dtype=float)
        return pd.to_numeric(self.scalars[name], errors="coerce").dropna()

    def finite(self, name: str) -> pd.Series:
        c = self.col(name)
        return c[np.isfinite(c.to_numpy())]

    def window(self, name: str, frac: float = 0.25, last: bool = True, min_n: int = 5) -> pd.Series:
        c = self.finite(name)
        k = max(min_n, int(len(c) * frac))
        return c.iloc[-k:] if last else c.iloc[:k]

    def median(self, name: str, frac: float = 0.25, last: bool = True) -> float:
        w = self.window(name, frac, last)
        return float(w.median()) if len(w) else math.nan

    def frac_true(self, name: str, threshold: float = 0.5) -> float:
        c = self.col(name)
        return float((c > threshold).mean()) if len(c) else math.nan

    # -- model facts -----------------------------------------------------------------
    @cached_property
    def layer_types(self) -> dict[str, str]:
        layers = (self.meta.get("model") or {}).get("layers", [])
        return {l["name"]: l["type"] for l in layers}

    @cached_property
    def num_classes(self) -> int | None:
        c = self.meta.get("num_classes")
        if c:
            return int(c)
        em = self.col("output_entropy_max")
        if len(em):
            return int(round(math.exp(em.iloc[0])))
        return None

    @property
    def has_stochastic_layers(self) -> bool:
        return any(t in STOCHASTIC_TYPES for t in self.layer_types.values())

    @cached_property
    def loss_fn(self) -> str | None:
        return self.meta.get("loss_fn")

    @cached_property
    def optimizer(self) -> dict:
        return self.meta.get("optimizer") or {}

    # -- loss ------------------------------------------------------------------------
    @cached_property
    def loss(self) -> pd.Series:
        return self.col("loss")

    @cached_property
    def first_nonfinite_step(self) -> int | None:
        """First step whose loss is NaN or ±inf (the loss is recorded every step, so a
        missing value in that column is a NaN that was written)."""
        if "loss" not in self.scalars.columns:
            return None
        raw = pd.to_numeric(self.scalars["loss"], errors="coerce")
        bad = raw[~np.isfinite(raw.to_numpy())]
        return int(bad.index[0]) if len(bad) else None

    @cached_property
    def loss_start(self) -> float:
        c = self.finite("loss")
        return float(c.iloc[:3].median()) if len(c) else math.nan

    @cached_property
    def loss_first(self) -> float:
        """The loss at the first recorded step (before any update)."""
        c = self.finite("loss")
        return float(c.iloc[0]) if len(c) else math.nan

    @cached_property
    def loss_end(self) -> float:
        return self.median("loss", frac=0.1)

    @cached_property
    def loss_drop(self) -> float:
        """Relative decrease of the (median-smoothed) loss from start to end."""
        a, b = self.loss_start, self.loss_end
        if not (math.isfinite(a) and math.isfinite(b)) or a == 0:
            return math.nan
        return (a - b) / abs(a)

    @cached_property
    def loss_jumpiness(self) -> float:
        """Median |Δloss| between consecutive steps relative to the loss level (late window)."""
        c = self.window("loss", 0.5)
        if len(c) < 6:
            return math.nan
        return float(np.median(np.abs(np.diff(c.to_numpy()))) / max(abs(float(c.median())), 1e-12))

    # -- layers ----------------------------------------------------------------------
    def layer_median(self, quantity: str, frac: float = 0.3) -> dict[str, float]:
        """Per-layer median of a per-layer quantity over the last ``frac`` of its steps."""
        df = self.layers[self.layers["quantity"] == quantity]
        if df.empty:
            return {}
        steps = np.sort(df["step"].unique())
        k = max(3, int(len(steps) * frac))
        df = df[df["step"].isin(steps[-k:])]
        return df.groupby("layer", sort=False)["value"].median().to_dict()

    def layer_first(self, quantity: str, k: int = 3) -> dict[str, float]:
        df = self.layers[self.layers["quantity"] == quantity]
        if df.empty:
            return {}
        steps = np.sort(df["step"].unique())[:k]
        return df[df["step"].isin(steps)].groupby("layer", sort=False)["value"].median().to_dict()

    def layer_all(self, quantity: str) -> pd.DataFrame:
        return self.layers[self.layers["quantity"] == quantity]

    @cached_property
    def trainable_layers(self) -> list[str]:
        layers = (self.meta.get("model") or {}).get("layers", [])
        return [l["name"] for l in layers if l.get("trainable", 0) > 0]

    @cached_property
    def frozen_layers(self) -> list[str]:
        layers = (self.meta.get("model") or {}).get("layers", [])
        return [l["name"] for l in layers if l.get("params", 0) > 0 and l.get("trainable", 0) == 0]

    # -- epochs ----------------------------------------------------------------------
    def epoch_col(self, name: str) -> pd.Series:
        ep = self.epochs
        if name not in ep.columns:
            return pd.Series(dtype=float)
        return pd.to_numeric(ep[name], errors="coerce").dropna()

    @cached_property
    def val_epochs(self) -> pd.DataFrame:
        """Validation records; with captured evaluation, the most frequent evaluation set size."""
        ep = self.epochs
        if not len(ep) or "val_loss" not in ep.columns:
            return ep.iloc[0:0]
        if "val_set" in ep.columns and ep["val_set"].notna().any():
            mode = ep["val_set"].dropna().mode()
            if len(mode):
                return ep[ep["val_set"] == mode.iloc[0]]
        if "val_n" in ep.columns and ep["val_n"].notna().any():
            n = pd.to_numeric(ep["val_n"], errors="coerce")
            mode = n.mode()
            if len(mode):
                return ep[n == mode.iloc[0]]
        return ep

    @cached_property
    def other_eval(self) -> pd.DataFrame:
        """Captured evaluations of other sets (e.g. a test set evaluated at the end)."""
        ep = self.epochs
        if not len(ep) or "val_n" not in ep.columns:
            return ep.iloc[0:0]
        return ep[~ep.index.isin(self.val_epochs.index) & ep["val_n"].notna()]

    def lr_increasing(self) -> bool:
        lr = self.finite("lr")
        return len(lr) > 10 and float(lr.iloc[-1]) > 20 * float(lr.iloc[0])
