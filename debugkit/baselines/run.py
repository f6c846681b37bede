"""Run a baseline script in a subprocess and read its ``DEBUGKIT_RESULT`` line."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from debugkit.baselines.catalogue import Baseline, baselines_dir, get_baseline

RESULT_PREFIX = "DEBUGKIT_RESULT "
METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")

_EPOCH_LINE = re.compile(
    r"^epoch (?P<epoch>\d+) train_loss (?P<train_loss>\S+) train_acc (?P<train_acc>\S+) "
    r"val_loss (?P<val_loss>\S+) val_acc (?P<val_acc>\S+)\s*$"
)


class BaselineRunError(RuntimeError):
    """A baseline script crashed, timed out or printed no ``DEBUGKIT_RESULT`` line."""


def parse_result(stdout: str) -> dict | None:
    """The metrics of the last ``DEBUGKIT_RESULT {...}`` line in ``stdout``, or ``None`` if there is none.

    ``null`` values (non-finite numbers) become ``nan``; ``diverged`` stays a bool.
    """
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            data = json.loads(line[len(RESULT_PREFIX):])
            return {k: (math.nan if v is None else v) for k, v in data.items()}
    return None


def parse_epochs(stdout: str) -> list[dict]:
    """The per-epoch lines ``epoch 3 train_loss 0.41 train_acc 0.88 val_loss 0.45 val_acc 0.87`` as dicts."""
    rows = []
    for line in stdout.splitlines():
        match = _EPOCH_LINE.match(line)
        if match:
            row = {k: float(v) for k, v in match.groupdict().items()}
            row["epoch"] = int(row["epoch"])
            rows.append(row)
    return rows


@dataclass
class BaselineResult:
    """What one run of a baseline script printed.

    ``metrics`` holds ``train_loss, train_acc, val_loss, val_acc, test_loss, test_acc`` (``nan`` where
    the run diverged) and ``diverged``; it is ``None`` when the script printed no result line.
    """

    name: str
    fixed: bool
    script: Path
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    duration: float
    metrics: dict | None
    epochs: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.metrics is not None

    @property
    def diverged(self) -> bool:
        return bool(self.metrics and self.metrics.get("diverged"))

    def _metric(self, key: str) -> float:
        if self.metrics is None:
            raise BaselineRunError(f"{self.script} printed no DEBUGKIT_RESULT line; see .stdout / .stderr")
        return self.metrics.get(key, math.nan)

    @property
    def train_loss(self) -> float:
        return self._metric("train_loss")

    @property
    def train_acc(self) -> float:
        return self._metric("train_acc")

    @property
    def val_loss(self) -> float:
        return self._metric("val_loss")

    @property
    def val_acc(self) -> float:
        return self._metric("val_acc")

    @property
    def test_loss(self) -> float:
        return self._metric("test_loss")

    @property
    def test_acc(self) -> float:
        return self._metric("test_acc")


def script_env(extra: Mapping[str, str] | None = None, root: str | Path | None = None) -> dict[str, str]:
    """Environment for running a baseline script (or an edited copy of one placed anywhere).

    Puts the baselines folder ``root`` (default :func:`baselines_dir`) on ``PYTHONPATH`` so that
    ``from utils import ...`` also works for copies of a script outside ``buggy_baselines/``.
    """
    env = dict(os.environ)
    root = str(root if root is not None else baselines_dir())
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    if extra:
        env.update(extra)
    return env


def run_baseline(
    name: str | Baseline,
    *,
    fixed: bool = False,
    epochs: int | None = None,
    seed: int | None = None,
    timeout: float = 300.0,
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    check: bool = True,
) -> BaselineResult:
    """Run a baseline's ``train.py`` (or ``train_fixed.py``) with ``sys.executable`` in a subprocess.

    Args:
        name: baseline name (or a :class:`Baseline`).
        fixed: run the fixed counterpart instead of the bugged script.
        epochs, seed: passed on as ``--epochs`` / ``--seed`` when given (else the script's defaults).
        timeout: seconds before the run is killed.
        env: extra environment variables (e.g. ``{"OMP_NUM_THREADS": "1"}``).
        extra_args: more command-line arguments for the script.
        check: raise :class:`BaselineRunError` if the script fails or prints no result line.

    Example:
        >>> result = run_baseline("lr_too_high", fixed=True, seed=1)   # doctest: +SKIP
        >>> result.val_acc > 0.9, result.diverged                      # doctest: +SKIP
        (True, False)
    """
    baseline = name if isinstance(name, Baseline) else get_baseline(name)
    script = baseline.fixed_script if fixed else baseline.script
    args = list(extra_args)
    if epochs is not None:
        args += ["--epochs", str(int(epochs))]
    if seed is not None:
        args += ["--seed", str(int(seed))]
    cmd = [sys.executable, str(script), *args]
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=script_env(env, root=baseline.path.parent), cwd=baseline.path
        )
    except subprocess.TimeoutExpired as err:
        raise BaselineRunError(
            f"{script} did not finish within {timeout:g} s (command: {' '.join(cmd)}); "
            "pass a larger timeout= or fewer epochs="
        ) from err
    result = BaselineResult(
        name=baseline.name,
        fixed=fixed,
        script=script,
        args=args,
        returncode=proc.returncode,
        stdout=proc.stdout,
        stderr=proc.stderr,
        duration=time.perf_counter() - start,
        metrics=parse_result(proc.stdout),
        epochs=parse_epochs(proc.stdout),
    )
    if check and not result.ok:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        what = f"exited with status {proc.returncode}" if proc.returncode else "printed no DEBUGKIT_RESULT line"
        raise BaselineRunError(f"{script} {what} (command: {' '.join(cmd)})\n{tail}")
    return result
