"""Coarse-to-fine multi-stage search ("1 epoch, then 5, then full", DS405B assignment 2).

Stage 1 tries many settings with a tiny budget; each next stage searches only the region
spanned by the best ``keep`` fraction of the previous stage, with more epochs. Every stage
is an ordinary :func:`~debugkit.study.run_sweep` (own study, own directory), so each is
resumable and plotted on its own.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from debugkit.study.space import parse_space
from debugkit.study.sweep import SweepResult, run_sweep
from debugkit.train.config import ConfigError, TrainConfig

#: Default stages: (epochs or None for the base config's, trials).
DEFAULT_STAGES = ((1, 20), (5, 10), (None, 5))


def run_coarse_to_fine(
    space: Mapping[str, Any],
    base_config: TrainConfig | Mapping[str, Any],
    *,
    out_dir: str | os.PathLike,
    stages: Sequence[tuple[int | None, int]] = DEFAULT_STAGES,
    keep: float = 0.3,
    sampler: str = "random",
    pruner: str | None = None,
    metric: str = "val_acc",
    study_name: str = "coarse-to-fine",
    storage: str | None = None,
    workers: int = 1,
    seed: int = 0,
    progress: bool = True,
) -> list[SweepResult]:
    """Run successive sweeps, narrowing the space to the best trials' region after each.

    Args:
        space: The initial (wide) search space.
        base_config: Config every trial starts from.
        out_dir: Directory; stage ``i`` goes to ``out_dir/stage-i``.
        stages: ``(epochs, n_trials)`` per stage; ``epochs=None`` means the base config's.
        keep: Fraction of each stage's complete trials (at least 2) whose values define
            the next stage's ranges (min..max; for lists, the values that occur).
        sampler, pruner, metric, workers, seed, progress: As in :func:`run_sweep`.
        study_name: Stage ``i`` is the study ``<study_name>-stage<i>``.
        storage: Shared database URL (default: one SQLite file per stage directory).

    Returns:
        The :class:`SweepResult` of every stage; ``out_dir/coarse_to_fine.md`` summarises them.

    Example:
        >>> res = run_coarse_to_fine({"lr": {"low": 1e-4, "high": 1.0, "log": True}},      # doctest: +SKIP
        ...                          TrainConfig(epochs=20), out_dir="sweeps/c2f")
        >>> res[-1].best_params                                                             # doctest: +SKIP
    """
    base = base_config if isinstance(base_config, TrainConfig) else TrainConfig.from_dict(base_config)
    if not stages:
        raise ConfigError("stages must list at least one (epochs, n_trials) pair")
    if not 0 < keep <= 1:
        raise ConfigError(f"keep must be a fraction in (0, 1], got {keep!r}")
    out_dir = Path(out_dir)
    current = {name: p.describe() for name, p in parse_space(space, base).items()}
    results: list[SweepResult] = []
    history: list[tuple[int, dict[str, Any], SweepResult, str]] = []
    for i, (epochs, n_trials) in enumerate(stages, start=1):
        stage_base = base.with_changes({"epochs": epochs or base.epochs})
        res = run_sweep(current, stage_base, out_dir=out_dir / f"stage-{i}", storage=storage,
                        study_name=f"{study_name}-stage{i}", sampler=sampler, pruner=pruner, n_trials=n_trials,
                        workers=workers, metric=metric, seed=seed + 1000 * i, progress=progress)
        results.append(res)
        done = res.trials[res.trials["state"] == "COMPLETE"].dropna(subset=["value"])
        note = ""
        space_used = dict(current)
        if len(done) >= 2:
            top = done.sort_values("value", ascending=res.direction == "minimize")
            top = top.head(max(2, math.ceil(keep * len(done))))
            current = {name: p.narrowed(top[name].tolist()).describe() for name, p in res.space.items()}
        else:
            note = "fewer than 2 complete trials: the space was not narrowed"
        history.append((stage_base.epochs, space_used, res, note))
    (out_dir / "coarse_to_fine.md").write_text(_markdown(history, metric), encoding="utf-8")
    return results


def _markdown(history, metric: str) -> str:
    lines = ["# Coarse-to-fine search", "",
             "Early stages rank settings by their performance after very few epochs, which favours settings "
             "that start fast (e.g. large learning rates); a range that is too narrow after stage 1 cannot be "
             "recovered later.", ""]
    for i, (epochs, space, res, note) in enumerate(history, start=1):
        best = f"{res.best_value:.4f}" if res.best_value is not None else "—"
        lines += [f"## Stage {i}: {epochs} epoch(s), {len(res.trials)} trials, best {metric} {best}", "",
                  "| parameter | searched |", "| --- | --- |"]
        lines += [f"| {k} | {v} |" for k, v in space.items()]
        if res.best_params:
            lines += ["", "Best: " + ", ".join(f"`{k}` = {v!r}" for k, v in res.best_params.items())]
        if note:
            lines += ["", f"Note: {note}."]
        lines += ["", f"Details: `stage-{i}/sweep.md`.", ""]
    return "\n".join(lines)
