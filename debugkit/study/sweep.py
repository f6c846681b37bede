"""Hyperparameter sweeps on Optuna: grid / random / TPE, pruning on epochs, resumable, shared.

* **Storage**: an embedded SQLite file ``<out_dir>/sweep.db`` by default; any SQLAlchemy
  URL (e.g. ``postgresql://user@host:5432/db``) lets workers on several machines share one
  study. Trials that finished are never lost: re-running the same call continues a killed
  sweep (``load_if_exists=True``) until ``n_trials`` trials have finished.
* **Multi-fidelity**: epochs are the budget. Each trial reports its validation metric after
  every epoch; a pruner (``successive_halving`` or ``hyperband``) stops poor trials early.
* **Workers**: ``workers`` processes on this machine (spawned, one torch thread each) share
  the study through the storage; machines join by calling :func:`run_sweep` with the same
  ``storage`` and ``study_name``.
* Every trial is a debugkit run directory ``<out_dir>/runs/trial-NNNN``.

Trials interrupted by a killed process stay ``RUNNING`` in the database. On (re)start,
:func:`run_sweep` marks those of *this* host whose process is gone as failed and queues
their parameters again; for other machines pass ``heartbeat`` (seconds) so Optuna's
heartbeat does the same.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import socket
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from debugkit.study.space import Param, parse_space
from debugkit.train.config import ConfigError, TrainConfig

SAMPLERS = ("grid", "random", "tpe")
PRUNERS = (None, "successive_halving", "hyperband")


@dataclass
class SweepResult:
    """What :func:`run_sweep` produced.

    Attributes:
        study: The Optuna study (all trials, from every worker and machine).
        out_dir: Sweep directory (runs, ``trials.csv``, ``sweep.md``, figures).
        space: The parsed search space.
        metric, direction: The objective.
        trials: One row per trial: number, state, value, params, run directory.
        best_params, best_value: Of the best finished trial (``None`` if none finished).
        best_config: The base config with the best parameters (also ``best_config.toml``).
        importance: fANOVA importance per parameter (empty when it cannot be computed).
        correlations: Pearson correlation of each parameter (one-hot for categories) with the metric.
        figures: Figure name -> PNG path.
        notes: Caveats (e.g. why importances are missing).
    """

    study: Any
    out_dir: Path
    space: dict[str, Param]
    metric: str
    direction: str
    trials: Any
    best_params: dict[str, Any] | None
    best_value: float | None
    best_config: TrainConfig | None
    importance: dict[str, float] = field(default_factory=dict)
    correlations: dict[str, float] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def n_finished(self) -> int:
        return int(self.trials["state"].isin(["COMPLETE", "PRUNED"]).sum()) if len(self.trials) else 0


#: Keys of a sweep TOML file (everything else of :func:`run_sweep` is given when calling it).
SWEEP_FILE_KEYS = ("space", "base", "study_name", "sampler", "pruner", "n_trials", "metric", "direction", "seed",
                   "storage", "workers", "heartbeat")


def load_sweep(path: str | os.PathLike) -> dict[str, Any]:
    """Read a sweep TOML file into keyword arguments of :func:`run_sweep`.

    The file holds a ``[space]`` table, a ``[base]`` training config and optional
    ``study_name``, ``sampler``, ``pruner``, ``n_trials``, ``metric``, ... (see
    ``debugkit/study/examples/sweep.toml``)::

        res = run_sweep(**load_sweep("sweep.toml"), out_dir="sweeps/mlp")

    Raises:
        ConfigError: unknown keys, a missing table, or an invalid space or base config.
    """
    import tomllib

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep file {str(path)!r} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    unknown = [k for k in data if k not in SWEEP_FILE_KEYS]
    if unknown:
        raise ConfigError(f"unknown sweep key(s) {unknown} in {path}; valid keys: {', '.join(SWEEP_FILE_KEYS)}")
    for table in ("space", "base"):
        if not isinstance(data.get(table), dict):
            raise ConfigError(f"{path} needs a [{table}] table")
    kwargs = dict(data)
    kwargs["base_config"] = TrainConfig.from_dict(kwargs.pop("base"), source=f"[base] in {path}")
    parse_space(kwargs["space"], kwargs["base_config"])
    return kwargs


def default_storage(out_dir: str | os.PathLike) -> str:
    """``sqlite:///<absolute out_dir>/sweep.db``."""
    return f"sqlite:///{(Path(out_dir).resolve() / 'sweep.db').as_posix()}"


