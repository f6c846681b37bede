"""From a study definition to training jobs: one registry entry per study kind."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from debugkit.study.definition import StudyDefinition
from debugkit.train.config import TrainConfig

BASELINE = "baseline"


@dataclass
class Job:
    """One training run of a study.

    Attributes:
        variant: The configuration it belongs to (runs of one variant differ only in seed/fold).
        replicate: ``seed-3`` or ``fold-2``.
        config: Its full training config.
        run_dir: Where it is recorded.
        params: What distinguishes the variant (for tables), e.g. ``{"lr": 0.1, "batch_size": 32}``.
    """

    variant: str
    replicate: str
    config: TrainConfig
    run_dir: Path
    params: dict[str, Any] = field(default_factory=dict)


def slug(text: str) -> str:
    """A file-name friendly version of a label: ``"lr=0.1, bs=32"`` -> ``"lr-0.1-bs-32"``."""
    out = re.sub(r"[^A-Za-z0-9.+-]+", "-", str(text)).strip("-").lower()
    return out or "run"


def _lr_batch(d: StudyDefinition):
    for bs in d.batch_sizes:
        for lr in d.lrs:
            yield f"lr={lr:g}, bs={bs}", {"lr": lr, "batch_size": bs}, {"lr": lr, "batch_size": bs}


def _seeds(d: StudyDefinition):
    yield BASELINE, {}, {}


def _cv(d: StudyDefinition):
    yield BASELINE, {}, {}


def _ablation(d: StudyDefinition):
    yield BASELINE, {}, {"changes": "—"}
    for c in d.changes:
        text = ", ".join(f"{k}={v!r}" for k, v in c.changes.items())
        yield c.name, dict(c.changes), {"changes": text}


#: Study kind -> generator of ``(variant, config changes, table params)``.
VARIANTS: dict[str, Callable[[StudyDefinition], Any]] = {
    "lr-batch": _lr_batch,
    "seeds": _seeds,
    "cv": _cv,
    "ablation": _ablation,
}


def expand(d: StudyDefinition, out_dir: Path) -> list[Job]:
    """All jobs of a study, run directories under ``out_dir/runs/<variant>/<replicate>``."""
    jobs = []
    for variant, changes, params in VARIANTS[d.kind](d):
        config = d.base.with_changes(changes) if changes else d.base.copy()
        replicates: list[tuple[str, dict[str, Any]]]
        if d.kind == "cv":
            multi = len(d.seeds) > 1
            replicates = [(f"fold-{k}" + (f"-seed-{s}" if multi else ""),
                           {"cv_folds": d.folds, "cv_fold": k, "seed": s})
                          for k in range(d.folds) for s in d.seeds]
        else:
            replicates = [(f"seed-{s}", {"seed": s}) for s in d.seeds]
        for replicate, extra in replicates:
            cfg = config.with_changes({**extra, "group": f"{d.name}/{variant}",
                                       "tags": sorted(set(config.tags) | {d.name}),
                                       "name": f"{slug(variant)}-{replicate}"})
            jobs.append(Job(variant, replicate, cfg, out_dir / "runs" / slug(variant) / replicate, dict(params)))
    return jobs
