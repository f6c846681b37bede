"""Run every rule over a recorded run; rank the findings; find when each first appeared."""

from __future__ import annotations

import math
import os
import warnings

from debugkit.diagnose.findings import Finding
from debugkit.diagnose.report import Report
from debugkit.diagnose.rules import RULES
from debugkit.diagnose.signals import Signals
from debugkit.store.reader import Run, load_run

#: Prefix lengths (steps) at which rules are re-evaluated to date each finding.
CHECKPOINTS = (5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 600, 800, 1000, 1500, 2000, 3000, 5000, 10_000)


def _apply(sig: Signals, names=None) -> list[Finding]:
    out: list[Finding] = []
    for name, fn in RULES.items():
        if names is not None and name not in names:
            continue
        try:
            res = fn(sig)
        except Exception as exc:  # a rule must never hide the others
            warnings.warn(f"debugkit: diagnosis rule {name!r} failed: {type(exc).__name__}: {exc}", RuntimeWarning)
            continue
        if res is None:
            continue
        out.extend(res if isinstance(res, list) else [res])
    return out


def diagnose_run(run: Run | str | os.PathLike, *, date_findings: bool = True) -> Report:
    """Ranked findings for a recorded run.

    Args:
        run: A :class:`~debugkit.store.Run` or its directory.
        date_findings: Re-evaluate rules on prefixes of the run to set each finding's
            ``first_step`` (the first checkpoint at which it would have been raised).

    Example:
        >>> report = diagnose_run("runs/exp1")   # doctest: +SKIP
        >>> report.findings[0].id                 # doctest: +SKIP
        'lr_too_high'
    """
    if not isinstance(run, Run):
        run = load_run(run)
    sig = Signals(run)
    findings = _apply(sig)
    if date_findings and findings and sig.steps:
        last = int(sig.scalars.index.max())
        pending = {f.id: f for f in findings}
        rules_by_id = {}
        for f in findings:
            rules_by_id.setdefault(f.id, set())
        for cp in [c for c in CHECKPOINTS if c < last] + [last]:
            if not pending:
                break
            found = {f.id for f in _apply(Signals(run, upto=cp))}
            for fid in list(pending):
                if fid in found:
                    pending.pop(fid).first_step = cp
        for f in pending.values():
            f.first_step = last
    _explain(findings)
    findings.sort(key=lambda f: -f.score)
    return Report(run_dir=str(run.path), steps=sig.steps, findings=findings, meta=_meta_summary(run, sig))


def _explain(findings: list[Finding]) -> None:
    """Mark findings that another raised finding explains (they rank below their cause)."""
    from debugkit.diagnose.findings import EXPLAINS

    ids = {f.id: f for f in findings}
    for f in findings:
        causes = [c for c, effects in EXPLAINS.items() if f.id in effects and c in ids and c != f.id]
        # a cause that is itself explained by this finding does not count (no cycles)
        causes = [c for c in causes if c not in EXPLAINS.get(f.id, set())]
        if causes:
            best = max(causes, key=lambda c: ids[c].confidence)
            f.explained_by = best
            f.evidence = {**f.evidence, "explained_by": best}


def _meta_summary(run: Run, sig: Signals) -> dict:
    out = {"name": run.name, "status": run.meta.get("status"), "steps": sig.steps}
    if math.isfinite(sig.loss_start):
        out["loss_start"] = sig.loss_start
    if math.isfinite(sig.loss_end):
        out["loss_end"] = sig.loss_end
    v = sig.val_epochs
    if "val_acc" in v.columns and len(v["val_acc"].dropna()):
        out["val_acc"] = float(v["val_acc"].dropna().iloc[-1])
    return out
