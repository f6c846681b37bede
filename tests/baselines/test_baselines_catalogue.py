"""The catalogue on disk: files, metadata, the bugged/fixed diff, spoiler-free scripts, the key, utils.py."""

from __future__ import annotations

import importlib.util
import json
import math
import py_compile
import shutil

import numpy as np
import pytest
import torch

from debugkit.baselines import (
    BUG_IDS,
    baselines_dir,
    changed_lines,
    format_key,
    list_baselines,
    load_baseline,
    validate_baseline,
)

BASELINES = list_baselines()
NAMES = [b.name for b in BASELINES]

# The bug classes the catalogue must cover with a single-bug baseline each.
REQUIRED_SINGLE = {
    "lr_too_high", "lr_too_low", "missing_zero_grad", "double_softmax", "unnormalized_inputs", "bad_init_scale",
    "symmetric_init", "dead_relu", "saturated_activations", "label_noise", "unshuffled_data", "frozen_params",
    "detached_graph", "clip_too_aggressive", "weight_decay_too_high", "lr_schedule_increasing",
    "eval_mode_training", "val_from_train_split", "val_own_normalization",
}


def test_catalogue_covers_every_bug_class():
    single = [b for b in BASELINES if not b.multi]
    multi = {b.name: b for b in BASELINES if b.multi}
    assert len(single) >= 19 and len(multi) >= 2
    assert REQUIRED_SINGLE <= {b.bugs[0].id for b in single}
    numerics = multi["numerics_exercise"]
    assert len(numerics.bugs) >= 4
    assert {"missing_zero_grad", "val_from_train_split", "lr_schedule_increasing", "lr_too_low"} <= set(numerics.bug_ids)
    cifar = multi["cifar_cnn"]
    assert len(cifar.bugs) >= 3 and cifar.model == "cnn"
    assert {"unnormalized_inputs", "double_softmax"} <= set(cifar.bug_ids)


@pytest.mark.parametrize("baseline", BASELINES, ids=NAMES)
def test_baseline_is_consistent(baseline):
    # files, bug.toml fields and ids, line numbers, diff == bug lines, no debugkit import, no spoilers
    assert validate_baseline(baseline) == []


@pytest.mark.parametrize("baseline", BASELINES, ids=NAMES)
def test_scripts_compile_and_use_the_standard_loop(baseline, tmp_path):
    for script in (baseline.script, baseline.fixed_script):
        py_compile.compile(str(script), cfile=str(tmp_path / "x.pyc"), doraise=True)
    fixed = baseline.fixed_script.read_text()
    # what `debugkit diagnose` hooks into from outside: a loss module, nn.Modules, an optimizer, no_grad evals
    assert "criterion = nn.CrossEntropyLoss()" in fixed
    assert "optimizer.step()" in fixed and "optimizer.zero_grad()" in fixed and "loss.backward()" in fixed
    assert "torch.no_grad()" in fixed and "model.eval()" in fixed
    assert "report_result(" in fixed and "import debugkit" not in fixed


def test_bug_lines_point_at_the_changed_code():
    b = load_baseline(baselines_dir() / "lr_too_high")
    line = b.script.read_text().splitlines()[b.bugs[0].lines[0] - 1]
    assert "lr=" in line and "optimizer" in line
    b = load_baseline(baselines_dir() / "missing_zero_grad")  # insertion: the line after which it goes
    line = b.script.read_text().splitlines()[b.bugs[0].lines[0] - 1]
    assert line.strip() == "for xb, yb in train_loader:"


def test_changed_lines_convention():
    a = "a\nb\nc\nd\n"
    assert changed_lines(a, a) == set()
    assert changed_lines(a, "a\nB\nc\nd\n") == {2}  # replaced
    assert changed_lines(a, "a\nc\nd\n") == {2}  # deleted from train.py
    assert changed_lines(a, "a\nb\nnew\nc\nd\n") == {2}  # inserted after line 2
    assert changed_lines(a, "top\na\nb\nc\nd\n") == {0}


def _copy(tmp_path, name="lr_too_high"):
    dst = tmp_path / name
    shutil.copytree(baselines_dir() / name, dst)
    return dst


def _edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_validate_reports_wrong_lines_and_diff(tmp_path):
    d = _copy(tmp_path)
    _edit(d / "bug.toml", "lines = [", "lines = [3, ")
    assert any("touches lines" in p for p in validate_baseline(load_baseline(d)))
    d = _copy(tmp_path / "b")
    _edit(d / "train_fixed.py", "batch_size=32", "batch_size=64")  # a change outside the bug lines
    assert any("touches lines" in p for p in validate_baseline(load_baseline(d)))
    d = _copy(tmp_path / "c")
    _edit(d / "bug.toml", "lines = [", "lines = [9999, ")
    assert any("outside train.py" in p for p in validate_baseline(load_baseline(d)))


