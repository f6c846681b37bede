"""Diagnosis rules on synthetic runs: each fires on its signature and stays quiet on a healthy run."""

import json
import math

import numpy as np
import pytest

from debugkit import RunWriter
from debugkit.diagnose import FINDING_TYPES, RULES, diagnose_run


def _healthy(writer, steps=120, seed=0, dead=0.02, **overrides):
    rng = np.random.default_rng(seed)
    for t in range(steps):
        loss = 2.3 * math.exp(-t / 40) + 0.1 + 0.05 * rng.standard_normal()
        rec = dict(loss=loss, lr=0.1, alpha=float(rng.normal(0.0, 0.3)), grad_norm=1.0 + 0.1 * rng.standard_normal(),
                   param_norm=5.0, update_size=0.005, update_ratio=1e-3, distance=0.01 * t, model_training=1.0,
                   accumulated_grad=0.0, input_mean=0.0, input_std=1.0, input_min=-3.0, input_max=3.0,
                   output_logit_std=1.0, output_is_prob=0.0, output_is_logprob=0.0, output_entropy_max=math.log(10),
                   train_acc=min(0.98, 0.1 + t / 100), batch_class_purity=0.25)
        rec.update({k: (v(t) if callable(v) else v) for k, v in overrides.items()})
        writer.scalars(t, **rec)
        writer.layers(t, "grad_norm", {"0": 0.5, "2": 0.8})
        writer.layers(t, "update_size", {"0": 0.003, "2": 0.004})
        writer.layers(t, "act_dead", {"1": dead})
    for e in range(4):
        writer.epoch(e, step=30 * (e + 1), val_loss=1.0 / (e + 1), val_acc=0.7 + 0.05 * e, val_n=300, source="captured")
    writer.flush()


def _run(tmp_path, name="run", meta=None, dead=0.02, **overrides):
    meta = {"model": {"layers": [{"name": "0", "type": "Linear", "params": 4160, "trainable": 4160},
                                 {"name": "1", "type": "ReLU", "params": 0, "trainable": 0},
                                 {"name": "2", "type": "Linear", "params": 650, "trainable": 650}]},
            "optimizer": {"class": "SGD", "lr": 0.1, "momentum": 0.0, "weight_decay": 0.0},
            "loss_fn": "CrossEntropyLoss", "num_classes": 10, **(meta or {})}
    w = RunWriter(tmp_path / name, meta=meta)
    _healthy(w, dead=dead, **overrides)
    w.close()
    return tmp_path / name


def test_every_finding_type_has_a_rule_and_vice_versa():
    assert set(RULES) == set(FINDING_TYPES)


def test_healthy_run_has_no_warnings(tmp_path):
    report = diagnose_run(_run(tmp_path))
    assert report.ids("warning") == [], report.format()


@pytest.mark.parametrize("overrides,expected", [
    ({"accumulated_grad": lambda t: float(t > 0), "grad_norm_accumulated": lambda t: 1.0 + t}, "missing_zero_grad"),
    ({"output_is_prob": 1.0}, "double_softmax"),
    ({"input_mean": 120.0, "input_std": 90.0, "input_max": 255.0, "input_min": 0.0}, "unnormalized_inputs"),
    ({"batch_class_purity": 1.0}, "unshuffled_data"),
    ({"lr": lambda t: 0.01 * 1.05 ** t}, "lr_schedule_increasing"),
    ({"clip_total_norm": 5.0, "clip_max_norm": 1e-4}, "clip_too_aggressive"),
    ({"alpha": lambda t: 2.0 + 0.1 * math.sin(t), "loss": lambda t: 2.3 + 0.5 * math.sin(t)}, "lr_too_high"),
    ({"model_training": 0.0}, None),  # no dropout/BN in this model: eval mode changes nothing
])
def test_rule_signatures(tmp_path, overrides, expected):
    report = diagnose_run(_run(tmp_path, **overrides))
    if expected is None:
        assert "eval_mode_training" not in report.ids()
    else:
        assert report.top.id == expected, report.format()
        # the growth factor of 3 that marks an increasing schedule takes 23 steps at ×1.05/step
        limit = 30 if expected == "lr_schedule_increasing" else 20
        assert report.top.first_step is not None and report.top.first_step <= limit


def test_eval_mode_training_needs_stochastic_layers(tmp_path):
    meta = {"model": {"layers": [{"name": "0", "type": "Linear", "params": 10, "trainable": 10},
                                 {"name": "1", "type": "Dropout", "params": 0, "trainable": 0},
                                 {"name": "2", "type": "Linear", "params": 10, "trainable": 10}]}}
    report = diagnose_run(_run(tmp_path, meta=meta, model_training=0.0))
    assert report.top.id == "eval_mode_training"


def test_lr_too_low_from_undershooting_steps(tmp_path):
    report = diagnose_run(_run(tmp_path, alpha=-0.8, update_ratio=2e-6,
                               loss=lambda t: 2.3 - 0.001 * t, train_acc=0.15))
    assert report.top.id == "lr_too_low", report.format()


def test_single_bad_batch_raises_nothing(tmp_path):
    report = diagnose_run(_run(tmp_path, alpha=lambda t: 5.0 if t == 60 else 0.0,
                               output_is_prob=lambda t: 1.0 if t == 61 else 0.0,
                               accumulated_grad=lambda t: 1.0 if t == 62 else 0.0))
    assert report.ids("warning") == [], report.format()


def test_causes_rank_above_what_they_explain(tmp_path):
    # huge inputs also kill ReLUs: the input scale is the root cause
    path = _run(tmp_path, dead=0.95, input_mean=120.0, input_std=90.0, input_max=255.0, input_min=0.0)
    report = diagnose_run(path)
    ids = report.ids()
    assert ids[0] == "unnormalized_inputs"
    dead = next(f for f in report.findings if f.id == "dead_relu")
    assert dead.explained_by == "unnormalized_inputs"


def test_report_json_has_the_documented_fields(tmp_path):
    report = diagnose_run(_run(tmp_path, output_is_prob=1.0))
    out = report.write_json(tmp_path / "r.json")
    data = json.loads(out.read_text())
    f = data["findings"][0]
    assert {"id", "severity", "first_step", "evidence", "hypothesis", "suggestion"} <= set(f)
    assert f["severity"] in ("info", "warning", "error")
    assert f["id"] == "double_softmax"


def test_weight_decay_recognised_after_the_weights_collapsed(tmp_path):
    # weights already at 1% of their initial norm: the gradient of a network of tiny weights is tiny
    # too, so decay and gradient look balanced; the collapse and the stalled loss give it away
    meta = {"optimizer": {"class": "SGD", "lr": 0.02, "momentum": 0.9, "weight_decay": 0.5}}
    report = diagnose_run(_run(tmp_path, meta=meta, param_norm=lambda t: max(4.0 * 0.9 ** t, 0.04),
                               grad_norm=0.15, loss=2.303, train_acc=0.1))
    assert report.top.id == "weight_decay_too_high", report.format()
    # the same collapse without weight decay is not blamed on it
    meta["optimizer"]["weight_decay"] = 0.0
    report = diagnose_run(_run(tmp_path, name="nowd", meta=meta, param_norm=lambda t: max(4.0 * 0.9 ** t, 0.04),
                               grad_norm=0.15, loss=2.303, train_acc=0.1))
    assert "weight_decay_too_high" not in report.ids()
