"""Offline W&B export, read back with W&B's own reader of the .wandb transaction log."""

from __future__ import annotations

import os

import numpy as np
import pytest
from export_runs import STEPS
from export_wandb_reader import ReaderUnavailable, read_offline_run

import debugkit
from debugkit.export import export_wandb
from debugkit.export.records import final_metrics, scalar_tag

pytest.importorskip("wandb", reason="the W&B export needs `pip install wandb`")

# columns that name an estimator ("per_sample", "ggn", ...): text, not exported as scalars
TEXT_COLUMNS = {"grad_estimator", "hess_trace_method", "tic_trace_method"}


@pytest.fixture(scope="module")
def wandb_env(tmp_path_factory):
    """No login, no API key, no user config: everything wandb keeps goes to a temporary folder."""
    home = tmp_path_factory.mktemp("wandb_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("WANDB_API_KEY", raising=False)
        mp.delenv("WANDB_MODE", raising=False)  # the export must go offline by itself
        for var in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR"):
            mp.setenv(var, str(home / var.lower()))
        # unreachable: any attempt to go online would fail instead of leaking
        mp.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
        yield dict(os.environ)


def read(path, env):
    try:
        return read_offline_run(path, env)
    except ReaderUnavailable as exc:
        pytest.skip(f"no W&B reader for offline runs works here: {exc}")


@pytest.fixture(scope="module")
def exported(synthetic_run, wandb_env, tmp_path_factory):
    out = export_wandb(synthetic_run, project="debugkit-tests", dir=tmp_path_factory.mktemp("wb"))
    assert "WANDB_MODE" not in os.environ  # set only while exporting
    return out, read(out, wandb_env)


def assert_series(rec, tag, expected, rel=1e-12):
    got = rec.series(tag)
    assert sorted(got) == expected.index.tolist(), tag
    np.testing.assert_allclose([got[s] for s in sorted(got)], expected.to_numpy(float), rtol=rel, err_msg=tag)


def test_offline_run_directory_with_transaction_log(exported, tmp_path):
    out, rec = exported
    assert out.name.startswith("offline-run-") and out.parent.name == "wandb"
    assert len(list(out.glob("run-*.wandb"))) == 1
    assert rec.exit_code == 0 and rec.state == "finished"
    assert "stats" not in rec.types  # system metrics of the exporting process are not the run's


def test_scalars_per_step(exported, synthetic_run):
    _, rec = exported
    checked = 0
    for col in synthetic_run.scalars.columns:
        if col in TEXT_COLUMNS:
            continue
        assert_series(rec, scalar_tag(col), synthetic_run.scalars[col].dropna())
        checked += 1
    assert checked == 8
    assert sorted(rec.series("curvature/hess_max_ev")) == [0, 4, 8]
    assert rec.series("debugkit/loss")[3] == pytest.approx(2.3 * np.exp(-0.3), rel=1e-12)


def test_layer_values_per_step(exported, synthetic_run):
    _, rec = exported
    for q in ("grad_norm", "act_dead"):
        table = synthetic_run.layer_table(q)
        for layer in table.columns:
            assert_series(rec, f"layers/{q}/{layer}", table[layer].dropna())


def test_epoch_metrics_with_epoch_axis(exported, synthetic_run):
    _, rec = exported
    rows = [r for r in rec.history if "epoch" in r]
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    # on the step stored with them (the step count when they were logged)
    assert [r["_step"] for r in rows] == synthetic_run.epochs["step"].tolist() == [4, 8, 12]
    for metric in ("train_loss", "val_loss", "val_acc"):
        assert [r[f"epoch/{metric}"] for r in rows] == pytest.approx(synthetic_run.epochs[metric].tolist())


@pytest.mark.parametrize("name, layer, tag", [("grad_1d", None, "hists/grad_1d"),
                                              ("act", "features.1", "hists/act/features.1")])
def test_histograms(exported, synthetic_run, name, layer, tag):
    _, rec = exported
    stored = synthetic_run.hist(name, layer=layer)
    # the reader flattens the histogram object into <tag>._type / .bins / .values
    kinds = rec.series(f"{tag}._type")
    assert sorted(kinds) == [s for s, _, _ in stored] == [0, 3, 6, 9]
    assert set(kinds.values()) == {"histogram"}
    bins, values = rec.series(f"{tag}.bins"), rec.series(f"{tag}.values")
    for step, counts, edges in stored:
        np.testing.assert_allclose(bins[step], edges, rtol=1e-12)
        np.testing.assert_array_equal(values[step], counts)
    assert not any(k.startswith("hists/grad_2d") for r in rec.history for k in r)


def test_config_and_summary(exported, synthetic_run):
    _, rec = exported
    config = dict(rec.config)
    config.pop("_wandb", None)
    headline = config.pop("debugkit")
    assert config == synthetic_run.meta["config"]
    assert headline["name"] == "synthetic" and headline["preset"] == "standard" and headline["seed"] == 0
    assert headline["model"] == "MLP" and headline["num_params"] == 1234
    final = final_metrics(synthetic_run)
    assert {k: rec.summary[k] for k in final} == pytest.approx(final)
    assert rec.summary["status"] == "finished"
    assert rec.summary["final/steps"] == STEPS
    assert rec.summary["debugkit/loss"] == pytest.approx(synthetic_run.scalars["loss"].iloc[-1])


def test_monitor_run(monitor_run, wandb_env, tmp_path):
    out = export_wandb(monitor_run.path, project="debugkit-tests", dir=tmp_path, name="real")
    rec = read(out, wandb_env)
    numeric = [c for c in monitor_run.scalars.columns if c not in TEXT_COLUMNS]
    assert len(numeric) >= 20
    for col in numeric:
        assert_series(rec, scalar_tag(col), monitor_run.scalars[col].dropna())
    layers = monitor_run.layers.dropna(subset=["value"])
    for (q, layer), grp in layers.groupby(["quantity", "layer"]):
        assert_series(rec, f"layers/{q}/{layer}", grp.set_index("step")["value"])
    assert sorted(rec.series("hists/grad_1d._type")) == [s for s, _, _ in monitor_run.hist("grad_1d")]
    rows = [r for r in rec.history if "epoch" in r]
    assert [r["epoch/val_loss"] for r in rows] == pytest.approx(monitor_run.epochs["val_loss"].tolist())


def test_crashed_run_is_a_failed_wandb_run(wandb_env, tmp_path):
    from export_runs import write_synthetic_run

    path = write_synthetic_run(tmp_path / "crashed", name="crashed", status="crashed")
    rec = read(export_wandb(path, project="debugkit-tests", dir=tmp_path / "wb"), wandb_env)
    assert rec.exit_code == 1
    assert rec.summary["status"] == "crashed"
    assert len(rec.series("debugkit/loss")) == STEPS  # everything recorded is still there


def test_study_folder_is_refused_with_advice(tmp_path):
    from export_runs import write_synthetic_run

    write_synthetic_run(tmp_path / "study" / "a")
    write_synthetic_run(tmp_path / "study" / "b")
    with pytest.raises(ValueError, match="exports one run; .* holds 2"):
        export_wandb(tmp_path / "study", project="p", dir=tmp_path / "wb")


def test_missing_run(tmp_path):
    with pytest.raises(debugkit.store.RunNotFoundError):
        export_wandb(tmp_path / "nope", project="p", dir=tmp_path)
