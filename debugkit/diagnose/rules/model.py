"""Model and loss wiring: double softmax, train/eval mode, batch mixing."""

from __future__ import annotations

from debugkit.diagnose.findings import make_finding
from debugkit.diagnose.rules import rule


@rule("double_softmax")
def double_softmax(sig):
    prob = sig.col("output_is_prob")
    if len(prob) < 3:
        return None
    frac = float(prob.mean())
    loss = sig.loss_fn or "the loss"
    if frac < 0.8 or not any(k in loss for k in ("CrossEntropy", "NLL", "the loss")):
        return None
    c = sig.num_classes or 10
    # CE of softmax(p) with p a probability vector: at best log(e^1 + (C-1)) - 1
    import math

    floor = math.log(math.e + c - 1) - 1
    return make_finding("double_softmax", 0.97, {"frac": frac, "loss": loss, "floor": floor})


@rule("eval_mode_training")
def eval_mode_training(sig):
    if not sig.has_stochastic_layers:
        return None
    tm = sig.col("model_training")
    if len(tm) >= 3 and float(tm.mean()) < 0.2:
        return make_finding("eval_mode_training", 0.9, {"train_mode_fraction": float(tm.mean())},
                            what="The model was in eval() mode during training steps: dropout is off and "
                                 "BatchNorm uses (and never learns) running statistics.")
    v = sig.val_epochs
    if "val_train_mode" in v.columns:
        vm = v["val_train_mode"].astype(float).dropna()
        if len(vm) and float(vm.mean()) > 0.8:
            return make_finding("eval_mode_training", 0.75, {"eval_in_train_mode": float(vm.mean())},
                                what="Evaluation ran with the model in train() mode: dropout is active and "
                                     "BatchNorm uses batch statistics, so validation metrics are noisy and biased.")
    return None


@rule("batch_mixing")
def batch_mixing(sig):
    from debugkit.diagnose.rules.initialization import _probe

    res = _probe(sig, "batch_dependency")
    if not res or res.get("leak", 0) < 0.01:
        return None
    return make_finding("batch_mixing", 0.9, {"frac": res["leak"], "detail": res})
