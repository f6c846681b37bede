"""Backend-neutral pieces of the exports: tags, points, steps, names, bin merging."""

from __future__ import annotations

import numpy as np
import pytest
from export_runs import STEPS, write_synthetic_run

import debugkit
from debugkit.export import records
from debugkit.export.sources import named_runs
from debugkit.export.wandb_export import coarsen, wandb_rows


@pytest.mark.parametrize("column, tag", [
    ("loss", "debugkit/loss"), ("alpha", "debugkit/alpha"), ("hess_max_ev", "curvature/hess_max_ev"),
    ("tic", "curvature/tic"), ("norm_test", "noise/norm_test"), ("mean_gsnr", "noise/mean_gsnr"),
    ("output_entropy", "io/output_entropy"), ("input_std", "io/input_std"), ("step_time", "system/step_time"),
    ("something_new", "debugkit/something_new"),
])
def test_scalar_tags(column, tag):
    assert records.scalar_tag(column) == tag


def test_points_skip_unmeasured_values_and_text(synthetic_run):
    pts = list(records.scalar_points(synthetic_run))
    by_tag = {}
    for p in pts:
        by_tag.setdefault(p.tag, []).append(p.step)
    assert by_tag["curvature/hess_max_ev"] == [0, 4, 8]
    assert by_tag["debugkit/loss"] == list(range(STEPS))
    assert not any("grad_estimator" in t for t in by_tag)
    assert all(np.isfinite(p.value) for p in pts)


def test_non_finite_values_are_kept(tmp_path):
    w = debugkit.RunWriter(tmp_path / "r", meta={"name": "r"})
    w.scalars(0, loss=1.0)
    w.scalars(1, loss=float("inf"))
    w.close()
    values = [p.value for p in records.scalar_points(debugkit.load_run(tmp_path / "r"))]
    assert values == [1.0, float("inf")]


def test_epoch_metrics_keep_numbers_only(tmp_path):
    w = debugkit.RunWriter(tmp_path / "r", meta={"name": "r"})
    w.epoch(0, step=3, val_acc=0.5, note="text")
    w.epoch(1, step=None, val_acc=0.6)
    w.close()
    assert records.epoch_metrics(debugkit.load_run(tmp_path / "r")) == [(0, 3, {"val_acc": 0.5}),
                                                                         (1, None, {"val_acc": 0.6})]


def test_flat_config():
    cfg = {"lr": 0.1, "opt": {"name": "adam", "betas": [0.9, 0.99]}, "n": 3, "flag": True, "x": None,
           "arr": np.float32(0.5)}
    assert records.flat_config(cfg) == {"lr": 0.1, "opt.name": "adam", "opt.betas": "[0.9, 0.99]", "n": 3,
                                        "flag": True, "x": "null", "arr": 0.5}


def test_final_metrics(synthetic_run):
    final = records.final_metrics(synthetic_run)
    assert final["final/loss"] == synthetic_run.scalars["loss"].iloc[-1]
    assert final["final/hess_max_ev"] == 18.0  # last measured value, not the NaN after it
    assert final["final/epoch/val_acc"] == pytest.approx(0.7)
    assert final["final/steps"] == STEPS


def test_wandb_rows_increase_and_place_epochs(synthetic_run, tmp_path):
    rows = wandb_rows(synthetic_run)
    steps = [s for s, _ in rows]
    assert steps == sorted(set(steps)) == list(range(STEPS + 1))
    epochs = {s: row["epoch"] for s, row in rows if "epoch" in row}
    assert epochs == {4: 0, 8: 1, 12: 2}
    # epochs without a step, or with one not after the previous epoch's: the next free step
    w = debugkit.RunWriter(tmp_path / "r", meta={"name": "r"})
    for s in range(3):
        w.scalars(s, loss=1.0)
    w.epoch(0, step=2, a=1.0)
    w.epoch(1, step=2, a=2.0)
    w.epoch(2, step=None, a=3.0)
    w.close()
    rows = wandb_rows(debugkit.load_run(tmp_path / "r"))
    assert [(s, r.get("epoch"), r.get("epoch/a")) for s, r in rows] == [
        (0, None, None), (1, None, None), (2, 0, 1.0), (3, 1, 2.0), (4, 2, 3.0)]


def test_coarsen_merges_bins_exactly():
    counts = np.arange(1000, dtype=float)
    edges = np.linspace(-1, 1, 1001)
    c, e = coarsen(counts, edges)
    assert len(c) == 500 and len(e) == 501
    assert c.sum() == counts.sum() and c[0] == 0 + 1 and c[-1] == 998 + 999
    assert e[0] == -1 and e[-1] == 1 and e[1] == edges[2]
    c, e = coarsen(np.ones(1025), np.linspace(0, 1, 1026))  # not a multiple: last merged bin is shorter
    assert len(c) <= 512 and c.sum() == 1025 and len(e) == len(c) + 1 and e[-1] == 1
    same = coarsen(counts[:10], edges[:11])
    assert same[0] is not None and len(same[0]) == 10


def test_named_runs(tmp_path):
    a = write_synthetic_run(tmp_path / "x" / "a", name="run/with:odd chars")
    b = write_synthetic_run(tmp_path / "x" / "b", name="run/with:odd chars")
    names = [n for n, _ in named_runs([a, b, debugkit.load_run(a)])]
    assert names == ["run_with_odd_chars", "run_with_odd_chars-2", "run_with_odd_chars-3"]
    assert [n for n, _ in named_runs(tmp_path / "x")] == ["a", "b"]
    assert [n for n, _ in named_runs(tmp_path)] == ["x__a", "x__b"]
