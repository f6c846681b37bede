"""Data pipeline: shuffling, labels, validation leakage and normalisation, augmentation."""

from __future__ import annotations

import math

from debugkit.diagnose.findings import make_finding
from debugkit.diagnose.rules import rule


@rule("unshuffled_data")
def unshuffled_data(sig):
    purity = sig.finite("batch_class_purity")
    c = sig.num_classes
    if len(purity) < 10 or not c:
        return None
    p = float(purity.median())
    # shuffled batches of 32 from 10 balanced classes: most frequent class ≈ 20–30 %
    if p < max(0.7, 3.0 / c):
        return None
    return make_finding("unshuffled_data", min(0.5 + p / 2, 0.98), {"purity": p, "classes": c})


def _val(sig, col="val_acc"):
    v = sig.val_epochs
    if col not in v.columns:
        return None
    s = v[col].astype(float).dropna()
    return s if len(s) else None


@rule("label_noise")
def label_noise(sig):
    c = sig.num_classes
    val = _val(sig)
    train = sig.finite("train_acc")
    if not c or val is None or len(val) < 2 or len(train) < 20:
        return None
    chance = 1.0 / c
    v = float(val.iloc[-max(1, len(val) // 3):].median())
    t = float(train.iloc[-max(5, len(train) // 5):].median())
    if v > chance + 0.1 or t < v + 0.1:
        return None
    conf = min(0.6 + (t - v), 0.95)
    return make_finding("label_noise", conf, {"train_acc": t, "val_acc": v, "chance": chance})


@rule("val_from_train_split")
def val_from_train_split(sig):
    v = sig.val_epochs
    if "val_overlap" in v.columns:
        ov = v["val_overlap"].astype(float).dropna()
        if len(ov) and float(ov.median()) > 0.5:
            frac = float(ov.median())
            return make_finding("val_from_train_split", 0.95, {"overlap": frac},
                                what=f"{frac:.0%} of the validation inputs were also trained on: validation "
                                     "accuracy measures memorisation, not generalisation.")
    other = sig.other_eval
    val = _val(sig)
    if val is not None and len(other) and "val_acc" in other.columns:
        o = other["val_acc"].astype(float).dropna()
        if len(o):
            a, b = float(val.iloc[-1]), float(o.iloc[-1])
            gap = a - b
            n1 = float(sig.val_epochs["val_n"].dropna().iloc[-1]) if "val_n" in sig.val_epochs.columns else 300.0
            n2 = float(other["val_n"].dropna().iloc[-1]) if "val_n" in other.columns else 300.0
            p = (a + b) / 2
            sd = math.sqrt(max(p * (1 - p), 1e-4) * (1 / max(n1, 1) + 1 / max(n2, 1)))
            if gap > max(0.08, 4 * sd) and a > 0.5:
                return make_finding("val_from_train_split", 0.6, {"val_acc": float(val.iloc[-1]),
                                                                  "other_acc": float(o.iloc[-1]), "gap": gap},
                                    what=f"Validation accuracy {float(val.iloc[-1]):.0%} is far above the "
                                         f"accuracy on the other evaluated set ({float(o.iloc[-1]):.0%}): the "
                                         "validation data look like training data.")
    return None


@rule("val_own_normalization")
def val_own_normalization(sig):
    v = sig.val_epochs
    if "val_feature_mean_abs" not in v.columns:
        return None
    m = v["val_feature_mean_abs"].astype(float).dropna()
    if not len(m) or float(m.median()) > 1e-4:
        return None
    train_mean = sig.median("input_mean", frac=1.0)
    return make_finding("val_own_normalization", 0.8, {"mean": float(m.median()), "train_input_mean": train_mean})


@rule("bad_augmentation")
def bad_augmentation(sig):
    """The inputs the model trains on lost the label information the raw data carry (probe),
    or training batches stay much harder than validation data, epoch after epoch."""
    from debugkit.diagnose.rules.initialization import _probe

    probe = _probe(sig, "augmentation")
    if isinstance(probe, dict) and probe.get("acc_raw", 0) > 0.5 and probe.get("inputs_changed", 0) > 0.5:
        ratio = probe["acc_trained_inputs"] / probe["acc_raw"]
        if ratio < 0.7:
            ev = {"train_acc": probe["acc_trained_inputs"], "val_acc": probe["acc_raw"], "probe": probe}
            return make_finding("bad_augmentation", min(0.6 + (0.7 - ratio), 0.95), ev)
    vep = sig.val_epochs
    train = sig.finite("train_acc")
    if "val_acc" not in vep.columns or len(vep) < 3 or len(train) < 20:
        return None
    gaps = []
    prev = -1
    for _, row in vep.iterrows():
        step = row.get("step")
        if step is None or not math.isfinite(float(step)) or not math.isfinite(float(row["val_acc"])):
            continue
        window = train[(train.index > prev) & (train.index < float(step))]
        prev = float(step)
        if len(window) >= 3:
            gaps.append(float(row["val_acc"]) - float(window.median()))
    if len(gaps) < 3:
        return None
    half = gaps[len(gaps) // 3:]
    if sum(g > 0.15 for g in half) < 0.75 * len(half):
        return None
    v = float(vep["val_acc"].astype(float).iloc[-1])
    t = float(train.iloc[-max(5, len(train) // 5):].median())
    tm = sig.col("model_training")
    if len(tm) and float(tm.mean()) < 0.5:
        return None  # training in eval mode explains nothing here; another rule covers it
    return make_finding("bad_augmentation", min(0.5 + (v - t), 0.9), {"train_acc": t, "val_acc": v})
