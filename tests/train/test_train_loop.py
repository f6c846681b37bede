"""The trainer on the embedded digits data: run directories, checkpoints, resume, divergence."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import debugkit
from debugkit.store import RunWriter
from debugkit.train import (
    CheckpointError,
    ConfigError,
    StopTraining,
    TrainConfig,
    build_data,
    build_optimizer,
    cv_fold_indices,
    load_checkpoint,
    train,
)
from debugkit.train import trainer as trainer_module

EPOCH_COLUMNS = {"epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "val_f1", "lr"}


def softmax(**kw) -> TrainConfig:
    return TrainConfig(**{"model": {"name": "softmax"}, "lr": 0.5, "epochs": 2, "monitor": False, **kw})


def test_run_directory_is_a_full_debugkit_run(tmp_path):
    cfg = softmax(init="zeros", monitor="economy", group="study-a", tags=["t1"])
    result = train(cfg, tmp_path / "run", progress=False)
    assert result.status == "finished" and result.epochs == 2
    assert result.steps == 2 * math.ceil(1257 / 32)

    run = debugkit.load_run(tmp_path / "run")
    assert EPOCH_COLUMNS <= set(run.epochs.columns)
    assert run.epochs["epoch"].tolist() == [0, 1, 2]
    # zero weights: the initial loss is exactly ln(10) (the sheet's starting-point check)
    assert run.epochs.loc[0, "train_loss"] == pytest.approx(math.log(10), abs=1e-5)
    assert run.epochs.loc[0, "val_loss"] == pytest.approx(math.log(10), abs=1e-5)
    assert run.epochs["val_acc"].iloc[-1] > 0.85
    assert run.meta["status"] == "finished"
    assert run.meta["config"] == cfg.to_dict()
    assert run.meta["group"] == "study-a" and run.meta["tags"] == ["t1"]
    assert run.meta["dataset"]["name"] == "digits" and run.meta["num_classes"] == 10
    assert run.meta["model"]["num_params"] == 64 * 10 + 10
    assert run.meta["preset"] == "economy"
    # the monitor recorded every step
    assert len(run.scalars) == result.steps and run.scalars["loss"].notna().all()
    assert TrainConfig.load(tmp_path / "run" / "config.toml") == cfg


def test_monitor_off_still_writes_epochs_and_meta(tmp_path):
    train(softmax(), tmp_path / "run", progress=False)
    run = debugkit.load_run(tmp_path / "run")
    assert not (tmp_path / "run" / "scalars.jsonl").exists()
    assert EPOCH_COLUMNS <= set(run.epochs.columns)
    assert run.meta["model"]["num_params"] == 650 and run.meta["status"] == "finished"


def test_checkpoint_loads_with_weights_only(tmp_path):
    result = train(softmax(), tmp_path / "run", progress=False)
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert {"model", "optimizer", "scheduler", "epoch", "global_step", "config", "rng"} <= set(state)
    assert state["epoch"] == 2 and state["global_step"] == result.steps
    assert TrainConfig.from_dict(state["config"]) == result.config
    for name, tensor in result.model.state_dict().items():
        assert torch.equal(state["model"][name], tensor)


class _Payload:
    """Something a weights-only load must refuse."""


def test_load_checkpoint_errors(tmp_path):
    RunWriter(tmp_path / "nockpt").close()
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nockpt")
    (tmp_path / "evil").mkdir()
    torch.save({"model": {}, "config": {}, "x": _Payload()}, tmp_path / "evil" / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="weights_only=True"):
        load_checkpoint(tmp_path / "evil")


def test_resume_continues_to_the_same_result(tmp_path):
    cfg = TrainConfig(model={"name": "mlp", "hidden": [32], "dropout": 0.3}, lr=0.2, epochs=4, monitor=False)
    straight = train(cfg, tmp_path / "straight", progress=False)
    first = train(cfg.with_changes({"epochs": 2}), tmp_path / "resumed", progress=False)
    assert first.epochs == 2
    again = train(cfg, tmp_path / "resumed", progress=False, resume=True)
    assert again.epochs == 4 and again.steps == straight.steps
    for (name, a), b in zip(straight.model.state_dict().items(), again.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name  # shuffling, dropout RNG and optimizer state restored
    epochs = debugkit.load_run(tmp_path / "resumed").epochs
    assert epochs["epoch"].tolist() == [0, 1, 2, 3, 4]
    assert epochs["step"].is_monotonic_increasing
    assert epochs["val_loss"].iloc[-1] == pytest.approx(straight.metrics["val_loss"], rel=1e-5)


def test_resume_keeps_the_monitor_step_count(tmp_path):
    cfg = softmax(monitor="economy", epochs=1)
    first = train(cfg, tmp_path / "r", progress=False)
    train(cfg.with_changes({"epochs": 2}), tmp_path / "r", progress=False, resume=True)
    steps = debugkit.load_run(tmp_path / "r").scalars.index
    assert steps.min() == 0 and steps.max() == 2 * first.steps - 1 and steps.is_unique


def test_resume_refuses_a_different_run_and_fresh_run_refuses_existing_dir(tmp_path):
    train(softmax(), tmp_path / "r", progress=False)
    with pytest.raises(ConfigError, match="lr: 0.5 -> 0.1"):
        train(softmax(lr=0.1), tmp_path / "r", progress=False, resume=True)
    with pytest.raises(FileExistsError, match="resume=True"):
        train(softmax(), tmp_path / "r", progress=False)


def test_full_batch_takes_one_step_per_epoch(tmp_path):
    result = train(softmax(batch_size="full", epochs=3, lr=1.0), tmp_path / "r", progress=False)
    run = debugkit.load_run(tmp_path / "r")
    assert result.steps == 3 and run.epochs["step"].tolist() == [0, 1, 2, 3]
    assert run.meta["batch_size"] == 1257
    assert run.epochs["train_loss"].iloc[-1] < run.epochs["train_loss"].iloc[0]


def test_seeds_reproduce_and_differ(tmp_path):
    cfg = TrainConfig(model={"name": "mlp", "hidden": [16], "dropout": 0.2}, epochs=1, monitor=False)
    a = train(cfg, tmp_path / "a", progress=False).metrics
    b = train(cfg, tmp_path / "b", progress=False).metrics
    c = train(cfg.with_changes({"seed": 1}), tmp_path / "c", progress=False).metrics
    assert a["train_loss"] == b["train_loss"] and a["val_loss"] == b["val_loss"]
    assert a["val_loss"] != c["val_loss"]


def test_training_leaves_the_callers_rng_alone(tmp_path):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(softmax(epochs=1), tmp_path / "r", progress=False)
    assert torch.equal(torch.rand(3), expected)


def test_nan_loss_stops_and_marks_diverged(tmp_path):
    cfg = TrainConfig(model={"name": "mlp", "hidden": [32]}, lr=1e12, epochs=5, monitor="economy")
    with pytest.warns(RuntimeWarning):
        result = train(cfg, tmp_path / "r", progress=False)
    assert result.status == "diverged" and result.epochs == 1
    run = debugkit.load_run(tmp_path / "r")
    assert run.meta["status"] == "diverged"
    assert run.meta["diverged"]["step"] == result.steps - 1
    assert "diverged" in set(run.events["kind"])
    assert math.isnan(run.epochs["train_loss"].iloc[-1])
    assert len(run.scalars) == result.steps  # every recorded step is kept
    state = load_checkpoint(tmp_path / "r")
    assert state["epoch"] == 0  # the last finite weights, not the NaN ones
    assert all(torch.isfinite(t).all() for t in state["model"].values())


def test_max_steps_stops_mid_epoch(tmp_path):
    result = train(softmax(epochs=5, max_steps=7), tmp_path / "r", progress=False)
    assert result.steps == 7 and result.epochs == 1 and result.status == "finished"


def test_test_split_is_never_read(tmp_path, monkeypatch):
    class Untouchable(torch.utils.data.Dataset):
        inputs = None

        def __init__(self, n):
            self.n = n

        def __len__(self):
            return self.n

        def __getitem__(self, index):
            raise AssertionError("training read the test split")

    def spy_build_data(config):
        bundle = build_data(config)
        bundle.test = Untouchable(len(bundle.test))
        return bundle

    monkeypatch.setattr(trainer_module, "build_data", spy_build_data)
    result = train(softmax(), tmp_path / "r", progress=False)
    assert result.status == "finished"


def test_step_schedule_changes_lr_per_epoch(tmp_path):
    train(softmax(epochs=3, lr=0.4, schedule="step", schedule_params={"step_size": 1, "gamma": 0.5}),
          tmp_path / "r", progress=False)
    lrs = debugkit.load_run(tmp_path / "r").epochs["lr"].tolist()
    assert lrs == pytest.approx([0.4, 0.4, 0.2, 0.1])


def test_onecycle_changes_lr_every_step_and_keeps_plain_sgd_plain(tmp_path):
    result = train(softmax(epochs=2, schedule="onecycle", monitor="economy"), tmp_path / "r", progress=False)
    lr = debugkit.load_run(tmp_path / "r").scalars["lr"]
    assert lr.nunique() > 10 and lr.max() == pytest.approx(0.5, rel=1e-3)
    state = load_checkpoint(tmp_path / "r")
    assert state["optimizer"]["param_groups"][0]["momentum"] == 0.0
    assert result.status == "finished"


@pytest.mark.parametrize("name,cls,momentum", [("sgd", torch.optim.SGD, 0.0), ("momentum", torch.optim.SGD, 0.9),
                                                ("adam", torch.optim.Adam, None), ("adamw", torch.optim.AdamW, None)])
def test_optimizers(name, cls, momentum):
    opt = build_optimizer(torch.nn.Linear(3, 2), TrainConfig(optimizer=name, lr=0.01, weight_decay=0.1))
    assert type(opt) is cls and opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["weight_decay"] == 0.1
    if momentum is not None:
        assert opt.param_groups[0]["momentum"] == momentum


def test_stop_training_from_callback(tmp_path):
    def stop_after_first(epoch, metrics):
        assert {"train_loss", "val_acc", "val_f1"} <= set(metrics)
        raise StopTraining("pruned", "stopped by test")

    result = train(softmax(epochs=4), tmp_path / "r", progress=False, on_epoch=stop_after_first)
    run = debugkit.load_run(tmp_path / "r")
    assert result.status == "pruned" and result.epochs == 1
    assert run.meta["status"] == "pruned" and "stopped by test" in run.events["message"].tolist()


def test_no_progress_output_when_not_a_terminal(tmp_path, capsys):
    train(softmax(epochs=1), tmp_path / "r", progress=True)
    captured = capsys.readouterr()
    assert "step/s" not in captured.err and "%|" not in captured.err


def test_user_mistakes_give_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'epochs'"):
        train({"epoch": 3}, tmp_path / "r")
    with pytest.raises(TypeError, match="TrainConfig, a dict or a TOML path"):
        train(42, tmp_path / "r")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        train(softmax(), tmp_path / "file")


def test_cross_validation_folds_partition_train_and_val():
    base = softmax(val_fraction=0.15)
    plain = build_data(base)
    pool = len(plain.train) + len(plain.val)
    folds = [build_data(base.with_changes({"cv_folds": 3, "cv_fold": k})) for k in range(3)]
    val_sizes = [len(b.val) for b in folds]
    assert sum(val_sizes) == pool and max(val_sizes) - min(val_sizes) <= 1
    for b in folds:
        assert len(b.train) + len(b.val) == pool
        assert torch.equal(b.test.targets, plain.test.targets)  # the test split is the ordinary one
        # normalised with the training folds' statistics: mean ~0 there, not exactly 0 on the held-out fold
        assert abs(float(b.train.inputs.mean())) < 1e-4
    labels = np.concatenate([b.val.targets.numpy() for b in folds])
    assert np.bincount(labels, minlength=10).min() > 0


def test_cv_fold_indices_are_disjoint_stratified_and_complete():
    labels = np.repeat(np.arange(4), 10)
    folds = cv_fold_indices(labels, 5, seed=0)
    joined = np.concatenate(folds)
    assert sorted(joined.tolist()) == list(range(40))
    for f in folds:
        assert np.bincount(labels[f]).tolist() == [2, 2, 2, 2]
    with pytest.raises(ValueError, match="smallest class has 3"):
        cv_fold_indices(np.array([0] * 3 + [1] * 10), 5, seed=0)
