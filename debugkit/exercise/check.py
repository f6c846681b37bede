"""Check a handed-in exercise notebook: does it run, which planted bugs are fixed, what is in the logbook.

The pipeline: execute the notebook headless (:mod:`~debugkit.exercise.execute`) → re-run its
training code under ``debugkit diagnose`` (:mod:`~debugkit.exercise.rerun`) → compare the run's
behaviour with the fixed baseline's (:mod:`~debugkit.exercise.reference`,
:mod:`~debugkit.exercise.judges`) → read the logbook cells (:mod:`~debugkit.exercise.logbook_cells`).

How a planted bug is judged (by behaviour, never by matching code):

* **not fixed** — the bug's behaviour check finds its signature (e.g. gradients still accumulate,
  validation rows are still trained on), or the diagnosis still raises the bug's finding and no
  behaviour check says otherwise;
* **fixed** — the finding is gone and the behaviour check passes; where no behaviour check decides,
  the held-out accuracy must also reach the fixed baseline's band. When other planted bugs remain,
  low accuracy is expected and does not count against a fix;
* **unclear** — the evidence disagrees (the finding is still raised but the behaviour check passes;
  every planted bug looks fixed but the accuracy is far below the band), or the re-run failed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from debugkit.exercise.evidence import Evidence
from debugkit.exercise.execute import Execution, execute_notebook
from debugkit.exercise.judges import ABSENT, PRESENT, Signature, signature
from debugkit.exercise.logbook_cells import LogbookInfo, find_logbook
from debugkit.exercise.reference import band as reference_band
from debugkit.exercise.reference import reference_evidence

FIXED, NOT_FIXED, UNCLEAR = "fixed", "not fixed", "unclear"
CHECK_DIR = ".debugkit-check"
REFERENCE_DIR = ".debugkit-reference"


@dataclass
class BugVerdict:
    """The judgement on one planted bug.

    Attributes:
        id: The bug id (as in ``bug.toml`` and the diagnosis).
        status: ``fixed``, ``not fixed`` or ``unclear``.
        reason: One sentence: what decided it.
        behaviour: The behaviour check's state (``present`` / ``absent`` / ``unknown``) and measurement.
        finding_raised: Whether the diagnosis of the re-run still raises the bug's finding.
    """

    id: str
    status: str
    reason: str
    behaviour: Signature
    finding_raised: bool

    def to_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "reason": self.reason, "behaviour": self.behaviour.state,
                "measurement": self.behaviour.detail, "finding_raised": self.finding_raised}


@dataclass
class CheckReport:
    """Everything ``debugkit exercise check`` found; :meth:`format` for people, :meth:`to_dict` for programs."""

    notebook: str
    baseline: str
    planted: list[str]
    seed: int | None
    execution: Execution | None = None
    verdicts: list[BugVerdict] = field(default_factory=list)
    evidence: Evidence | None = None
    reference: Evidence | None = None
    band: tuple[float, float] | None = None
    rerun: dict = field(default_factory=dict)
    logbook: LogbookInfo | None = None
    problems: list[str] = field(default_factory=list)
    work_dir: str = ""
    seconds: float = 0.0

    def status(self, bug_id: str) -> str:
        """The verdict on ``bug_id`` (``fixed`` / ``not fixed`` / ``unclear``)."""
        for v in self.verdicts:
            if v.id == bug_id:
                return v.status
        raise KeyError(f"{bug_id!r} is not planted in this notebook; planted: {', '.join(self.planted)}")

    @property
    def statuses(self) -> dict[str, str]:
        return {v.id: v.status for v in self.verdicts}

    def to_dict(self) -> dict:
        return {
            "notebook": self.notebook, "baseline": self.baseline, "planted": self.planted, "seed": self.seed,
            "execution": self.execution.to_dict() if self.execution else None,
            "bugs": [v.to_dict() for v in self.verdicts],
            "summary": {s: sum(v.status == s for v in self.verdicts) for s in (FIXED, NOT_FIXED, UNCLEAR)},
            "rerun": self.rerun,
            "band": list(self.band) if self.band else None,
            "evidence": self.evidence.to_dict() if self.evidence else None,
            "reference": self.reference.to_dict() if self.reference else None,
            "logbook": self.logbook.to_dict() if self.logbook else None,
            "problems": self.problems, "work_dir": self.work_dir, "seconds": round(self.seconds, 1),
        }

    def write_json(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        return path

    def format(self) -> str:
        seed = f", seed {self.seed}" if self.seed is not None else ""
        bugs = f"{len(self.planted)} planted bug{'s' if len(self.planted) != 1 else ''}"
        lines = [f"debugkit exercise check: {self.notebook} ({self.baseline}{seed}, {bugs})", ""]
        ex = self.execution
        if ex is None:
            lines.append("Execution: skipped")
        elif ex.ok:
            lines.append(f"Execution: every cell ran without an error ({ex.seconds:.0f} s)")
        else:
            lines.append(f"Execution: FAILED ({ex.seconds:.0f} s)" + (f" — {ex.message}" if ex.message else ""))
            for e in ex.errors:
                lines.append(f"  cell [{e.index}]: {e.error}" + (f"   (at: {e.line})" if e.line else ""))
                lines.extend("      | " + row for row in e.excerpt.split("\n"))
        r = self.rerun
        if r:
            acc = r.get("heldout_acc")
            head = f"Re-run under debugkit diagnose: {r.get('steps', 0):.0f} steps in {r.get('seconds', 0):.0f} s"
            if acc is not None:
                head += f", held-out accuracy {acc:.1%}"
            if self.band:
                ref = self.reference.get("heldout_acc") if self.reference else None
                head += f" (fixed baseline {ref:.1%}; band ≥ {self.band[0]:.1%})" if ref is not None else ""
            lines.append(head)
            if r.get("failure"):
                lines.append(f"  the re-run failed: {r['failure']}")
            elif r.get("crash"):
                lines.append(f"  the re-run crashed after training: {r['crash']}")
            lines.append("  findings: " + (", ".join(r.get("findings") or []) or "none"))
        for p in self.problems:
            lines.append(f"Problem: {p}")
        lines += ["", "Planted bugs:"]
        width = max((len(v.id) for v in self.verdicts), default=10)
        for v in self.verdicts:
            lines.append(f"  {v.status:<9}  {v.id:<{width}}  {v.reason}")
        lb = self.logbook
        if lb is not None:
            lines += ["", f"Logbook: {len(lb.entries)} entr{'y' if len(lb.entries) == 1 else 'ies'} "
                          f"({lb.complete} with all five sections)"
                      + ("; verdicts: " + ", ".join(f"{k} {n}" for k, n in sorted(lb.verdicts.items()))
                         if lb.verdicts else "")]
            for e in lb.entries:
                missing = [s for s in ("observation", "hypothesis", "experiment", "result", "verdict")
                           if s not in e.filled]
                state = e.verdict or "no verdict"
                extra = f"; missing {', '.join(missing)}" if missing else ""
                lines.append(f"  cell [{e.cell}] {e.title or '(untitled)'!r}: {state}{extra}"
                             + (f"  — {e.error}" if e.error else ""))
            if lb.empty_templates:
                lines.append(f"  ({lb.empty_templates} template entr{'y' if lb.empty_templates == 1 else 'ies'} "
                             "left empty)")
        lines.append("")
        lines.append(f"({self.seconds:.0f} s; files in {self.work_dir})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def judge_bugs(planted: list[str], ev: Evidence, ref: Evidence, band: tuple[float, float] | None) -> list[BugVerdict]:
    """Fixed / not fixed / unclear for every planted bug (see the module docstring for the rules)."""
    sigs = {b: signature(b, ev, ref) for b in planted}
    raised = {b: b in ev.findings for b in planted}
    bad = {b: sigs[b].state == PRESENT or (raised[b] and sigs[b].state != ABSENT) for b in planted}
    acc = ev.get("heldout_acc")
    in_band = None if band is None or acc is None else acc >= band[0]
    out = []
    for b in planted:
        s, r = sigs[b], raised[b]
        others = [o for o in planted if o != b and bad[o]]
        if ev.failure:
            status, reason = UNCLEAR, f"the re-run failed: {ev.failure}"
        elif s.state == PRESENT:
            status, reason = NOT_FIXED, s.detail + ("; the diagnosis still raises it" if r else "")
        elif r and s.state == ABSENT:
            status, reason = UNCLEAR, f"the diagnosis still raises {b}, but {s.detail}"
        elif r:
            status, reason = NOT_FIXED, f"the diagnosis still raises {b} ({s.detail})"
        elif s.state == ABSENT:
            if in_band is False and not others:
                status = UNCLEAR
                reason = (f"{s.detail}, but the held-out accuracy {acc:.1%} is far below the fixed baseline's band "
                          f"(≥ {band[0]:.1%}): something else still goes wrong")
            else:
                status, reason = FIXED, s.detail
                if in_band is False:
                    reason += f" (accuracy still low, as expected while {', '.join(others)} remain)"
        else:  # no behaviour check decided: the finding is gone; the accuracy must agree
            if in_band:
                status, reason = FIXED, f"the finding is gone and held-out accuracy {acc:.1%} reaches the band ({s.detail})"
            else:
                status = UNCLEAR
                why = "no accuracy was measured" if in_band is None else f"held-out accuracy {acc:.1%} is below the band"
                reason = f"the finding is gone but {why} ({s.detail})"
        out.append(BugVerdict(b, status, reason, s, r))
    return out


def _progress(progress) -> Callable[[str], None]:
    if callable(progress):
        return progress
    if progress:
        return lambda msg: print(f"[debugkit exercise check] {msg}", file=sys.stderr, flush=True)
    return lambda msg: None


def check_notebook(path: str | os.PathLike, *, json_path: str | os.PathLike | None = None, timeout: float = 900,
                   execute: bool = True, reference_dir: str | os.PathLike | None = None, preset: str = "standard",
                   threads: int | None = 1, dashboard: bool = True,
                   progress: bool | Callable[[str], None] = True) -> CheckReport:
    """Check a student's exercise notebook.

    1. Executes it headless with nbclient (errors do not stop the check; failing cells are reported
       with index, source excerpt and error). The executed copy is written to the work folder.
    2. Re-runs its training from outside: the code cells (without the debugkit instrumentation
       cells) as a script under ``debugkit diagnose``, in the notebook's folder.
    3. Judges every planted bug by behaviour against the fixed baseline (run once per seed and
       epochs, cached in ``reference_dir``).
    4. Lists the logbook entries in its Markdown cells.

    Args:
        path: The notebook, or the folder holding ``notebook.ipynb``.
        json_path: Also write the report as JSON here.
        timeout: Seconds a cell (execution) or the whole re-run may take.
        execute: Run step 1 (step 2 runs the training regardless).
        reference_dir: Cache of fixed-baseline runs; default ``<notebook folder>/.debugkit-reference``
            (share one folder when checking many notebooks).
        preset: Instruments for the re-run.
        threads: Torch threads for execution and re-run (1 is fastest for these small networks on a
            shared machine); None leaves the default.
        dashboard: Also draw the re-run's cockpit (``cockpit.png`` in the work folder).
        progress: Print progress to stderr (True), stay quiet (False), or call this function with each message.

    Returns:
        A :class:`CheckReport`; ``report.status("missing_zero_grad")`` → ``'fixed'``.

    Raises:
        FileNotFoundError: no notebook at ``path``.
        ValueError: the notebook has no debugkit metadata (it was not made by ``debugkit exercise new``).

    Example:
        >>> report = check_notebook("ex/ada/notebook.ipynb", json_path="ada.json")   # doctest: +SKIP
        >>> print(report)                                                             # doctest: +SKIP
    """
    from debugkit.exercise.notebook import notebook_path, read_exercise
    from debugkit.exercise.rerun import rerun_notebook

    say = _progress(progress)
    t0 = time.perf_counter()
    nb_path = notebook_path(path).resolve()
    nb, meta = read_exercise(nb_path)
    folder = nb_path.parent
    work = folder / CHECK_DIR / nb_path.stem
    work.mkdir(parents=True, exist_ok=True)
    planted = [str(b) for b in meta["bugs"]]
    report = CheckReport(str(nb_path), meta["baseline"], planted, meta.get("seed"), work_dir=str(work))

    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    if execute:
        say(f"executing {nb_path.name} ({sum(c.cell_type == 'code' for c in nb.cells)} code cells, "
            f"timeout {timeout:g} s per cell)")
        report.execution = execute_notebook(nb, folder, timeout=timeout, env=env, out_path=work / "executed.ipynb")
        ex = report.execution
        say("executed: " + ("no errors" if ex.ok else f"{len(ex.errors)} failing cell(s)"
                            + (f", first [{ex.errors[0].index}] {ex.errors[0].error}" if ex.errors else ""))
            + f" ({ex.seconds:.0f} s)")

    say("re-running the training under debugkit diagnose")
    rr = rerun_notebook(nb, folder, work, preset=preset, timeout=timeout, threads=threads, dashboard=dashboard)
    ev = rr.evidence
    report.evidence = ev
    report.rerun = {"run_dir": str(rr.run_dir), "script": str(rr.script.path), "log": str(rr.script.log),
                    "seconds": round(rr.seconds, 1), "steps": ev.get("steps", 0), "failure": ev.failure,
                    "crash": ev.crash, "findings": ev.findings, "heldout_acc": ev.get("heldout_acc")}
    say(f"re-run: {ev.get('steps', 0):.0f} steps in {rr.seconds:.0f} s"
        + (f", failed: {ev.failure}" if ev.failure else ""))

    ref_dir = Path(reference_dir) if reference_dir is not None else folder / REFERENCE_DIR
    try:
        ref = reference_evidence(meta, ref_dir, preset=preset, timeout=timeout, threads=threads, progress=say)
    except RuntimeError as exc:
        report.problems.append(str(exc))
        ref = Evidence(failure=str(exc))
    report.reference = ref
    report.band = reference_band(ref)
    report.verdicts = judge_bugs(planted, ev, ref, report.band)
    report.logbook = find_logbook(nb)
    report.seconds = time.perf_counter() - t0
    say("done: " + ", ".join(f"{v.id} {v.status}" for v in report.verdicts))
    if json_path is not None:
        report.write_json(json_path)
    return report
