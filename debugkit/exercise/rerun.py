"""Re-run a notebook's training under ``debugkit diagnose`` from outside, and gather its evidence."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from debugkit.exercise.convert import CheckScript, check_script, crash_location
from debugkit.exercise.evidence import Evidence, collect_evidence

#: A run with fewer optimizer steps than this did not train enough to be judged.
MIN_STEPS = 5


@dataclass
class Rerun:
    """The outcome of re-running a notebook's code.

    Attributes:
        evidence: What the run did (``evidence.failure`` says why it could not be judged).
        report: The diagnosis (None when nothing was recorded).
        script: The generated script, its log and probe files.
        run_dir: The recorded run.
        seconds: Wall time of the run.
    """

    evidence: Evidence
    report: object | None
    script: CheckScript
    run_dir: Path
    seconds: float = 0.0


def _clear_run(run_dir: Path) -> None:
    # only a run directory this module wrote before (it appends otherwise)
    if run_dir.is_dir() and (run_dir / "meta.json").is_file():
        shutil.rmtree(run_dir)


def rerun_notebook(nb, workdir: str | os.PathLike, out_dir: str | os.PathLike, *, preset: str = "standard",
                   timeout: float | None = 900, threads: int | None = 1, dashboard: bool = True,
                   name: str = "student") -> Rerun:
    """Convert ``nb``'s code cells to a script (instrumentation cells left out), run it under
    :func:`debugkit.diagnose.runner.diagnose_script` in ``workdir``, and collect :class:`Evidence`.

    Files go to ``out_dir``: ``<name>.py`` (+ ``.log``, ``.cells.json``, probe files), the run in
    ``<name>-run/`` (with ``cockpit.png`` when ``dashboard``) and the report in ``<name>-report.json``.
    """
    import time

    from debugkit.diagnose.runner import diagnose_script

    out = Path(out_dir)
    script = check_script(nb, out / f"{name}.py", workdir=workdir, threads=threads)
    run_dir = (out / f"{name}-run").resolve()
    _clear_run(run_dir)
    for stale in (script.probe.with_suffix(".json"), script.probe.with_suffix(".pt")):
        stale.unlink(missing_ok=True)
    t0 = time.perf_counter()
    report = None
    failure = None
    try:
        report, _ = diagnose_script([sys.executable, str(script.path)], run_dir=run_dir, preset=preset, quiet=True,
                                    dashboard=dashboard, timeout=timeout, json_path=out / f"{name}-report.json")
    except subprocess.TimeoutExpired:
        failure = f"the training did not finish within {timeout:g} s"
    except ValueError as exc:  # no optimizer was created
        failure = f"nothing was trained: {exc}"
    seconds = time.perf_counter() - t0
    crash = crash_location(script)
    crash_text = None
    if crash is not None:
        cell, error = crash
        crash_text = f"cell [{cell}]: {error}" if cell is not None else error
    if (run_dir / "meta.json").is_file():
        evidence = collect_evidence(run_dir, report, probe=script.probe, log=script.log)
    else:
        evidence = Evidence()
    steps = evidence.get("steps", 0) or 0
    if failure is None and steps < MIN_STEPS:
        failure = (f"the re-run crashed before training ({crash_text})" if crash_text
                   else f"the re-run made only {int(steps)} optimizer steps")
    evidence.failure = failure
    evidence.crash = crash_text
    return Rerun(evidence, report, script, run_dir, seconds)
