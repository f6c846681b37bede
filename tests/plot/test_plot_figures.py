"""Single-quantity figures: every name renders, sizes are fixed, data and notes are right."""

from __future__ import annotations

import numpy as np
import pytest
from plot_helpers import artists, notes, one, png_size

from debugkit import load_run
from debugkit.plot import FIGURES, render_figure
from debugkit.plot.cockpit import DPI as COCKPIT_DPI
from debugkit.plot.cockpit import FIGSIZE as COCKPIT_SIZE
from debugkit.plot.figures import DPI
from debugkit.plot.panels import PANELS

NAMES = [
    "cockpit", "loss", "alpha", "grad_norm", "distance", "curvature", "gradient_tests",
    "hist_1d", "hist_2d", "activations", "learning_curves", "inputs_outputs",
]


def expected_px(name: str) -> tuple[int, int]:
    if name == "cockpit":
        return round(COCKPIT_SIZE[0] * COCKPIT_DPI), round(COCKPIT_SIZE[1] * COCKPIT_DPI)
    w, h = PANELS[name][1]
    return round(w * DPI), round(h * DPI)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    from plot_synthetic import make_synthetic_run

    return load_run(make_synthetic_run(tmp_path_factory.mktemp("runs") / "full", steps=60))


@pytest.fixture(scope="module")
def bare_run(tmp_path_factory):
    from plot_synthetic import make_synthetic_run

    return load_run(make_synthetic_run(tmp_path_factory.mktemp("runs") / "bare", steps=12, record=()))


def test_registry_has_exactly_the_documented_names():
    assert sorted(FIGURES) == sorted(NAMES)
    from debugkit.plot import plot_cockpit

    assert FIGURES["cockpit"] is plot_cockpit


def test_render_figure_cockpit_with_svg(synthetic_run, tmp_path):
    out = render_figure("cockpit", synthetic_run("r", steps=15, record=("scalars", "epochs")), tmp_path / "c.svg")
    assert out.stat().st_size > 10_000 and "<svg" in out.read_text(encoding="utf-8")[:2000]
    assert png_size(tmp_path / "c.png") == expected_px("cockpit")


# "cockpit" is rendered through plot_cockpit in test_cockpit.py; here only its registry entry is checked
@pytest.mark.parametrize("name", [n for n in NAMES if n != "cockpit"])
def test_every_figure_writes_a_png_of_its_size(name, full_run, tmp_path):
    out = render_figure(name, full_run, tmp_path / f"{name}.png")
    assert out == tmp_path / f"{name}.png"
    assert out.stat().st_size > 10_000
    assert png_size(out) == expected_px(name)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "cockpit"])
def test_missing_data_gives_a_grey_note(name, bare_run):
    fig = FIGURES[name](bare_run)
    texts = notes(fig)
    assert texts, f"{name}: no note although the run records nothing"
    assert all(("not recorded" in t or "no " in t) for t in texts), texts
    fig.canvas.draw()  # and it still renders


def test_svg_path_writes_svg_and_png(full_run, tmp_path):
    out = render_figure("loss", full_run, tmp_path / "loss.svg")
    assert out == tmp_path / "loss.svg"
    assert out.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert png_size(tmp_path / "loss.png") == expected_px("loss")


def test_path_without_suffix_gets_png(full_run, tmp_path):
    out = render_figure("hist_2d", full_run, tmp_path / "sub" / "hist")
    assert out == tmp_path / "sub" / "hist.png" and out.exists()


def test_unknown_name_lists_the_valid_ones(full_run, tmp_path):
    with pytest.raises(ValueError, match="unknown figure 'los'.*alpha.*cockpit.*learning_curves"):
        render_figure("los", full_run, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_unsupported_suffix_is_refused(full_run, tmp_path):
    with pytest.raises(ValueError, match="suffix"):
        render_figure("loss", full_run, tmp_path / "loss.jpeg")


def test_runs_given_as_paths(full_run, tmp_path):
    fig = FIGURES["loss"](str(full_run.path))
    np.testing.assert_array_equal(one(fig, "loss:full").get_ydata(), full_run.scalars["loss"].to_numpy())


def test_learning_curves_of_a_group_are_mean_and_std(synthetic_run):
    seeds = [load_run(synthetic_run(f"s{i}", steps=50, seed=i, group="mlp")) for i in range(3)]
    other = load_run(synthetic_run("cnn", steps=50, seed=9, group="cnn"))
    fig = FIGURES["learning_curves"](seeds + [other])
    mean = one(fig, "val_loss:mlp (n=3)")
    vals = np.stack([r.epochs["val_loss"].to_numpy(float) for r in seeds])
    np.testing.assert_allclose(mean.get_ydata(), vals.mean(axis=0))
    np.testing.assert_array_equal(mean.get_xdata(), seeds[0].epochs["epoch"].to_numpy(float))
    band = one(fig, "val_loss:mlp (n=3):band")
    top = band.get_paths()[0].vertices[:, 1].max()
    assert np.isclose(top, (vals.mean(axis=0) + vals.std(axis=0, ddof=1)).max())
    single = one(fig, "val_loss:cnn")  # a group of one run is drawn as that run
    np.testing.assert_allclose(single.get_ydata(), other.epochs["val_loss"].to_numpy(float))
    assert not artists(fig, gid="val_loss:cnn:band")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "mlp (n=3)" in legend and "cnn" in legend and "mean ± std over runs" in legend


def test_ungrouped_runs_are_separate_lines(synthetic_run):
    runs = [load_run(synthetic_run(f"r{i}", steps=50, seed=i)) for i in range(2)]
    fig = FIGURES["learning_curves"](runs)
    assert len(artists(fig, prefix="train_acc:")) == 2
    assert not artists(fig, prefix="train_acc:r0:band")


def test_inputs_outputs_draw_the_recorded_statistics(full_run):
    fig = FIGURES["inputs_outputs"](full_run)
    sc = full_run.scalars
    np.testing.assert_allclose(one(fig, "input_mean:full").get_ydata(), sc["input_mean"])
    np.testing.assert_allclose(one(fig, "output_logit_std:full").get_ydata(), sc["output_logit_std"])
    entropy = one(fig, "output_entropy:full")
    np.testing.assert_allclose(entropy.get_ydata(), sc["output_entropy"])
    uniform = [ln for ln in entropy.axes.get_lines() if np.allclose(ln.get_ydata(), np.log(10))]
    assert uniform, "no reference line at ln(num_classes)"


def test_outputs_that_look_like_probabilities_are_flagged(tmp_path):
    from debugkit import RunWriter

    with RunWriter(tmp_path / "p", meta={"name": "p"}) as w:
        for s in range(5):
            w.scalars(s, output_logit_std=0.2, output_entropy=2.0, output_is_prob=int(s >= 3))
    fig = FIGURES["inputs_outputs"](tmp_path / "p")
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text") and "softmax" in a.get_text())]
    assert any("probabilities" in t and "applied twice" in t for t in texts), texts
    assert any("input statistics" in t for t in notes(fig))  # inputs not recorded: a note, not an error
