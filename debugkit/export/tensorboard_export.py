"""Write recorded runs as TensorBoard event files (``tensorboard --logdir LOGDIR`` shows them)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from debugkit.export import records
from debugkit.export.sources import RunLike, named_runs
from debugkit.store.reader import Run

_EVENT_GLOB = "events.out.tfevents.*"


def _summary_writer_class():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:  # torch.utils.tensorboard imports the tensorboard package
        raise ImportError(
            "exporting to TensorBoard needs the 'tensorboard' package: pip install tensorboard "
            f"(import failed: {exc})"
        ) from exc
    return SummaryWriter


def export_tensorboard(
    run_or_runs: RunLike | Iterable[RunLike],
    logdir: str | os.PathLike,
    *,
    overwrite: bool = False,
) -> Path:
    """Write TensorBoard event files for one run, several runs, or a study folder.

    Each run gets its own sub-directory of ``logdir`` (named after the run; for a study
    folder, after the run's place in it), so ``tensorboard --logdir LOGDIR`` lists the runs
    side by side. Written per run:

    * scalars per optimizer step: ``debugkit/loss``, ``debugkit/alpha``, ``curvature/hess_max_ev``,
      ``noise/norm_test``, ... (see :mod:`debugkit.export.records`);
    * per-layer values: ``layers/<quantity>/<layer>``;
    * epoch metrics: ``epoch/<metric>``, with the epoch as step;
    * 1-D histograms (``hists/grad_1d``, ``hists/act/<layer>``) from the stored counts and edges;
    * the metadata as text (tag ``run/meta``) and HParams: the flattened config against
      the final metrics (``final/<column>``, ``final/epoch/<metric>``).

    TensorBoard stores scalars as 32-bit floats.

    Args:
        run_or_runs: A :class:`~debugkit.Run`, a run directory, a folder of runs (a study),
            or a list of these.
        logdir: Where to write; created if missing.
        overwrite: Replace event files an earlier export left in a run's sub-directory
            (otherwise that is an error, because TensorBoard would show both, merged).

    Returns:
        ``logdir``, to pass to ``tensorboard --logdir``.

    Raises:
        ImportError: The ``tensorboard`` package is not installed.
        RunNotFoundError: A path is not a run directory and holds none below it.
        FileExistsError: A run's sub-directory already holds event files and ``overwrite`` is false.

    Example:
        >>> export_tensorboard("runs/exp1", "tb")          # doctest: +SKIP
        >>> export_tensorboard(["runs/a", "runs/b"], "tb")  # doctest: +SKIP
    """
    SummaryWriter = _summary_writer_class()
    runs = named_runs(run_or_runs)
    logdir = Path(logdir)
    targets = [(logdir / name, run) for name, run in runs]
    for target, _ in targets:  # check them all before writing anything
        old = sorted(target.glob(_EVENT_GLOB)) if target.is_dir() else []
        if old and not overwrite:
            raise FileExistsError(
                f"{str(target)!r} already holds TensorBoard event files from an earlier export; "
                "pass overwrite=True (`--overwrite`) to replace them, or choose another logdir"
            )
    for target, run in targets:
        if target.is_dir():
            for f in target.glob(_EVENT_GLOB):
                f.unlink()
        target.mkdir(parents=True, exist_ok=True)
        writer = SummaryWriter(log_dir=str(target))
        try:
            write_run(writer, run)
        finally:
            writer.close()
    return logdir


def write_run(writer, run: Run) -> None:
    """Write one run with an open ``torch.utils.tensorboard.SummaryWriter``.

    Events go in step order (as a training loop would have written them), so TensorBoard's
    readers never see a step go backwards within the optimizer-step axis.
    """
    per_step: list[records.Point | records.HistPoint] = [*records.scalar_points(run), *records.layer_points(run),
                                                          *records.hist_points(run)]
    for p in sorted(per_step, key=lambda p: p.step):  # stable: column order within a step
        if isinstance(p, records.HistPoint):
            _add_histogram(writer, p)
        else:
            writer.add_scalar(p.tag, p.value, global_step=p.step)
    for p in sorted(records.epoch_points(run), key=lambda p: p.step):
        writer.add_scalar(p.tag, p.value, global_step=p.step)
    writer.add_text("run/meta", records.meta_markdown(run), global_step=0)
    hparams = records.flat_config(run.meta.get("config") or {})
    metrics = records.final_metrics(run)
    last_step = int(run.scalars.index.max()) if len(run.scalars) else 0
    # run_name "." keeps the HParams session in the run's own directory, so TensorBoard
    # links the hyperparameters to this run's scalars instead of to a separate run
    writer.add_hparams(hparams, metrics, run_name=".", global_step=last_step)
    writer.flush()


def _add_histogram(writer, h: records.HistPoint) -> None:
    counts, edges = h.counts, h.edges
    total = float(counts.sum())
    if total <= 0:
        return
    nonzero = np.flatnonzero(counts)
    centres = (edges[:-1] + edges[1:]) / 2
    # TensorBoard buckets are (previous limit, limit]: an empty bucket ending at the first
    # edge, then one bucket per stored bin, so the limits are exactly the stored edges.
    writer.add_histogram_raw(
        h.tag,
        min=float(edges[nonzero[0]]),
        max=float(edges[nonzero[-1] + 1]),
        num=total,
        sum=float((counts * centres).sum()),
        sum_squares=float((counts * centres**2).sum()),
        bucket_limits=edges.tolist(),
        bucket_counts=[0.0] + counts.tolist(),
        global_step=h.step,
    )