def run_sweep(
    space: Mapping[str, Any],
    base_config: TrainConfig | Mapping[str, Any],
    *,
    out_dir: str | os.PathLike,
    storage: str | None = None,
    study_name: str = "sweep",
    sampler: str = "tpe",
    pruner: str | None = None,
    n_trials: int = 20,
    workers: int = 1,
    metric: str = "val_acc",
    direction: str | None = None,
    seed: int = 0,
    heartbeat: int | None = None,
    progress: bool = True,
    device: str = "cpu",
    plots: bool = True,
) -> SweepResult:
    """Run (or continue, or join) an Optuna sweep over ``space`` around ``base_config``.

    Args:
        space: Search space (see :mod:`debugkit.study.space`).
        base_config: Config every trial starts from; ``epochs`` is the full budget.
        out_dir: Sweep directory (trial runs, tables, figures, the default SQLite file).
        storage: Database URL; default ``sqlite:///<out_dir>/sweep.db``. Use a
            PostgreSQL URL to share the study between machines.
        study_name: Name of the study in the storage.
        sampler: ``grid`` (every combination of the listed values), ``random`` or ``tpe``.
        pruner: ``None``, ``successive_halving`` or ``hyperband`` (on per-epoch values).
        n_trials: Finished trials (complete or pruned) the study should reach in total.
        workers: Worker processes on this machine.
        metric: Per-epoch metric to optimise (``val_acc``, ``val_f1``, ``val_loss``).
        direction: ``maximize``/``minimize``; default from the metric (losses are minimised).
        seed: Sampler seed (worker ``i`` uses ``seed + i``).
        heartbeat: Heartbeat interval in seconds for RDB storages, so trials of a crashed
            machine are failed and retried by the others.
        progress: Progress bar (only on a terminal).
        device: Torch device of every trial.
        plots: Write parallel-coordinates, importance and history figures.

    Returns:
        A :class:`SweepResult`.

    Raises:
        ConfigError: bad space, sampler, pruner or metric, or an existing study with another space.

    Example:
        >>> space = {"lr": {"low": 1e-3, "high": 1.0, "log": True}, "model.dropout": [0.0, 0.2, 0.4]}
        >>> res = run_sweep(space, TrainConfig(epochs=5), out_dir="sweeps/a", sampler="random",  # doctest: +SKIP
        ...                 pruner="hyperband", n_trials=30, workers=2)
        >>> res.best_params                                                                        # doctest: +SKIP
    """

    base = base_config if isinstance(base_config, TrainConfig) else TrainConfig.from_dict(base_config)
    params = parse_space(space, base)
    if sampler not in SAMPLERS:
        raise ConfigError(f"sampler={sampler!r} is not valid; choose one of {', '.join(SAMPLERS)}")
    if pruner not in PRUNERS:
        raise ConfigError(f"pruner={pruner!r} is not valid; choose one of {', '.join(map(str, PRUNERS))}")
    if sampler == "grid":
        grid_size = math.prod(len(p.grid_values()) for p in params.values())
        n_trials = min(n_trials, grid_size) if n_trials else grid_size
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise ConfigError(f"n_trials must be a positive integer, got {n_trials!r}")
    direction = direction or ("minimize" if "loss" in metric else "maximize")
    if direction not in ("maximize", "minimize"):
        raise ConfigError(f"direction must be 'maximize' or 'minimize', got {direction!r}")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "storage": storage or default_storage(out_dir),
        "study_name": study_name,
        "space": {name: p.describe() for name, p in params.items()},
        "base": base.to_dict(),
        "sampler": sampler,
        "pruner": pruner,
        "n_trials": n_trials,
        "metric": metric,
        "direction": direction,
        "seed": seed,
        "heartbeat": heartbeat,
        "out_dir": str(out_dir.resolve()),
        "device": device,
    }
    with _quiet_optuna():
        study = _open_study(spec)
        _recover_stale_trials(study)
        remaining = n_trials - _count_finished(study)
        if remaining > 0:
            _run_workers(spec, remaining, workers, progress)
        study = _open_study(spec)
        result = _summarize(study, spec, params, base, plots)
    return result