def test_validate_reports_spoilers_imports_and_metadata(tmp_path):
    d = _copy(tmp_path)
    _edit(d / "train.py", "# %%\nimport argparse", "# %%\nimport debugkit  # here is the Bug\nimport argparse")
    _edit(d / "train_fixed.py", "# %%\nimport argparse", "# %%\nimport debugkit  # here is the Bug\nimport argparse")
    problems = validate_baseline(load_baseline(d))
    assert any("imports debugkit" in p for p in problems)
    assert any("'bug'" in p for p in problems)
    d = _copy(tmp_path / "b")
    _edit(d / "train.py", "# %%\nimport argparse", "# %%\n# lr_too_high\nimport argparse")
    assert any("names the finding id 'lr_too_high'" in p for p in validate_baseline(load_baseline(d)))
    d = _copy(tmp_path / "c")
    _edit(d / "bug.toml", 'id = "lr_too_high"', 'id = "no_such_bug"')
    _edit(d / "bug.toml", "multi = false", "multi = true")
    _edit(d / "bug.toml", 'model = "mlp"', 'model = "transformer"')
    problems = validate_baseline(load_baseline(d))
    assert any("unknown bug id 'no_such_bug'" in p for p in problems)
    assert any("multi = true" in p for p in problems)
    assert any("model 'transformer'" in p for p in problems)
    d = _copy(tmp_path / "d")
    (d / "train_fixed.py").unlink()
    assert validate_baseline(load_baseline(d)) == ["lr_too_high: missing train_fixed.py"]


def test_key_is_up_to_date():
    key = (baselines_dir() / "KEY.md").read_text()
    assert key == format_key(), "buggy_baselines/KEY.md is stale: run python -c 'import debugkit.baselines as b; b.write_key()'"
    for b in BASELINES:
        for bug in b.bugs:
            assert f"### `{bug.id}` — train.py line" in key


def test_student_readme_lists_every_baseline_without_spoilers():
    readme = (baselines_dir() / "README.md").read_text()
    for b in BASELINES:
        assert f"| `{b.name}` | {b.symptom} |" in readme, f"README.md: no up-to-date row for {b.name}"
        for bug in b.bugs:
            for text in (bug.description, bug.fix, bug.instrument):
                assert text not in readme
    for word in ("fix:", "instrument", "train.py line"):
        assert word not in readme.lower()


# ---------------------------------------------------------------- utils.py ("all code in utils.py is correct")
@pytest.fixture(scope="module")
def utils():
    spec = importlib.util.spec_from_file_location("baseline_utils", baselines_dir() / "utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_load_raw_digits_matches_sklearn(utils):
    from sklearn.datasets import load_digits

    X, y = utils.load_raw_digits()
    digits = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, digits.data.astype(np.float32))
    np.testing.assert_array_equal(y, digits.target)


def test_report_result_is_nan_safe(utils, capsys):
    utils.report_result(0.1, 0.9, 0.2, 0.8, 0.3, torch.tensor(0.7))
    utils.report_result(float("nan"), 0.1, float("inf"), 0.1, 2.3, 0.1)
    lines = capsys.readouterr().out.splitlines()
    assert all(line.startswith("DEBUGKIT_RESULT {") for line in lines)
    ok, bad = (json.loads(line.split(" ", 1)[1]) for line in lines)
    assert ok == {"train_loss": 0.1, "train_acc": 0.9, "val_loss": 0.2, "val_acc": 0.8, "test_loss": 0.3,
                  "test_acc": pytest.approx(0.7), "diverged": False}
    assert bad["train_loss"] is None and bad["val_loss"] is None and bad["test_loss"] == 2.3
    assert bad["diverged"] is True
    assert "NaN" not in lines[1] and "Infinity" not in lines[1]  # strict JSON


def test_print_epoch_and_accuracy(utils, capsys):
    utils.print_epoch(3, 0.41, 0.88, 0.45, 0.87)
    assert capsys.readouterr().out.strip() == "epoch 3 train_loss 0.4100 train_acc 0.8800 val_loss 0.4500 val_acc 0.8700"
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 1.0], [0.0, 1.0]])
    assert utils.accuracy(logits, torch.tensor([0, 1, 1, 1])) == 0.75


def test_random_rotation(utils):
    torch.manual_seed(0)
    images = torch.rand(5, 1, 8, 8)
    assert torch.allclose(utils.random_rotation(images, (0, 0)), images, atol=1e-5)
    half_turn = utils.random_rotation(images, (180, 180))
    assert torch.allclose(half_turn, torch.flip(images, dims=(2, 3)), atol=1e-4)
    quarter = utils.random_rotation(images, (90, 90))
    assert torch.allclose(quarter, torch.rot90(images, 1, dims=(2, 3)), atol=1e-4)
    assert not math.isclose(float((utils.random_rotation(images, (-15, 15)) - images).abs().max()), 0.0)
