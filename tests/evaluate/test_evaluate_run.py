"""evaluate_run on trained digits runs: metrics vs scikit-learn, figures, test-set bookkeeping."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest
import torch
from matplotlib.image import imread
from sklearn import metrics as skm

import debugkit
from debugkit.evaluate import (
    TestSetReuseWarning,
    evaluate_run,
    first_layer_images,
    test_evaluations,
)
from debugkit.store import RunWriter
from debugkit.store.reader import RunNotFoundError
from debugkit.train import CheckpointError, TrainConfig, build_data, build_model, train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("runs")
    cfg = TrainConfig(model={"name": "softmax"}, lr=0.5, epochs=2, monitor=False)
    train(cfg, root / "softmax", progress=False)
    return root


@pytest.fixture
def run_dir(trained, tmp_path):
    """A fresh copy, so test-set bookkeeping in one test does not leak into another."""
    dst = tmp_path / "softmax"
    shutil.copytree(trained / "softmax", dst)
    return dst


def _png(path):
    img = imread(path)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200
    return img


def test_val_evaluation_matches_sklearn_and_writes_figures(run_dir):
    report = evaluate_run(run_dir, split="val")
    # recompute the predictions independently: checkpoint (weights only) + config -> model
    state = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    cfg = TrainConfig.from_dict(state["config"])
    bundle = build_data(cfg)
    model = build_model(cfg, bundle)
    model.load_state_dict(state["model"])
    model.eval()
    with torch.no_grad():
        pred = model(bundle.val.inputs).argmax(1).numpy()
    y = bundle.val.targets.numpy()
    assert report.metrics.overall["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert report.metrics.overall["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    np.testing.assert_array_equal(report.metrics.confusion, skm.confusion_matrix(y, pred))
    assert report.epoch == 2 and report.split == "val"

    assert set(report.figures) == {"confusion", "per_class", "weights", "predictions"}
    for path in report.figures.values():
        assert path.parent == run_dir / "evaluation" / "val"
        _png(path)
    saved = json.loads((run_dir / "evaluation" / "val" / "evaluation.json").read_text())
    assert saved["overall"]["accuracy"] == pytest.approx(report.accuracy)
    md = (run_dir / "evaluation" / "val" / "evaluation.md").read_text()
    assert "macro F1" in md and "| 9 |" in md
    # a validation evaluation is not a look at the test set
    assert test_evaluations(run_dir) == []


def test_test_split_only_on_request_recorded_and_warned_on_reuse(run_dir):
    evaluate_run(run_dir, figures=False)
    assert test_evaluations(run_dir) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error", TestSetReuseWarning)  # the first look must not warn
        first = evaluate_run(run_dir, split="test", figures=False)
    assert first.test_evaluation_number == 1
    records = test_evaluations(run_dir)
    assert len(records) == 1 and records[0]["metrics"]["accuracy"] == pytest.approx(first.accuracy)
    run = debugkit.load_run(run_dir)
    assert run.meta["test_evaluations"] == 1
    assert list(run.events["kind"]) == ["test_evaluation"]

    with pytest.warns(TestSetReuseWarning, match="already evaluated 1 time"):
        second = evaluate_run(run_dir, split="test", figures=False)
    assert second.test_evaluation_number == 2
    assert len(test_evaluations(run_dir)) == 2
    assert debugkit.load_run(run_dir).meta["test_evaluations"] == 2


def test_sibling_runs_of_a_study_warn(tmp_path):
    cfg = TrainConfig(model={"name": "softmax"}, lr=0.5, epochs=1, monitor=False)
    study = {"study": {"name": "s", "dir": str(tmp_path)}}
    train(cfg, tmp_path / "runs" / "a", progress=False, meta=study)
    train(cfg.with_changes({"lr": 0.1}), tmp_path / "runs" / "b", progress=False, meta=study)
    evaluate_run(tmp_path / "runs" / "a", split="test", figures=False)
    with pytest.warns(TestSetReuseWarning, match="other run\\(s\\) of the same study"):
        evaluate_run(tmp_path / "runs" / "b", split="test", figures=False)


def test_clear_errors(tmp_path, run_dir):
    RunWriter(tmp_path / "no_ckpt", meta={"name": "x"}).close()
    with pytest.raises(CheckpointError, match="no checkpoint"):
        evaluate_run(tmp_path / "no_ckpt")
    with pytest.raises(RunNotFoundError, match="does not exist"):
        evaluate_run(tmp_path / "missing")
    with pytest.raises(ValueError, match="split must be one of val, test, train"):
        evaluate_run(run_dir, split="validation")


def test_predictions_grid_has_ten_images(run_dir):
    report = evaluate_run(run_dir, n_images=10)
    img = _png(report.figures["predictions"])
    assert img.shape[1] > img.shape[0]  # 2 rows x 5 columns
    from debugkit.evaluate import figures as F

    fig = F.predictions_figure(np.zeros((10, 1, 8, 8)), list(range(10)), [0] * 10, [str(i) for i in range(10)])
    shown = [ax for ax in fig.axes if ax.get_visible() and ax.images]
    assert len(shown) == 10
    assert sum("✗" in ax.get_title() for ax in shown) == 9


def test_first_layer_images_per_model():
    shape, names = (1, 8, 8), [f"c{i}" for i in range(10)]
    w, titles, what = first_layer_images(build_model(TrainConfig(model={"name": "softmax"}), _Bundle()), shape, names)
    assert w.shape == (10, 1, 8, 8) and titles == names and "per class" in what
    w, titles, _ = first_layer_images(build_model(TrainConfig(model={"name": "mlp", "hidden": [20]}), _Bundle()),
                                      shape, names)
    assert w.shape == (20, 1, 8, 8) and titles[3] == "unit 3"
    net = build_model(TrainConfig(model={"name": "cnn", "conv": [6], "dense": [8]}), _Bundle())
    w, titles, what = first_layer_images(net, shape, names)
    assert w.shape == (6, 1, 3, 3) and "conv" in what
    # a first linear layer that does not read the image has no picture
    assert first_layer_images(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(10, 3)), shape, names) is None
    # softmax weights reshape row by row: pixel (r, c) of class k is weight[k, r*8 + c]
    lin = torch.nn.Linear(64, 10)
    w, _, _ = first_layer_images(lin, shape, names)
    assert w[3, 0, 2, 5] == pytest.approx(float(lin.weight[3, 2 * 8 + 5].detach()))


class _Bundle:
    input_shape = (1, 8, 8)
    num_classes = 10


def test_train_split_is_evaluated_without_augmentation(tmp_path):
    cfg = TrainConfig(model={"name": "softmax"}, lr=0.5, epochs=1, monitor=False, augment={"rotation": 20})
    train(cfg, tmp_path / "aug", progress=False)
    a = evaluate_run(tmp_path / "aug", split="train", figures=False)
    b = evaluate_run(tmp_path / "aug", split="train", n_images=4)
    np.testing.assert_array_equal(a.metrics.confusion, b.metrics.confusion)  # no random augmentation
    assert a.metrics.overall["n"] == 1257 and test_evaluations(tmp_path / "aug") == []
    _png(b.figures["predictions"])
