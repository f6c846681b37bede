"""Write a recorded run as an offline Weights & Biases run (upload later with ``wandb sync``)."""

from __future__ import annotations

import contextlib
import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from debugkit.export import records
from debugkit.export.sources import RunLike, named_runs

#: Run statuses exported as a failed W&B run (exit code 1).
FAILED_STATUSES = frozenset({"crashed", "diverged", "failed"})

#: W&B refuses histograms with more bins than this.
WANDB_MAX_BINS = 512

#: Settings that keep an export to the recorded data: no system metrics, no code, git or
#: console capture of the exporting process. Unknown ones (older wandb) are left out.
_QUIET_SETTINGS = {
    "silent": True,
    "console": "off",
    "save_code": False,
    "disable_git": True,
    "x_disable_stats": True,
    "x_disable_meta": True,
    "x_save_requirements": False,
}


def _import_wandb():
    try:
        import wandb
    except ImportError as exc:
        raise ImportError(
            f"exporting to Weights & Biases needs the 'wandb' package: pip install wandb (import failed: {exc})"
        ) from exc
    return wandb


@contextlib.contextmanager
def _offline_env() -> Iterator[None]:
    """``WANDB_MODE=offline`` while exporting (restored afterwards), so nothing goes online."""
    keys = {"WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    old = {k: os.environ.get(k) for k in keys}
    os.environ.update(keys)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _settings(wandb) -> Any:
    fields = getattr(wandb.Settings, "model_fields", None)
    kw = {k: v for k, v in _QUIET_SETTINGS.items() if fields is None or k in fields}
    return wandb.Settings(**kw)


def coarsen(counts: np.ndarray, edges: np.ndarray, max_bins: int = WANDB_MAX_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Merge neighbouring bins until at most ``max_bins`` remain (counts are summed exactly)."""
    n = len(counts)
    if n <= max_bins:
        return counts, edges
    k = -(-n // max_bins)  # bins per merged bin
    pad = (-n) % k
    merged = np.concatenate([counts, np.zeros(pad)]).reshape(-1, k).sum(axis=1)
    new_edges = np.concatenate([edges[:-1][::k], edges[-1:]])
    return merged, new_edges


def wandb_rows(run) -> list[tuple[int, dict[str, Any]]]:
    """The history rows of ``run``: ``[(wandb step, {key: value or (counts, edges)})]``, steps increasing.

    W&B has one step axis per run, and its steps must increase, so every record goes on the
    optimizer step it was measured at. An epoch's metrics go on the step stored with them
    (the step count when they were logged), with ``epoch`` in the same row so charts can
    use it as x-axis; an epoch stored without a step, or with a step not after the
    previous epoch's, goes on the next free step after it.
    """
    rows: dict[int, dict[str, Any]] = defaultdict(dict)
    for p in records.scalar_points(run):
        rows[p.step][p.tag] = p.value
    for p in records.layer_points(run):
        rows[p.step][p.tag] = p.value
    for h in records.hist_points(run):
        rows[h.step][h.tag] = (h.counts, h.edges)
    last = max(rows) if rows else -1
    prev = None
    for epoch, step, metrics in records.epoch_metrics(run):
        if step is None:
            step = last + 1 if prev is None else max(prev + 1, last + 1)
        elif prev is not None and step <= prev:
            step = prev + 1
        prev = step
        row = rows[step]
        row["epoch"] = epoch
        for name, v in metrics.items():
            row[records.epoch_tag(name)] = v
    return sorted(rows.items())


def export_wandb(
    run: RunLike,
    *,
    project: str,
    dir: str | os.PathLike,
    name: str | None = None,
    entity: str | None = None,
) -> Path:
    """Write ``run`` as an offline W&B run under ``dir`` (no network, no login).

    Logged: scalars per optimizer step and per-layer values under the same names as the
    TensorBoard export (``debugkit/loss``, ``curvature/hess_max_ev``,
    ``layers/grad_norm/features.0``, ...), epoch metrics as ``epoch/<metric>`` (with
    ``epoch`` as their x-axis), 1-D histograms as ``wandb.Histogram`` (``hists/grad_1d``,
    ``hists/act/<layer>``; more than 512 bins are merged), the run's config (plus a
    ``debugkit`` section with the run's metadata headline), and a summary with the final
    metrics (``final/...``) and the run's status; a ``crashed`` or ``diverged`` run finishes
    with exit code 1 (failed in W&B). See :func:`wandb_rows` for the steps.

    Upload later with ``wandb sync PATH`` (PATH is what this returns).

    Args:
        run: A :class:`~debugkit.Run` or a run directory.
        project: W&B project name.
        dir: Folder under which wandb writes (``DIR/wandb/offline-run-*``).
        name: Display name (default: the run's name).
        entity: W&B entity (user or team), used when syncing.

    Returns:
        The offline run directory (it holds the ``run-*.wandb`` transaction log).

    Raises:
        ImportError: The ``wandb`` package is not installed.
        RunNotFoundError: ``run`` is not a run directory.

    Example:
        >>> export_wandb("runs/exp1", project="debugkit", dir="wandb-export")  # doctest: +SKIP
    """
    wandb = _import_wandb()
    found = named_runs(run)
    if len(found) != 1:
        raise ValueError(
            f"export_wandb exports one run; {str(run)!r} holds {len(found)}. Export them one by one "
            "(each becomes its own W&B run in the same project)"
        )
    _, r = found[0]
    dir = Path(dir)
    dir.mkdir(parents=True, exist_ok=True)
    config = dict(r.meta.get("config") or {})
    config.setdefault("debugkit", _meta_headline(r.meta))
    with _offline_env():
        wb = wandb.init(project=project, entity=entity, dir=str(dir), mode="offline", name=name or r.name,
                        config=config, reinit="create_new", settings=_settings(wandb))
        try:
            wb.define_metric("epoch")
            wb.define_metric("epoch/*", step_metric="epoch")
            for step, row in wandb_rows(r):
                data = {k: (wandb.Histogram(np_histogram=coarsen(*v)) if isinstance(v, tuple) else v)
                        for k, v in row.items()}
                wb.log(data, step=step)
            status = r.meta.get("status", "unknown")
            wb.summary.update({**records.final_metrics(r), "status": status})
            out = _sync_dir(wb)
        except BaseException:
            wb.finish(exit_code=1)
            raise
        # a crashed or diverged run shows as failed in W&B too
        wb.finish(exit_code=1 if status in FAILED_STATUSES else 0)
    return out


def _sync_dir(wb) -> Path:
    sync_dir = getattr(wb.settings, "sync_dir", None)
    return Path(sync_dir) if sync_dir else Path(wb.dir).parent  # wb.dir is <sync_dir>/files


def _meta_headline(meta: dict) -> dict[str, Any]:
    out = {k: meta[k] for k in records.META_HEADLINE if meta.get(k) is not None and k != "status"}
    model = meta.get("model") or {}
    if model:
        out["model"] = model.get("class")
        out["num_params"] = model.get("num_params")
    opt = meta.get("optimizer") or {}
    if opt:
        out["optimizer"] = opt.get("class")
    return out
