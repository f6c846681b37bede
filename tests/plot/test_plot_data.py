"""The pure helpers behind the panels: downsampling, heat maps, histogram re-binning, loading."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from debugkit import load_run
from debugkit.plot import data as D


def test_short_series_are_drawn_unchanged():
    x, y = np.arange(10.0), np.random.default_rng(0).normal(size=10)
    red = D.reduce(x, y)
    assert not red.binned and red.x is x and red.y is y


def test_long_series_become_bin_means_with_envelope():
    x = np.arange(5000.0)
    y = np.sin(x / 100) + np.random.default_rng(0).normal(0, 0.1, 5000)
    red = D.reduce(x, y, max_points=500)
    assert len(red.x) == 500 and red.binned
    np.testing.assert_allclose(red.y[0], y[:10].mean())
    assert np.all(red.lo <= red.y) and np.all(red.y <= red.hi)
    assert red.lo.min() == y.min() and red.hi.max() == y.max()


def test_smoothing_does_not_lag():
    y = np.linspace(0, 1, 300)
    np.testing.assert_allclose(D.smooth(y)[10:-10], y[10:-10], atol=1e-12)  # a centred mean of a line is the line


def test_step_edges_cover_the_run():
    np.testing.assert_allclose(D.step_edges(np.array([0.0, 10.0, 20.0])), [-0.5, 5, 15, 20.5])
    np.testing.assert_allclose(D.step_edges(np.array([0.0, 5.0]), span=(0, 9)), [-0.5, 2.5, 9.5])


def test_rebin_keeps_counts_when_edges_differ():
    series = [
        (0, np.array([1.0, 3.0, 1.0]), np.array([-3.0, -1.0, 1.0, 3.0])),
        (10, np.array([2.0, 6.0, 2.0]), np.array([-1.5, -0.5, 0.5, 1.5])),
    ]
    step_edges, grid, counts = D.rebin_1d(series, n_bins=12)
    assert counts.shape == (12, 2)
    np.testing.assert_allclose(counts.sum(axis=0), [5.0, 10.0])
    assert grid[0] == -3.0 and grid[-1] == 3.0
    same = [(s, c, np.array([-3.0, -1.0, 1.0, 3.0])) for s, c, _ in series]
    _, grid2, counts2 = D.rebin_1d(same)
    np.testing.assert_array_equal(counts2, [[1, 2], [3, 6], [1, 2]])  # same edges: exact


def test_layer_heat_averages_long_runs(synthetic_run):
    run = load_run(synthetic_run("r", steps=1000, record=("acts",), every_act=1))
    heat = D.layer_heat(run, "act_dead", max_columns=100)
    assert heat.values.shape == (3, 100)
    table = run.layer_table("act_dead").to_numpy()
    np.testing.assert_allclose(heat.values[:, 0], table[:10].mean(axis=0))
    assert heat.x_edges[0] == -0.5 and heat.x_edges[-1] == 999.5
    assert D.layer_heat(run, "act_mean_never_recorded") is None


def test_as_runs_rejects_nothing_and_non_runs(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        D.as_runs([])
    with pytest.raises(TypeError, match="Run"):
        D.as_runs(3)
    with pytest.raises(TypeError, match="Run"):
        D.as_runs([None])


def test_duplicate_run_names_get_numbered(synthetic_run):
    runs = [load_run(synthetic_run(f"d{i}", steps=5, name="same")) for i in range(3)]
    assert D.run_labels(runs) == ["same", "same #2", "same #3"]


def test_core_import_does_not_pull_in_plotting():
    code = (
        "import sys, debugkit, debugkit.store; "
        "assert 'debugkit.plot' not in sys.modules; assert 'matplotlib' not in sys.modules; "
        "import debugkit.plot; assert 'matplotlib.pyplot' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
