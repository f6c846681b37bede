"""Without the optional packages, exports fail with a message naming what to install (and write nothing)."""

from __future__ import annotations

import sys

import pytest

from debugkit.export import export_tensorboard, export_wandb


def test_without_tensorboard(synthetic_run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ImportError, match="needs the 'tensorboard' package: pip install tensorboard"):
        export_tensorboard(synthetic_run, tmp_path / "tb")
    assert not (tmp_path / "tb").exists()


def test_without_wandb(synthetic_run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(ImportError, match="needs the 'wandb' package: pip install wandb"):
        export_wandb(synthetic_run, project="p", dir=tmp_path / "wb")
    assert not (tmp_path / "wb").exists()
