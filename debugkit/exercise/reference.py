"""The fixed baseline's behaviour, for the same seed and epochs as an exercise: run once, then cached."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from debugkit.exercise.evidence import Evidence

#: Held-out accuracy within this much of the fixed baseline's counts as reaching its band.
BAND_MARGIN = 0.08


def _cache_key(code: str, preset: str) -> str:
    import debugkit
    from debugkit.exercise.notebook import EXERCISE_FORMAT

    h = hashlib.sha256()
    for part in (code, preset, debugkit.__version__, str(EXERCISE_FORMAT)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def reference_evidence(meta: dict, cache_dir: str | os.PathLike, *, preset: str = "standard",
                       timeout: float | None = 900, threads: int | None = 1,
                       progress: Callable[[str], None] | None = None) -> Evidence:
    """Evidence of the fixed baseline for an exercise's metadata (``baseline``, ``seed``, ``epochs``).

    The fixed notebook (no bug planted, same seed and epochs) is run like a student's, once, and its
    evidence cached as ``cache_dir/reference-<baseline>-<hash>.json`` (the hash covers the code, the
    preset and debugkit's version, so a changed baseline is run again).

    Raises:
        RuntimeError: the fixed baseline itself failed (nothing can be judged against it).
    """
    from nbformat import v4

    from debugkit.baselines import baselines_dir
    from debugkit.exercise.notebook import build_exercise
    from debugkit.exercise.rerun import rerun_notebook

    built = build_exercise(meta["baseline"], [], seed=meta.get("seed"), epochs=meta.get("epochs"))
    code = "\n\n".join(c.source for c in built.cells if c.cell_type == "code")
    key = _cache_key(code, preset)
    cache = Path(cache_dir)
    path = cache / f"reference-{meta['baseline']}-{key}.json"
    if path.is_file():
        try:
            return Evidence.from_dict(json.loads(path.read_text()))
        except (json.JSONDecodeError, OSError):
            pass  # a broken cache file is recomputed
    if progress:
        progress(f"running the fixed baseline {meta['baseline']} once for reference (cached in {cache})")
    work = cache / f"reference-{meta['baseline']}-{key}"
    work.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(baselines_dir() / "utils.py", work / "utils.py")
    result = rerun_notebook(v4.new_notebook(cells=built.cells), work, work, preset=preset, timeout=timeout,
                            threads=threads, dashboard=False, name="fixed")
    ev = result.evidence
    if ev.failure or ev.get("heldout_acc") is None:
        raise RuntimeError(f"the fixed baseline {meta['baseline']} failed to run ({ev.failure or 'no accuracy'}); "
                           f"see {result.script.log}")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(ev.to_dict(), indent=1) + "\n")
    os.replace(tmp, path)
    return ev


def band(ref: Evidence, margin: float = BAND_MARGIN) -> tuple[float, float] | None:
    """The held-out accuracy range of the fixed baseline: ``(its accuracy - margin, 1)``."""
    acc = ref.get("heldout_acc")
    return None if acc is None else (max(acc - margin, 0.0), 1.0)
