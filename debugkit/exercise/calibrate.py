"""Do the behaviour checks tell each baseline's bugged script from its fixed one?

``python -m debugkit.exercise.calibrate [NAME ...] [--epochs N] [--work-dir DIR]`` runs every
baseline's notebook twice the way a check does (all bugs planted, none planted) and judges the
bugged run against the fixed one: every bug must come out ``not fixed``, and the fixed run
judged against itself ``fixed``. Run it after adding a baseline or changing a judge.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class CalibrationRow:
    """One bug of one baseline: the verdict on the bugged run and on the fixed run."""

    baseline: str
    bug: str
    bugged: str
    fixed: str
    bugged_reason: str
    fixed_reason: str

    @property
    def ok(self) -> bool:
        return self.bugged == "not fixed" and self.fixed == "fixed"


def calibrate(names: list[str] | None = None, work_dir: str | os.PathLike | None = None, *,
              epochs: int | None = None, threads: int | None = 1,
              progress: Callable[[str], None] | None = None) -> list[CalibrationRow]:
    """Judge every bug of the ``names`` baselines (all if None) on its bugged and its fixed notebook."""
    from nbformat import v4

    from debugkit.baselines import baselines_dir
    from debugkit.exercise.catalogue import list_exercises
    from debugkit.exercise.check import judge_bugs
    from debugkit.exercise.notebook import build_exercise
    from debugkit.exercise.reference import band
    from debugkit.exercise.rerun import rerun_notebook

    names = names or [e.name for e in list_exercises()]
    root = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="debugkit-calibrate-"))
    rows: list[CalibrationRow] = []
    for name in names:
        runs = {}
        for kind, bugs in (("bugged", None), ("fixed", [])):
            out = root / name / kind
            out.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(baselines_dir() / "utils.py", out / "utils.py")
            built = build_exercise(name, bugs, epochs=epochs)
            runs[kind] = rerun_notebook(v4.new_notebook(cells=built.cells), out, out, threads=threads,
                                        dashboard=False).evidence
        planted = build_exercise(name).bugs
        ref = runs["fixed"]
        on_bugged = judge_bugs(planted, runs["bugged"], ref, band(ref))
        on_fixed = judge_bugs(planted, ref, ref, band(ref))
        for b, f in zip(on_bugged, on_fixed):
            row = CalibrationRow(name, b.id, b.status, f.status, b.reason, f.reason)
            rows.append(row)
            if progress:
                progress(f"{'ok ' if row.ok else 'BAD'} {name}: {b.id}: bugged → {b.status}, fixed → {f.status}")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m debugkit.exercise.calibrate", description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="baselines (default: all)")
    ap.add_argument("--epochs", type=int, help="override the scripts' default epochs")
    ap.add_argument("--work-dir", help="keep the runs here (default: a temporary folder)")
    a = ap.parse_args(argv)
    rows = calibrate(a.names or None, a.work_dir, epochs=a.epochs, progress=print)
    bad = [r for r in rows if not r.ok]
    print(f"\n{len(rows) - len(bad)}/{len(rows)} bugs told apart")
    for r in bad:
        print(f"  {r.baseline}/{r.bug}: bugged → {r.bugged} ({r.bugged_reason}); fixed → {r.fixed} ({r.fixed_reason})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
