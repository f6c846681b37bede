"""Numbers that say how a training run behaved, gathered once per run for judging fixes.

:func:`collect_evidence` reads a run recorded by ``debugkit diagnose`` (through
:class:`~debugkit.diagnose.signals.Signals`), the diagnosis report, the script's own result line,
and the :class:`~debugkit.exercise.probe.DataProbe` files, and reduces them to a flat dict of
floats and short lists (JSON-able, so the fixed baseline's evidence can be cached).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch


@dataclass
class Evidence:
    """What one run did.

    Attributes:
        values: Measured quantities by name (NaN-free: missing ones are absent); see
            :func:`collect_evidence` for the names.
        findings: Ids of the findings the diagnosis raised.
        failure: Why the run could not be judged (crash before training, timeout), or None.
        crash: Where a run that trained crashed afterwards (``cell [i]: error``), or None.
    """

    values: dict = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    failure: str | None = None
    crash: str | None = None

    def get(self, name: str, default=None):
        return self.values.get(name, default)

    def to_dict(self) -> dict:
        return {"values": self.values, "findings": self.findings, "failure": self.failure, "crash": self.crash}

    @classmethod
    def from_dict(cls, d: dict) -> Evidence:
        return cls(dict(d.get("values", {})), list(d.get("findings", [])), d.get("failure"), d.get("crash"))


def _f(x) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _put(values: dict, name: str, x) -> None:
    x = _f(x)
    if x is not None:
        values[name] = x


def ridge_fit(x: torch.Tensor, y: torch.Tensor, num_classes: int, lam: float = 10.0) -> torch.Tensor:
    """Closed-form ridge classifier (one-hot targets, bias column): a cheap reference model."""
    xa = torch.cat([x.double(), torch.ones(len(x), 1, dtype=torch.float64)], 1)
    t = torch.nn.functional.one_hot(y.long(), num_classes).double()
    gram = xa.T @ xa + lam * torch.eye(xa.shape[1], dtype=torch.float64)
    return torch.linalg.solve(gram, xa.T @ t)


def ridge_acc(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> float:
    xa = torch.cat([x.double(), torch.ones(len(x), 1, dtype=torch.float64)], 1)
    return float(((xa @ w).argmax(1) == y).double().mean())


def data_checks(path: Path) -> dict:
    """Reference-classifier checks on the probe's samples.

    * ``label_heldout_acc``: a ridge classifier fit on 70 % of the training rows the loader yielded,
      scored on the other 30 %: near chance when labels do not belong to their inputs.
    * ``aug_retention``: the same classifier (fit on all raw rows) scored on the inputs the model
      actually received (after the loop's augmentation) with the batch's labels, relative to its
      score on the raw rows: far below 1 when the augmentation changes what the label means.
    """
    out: dict = {}
    try:
        data = torch.load(path, weights_only=True)
    except Exception:  # noqa: BLE001 - no probe file (the run crashed early): nothing to check
        return out
    if "raw_x" not in data:
        return out
    x, y = data["raw_x"].double(), data["raw_y"]
    if len(x) < 50 or x.shape[1] > 4096:
        return out
    classes = int(y.max()) + 1
    mean, std = x.mean(0), x.std(0).clamp_min(1e-6)
    xs = (x - mean) / std
    gen = torch.Generator().manual_seed(0)
    perm = torch.randperm(len(x), generator=gen)
    cut = int(0.7 * len(x))
    w = ridge_fit(xs[perm[:cut]], y[perm[:cut]], classes)
    out["label_heldout_acc"] = ridge_acc(w, xs[perm[cut:]], y[perm[cut:]])
    out["chance"] = float(torch.bincount(y).max()) / len(y)
    if "aug_x" in data and data["aug_x"].shape[1] == x.shape[1] and len(data["aug_x"]) >= 50:
        w = ridge_fit(xs, y, classes)
        clean = ridge_acc(w, xs, y)
        aug = ridge_acc(w, (data["aug_x"].double() - mean) / std, data["aug_y"])
        out["aug_clean_acc"], out["aug_acc"] = clean, aug
        if clean > 0:
            out["aug_retention"] = aug / clean
    return out


def _probe_result(run, name: str):
    """The result of debugkit's own probe ``name`` (recorded as a ``probe`` event), if it ran."""
    ev = run.events
    if not len(ev) or "probe" not in ev.columns:
        return None
    rows = ev[ev["probe"] == name]
    return rows.iloc[-1].get("result") if len(rows) else None


def collect_evidence(run_dir: str | Path, report=None, *, probe: str | Path | None = None,
                     log: str | Path | None = None) -> Evidence:
    """Reduce a recorded run (and the probe files ``probe.json``/``probe.pt``) to :class:`Evidence`.

    Value names: ``steps``, ``lr_first``, ``lr_early`` (median over the first tenth), ``lr_last``, ``lr_max``,
    ``update_ratio_early``, ``accumulated_grad``, ``act_saturated_early``, ``dead_early``, ``symmetric_layers``,
    ``loss_first``, ``num_classes``,
    ``logit_std_first``, ``input_std``, ``input_absmax``, ``output_is_prob``, ``batch_class_purity``,
    ``model_training``, ``val_train_mode``, ``val_feature_mean_abs``, ``val_overlap_monitor``,
    ``val_overlap`` (probe, raw data), ``val_acc``, ``other_acc``, ``result_val_acc``, ``result_test_acc``,
    ``heldout_acc``, ``train_acc_end``, ``clip_factor``, ``clip_frac``, ``decay_ratio``, ``weight_decay``,
    ``frozen_layers`` / ``gradless_layers`` (counts, names in ``values['frozen_names']`` ...),
    ``label_heldout_acc``, ``chance``, ``aug_retention``; ``optimizer`` (class name).
    """
    from debugkit.diagnose.signals import Signals
    from debugkit.store import load_run

    run = load_run(run_dir)
    sig = Signals(run)
    v: dict = {}
    _put(v, "steps", sig.steps)
    v["optimizer"] = sig.optimizer.get("class")
    _put(v, "weight_decay", sig.optimizer.get("weight_decay"))
    lr = sig.finite("lr")
    if len(lr):
        _put(v, "lr_first", lr.iloc[0])
        _put(v, "lr_last", lr.iloc[-1])
        _put(v, "lr_max", lr.max())
        _put(v, "lr_early", lr.iloc[:max(5, len(lr) // 10)].median())
    ur = sig.finite("update_ratio")
    if len(ur):
        _put(v, "update_ratio_early", ur.iloc[:5].median())
    acc = sig.col("accumulated_grad")
    if len(acc):
        _put(v, "accumulated_grad", acc.mean())
    for q, name in (("act_saturated", "act_saturated_early"), ("act_dead", "act_dead_early"),
                    ("pre_dead", "pre_dead_early")):
        first = sig.layer_first(q, k=3)
        if first:
            _put(v, name, max(first.values()))
    dead = [v[k] for k in ("act_dead_early", "pre_dead_early") if k in v]
    if dead:
        v["dead_early"] = max(dead)
    sym = _probe_result(run, "symmetric_weights")
    if isinstance(sym, dict) and isinstance(sym.get("layers"), list):
        v["symmetric_layers"] = float(len(sym["layers"]))
    _put(v, "loss_first", sig.loss_first)
    _put(v, "num_classes", sig.num_classes)
    logit = sig.finite("output_logit_std")
    if len(logit):
        _put(v, "logit_std_first", logit.iloc[0])
    _put(v, "input_std", sig.median("input_std", frac=1.0))
    lo, hi = sig.median("input_min", frac=1.0), sig.median("input_max", frac=1.0)
    if math.isfinite(lo) and math.isfinite(hi):
        _put(v, "input_absmax", max(abs(lo), abs(hi)))
    for col in ("output_is_prob", "model_training"):
        c = sig.col(col)
        if len(c):
            _put(v, col, c.mean())
    _put(v, "batch_class_purity", sig.median("batch_class_purity", frac=1.0))
    tr = sig.finite("train_acc")
    if len(tr):
        _put(v, "train_acc_end", tr.iloc[-max(5, len(tr) // 5):].median())

    ve = sig.val_epochs
    for col, name in (("val_train_mode", "val_train_mode"), ("val_feature_mean_abs", "val_feature_mean_abs"),
                      ("val_overlap", "val_overlap_monitor")):
        if col in ve.columns:
            s = ve[col].astype(float).dropna()
            if len(s):
                _put(v, name, s.median())
    if "val_acc" in ve.columns and ve["val_acc"].notna().any():
        _put(v, "val_acc", ve["val_acc"].astype(float).dropna().iloc[-1])
    other = sig.other_eval
    if "val_acc" in other.columns and other["val_acc"].notna().any():
        _put(v, "other_acc", other["val_acc"].astype(float).dropna().iloc[-1])

    # gradient clipping (recorded by debugkit diagnose's clip_grad_norm_ wrapper)
    total, mx = sig.finite("clip_total_norm"), sig.finite("clip_max_norm")
    if len(total) and len(mx):
        factor = (mx.reindex(total.index) / total.clip(lower=1e-12)).clip(upper=1.0).dropna()
        if len(factor):
            _put(v, "clip_factor", factor.median())
            _put(v, "clip_frac", float((factor < 0.5).mean()))
    wd = v.get("weight_decay")
    gn, pn = sig.median("grad_norm", frac=1.0), sig.median("param_norm", frac=1.0)
    if wd is not None and math.isfinite(gn) and math.isfinite(pn) and gn > 0:
        _put(v, "decay_ratio", wd * pn / gn)

    # layers whose parameters never move / never get a gradient
    lay = sig.layers
    if len(lay):
        last = lay[lay["quantity"] == "distance"]
        if len(last):
            final = last[last["step"] == last["step"].max()].groupby("layer")["value"].max()
            scale = float(final.max()) if len(final) else 0.0
            frozen = sorted(str(k) for k, x in final.items() if scale > 0 and x <= 1e-6 * scale)
            frozen = [n for n in frozen if not any(n.startswith(p + ".") for p in frozen)]  # a layer, not its tensors
            v["frozen_names"] = frozen
            _put(v, "frozen_layers", len(frozen))
        # trainable layers without any gradient: not even recorded, or zero throughout
        g = lay[lay["quantity"] == "grad_norm"]
        got = g.groupby("layer")["value"].max() if len(g) else None
        scale = float(got.max()) if got is not None and len(got) else 0.0
        trainable = [str(x["name"]) for x in (run.meta.get("model") or {}).get("layers", []) if x.get("trainable", 0) > 0]
        if got is not None and scale > 0:
            has = {str(k) for k, x in got.items() if x > 1e-8 * scale}
            dead = [n for n in trainable if n not in has]
            v["gradless_names"] = dead
            _put(v, "gradless_layers", len(dead))
    v["frozen_params_meta"] = list(run.meta.get("params_not_in_optimizer") or [])

    if log is not None:
        from debugkit.baselines import parse_result

        try:
            res = parse_result(Path(log).read_text(encoding="utf-8", errors="replace")) or {}
        except OSError:
            res = {}
        _put(v, "result_val_acc", res.get("val_acc"))
        _put(v, "result_test_acc", res.get("test_acc"))
    held = [v[k] for k in ("val_acc", "other_acc", "result_test_acc") if k in v]
    if held:
        v["heldout_acc"] = min(held)

    if probe is not None:
        probe = Path(probe)
        js = probe.with_suffix(".json")
        if js.is_file():
            summary = json.loads(js.read_text())
            _put(v, "val_overlap", summary.get("val_overlap"))
            _put(v, "probe_training_rows", summary.get("training_rows"))
        for k, x in data_checks(probe.with_suffix(".pt")).items():
            _put(v, k, x)

    findings = list(dict.fromkeys(report.ids("info"))) if report is not None else []
    return Evidence(v, findings)
