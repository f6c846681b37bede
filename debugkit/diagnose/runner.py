"""Run an unmodified training script under debugkit and diagnose it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from debugkit.diagnose.engine import diagnose_run
from debugkit.diagnose.report import Report

_PYTHONS = ("python", "python3", "python3.10", "python3.11", "python3.12", "python3.13")


@dataclass
class ScriptRun:
    run_dir: Path
    returncode: int
    seconds: float


def _parse_command(command: list[str]) -> tuple[bool, str, list[str]]:
    """``[python] script.py ARGS`` or ``[python] -m module ARGS`` → (is_module, target, args)."""
    cmd = list(command)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise ValueError("no command given: use `debugkit diagnose -- python train.py ARGS`")
    if Path(cmd[0]).name in _PYTHONS or cmd[0] == sys.executable:
        cmd = cmd[1:]
    if cmd and cmd[0] == "-m":
        if len(cmd) < 2:
            raise ValueError("`-m` needs a module name")
        return True, cmd[1], cmd[2:]
    if not cmd:
        raise ValueError("no script given after python")
    script = Path(cmd[0])
    if not script.is_file():
        raise FileNotFoundError(f"training script {cmd[0]!r} not found")
    return False, str(script), cmd[1:]


def default_run_dir(target: str) -> Path:
    return Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{Path(target).stem}"


def run_script(command: list[str], *, run_dir: str | os.PathLike | None = None, preset: str = "standard",
               max_steps: int | None = None, max_time: float | None = None, lr_range_test: bool = False,
               probes: bool = True, quiet: bool = False, timeout: float | None = None,
               name: str | None = None) -> ScriptRun:
    """Run a training script in a subprocess with monitors attached from outside.

    The script imports nothing of debugkit; its output goes to this process's stdout
    (or nowhere with ``quiet``). Returns where the run was recorded.
    """
    is_module, target, args = _parse_command(command)
    run_dir = Path(run_dir) if run_dir else default_run_dir(target)
    child = [sys.executable, "-m", "debugkit.diagnose.child", "--run-dir", str(run_dir), "--preset", preset]
    if max_steps:
        child += ["--max-steps", str(max_steps)]
    if max_time:
        child += ["--max-time", str(max_time)]
    if lr_range_test:
        child.append("--lr-range-test")
    if not probes:
        child.append("--no-probes")
    if name:
        child += ["--name", name]
    if is_module:
        child.append("--module")
    child += [target, *args]
    t0 = time.perf_counter()
    out = subprocess.DEVNULL if quiet else None
    proc = subprocess.run(child, stdout=out, stderr=out, timeout=timeout)
    if proc.returncode == 3 or not (run_dir / "meta.json").exists():
        raise ValueError(f"{target}: no torch.optim optimizer was created, so there was nothing to monitor")
    return ScriptRun(run_dir, proc.returncode, time.perf_counter() - t0)


def diagnose_script(command: list[str], *, json_path: str | os.PathLike | None = None,
                    png_path: str | os.PathLike | None = None, dashboard: bool = True,
                    **kwargs) -> tuple[Report, ScriptRun]:
    """:func:`run_script`, then :func:`diagnose_run`; writes the JSON report and the dashboard."""
    run = run_script(command, **kwargs)
    report = diagnose_run(run.run_dir)
    report.meta["script_returncode"] = run.returncode
    if json_path:
        report.write_json(json_path)
    if not dashboard:
        return report, run
    png = Path(png_path) if png_path else run.run_dir / "cockpit.png"
    try:
        from debugkit.plot import plot_cockpit

        plot_cockpit([__import__("debugkit").load_run(run.run_dir)], png)
        report.meta["dashboard"] = str(png)
    except Exception as exc:  # the report matters more than the picture
        report.meta["dashboard_error"] = f"{type(exc).__name__}: {exc}"
    return report, run
