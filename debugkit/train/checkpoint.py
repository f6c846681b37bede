"""Checkpoints: ``checkpoint.pt`` in the run directory, loaded with ``weights_only=True`` only.

A checkpoint holds tensors and plain Python values only (model, optimizer and scheduler
state, epoch, step, the config as a dict, the torch RNG state), so the safe
``torch.load(..., weights_only=True)`` can read it: loading never runs code from the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

#: File name of the checkpoint inside a run directory.
CHECKPOINT_NAME = "checkpoint.pt"


class CheckpointError(FileNotFoundError):
    """A run directory has no readable checkpoint."""


def checkpoint_path(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / CHECKPOINT_NAME


def save_checkpoint(run_dir: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` atomically (temporary file + rename): a kill mid-write keeps the old one."""
    path = checkpoint_path(run_dir)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    torch.save(state, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(run_dir: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a run's checkpoint with ``torch.load(..., weights_only=True)``.

    Raises:
        CheckpointError: no checkpoint, or it cannot be read safely.
    """
    path = Path(run_dir)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise CheckpointError(
            f"no checkpoint at {str(path)!r}: the run was not trained with debugkit.train.train "
            "(which saves one after every epoch), or it stopped before its first epoch ended"
        )
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # pickle errors, truncated files, unsafe globals
        raise CheckpointError(
            f"cannot read checkpoint {str(path)!r} with weights_only=True ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); it may be truncated or hold arbitrary "
            "Python objects, which debugkit refuses to unpickle"
        ) from exc
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise CheckpointError(f"{str(path)!r} is not a debugkit checkpoint (no 'model'/'config' entries)")
    return state
