"""Generalisation: overfitting and underfitting (informational)."""

from __future__ import annotations

from debugkit.diagnose.findings import make_finding
from debugkit.diagnose.rules import rule


@rule("overfitting")
def overfitting(sig):
    v = sig.val_epochs
    if "val_loss" not in v.columns or len(v) < 4:
        return None
    vl = v["val_loss"].astype(float).dropna()
    if len(vl) < 4:
        return None
    best, last = float(vl.min()), float(vl.iloc[-1])
    if last < 1.1 * best or vl.idxmin() == vl.index[-1]:
        return None
    train = sig.finite("loss")
    if len(train) > 20 and float(train.iloc[-10:].median()) > float(train.iloc[: len(train) // 2].median()):
        return None
    return make_finding("overfitting", 0.5, {"best": best, "last": last})


@rule("underfitting")
def underfitting(sig):
    t = sig.finite("train_acc")
    if len(t) < 20:
        return None
    acc = float(t.iloc[-max(5, len(t) // 5):].median())
    if acc > 0.6:
        return None
    return make_finding("underfitting", 0.3, {"train_acc": acc})
