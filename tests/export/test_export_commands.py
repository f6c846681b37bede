"""The functions behind `debugkit export tensorboard|wandb`."""

from __future__ import annotations

import pytest
from export_runs import write_synthetic_run

from debugkit.export import tensorboard_command, wandb_command


def test_tensorboard_command_message(tmp_path):
    pytest.importorskip("tensorboard", reason="needs `pip install tensorboard`")
    a = write_synthetic_run(tmp_path / "a", name="a")
    b = write_synthetic_run(tmp_path / "b", name="b")
    msg = tensorboard_command([str(a), str(b)], str(tmp_path / "tb"))
    assert msg == f"exported 2 runs to {tmp_path / 'tb'} (a, b); view them with: tensorboard --logdir {tmp_path / 'tb'}"
    assert sorted(p.name for p in (tmp_path / "tb").iterdir()) == ["a", "b"]
    with pytest.raises(FileExistsError):
        tensorboard_command([str(a)], str(tmp_path / "tb"))
    assert tensorboard_command([str(a)], str(tmp_path / "tb"), overwrite=True).startswith("exported 1 run to")


def test_commands_refuse_empty_arguments(tmp_path):
    with pytest.raises(ValueError, match="at least one run"):
        tensorboard_command([], str(tmp_path))
    with pytest.raises(ValueError, match="--project"):
        wandb_command(str(tmp_path), "", str(tmp_path))


def test_wandb_command_message(tmp_path, monkeypatch):
    pytest.importorskip("wandb", reason="needs `pip install wandb`")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    a = write_synthetic_run(tmp_path / "a", name="a")
    msg = wandb_command(str(a), "p", str(tmp_path / "wb"))
    path = msg.split("upload it with: wandb sync ")[1]
    assert msg.startswith(f"wrote offline W&B run {path};")
    assert list((tmp_path / "wb" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert path.startswith(str(tmp_path / "wb" / "wandb" / "offline-run-"))
