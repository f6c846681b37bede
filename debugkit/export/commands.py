"""What ``debugkit export tensorboard|wandb`` do, as plain functions returning the text to print.

The CLI only parses arguments and calls these::

    debugkit export tensorboard RUN... --logdir D [--overwrite]  →  tensorboard_command(runs, logdir, overwrite)
    debugkit export wandb RUN --project P --dir D                →  wandb_command(run, project, dir)
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from debugkit.export.sources import named_runs
from debugkit.export.tensorboard_export import export_tensorboard
from debugkit.export.wandb_export import export_wandb


def tensorboard_command(runs: Sequence[str | os.PathLike], logdir: str | os.PathLike, overwrite: bool = False) -> str:
    """Export run directories (or study folders) to TensorBoard; return the message for the user.

    Example:
        >>> print(tensorboard_command(["runs/a", "runs/b"], "tb"))  # doctest: +SKIP
        exported 2 runs to tb (a, b); view them with: tensorboard --logdir tb
    """
    if not runs:
        raise ValueError("debugkit export tensorboard needs at least one run directory")
    names = [name for name, _ in named_runs(list(runs))]
    out = export_tensorboard(list(runs), logdir, overwrite=overwrite)
    shown = ", ".join(names[:10]) + (f", ... ({len(names) - 10} more)" if len(names) > 10 else "")
    noun = "run" if len(names) == 1 else "runs"
    return f"exported {len(names)} {noun} to {out} ({shown}); view them with: tensorboard --logdir {out}"


def wandb_command(run: str | os.PathLike, project: str, dir: str | os.PathLike) -> str:
    """Export one run as an offline W&B run; return the message for the user.

    Example:
        >>> print(wandb_command("runs/a", "debugkit", "wandb-export"))  # doctest: +SKIP
        wrote offline W&B run wandb-export/wandb/offline-run-...; upload it with: wandb sync wandb-export/wandb/offline-run-...
    """
    if not project:
        raise ValueError("debugkit export wandb needs a project name (--project P)")
    path = export_wandb(run, project=project, dir=dir)
    return f"wrote offline W&B run {path}; upload it with: wandb sync {path}"
