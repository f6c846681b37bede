"""The dashboard: it draws what the run holds, overlays runs, and never fails on missing data.

Data checks of single panels use the panel's stand-alone figure (``FIGURES[name]``): the same
drawing code, a fraction of the time of a full dashboard.
"""

from __future__ import annotations

import numpy as np
import pytest
from plot_helpers import artists, notes, one, png_size

from debugkit import RunWriter, load_run
from debugkit.plot import FIGURES, plot_cockpit
from debugkit.plot.cockpit import DPI, FIGSIZE
from debugkit.plot.data import MAX_POINTS
from debugkit.store.reader import RunNotFoundError


def test_writes_png_of_expected_size(synthetic_run, tmp_path):
    path = tmp_path / "cockpit.png"
    fig = plot_cockpit(synthetic_run("r"), path)
    assert path.stat().st_size > 50_000  # a full dashboard, not a blank page
    assert png_size(path) == (round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI))
    assert notes(fig) == []  # everything was recorded, so nothing says "not recorded"
    assert len(fig.subfigs[0].subfigs) * len(fig.subfigs) == 9  # the nine panels


def test_loss_line_is_the_runs_loss(synthetic_run):
    run = load_run(synthetic_run("r", steps=40))
    fig = plot_cockpit(run)
    line = one(fig, "loss:r")
    loss = run.scalars["loss"].dropna()
    np.testing.assert_array_equal(line.get_xdata(), loss.index.to_numpy(float))
    np.testing.assert_array_equal(line.get_ydata(), loss.to_numpy())


def test_overlay_two_runs(synthetic_run):
    a = load_run(synthetic_run("a", steps=30, name="baseline"))
    b = load_run(synthetic_run("b", steps=20, name="lr x3", lr=0.3, seed=1))
    fig = plot_cockpit([a, b])
    raw = [ln for ln in artists(fig, prefix="loss:") if not ln.get_gid().endswith((":smooth", ":band"))]
    assert sorted(ln.get_gid() for ln in raw) == ["loss:baseline", "loss:lr x3"]
    assert raw[0].get_color() != raw[1].get_color()
    ax = raw[0].axes
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "baseline" in legend and "lr x3" in legend
    np.testing.assert_array_equal(one(fig, "loss:lr x3").get_ydata(), b.scalars["loss"].to_numpy())


def test_missing_quantities_show_a_note_instead_of_failing(synthetic_run, tmp_path):
    fig = plot_cockpit(synthetic_run("basic", record=("scalars",)), tmp_path / "basic.png")
    texts = notes(fig)
    for what in ("alpha", "gradient tests", "Hessian", "per-sample gradient histogram", "activation statistics"):
        assert any(what in t and "not recorded" in t for t in texts), (what, texts)
    assert all("preset='full'" in t for t in texts)
    assert one(fig, "loss:basic") is not None  # what is recorded is still drawn


def test_run_with_nothing_recorded(synthetic_run, tmp_path):
    fig = plot_cockpit(synthetic_run("empty", record=()), tmp_path / "empty.png")
    assert len(notes(fig)) == 9  # one per panel
    assert png_size(tmp_path / "empty.png") == (round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI))


def test_missing_run_directory_raises_the_store_error(tmp_path):
    with pytest.raises(RunNotFoundError, match="does not exist"):
        plot_cockpit(tmp_path / "no_such_run")
    with pytest.raises(RunNotFoundError, match="no meta.json"):
        plot_cockpit([tmp_path])


def test_long_run_is_aggregated(synthetic_run, tmp_path):
    steps = 5000
    run = load_run(synthetic_run("long", steps=steps, record=("scalars", "alpha", "acts"), every_act=2))
    fig = plot_cockpit(run, tmp_path / "long.png")
    line = one(fig, "loss:long")
    assert len(line.get_xdata()) <= MAX_POINTS
    assert line.get_xdata()[0] < 5 and line.get_xdata()[-1] > steps - 5  # still covers the whole run
    k = int(round(2 * line.get_xdata()[0] + 1))  # the first bin holds steps 0 .. k-1, drawn at their mean
    assert 2 <= k <= 5
    assert np.isclose(line.get_ydata()[0], run.scalars["loss"].iloc[:k].mean())  # bin means
    assert artists(fig, gid="loss:long:band")  # min/max envelope of each bin
    mesh = one(fig, "act_dead")
    assert mesh.get_array().shape[1] <= 400  # heat map columns averaged
    assert png_size(tmp_path / "long.png")[0] == round(FIGSIZE[0] * DPI)


@pytest.mark.parametrize("n_layers", [2, 30])
def test_activation_heat_maps_equal_the_layer_table(synthetic_run, n_layers):
    run = load_run(synthetic_run("deep", steps=20, n_layers=n_layers, record=("scalars", "layers", "acts")))
    fig = plot_cockpit(run) if n_layers == 30 else FIGURES["activations"](run)
    for q in ("act_dead", "act_saturated"):
        mesh = one(fig, q)
        expected = run.layer_table(q).to_numpy().T  # layers × steps
        np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(expected.shape), expected)
        ax = mesh.axes
        labels = [t.get_text() for t in ax.get_yticklabels()]
        if q == "act_dead":  # the right-hand map shares the left one's row labels
            assert labels[0] == "features.0 (Linear)"  # name and module type from the model summary
            assert 1 < len(labels) <= 16  # thinned for 30 layers, so they do not overlap
    if n_layers == 30:
        heat = one(fig, "grad_norm_layers")
        assert np.asarray(heat.get_array()).size == n_layers * 20


