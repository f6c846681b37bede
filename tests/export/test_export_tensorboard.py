"""TensorBoard export, read back with TensorBoard's own EventAccumulator."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from export_runs import STEPS, write_synthetic_run

import debugkit
from debugkit.export import export_tensorboard
from debugkit.export.records import final_metrics, flat_config

pytest.importorskip("tensorboard", reason="the TensorBoard export needs `pip install tensorboard`")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

# columns that name an estimator ("per_sample", "ggn", ...): text, not exported as scalars
TEXT_COLUMNS = {"grad_estimator", "hess_trace_method", "tic_trace_method"}


def accumulate(path) -> EventAccumulator:
    ea = EventAccumulator(str(path), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0})
    ea.Reload()
    return ea


def series(ea: EventAccumulator, tag: str) -> tuple[list[int], np.ndarray]:
    events = ea.Scalars(tag)
    return [e.step for e in events], np.array([e.value for e in events])


def assert_scalars_match(ea: EventAccumulator, run: debugkit.Run, tag_of) -> int:
    """Every measured value of every numeric column is in TensorBoard at its step (float32)."""
    checked = 0
    for col in run.scalars.columns:
        if col in TEXT_COLUMNS:
            continue
        expected = run.scalars[col].dropna()
        steps, values = series(ea, tag_of(col))
        assert steps == expected.index.tolist(), col
        np.testing.assert_allclose(values, expected.to_numpy(float), rtol=1e-6, atol=1e-30, err_msg=col)
        checked += 1
    return checked


@pytest.fixture(scope="module")
def tb_synthetic(synthetic_run, tmp_path_factory):
    logdir = export_tensorboard(synthetic_run, tmp_path_factory.mktemp("tb"))
    return accumulate(logdir / "synthetic")


def test_returns_logdir_with_one_subdirectory_per_run(synthetic_run, tmp_path):
    out = export_tensorboard(synthetic_run.path, tmp_path / "tb")
    assert out == tmp_path / "tb"
    assert [p.name for p in out.iterdir()] == ["synthetic"]
    assert list((out / "synthetic").glob("events.out.tfevents.*"))


def test_scalars_round_trip_with_readable_tags(tb_synthetic, synthetic_run):
    tags = set(tb_synthetic.Tags()["scalars"])
    for tag in ("debugkit/loss", "debugkit/alpha", "debugkit/grad_norm", "curvature/hess_max_ev",
                "noise/norm_test", "system/step_time", "io/input_mean"):
        assert tag in tags
    mapping = {"hess_max_ev": "curvature", "norm_test": "noise", "step_time": "system", "input_mean": "io"}
    n = assert_scalars_match(tb_synthetic, synthetic_run, lambda c: f"{mapping.get(c, 'debugkit')}/{c}")
    assert n == 8  # loss, grad_norm, lr, alpha, step_time, input_mean, hess_max_ev, norm_test
    # measured on every 4th step only: the gaps are not filled in
    assert series(tb_synthetic, "curvature/hess_max_ev")[0] == [0, 4, 8]
    assert not any("grad_estimator" in t for t in tags)


def test_layer_values_round_trip(tb_synthetic, synthetic_run):
    for q in ("grad_norm", "act_dead"):
        table = synthetic_run.layer_table(q)
        for layer in table.columns:
            steps, values = series(tb_synthetic, f"layers/{q}/{layer}")
            col = table[layer].dropna()
            assert steps == col.index.tolist()
            np.testing.assert_allclose(values, col.to_numpy(float), rtol=1e-6)


def test_epoch_metrics_use_the_epoch_as_step(tb_synthetic, synthetic_run):
    ep = synthetic_run.epochs
    for metric in ("train_loss", "val_loss", "val_acc"):
        steps, values = series(tb_synthetic, f"epoch/{metric}")
        assert steps == ep["epoch"].tolist() == [0, 1, 2]
        np.testing.assert_allclose(values, ep[metric].to_numpy(float), rtol=1e-6)
    assert "epoch/step" not in tb_synthetic.Tags()["scalars"]


@pytest.mark.parametrize("name, layer, tag", [("grad_1d", None, "hists/grad_1d"),
                                              ("act", "features.1", "hists/act/features.1")])
def test_histograms_keep_counts_and_edges(tb_synthetic, synthetic_run, name, layer, tag):
    stored = synthetic_run.hist(name, layer=layer)
    events = tb_synthetic.Histograms(tag)
    assert [e.step for e in events] == [s for s, _, _ in stored] == [0, 3, 6, 9]
    for ev, (_, counts, edges) in zip(events, stored):
        h = ev.histogram_value
        np.testing.assert_array_equal(h.bucket_limit, edges)   # doubles in the proto: exact
        assert h.bucket[0] == 0
        np.testing.assert_array_equal(h.bucket[1:], counts)
        assert h.num == counts.sum()
        nz = np.flatnonzero(counts)
        assert h.min == edges[nz[0]] and h.max == edges[nz[-1] + 1]


def test_two_dimensional_histograms_are_left_out(tb_synthetic):
    assert not any("grad_2d" in t for t in tb_synthetic.Tags()["histograms"])


def test_metadata_as_text(tb_synthetic, synthetic_run):
    events = tb_synthetic.Tensors("run/meta/text_summary")
    assert len(events) == 1
    text = events[0].tensor_proto.string_val[0].decode()
    assert "`synthetic`" in text and "* preset: `standard`" in text
    block = "\n".join(ln[4:] for ln in text.splitlines() if ln.startswith("    "))
    assert json.loads(block) == synthetic_run.meta


def test_hparams_hold_config_and_final_metrics(tb_synthetic, synthetic_run):
    meta = tb_synthetic.summary_metadata
    start = plugin_data_pb2.HParamsPluginData.FromString(
        meta["_hparams_/session_start_info"].plugin_data.content).session_start_info
    hp = {k: (v.string_value if v.HasField("string_value") else v.number_value) for k, v in start.hparams.items()}
    assert hp == {"lr": 0.05, "batch_size": 32, "optimizer.name": "sgd", "optimizer.momentum": 0.9,
                  "layers": "[64, 32]", "augment": "null", "use_bn": 0.0}
    assert hp.keys() == flat_config(synthetic_run.meta["config"]).keys()
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        meta["_hparams_/experiment"].plugin_data.content).experiment
    metric_tags = {m.name.tag for m in experiment.metric_infos}
    final = final_metrics(synthetic_run)
    assert metric_tags == set(final)
    steps, values = series(tb_synthetic, "final/loss")
    assert steps == [STEPS - 1]
    assert values[0] == pytest.approx(synthetic_run.scalars["loss"].iloc[-1], rel=1e-6)
    assert series(tb_synthetic, "final/epoch/val_acc")[1][0] == pytest.approx(0.7, rel=1e-6)
    assert series(tb_synthetic, "final/steps")[1][0] == STEPS


def test_events_are_written_in_step_order(synthetic_run, tmp_path):
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    out = export_tensorboard(synthetic_run, tmp_path)
    (events_file,) = [f for f in (out / "synthetic").glob("events.out.tfevents.*")
                      if any(v.tag == "debugkit/loss" for e in EventFileLoader(str(f)).Load() for v in e.summary.value)]
    steps = [e.step for e in EventFileLoader(str(events_file)).Load()
             if e.HasField("summary") and not e.summary.value[0].tag.startswith(("epoch/", "run/"))]
    assert steps == sorted(steps) and steps[-1] == STEPS - 1


def test_monitor_run_round_trips(monitor_run, tmp_path):
    """A real run (preset standard): every scalar, every layer series, the gradient histogram."""
    out = export_tensorboard(monitor_run, tmp_path)
    ea = accumulate(out / monitor_run.name)
    from debugkit.export.records import scalar_tag

    assert assert_scalars_match(ea, monitor_run, scalar_tag) >= 20
    assert {"curvature/hess_max_ev", "noise/norm_test", "debugkit/alpha"} <= set(ea.Tags()["scalars"])
    layers = monitor_run.layers.dropna(subset=["value"])
    for (q, layer), grp in layers.groupby(["quantity", "layer"]):
        steps, values = series(ea, f"layers/{q}/{layer}")
        assert steps == grp["step"].tolist()
        np.testing.assert_allclose(values, grp["value"].to_numpy(float), rtol=1e-6)
    grad_hists = monitor_run.hist("grad_1d")
    assert grad_hists and [e.step for e in ea.Histograms("hists/grad_1d")] == [s for s, _, _ in grad_hists]
    steps, values = series(ea, "epoch/val_loss")
    assert steps == [0, 1]
    np.testing.assert_allclose(values, monitor_run.epochs["val_loss"].to_numpy(float), rtol=1e-6)


def test_study_exports_one_subdirectory_per_run(tmp_path):
    study = tmp_path / "study"
    a = debugkit.load_run(write_synthetic_run(study / "lr0.1" / "seed0", name="same", seed=0))
    b = debugkit.load_run(write_synthetic_run(study / "lr0.1" / "seed1", name="same", seed=1))
    out = export_tensorboard(study, tmp_path / "tb")
    assert sorted(p.name for p in out.iterdir()) == ["lr0.1__seed0", "lr0.1__seed1"]
    for sub, run in (("lr0.1__seed0", a), ("lr0.1__seed1", b)):
        _, values = series(accumulate(out / sub), "debugkit/loss")
        np.testing.assert_allclose(values, run.scalars["loss"].to_numpy(float), rtol=1e-6)
    # a list of runs with the same name: distinct sub-directories, each with its own values
    out2 = export_tensorboard([a, b.path], tmp_path / "tb2")
    assert sorted(p.name for p in out2.iterdir()) == ["same", "same-2"]
    _, vb = series(accumulate(out2 / "same-2"), "debugkit/loss")
    np.testing.assert_allclose(vb, b.scalars["loss"].to_numpy(float), rtol=1e-6)


def test_second_export_needs_overwrite_and_does_not_duplicate(synthetic_run, tmp_path):
    export_tensorboard(synthetic_run, tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_tensorboard(synthetic_run, tmp_path)
    export_tensorboard(synthetic_run, tmp_path, overwrite=True)
    steps, _ = series(accumulate(tmp_path / "synthetic"), "debugkit/loss")
    assert steps == list(range(STEPS))


def test_missing_run_and_empty_folder_say_what_is_wrong(tmp_path):
    with pytest.raises(debugkit.store.RunNotFoundError, match="does not exist"):
        export_tensorboard(tmp_path / "nope", tmp_path / "tb")
    (tmp_path / "empty").mkdir()
    with pytest.raises(debugkit.store.RunNotFoundError, match="holds no debugkit run"):
        export_tensorboard(tmp_path / "empty", tmp_path / "tb")
    with pytest.raises(ValueError, match="no run to export"):
        export_tensorboard([], tmp_path / "tb")


def test_empty_run_exports_metadata_only(tmp_path):
    w = debugkit.RunWriter(tmp_path / "empty_run", meta={"name": "empty_run", "config": {"lr": 1}})
    w.close()
    out = export_tensorboard(tmp_path / "empty_run", tmp_path / "tb")
    ea = accumulate(out / "empty_run")
    assert ea.Tags()["scalars"] == ["final/steps"]
    assert ea.Tensors("run/meta/text_summary")
    shutil.rmtree(out)