# ---------------------------------------------------------------------------- storage & study
def _storage(spec: dict[str, Any]):
    import optuna

    url = spec["storage"]
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # several local processes write the same file: wait for the lock instead of failing
        engine_kwargs["connect_args"] = {"timeout": 120}
    else:
        engine_kwargs["pool_pre_ping"] = True
    kwargs: dict[str, Any] = {}
    if spec.get("heartbeat"):
        beat = int(spec["heartbeat"])
        kwargs = {"heartbeat_interval": beat, "grace_period": 3 * beat,
                  "heartbeat_stale_trial_callback": optuna.storages.RetryHeartbeatStaleTrialCallback()}
    for attempt in range(4):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **kwargs)
        except Exception as exc:
            # workers starting together may race to create the tables of a new database; the
            # loser sees "already exists" and simply opens the storage again
            if attempt < 3 and "exist" in str(exc).lower():
                time.sleep(0.5 * (attempt + 1))
                continue
            raise ConfigError(f"cannot open sweep storage {_redact(url)!r}: {type(exc).__name__}: "
                              f"{str(exc).splitlines()[0]}") from exc


def _sampler(spec: dict[str, Any], worker: int, params: dict[str, Param]):
    import optuna

    seed = int(spec["seed"]) + worker
    if spec["sampler"] == "grid":
        return optuna.samplers.GridSampler({n: p.grid_values() for n, p in params.items()}, seed=seed)
    if spec["sampler"] == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    startup = max(2, min(10, spec["n_trials"] // 3))
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)


def _pruner(spec: dict[str, Any]):
    import optuna

    epochs = int(spec["base"]["epochs"])
    if spec["pruner"] == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if spec["pruner"] == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs, reduction_factor=3)
    return optuna.pruners.NopPruner()


def _open_study(spec: dict[str, Any], worker: int = 0):
    import optuna

    params = parse_space(spec["space"])
    study = optuna.create_study(
        storage=_storage(spec), study_name=spec["study_name"], direction=spec["direction"],
        sampler=_sampler(spec, worker, params), pruner=_pruner(spec), load_if_exists=True,
    )
    stored = study.user_attrs.get("debugkit_sweep")
    mine = {k: spec[k] for k in ("space", "base", "metric", "direction", "sampler")}
    if stored is None:
        study.set_user_attr("debugkit_sweep", json.loads(json.dumps(mine)))
    elif stored != json.loads(json.dumps(mine)):
        diff = [k for k in mine if json.loads(json.dumps(mine[k])) != stored.get(k)]
        raise ConfigError(
            f"study {spec['study_name']!r} in {spec['storage']!r} was started with a different {', '.join(diff)}; "
            "resume it with the same settings, or use a new study_name"
        )
    return study


