"""``run_study``: lr × batch-size grids, seed studies, cross-validation and ablations."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from debugkit.study import honesty
from debugkit.study import plots as P
from debugkit.study.definition import StudyDefinition
from debugkit.study.jobs import BASELINE, expand
from debugkit.study.pool import finished_before, run_payloads
from debugkit.study.results import StudyResult, collect_runs, variant_table
from debugkit.study.stats import compare
from debugkit.train.config import TrainConfig


def run_study(
    kind: str | StudyDefinition | os.PathLike,
    base_config: TrainConfig | Mapping[str, Any] | None = None,
    *,
    out_dir: str | os.PathLike,
    workers: int = 2,
    seeds: int | Sequence[int] | None = None,
    lrs: Sequence[float] | None = None,
    batch_sizes: Sequence[int | str] | None = None,
    folds: int | None = None,
    changes: Sequence[Mapping[str, Any]] | None = None,
    name: str | None = None,
    tuning_budgets: Mapping[str, int] | None = None,
    metric: str = "val_acc",
    progress: bool = True,
    device: str = "cpu",
) -> StudyResult:
    """Run a study: every configuration with several seeds (or folds), in parallel.

    Kinds:

    * ``lr-batch``: the grid ``lrs × batch_sizes``; compared against the best cell.
    * ``seeds``: the base config with each seed; mean ± std learning curves.
    * ``cv``: k-fold cross-validation on train+val (``folds``); error bars of the metrics.
    * ``ablation``: the base config (``baseline``) and each named change, e.g.
      ``{"name": "no dropout", "changes": {"model.dropout": 0.0}}``; compared against the baseline.

    Every run is its own run directory ``out_dir/runs/<configuration>/<seed-s|fold-k>``
    (``meta["group"]`` = ``<study>/<configuration>``, ``meta["study"]`` describes the study).
    Results: ``results.csv`` and ``results.md`` (mean ± std per configuration, verdicts),
    ``runs.csv`` (one row per run), ``study.json``, and figures (``curves.png`` and, per kind,
    ``grid.png``, ``comparison.png``, ``folds.png``). Re-running with the same ``out_dir``
    skips finished runs and resumes interrupted ones.

    Statistical honesty: differences are judged with Welch's t-test, Holm-corrected (see
    :mod:`debugkit.study.stats`); single seeds, unequal tuning budgets and similar problems
    raise a :class:`~debugkit.study.StudyWarning` and are listed in ``results.md``.

    Args:
        kind: A study kind, a :class:`StudyDefinition`, or the path of a study TOML file.
        base_config: The starting config (not needed with a definition or file).
        out_dir: Study directory.
        workers: Parallel worker processes (``1``: run in this process).
        seeds: Seeds per configuration (count or list; default per kind: 2, 5, 1, 3).
        lrs, batch_sizes: The ``lr-batch`` grid.
        folds: Folds of ``cv`` (default 5).
        changes: The ``ablation`` variants.
        name: Study name (default: the kind).
        tuning_budgets: Tuning trials spent per configuration, to document (and warn about) them.
        metric: Per-epoch metric for comparisons (``val_acc``, ``val_f1``, ``val_loss``).
        progress: Progress bar over runs (only on a terminal).
        device: Torch device of every run.

    Returns:
        A :class:`StudyResult`.

    Example:
        >>> base = TrainConfig(model={"name": "mlp", "hidden": [64], "dropout": 0.2}, epochs=10)
        >>> result = run_study("ablation", base, out_dir="studies/dropout", seeds=3,   # doctest: +SKIP
        ...                    changes=[{"name": "no dropout", "changes": {"model.dropout": 0.0}}])
        >>> print(result.to_markdown())                                                 # doctest: +SKIP
    """
    d = _definition(kind, base_config, seeds=seeds, lrs=lrs, batch_sizes=batch_sizes, folds=folds, changes=changes,
                    name=name, tuning_budgets=tuning_budgets, metric=metric)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pre = honesty.before_run(d)
    honesty.emit(pre)
    (out_dir / "definition.json").write_text(json.dumps(d.to_dict(), indent=2, default=str), encoding="utf-8")

    jobs = expand(d, out_dir)
    payloads = []
    for job in jobs:
        config = job.config.to_dict()
        if finished_before(job.run_dir, config):
            continue
        payloads.append({
            "config": config, "run_dir": str(job.run_dir), "device": device,
            "meta": {"study": {"name": d.name, "kind": d.kind, "variant": job.variant, "replicate": job.replicate,
                               "dir": str(out_dir.resolve())}},
        })
    outcomes = run_payloads(payloads, workers=workers, progress=progress, desc=f"study {d.name}")
    runs = collect_runs(jobs, {o["run_dir"]: o for o in outcomes})
    params = {"lr-batch": ["lr", "batch_size"], "ablation": ["changes"]}.get(d.kind, [])
    table = variant_table(runs, params)

    result = StudyResult(definition=d, out_dir=out_dir, runs=runs, table=table, warnings=list(pre))
    higher = "loss" not in d.metric
    groups = {v: runs.loc[(runs["variant"] == v) & (runs["status"] != "crashed"), d.metric].astype(float).tolist()
              for v in table.index}
    if d.kind == "ablation":
        result.reference = BASELINE
    elif d.kind == "lr-batch" and len(table) > 1:
        result.reference = result.best
    if result.reference is not None:
        result.comparisons = compare(groups, result.reference, d.metric, higher_is_better=higher)
    post = honesty.after_run(d, table, result.best)
    honesty.emit(post)
    result.warnings += post
    result.figures = _figures(result, jobs)
    result.elapsed = time.perf_counter() - t0
    result.save()
    crashed = runs[runs["status"] == "crashed"]
    if len(crashed) == len(runs):
        first = crashed.iloc[0]
        raise RuntimeError(
            f"all {len(runs)} runs of study {d.name!r} crashed; the first ({first['run_dir']}) with "
            f"{first.get('error', 'an unknown error')}. Details in {out_dir / 'runs.csv'}."
        )
    return result


def _definition(kind, base_config, **options) -> StudyDefinition:
    if isinstance(kind, StudyDefinition):
        return kind
    if isinstance(kind, os.PathLike) or (isinstance(kind, str) and kind.endswith(".toml")):
        return StudyDefinition.load(kind)
    if base_config is None:
        raise ValueError(f"run_study({kind!r}, ...) needs a base_config (a TrainConfig or dict)")
    opts = {k: v for k, v in options.items() if v is not None}
    opts["base"] = base_config if isinstance(base_config, TrainConfig) else TrainConfig.from_dict(base_config)
    return StudyDefinition(kind=kind, **opts)


def _figures(r: StudyResult, jobs) -> dict[str, Path]:
    from debugkit.plot.style import save
    from debugkit.store import load_run

    d = r.definition
    curves: dict[str, list] = {}
    for job in jobs:
        try:
            epochs = load_run(job.run_dir).epochs
        except FileNotFoundError:
            continue
        curves.setdefault(job.variant, []).append(epochs)
    out: dict[str, Path] = {}
    what = {"lr-batch": "learning rate × batch size", "seeds": f"{len(d.seeds)} seeds",
            "cv": f"{d.folds}-fold cross-validation", "ablation": "ablation"}[d.kind]
    title = f"Study '{d.name}': {what} — {d.base.model.get('name')} on {d.base.dataset}"
    if d.kind == "lr-batch":
        fig = P.lr_batch_curves_figure(curves, d.lrs, d.batch_sizes, title=f"{title}\nlearning curves")
        out["curves"] = save(fig, r.out_dir / "curves.png")
        fig = P.lr_batch_heatmap(r.table, d.lrs, d.batch_sizes, d.metric, best=r.best,
                                 title=f"final {P.LABELS.get(d.metric, d.metric)}: "
                                       f"mean ± std over {len(d.seeds)} seed(s)")
        out["grid"] = save(fig, r.out_dir / "grid.png")
    else:
        fig = P.learning_curves_figure(curves, title=title, show_runs=d.kind in ("seeds", "cv"))
        out["curves"] = save(fig, r.out_dir / "curves.png")
    if d.kind == "cv":
        fig = P.cv_figure(r.runs, title=f"{title}: metrics per fold")
        out["folds"] = save(fig, r.out_dir / "folds.png")
    if r.comparisons:
        order = list(r.table.index)
        fig = P.comparison_figure(r.runs, d.metric, order=order, reference=r.reference, comparisons=r.comparisons,
                                  title=f"{title}\nfinal {P.LABELS.get(d.metric, d.metric)} vs {r.reference} "
                                        "(Welch t-test, Holm-corrected)")
        out["comparison"] = save(fig, r.out_dir / "comparison.png")
    return out
