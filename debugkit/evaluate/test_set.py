"""Bookkeeping of test-set evaluations: every look at a run's test split is recorded.

Each ``evaluate_run(..., split="test")`` appends one event of kind ``test_evaluation`` to
the run's ``events.jsonl`` (through :class:`debugkit.RunWriter`, the same append-only
stream the monitor writes), with the metrics, the checkpoint's epoch and the time, and
sets ``meta["test_evaluations"]`` to the count. The record stays with the run directory,
so a second look is noticed on any machine, and a logbook can show how often the test
split was used.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

from debugkit.store import RunWriter

EVENT_KIND = "test_evaluation"


class TestSetReuseWarning(UserWarning):
    """The test split of a run (or of a sibling run in the same study) was used before.

    Using the test set more than once, e.g. to choose between models, turns it into a
    second validation set: its score is then an optimistic estimate.
    """

    __test__ = False  # not a pytest test class despite the name


def test_evaluations(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Earlier test evaluations of a run (the ``test_evaluation`` events), oldest first."""
    path = Path(run_dir) / "events.jsonl"
    if not path.exists():
        return []
    out = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if EVENT_KIND not in line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("kind") == EVENT_KIND:
                out.append(record)
    return out


test_evaluations.__test__ = False  # type: ignore[attr-defined]


def warn_if_reused(run_dir: Path, study_dir: Path | None) -> int:
    """Warn when the test split of ``run_dir`` (or of other runs under ``study_dir``) was used.

    Returns:
        The number of earlier test evaluations of this run.
    """
    earlier = test_evaluations(run_dir)
    if earlier:
        first = earlier[0]
        acc = (first.get("metrics") or {}).get("accuracy")
        warnings.warn(
            f"the test split of run {str(run_dir)!r} was already evaluated {len(earlier)} time(s) "
            f"(first on {first.get('time', '?')}"
            + (f", accuracy {acc:.4f}" if isinstance(acc, (int, float)) else "")
            + "). Each further look, e.g. to pick a model or tune a setting, makes the test set a "
            "validation set and its score optimistic: report the first evaluation, select on 'val'.",
            TestSetReuseWarning,
            stacklevel=3,
        )
    if study_dir is not None and study_dir.is_dir():
        others = sorted(
            str(p.parent) for p in study_dir.rglob("events.jsonl")
            if p.parent.resolve() != run_dir.resolve() and test_evaluations(p.parent)
        )
        if others:
            warnings.warn(
                f"{len(others)} other run(s) of the same study ({str(study_dir)!r}) were evaluated on the test "
                f"split too (e.g. {others[0]!r}): choosing among them by test score is tuning on the test set. "
                "Choose the final model on validation metrics and evaluate only that one on 'test'.",
                TestSetReuseWarning,
                stacklevel=3,
            )
    return len(earlier)


def record_test_evaluation(run_dir: Path, *, metrics: dict[str, Any], epoch: int | None, out_dir: Path,
                           count_before: int) -> None:
    """Append the ``test_evaluation`` event and update ``meta["test_evaluations"]``."""
    writer = RunWriter(run_dir)
    try:
        writer.event(
            EVENT_KIND,
            f"test split evaluated (#{count_before + 1}): accuracy {metrics.get('accuracy', float('nan')):.4f}, "
            f"macro F1 {metrics.get('macro_f1', float('nan')):.4f}",
            step=writer.meta.get("steps"),
            metrics=metrics,
            epoch=epoch,
            out_dir=str(out_dir),
            time=time.strftime("%Y-%m-%dT%H:%M:%S"),
            number=count_before + 1,
        )
        writer.update_meta(test_evaluations=count_before + 1)
    finally:
        writer.close()
