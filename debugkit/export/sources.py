"""Turn what the user passed (a run, paths, a study folder) into named runs to export."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from debugkit.export.records import safe_name
from debugkit.store.reader import Run, RunNotFoundError, list_runs, load_run

RunLike = Run | str | os.PathLike


def _expand(item: RunLike) -> list[tuple[str, Run]]:
    if isinstance(item, Run):
        return [(safe_name(item.name), item)]
    path = Path(item)
    if path.is_dir() and not (path / "meta.json").exists():
        # a study (or any folder of runs): one entry per run, named by its place in the folder
        runs = list_runs(path)
        if not runs:
            raise RunNotFoundError(
                f"{str(path)!r} holds no debugkit run (no meta.json below it); pass run directories "
                "written by debugkit.Monitor(run_dir=...), `debugkit run` or a study"
            )
        return [(safe_name(str(r.path.relative_to(path)).replace(os.sep, "__")), r) for r in runs]
    run = load_run(path)
    return [(safe_name(run.name), run)]


def named_runs(run_or_runs: RunLike | Iterable[RunLike]) -> list[tuple[str, Run]]:
    """``[(directory name, run)]`` for a run, a run directory, a study folder, or a list of these.

    Names are the run names made safe for file systems; repeated names get ``-2``, ``-3`` ...

    Raises:
        RunNotFoundError: A path is not a run directory and holds none below it.
        ValueError: Nothing was given.
    """
    items = [run_or_runs] if isinstance(run_or_runs, (Run, str, os.PathLike)) else list(run_or_runs)
    if not items:
        raise ValueError("no run to export: pass a run directory, a debugkit.Run, or a study folder")
    out: list[tuple[str, Run]] = []
    used: set[str] = set()
    for item in items:
        for name, run in _expand(item):
            unique, n = name, 1
            while unique in used:
                n += 1
                unique = f"{name}-{n}"
            used.add(unique)
            out.append((unique, run))
    return out