def _count_finished(study) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _recover_stale_trials(study) -> list[int]:
    """Fail RUNNING trials of this host whose process is gone, and queue their parameters again."""
    import optuna
    from optuna.trial import TrialState

    host = socket.gethostname()
    recovered = []
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        pid = t.user_attrs.get("pid")
        if t.user_attrs.get("host") != host or not isinstance(pid, int) or _pid_alive(pid):
            continue
        study._storage.set_trial_user_attr(t._trial_id, "status", "interrupted (process killed)")
        study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
        run_dir = t.user_attrs.get("run_dir")
        if run_dir and (Path(run_dir) / "meta.json").exists():
            from debugkit.store import RunWriter

            w = RunWriter(run_dir)
            w.update_meta(status="interrupted")
            w.close()
        retry(study, study._storage.get_trial(t._trial_id))
        recovered.append(t.number)
    return recovered


# ---------------------------------------------------------------------------- workers
def _run_workers(spec: dict[str, Any], remaining: int, workers: int, progress: bool) -> None:
    workers = max(1, min(int(workers), remaining))
    shares = [remaining // workers + (1 if i < remaining % workers else 0) for i in range(workers)]
    stop = _Progress(spec, remaining, progress)
    try:
        if workers == 1:
            sweep_worker(spec, shares[0], 0, in_process=True, callbacks=[lambda study, trial: stop.bar.update(1)])
            return
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [pool.submit(sweep_worker, spec, n, i) for i, n in enumerate(shares)]
            for f in futures:
                stop.wait(f)
            for f in futures:
                f.result()
    finally:
        stop.close()


class _Progress:
    """A progress bar fed by polling the storage (trials finish in other processes)."""

    def __init__(self, spec: dict[str, Any], total: int, enabled: bool):
        from tqdm.auto import tqdm

        self.spec = spec
        self.enabled = enabled and sys.stderr.isatty()
        self.bar = tqdm(total=total, desc=f"sweep {spec['study_name']}", unit="trial", disable=not self.enabled)
        self.start = None
        self.study = None

    def wait(self, future) -> None:
        if not self.enabled:
            return
        while not future.done():
            try:
                self.study = self.study or _open_study(self.spec)
                n = _count_finished(self.study)
                self.start = n if self.start is None else self.start
                self.bar.n = min(self.bar.total, n - self.start)
                self.bar.refresh()
            except Exception:  # a progress bar must never break a sweep
                pass
            time.sleep(1.0)

    def close(self) -> None:
        self.bar.close()


def sweep_worker(spec: dict[str, Any], n_trials: int, worker: int, in_process: bool = False,
                 callbacks: list | None = None) -> int:
    """Run up to ``n_trials`` trials of the study in ``spec`` (one process; also used by other machines)."""
    import optuna
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    if not in_process:
        import torch

        torch.set_num_threads(1)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    study = _open_study(spec, worker)
    params = parse_space(spec["space"])
    objective = _Objective(spec, params)
    study.optimize(
        objective,
        n_trials=n_trials,
        callbacks=[MaxTrialsCallback(spec["n_trials"], states=(TrialState.COMPLETE, TrialState.PRUNED)),
                   *(callbacks or [])],
        catch=(Exception,),
        gc_after_trial=False,
    )
    return n_trials


class _Objective:
    """Train one trial's config; report the metric per epoch; prune on request."""

    def __init__(self, spec: dict[str, Any], params: dict[str, Param]):
        self.spec = spec
        self.params = params
        self.base = TrainConfig.from_dict(spec["base"])
        self.out_dir = Path(spec["out_dir"])

    def __call__(self, trial) -> float:
        import optuna

        from debugkit.train import StopTraining, train

        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("pid", os.getpid())
        values = {name: p.suggest(trial) for name, p in self.params.items()}
        name = f"trial-{trial.number:04d}"
        run_dir = self.out_dir / "runs" / name
        trial.set_user_attr("run_dir", str(run_dir))
        config = self.base.with_changes(values).with_changes({
            "name": name, "group": self.spec["study_name"],
            "tags": sorted(set(self.base.tags) | {f"sweep:{self.spec['study_name']}"}),
        })
        metric = self.spec["metric"]

        def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
            value = metrics.get(metric)
            if value is None or not math.isfinite(value):
                return
            trial.report(float(value), step=epoch)
            # after the last epoch nothing is left to save: the trial completes with its final value
            if epoch < config.epochs and trial.should_prune():
                raise StopTraining("pruned", f"pruned by {self.spec['pruner']} after epoch {epoch} "
                                             f"({metric}={value:.4f})")

        meta = {"sweep": {"study_name": self.spec["study_name"], "trial": trial.number, "params": values,
                          "storage": _redact(self.spec["storage"])}}
        result = train(config, run_dir, progress=False, device=self.spec.get("device", "cpu"), on_epoch=on_epoch,
                       meta=meta)
        trial.set_user_attr("status", result.status)
        trial.set_user_attr("epochs", result.epochs)
        value = result.metrics.get(metric)
        if result.status in ("pruned", "diverged") or value is None or not math.isfinite(value):
            raise optuna.TrialPruned(f"{result.status} after {result.epochs} epoch(s)")
        return float(value)


def _redact(url: str) -> str:
    """A storage URL without its password (it goes into run metadata)."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        user = cred.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url


class _quiet_optuna:
    """Optuna logs a line per trial; keep the console for the progress bar (restored afterwards)."""

    def __enter__(self):
        import optuna

        self.level = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.warnings = warnings.catch_warnings()
        self.warnings.__enter__()
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        return self

    def __exit__(self, *exc):
        import optuna

        self.warnings.__exit__(*exc)
        optuna.logging.set_verbosity(self.level)


# ---------------------------------------------------------------------------- results
def _summarize(study, spec: dict[str, Any], params: dict[str, Param], base: TrainConfig, plots: bool) -> SweepResult:
    import pandas as pd
    from optuna.trial import TrialState

    from debugkit.study import sweep_plots as SP

    out_dir = Path(spec["out_dir"])
    rows = []
    for t in study.get_trials(deepcopy=False):
        row = {"number": t.number, "state": t.state.name, "value": t.value,
               "last_epoch_value": (t.intermediate_values[max(t.intermediate_values)]
                                    if t.intermediate_values else math.nan),
               "epochs": t.user_attrs.get("epochs"), "status": t.user_attrs.get("status"),
               "run_dir": t.user_attrs.get("run_dir"), "host": t.user_attrs.get("host"),
               "pid": t.user_attrs.get("pid"),
               "duration_s": t.duration.total_seconds() if t.duration is not None else math.nan}
        for name, p in params.items():
            row[name] = p.decode(t.params[name]) if name in t.params else None
        rows.append(row)
    trials = pd.DataFrame(rows)
    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    best_params = best_value = best_config = None
    if complete:
        best = study.best_trial
        best_params = {n: params[n].decode(v) for n, v in best.params.items() if n in params}
        best_value = best.value
        best_config = base.with_changes(best_params)
        best_config.save(out_dir / "best_config.toml")
    notes: list[str] = []
    importance = SP.fanova_importance(study, params, notes)
    correlations = SP.correlations(trials, params, spec["metric"])
    result = SweepResult(study=study, out_dir=out_dir, space=params, metric=spec["metric"],
                         direction=spec["direction"], trials=trials, best_params=best_params, best_value=best_value,
                         best_config=best_config, importance=importance, correlations=correlations, notes=notes)
    if plots and len(trials):
        result.figures = SP.write_figures(result, spec)
    trials.to_csv(out_dir / "trials.csv", index=False)
    (out_dir / "sweep.md").write_text(SP.sweep_markdown(result, spec), encoding="utf-8")
    (out_dir / "sweep.json").write_text(json.dumps({k: v for k, v in spec.items() if k != "storage"}
                                                   | {"storage": _redact(spec["storage"])}, indent=2, default=str),
                                        encoding="utf-8")
    return result
