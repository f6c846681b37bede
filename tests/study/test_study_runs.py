"""Each study kind end to end on digits with tiny settings: runs, tables, figures, warnings."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
from matplotlib.image import imread

import debugkit
from debugkit.study import StudyWarning, run_study
from debugkit.train import TrainConfig

pytestmark = pytest.mark.slow

BASE = TrainConfig(model={"name": "softmax"}, lr=0.5, epochs=2, monitor="economy")


def _figure(path):
    img = imread(path)
    assert img.shape[0] > 300 and img.shape[1] > 500
    assert img[..., :3].std() > 0.05  # not blank


def _check_common(result, n_runs):
    out = result.out_dir
    assert len(result.runs) == n_runs and (result.runs["status"] == "finished").all()
    assert (out / "results.csv").exists() and (out / "runs.csv").exists() and (out / "study.json").exists()
    table = pd.read_csv(out / "results.csv", index_col=0)
    assert {"n", "val_acc_mean", "val_acc_std", "val_loss_mean", "val_f1_std"} <= set(table.columns)
    md = (out / "results.md").read_text()
    assert "±" in md and "| configuration |" in md
    runs = debugkit.list_runs(out / "runs")
    assert len(runs) == n_runs
    for run in runs:
        assert run.meta["study"]["name"] == result.definition.name
        assert run.meta["group"].startswith(result.definition.name + "/")
        assert not run.scalars.empty  # each run is a monitored debugkit run
    for path in result.figures.values():
        _figure(path)
    return table, md


def test_lr_batch_grid_in_two_worker_processes(tmp_path):
    result = run_study("lr-batch", BASE, out_dir=tmp_path, lrs=[0.05, 0.5], batch_sizes=[32, "full"], seeds=2,
                       workers=2, progress=False)
    table, md = _check_common(result, 8)
    assert set(result.figures) == {"curves", "grid", "comparison"}
    assert list(table["n"]) == [2, 2, 2, 2]
    assert result.best == "lr=0.5, bs=32"  # more steps and a larger lr win on digits in 2 epochs
    full = table.loc["lr=0.05, bs=full"]
    assert full["val_acc_mean"] < table.loc["lr=0.5, bs=32", "val_acc_mean"] - 0.2
    assert result.reference == result.best and len(result.comparisons) == 3
    verdicts = {c.name: c for c in result.comparisons}
    assert not verdicts["lr=0.05, bs=full"].within_noise
    # the best lr is the largest of the grid: the study says the optimum may lie outside
    assert any("edge of the grid" in w for w in result.warnings)
    # runs of one configuration share a group; different seeds differ
    g = result.runs[result.runs["variant"] == "lr=0.5, bs=32"]
    assert g["seed"].tolist() == [0, 1] and g["val_loss"].nunique() == 2


def test_seeds_study_gives_mean_and_std_curves(tmp_path):
    result = run_study("seeds", BASE, out_dir=tmp_path, seeds=3, workers=1, progress=False)
    table, md = _check_common(result, 3)
    row = table.loc["baseline"]
    values = result.runs["val_acc"]
    assert row["val_acc_mean"] == pytest.approx(values.mean())
    assert row["val_acc_std"] == pytest.approx(values.std(ddof=1))
    assert "range" in md and "standard error" in md
    assert set(result.figures) == {"curves"}


def test_cross_validation_error_bars(tmp_path):
    result = run_study("cv", BASE, out_dir=tmp_path, folds=3, workers=1, progress=False)
    table, md = _check_common(result, 3)
    assert result.runs["replicate"].tolist() == ["fold-0", "fold-1", "fold-2"]
    assert table.loc["baseline", "n"] == 3 and table.loc["baseline", "val_acc_std"] > 0
    assert "Bengio & Grandvalet" in md
    assert set(result.figures) == {"curves", "folds"}
    sizes = [debugkit.load_run(d).meta["dataset"]["sizes"]["val"] for d in result.runs["run_dir"]]
    assert sum(sizes) == 1257 + 270  # the folds cover train+val once


def test_ablation_compares_with_baseline_and_warns_about_tuning(tmp_path):
    changes = [{"name": "tiny lr", "changes": {"lr": 0.001}},
               {"name": "adam", "changes": {"optimizer": "adam"}}]
    with pytest.warns(StudyWarning, match="'adam' changes optimizer but keeps lr=0.5"):
        result = run_study("ablation", BASE, out_dir=tmp_path, changes=changes, seeds=2, workers=1, progress=False,
                           name="abl")
    table, md = _check_common(result, 6)
    assert result.reference == "baseline" and set(result.figures) == {"curves", "comparison"}
    verdicts = {c.name: c for c in result.comparisons}
    assert verdicts["tiny lr"].diff < -0.3 and not verdicts["tiny lr"].within_noise
    assert "Holm" in md and "## Warnings" in md
    summary = json.loads((tmp_path / "study.json").read_text())
    assert summary["reference"] == "baseline" and len(summary["comparisons"]) == 2


def test_single_seed_and_unequal_budgets_warn(tmp_path):
    with pytest.warns(StudyWarning) as record:
        run_study("ablation", BASE, out_dir=tmp_path, seeds=1, workers=1, progress=False,
                  changes=[{"name": "sgd small", "changes": {"lr": 0.05}}],
                  tuning_budgets={"baseline": 20, "sgd small": 3})
    messages = " ".join(str(w.message) for w in record)
    assert "single seed" in messages and "different budgets" in messages


def test_rerun_skips_finished_runs(tmp_path):
    first = run_study("seeds", BASE, out_dir=tmp_path, seeds=2, workers=1, progress=False)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.glob("runs/*/*/meta.json")}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is trained, nothing warns
        second = run_study("seeds", BASE, out_dir=tmp_path, seeds=2, workers=1, progress=False)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("runs/*/*/meta.json")} == stamps
    pd.testing.assert_frame_equal(first.table, second.table)
    with pytest.raises(FileExistsError, match="different config"):
        run_study("seeds", BASE.with_changes({"lr": 0.1}), out_dir=tmp_path, seeds=2, workers=1, progress=False)


def test_study_from_toml_file(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text("""
kind = "lr-batch"
name = "from-file"
seeds = 2
lrs = [0.1, 0.5]
batch_sizes = [64]

[base]
epochs = 1
monitor = false
[base.model]
name = "softmax"
""")
    result = run_study(path, out_dir=tmp_path / "out", workers=1, progress=False)
    assert result.definition.name == "from-file" and len(result.runs) == 4
    assert list(result.table.index) == ["lr=0.1, bs=64", "lr=0.5, bs=64"]


def test_a_study_whose_runs_all_crash_says_why(tmp_path):
    bad = TrainConfig(model={"name": "3c3d"}, epochs=1)  # needs 3x32x32 images, digits are 1x8x8
    with pytest.raises(RuntimeError, match=r"all 2 runs .* crashed.*3c3d.*\(3, 32, 32\)"):
        run_study("seeds", bad, out_dir=tmp_path, seeds=2, workers=1, progress=False)
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert (runs["status"] == "crashed").all() and runs["error"].str.contains("ValueError").all()