def test_alpha_histogram_counts_the_runs_alpha(synthetic_run):
    run = load_run(synthetic_run("r", steps=80, record=("scalars", "alpha")))
    fig = FIGURES["alpha"](run)
    hist = one(fig, "alpha_hist:r")
    values, edges, _ = hist.get_data()
    alpha = run.scalars["alpha"].dropna().to_numpy()
    counts, _ = np.histogram(alpha, bins=edges)
    np.testing.assert_allclose(values * len(alpha), counts)
    zero = [ln for ln in hist.axes.get_lines() if np.all(np.asarray(ln.get_xdata()) == 0)]
    assert zero, "the histogram has no vertical line at alpha = 0"


def test_curvature_and_gradient_tests(synthetic_run):
    run = load_run(synthetic_run("r", steps=40, every_curv=10, record=("scalars", "curvature", "tests")))
    fig = FIGURES["curvature"](run)
    ev = one(fig, "hess_max_ev:r")
    expected = run.scalars["hess_max_ev"].dropna()
    np.testing.assert_array_equal(ev.get_xdata(), expected.index.to_numpy(float))  # sparse: every 10 steps
    prod = one(fig, "lr_max_ev:r")
    np.testing.assert_allclose(prod.get_ydata(), (run.scalars["lr"] * run.scalars["hess_max_ev"]).dropna())
    assert any(np.allclose(ln.get_ydata(), 2.0) for ln in prod.axes.get_lines() if ln is not prod)
    fig = FIGURES["gradient_tests"](run)
    for q in ("norm_test", "inner_test", "ortho_test"):
        line = one(fig, f"{q}:r")
        assert line.axes.get_yscale() == "log"
        assert any(np.allclose(ln.get_ydata(), 1.0) for ln in line.axes.get_lines() if ln is not line)


def test_histograms_equal_the_latest_record(synthetic_run):
    run = load_run(synthetic_run("r", steps=30, every_hist=10, record=("hists",)))
    fig = FIGURES["hist_1d"](run)
    step, counts, edges = run.hist("grad_1d")[-1]
    values, drawn_edges, _ = one(fig, "hist_1d:r").get_data()
    np.testing.assert_array_equal(values, counts)
    np.testing.assert_allclose(drawn_edges, edges)
    evolution = one(fig, "hist_1d_evolution")
    image = 10 ** np.asarray(evolution.get_array()).reshape(-1, 3) - 1  # value bins × 3 recorded steps
    totals = [c.sum() for _, c, _ in run.hist("grad_1d")]
    np.testing.assert_allclose(image.sum(axis=0), totals)  # re-binned onto one grid, no count lost
    step2, counts2, _ = run.hist("grad_2d")[-1]
    fig = FIGURES["hist_2d"](run)
    mesh = one(fig, "hist_2d")
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(counts2.shape), np.log10(counts2 + 1))
    np.testing.assert_allclose(one(fig, "hist_2d:grad").get_data()[0], counts2.sum(axis=1))  # marginal


def test_title_and_footer_describe_the_run(synthetic_run):
    fig = plot_cockpit(synthetic_run("r", steps=12, record=("scalars",)), title="my experiment")
    assert fig.get_suptitle() == "my experiment"
    footer = fig.get_supxlabel()
    assert "3 layers" in footer and "12 steps" in footer and "batch 32" in footer


def test_diverged_loss_is_marked_and_not_drawn(tmp_path):
    with RunWriter(tmp_path / "div", meta={"name": "div"}) as w:
        for s in range(20):
            w.scalars(s, loss=2.0 * 1.5**s if s < 12 else float("nan") if s < 16 else float("inf"))
        w.event("nan_loss", "loss is NaN", step=12)
    fig = FIGURES["loss"](tmp_path / "div")
    line = one(fig, "loss:div")
    np.testing.assert_array_equal(line.get_xdata(), np.arange(12.0))  # only finite values are drawn
    marks = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text") and "NaN/inf" in a.get_text())]
    assert marks == ["loss NaN/inf from step 12"]  # the NaN is known from its event, inf from the value
    assert line.axes.get_yscale() == "log"  # 2 … 173: more than a factor 50


def test_single_step_and_truncated_run_render(tmp_path):
    with RunWriter(tmp_path / "one", meta={"name": "one", "status": "crashed"}) as w:
        w.scalars(0, loss=2.3, lr=0.1, alpha=0.2, hess_max_ev=3.0, norm_test=0.5, grad_norm=1.0)
        w.layers(0, "act_dead", {"fc1": 0.0, "fc2": 1.0})
        w.layers(0, "grad_norm", {"fc1": 0.5, "fc2": 0.1})
        w.hist(0, "grad_1d", [1, 5, 1], [-1.0, -0.3, 0.3, 1.0])
        w.hist(0, "grad_2d", [[0, 1], [2, 0]], [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0]])
        w.epoch(0, step=0, train_loss=2.3)
    with open(tmp_path / "one" / "scalars.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"step": 1, "lo')  # killed mid-write
    fig = plot_cockpit(tmp_path / "one", tmp_path / "one.png")
    assert png_size(tmp_path / "one.png") == (round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI))
    assert "status crashed" in fig.get_supxlabel() and "1 unreadable line(s) skipped" in fig.get_supxlabel()
    assert one(fig, "lr_max_ev:one").get_ydata()[0] == pytest.approx(0.3)
