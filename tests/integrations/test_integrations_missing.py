"""Without Lightning, the integration says which package to install."""

from __future__ import annotations

import importlib
import sys

import pytest


def test_without_lightning_the_error_names_the_package(monkeypatch):
    for name in ("lightning", "lightning.pytorch", "pytorch_lightning"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "debugkit.integrations.lightning", raising=False)
    with pytest.raises(ImportError, match="needs PyTorch Lightning: pip install lightning"):
        importlib.import_module("debugkit.integrations.lightning")
    with pytest.raises(ImportError, match="pip install lightning"):
        from debugkit.integrations import DebugkitCallback  # noqa: F401


def test_importing_debugkit_does_not_import_the_frameworks():
    code = ("import sys, debugkit, debugkit.export, debugkit.integrations; "
            "bad = [m for m in ('lightning', 'pytorch_lightning', 'wandb', 'tensorboard') if m in sys.modules]; "
            "assert not bad, bad")
    import subprocess

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
