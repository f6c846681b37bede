"""Run training jobs in parallel worker processes on one machine.

Workers are started with the ``spawn`` method (safe with torch, on every OS) and each
uses one intra-op thread (``torch.set_num_threads(1)``), so ``workers`` runs share the
cores instead of fighting over them. As with any spawn-based pool, a script that calls
:func:`~debugkit.study.run_study` needs the ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any


def init_worker() -> None:
    """Initializer of every worker process: one torch thread, no progress bars."""
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("TQDM_DISABLE", "1")


def execute(payload: dict[str, Any]) -> dict[str, Any]:
    """Train one job (runs in a worker, or in-process for ``workers=1``); never raises.

    ``payload``: ``config`` (dict), ``run_dir``, ``meta`` (extra run metadata), ``device``.
    """
    from debugkit.train import TrainConfig, train

    t0 = time.perf_counter()
    out = {"run_dir": payload["run_dir"], "key": payload.get("key")}
    try:
        result = train(TrainConfig.from_dict(payload["config"]), payload["run_dir"], progress=False, resume=True,
                       device=payload.get("device", "cpu"), meta=payload.get("meta"))
        out.update(status=result.status, metrics=result.metrics)
    except Exception as exc:  # one failing run must not take the study down; it is reported
        out.update(status="crashed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    out["time"] = time.perf_counter() - t0
    return out


def finished_before(run_dir: Path, config: dict[str, Any]) -> bool:
    """Whether ``run_dir`` already holds this exact run, completed (a re-run study skips it).

    Raises:
        FileExistsError: ``run_dir`` holds a run with another config.
    """
    meta_path = run_dir / "meta.json"
    if not meta_path.exists():
        return False
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    if meta.get("config") and meta["config"] != config:
        raise FileExistsError(
            f"{str(run_dir)!r} holds a run with a different config; this out_dir belongs to another study. "
            "Choose a new out_dir (or delete the old runs)."
        )
    return meta.get("status") in ("finished", "diverged") and (run_dir / "checkpoint.pt").exists()


def run_payloads(payloads: list[dict[str, Any]], *, workers: int, progress: bool, desc: str) -> list[dict[str, Any]]:
    """Execute ``payloads`` with ``workers`` processes (``1``: in this process), in order of completion."""
    from tqdm.auto import tqdm

    results: list[dict[str, Any]] = []
    bar = tqdm(total=len(payloads), desc=desc, unit="run", disable=not progress or not sys.stderr.isatty())
    try:
        if workers <= 1 or len(payloads) <= 1:
            for p in payloads:
                results.append(execute(p))
                bar.update(1)
            return results
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(payloads)), mp_context=ctx,
                                 initializer=init_worker) as pool:
            futures = [pool.submit(execute, p) for p in payloads]
            for fut in as_completed(futures):
                results.append(fut.result())
                bar.update(1)
    finally:
        bar.close()
    return results
