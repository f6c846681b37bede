"""Write a run directory that survives ``kill -9`` at any moment.

Layout of a run directory::

    meta.json        config, model summary, versions, seed (rewritten atomically)
    scalars.jsonl    {"step": t, "<quantity>": value, ...}        one line per record
    layers.jsonl     {"step": t, "quantity": q, "values": {layer: value}}
    hists.jsonl      {"step": t, "name": n, "layer": l|null, "edges": [...], "counts": [...]}
    epochs.jsonl     {"epoch": e, "step": t, "<metric>": value, ...}
    events.jsonl     {"step": t, "kind": k, "message": m, ...}   warnings, NaN flags, notes

Every file is append-only JSON Lines, flushed after each training step.  A process
killed mid-write leaves at most one truncated last line, which the reader skips, so
at most the step being written is lost and every file stays readable.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

STREAMS = ("scalars", "layers", "hists", "epochs", "events")


def _jsonable(value: Any) -> Any:
    """Convert tensors, numpy values and containers into plain JSON values."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _nonfinite(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # torch.Tensor, numpy array or scalar
        return _jsonable(value.tolist())
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _nonfinite(value: float) -> str:
    # JSON has no NaN/inf; keep them as strings the reader turns back into floats.
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write JSON to ``path`` via a temporary file and rename, so it is never half-written."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(_jsonable(obj), fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class RunWriter:
    """Append records to a run directory.

    Args:
        path: Directory of the run. Created if missing; an existing run directory is
            appended to (a resumed run), a path that is a file is an error.
        meta: Initial metadata (config, seed, ...). Versions and start time are added.

    Example:
        >>> w = RunWriter("runs/demo", meta={"seed": 0})   # doctest: +SKIP
        >>> w.scalars(step=0, loss=2.3); w.flush()           # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike, meta: dict | None = None):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise NotADirectoryError(
                f"run directory {str(self.path)!r} is an existing file; "
                "pass a directory path (it will be created) or remove the file"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, Any] = {}
        self.meta: dict = {}
        meta_path = self.path / "meta.json"
        if meta_path.exists():
            try:
                self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                self.meta = {}
        self.meta.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%S"))
        self.meta.setdefault("versions", _versions())
        self.meta.setdefault("format", "debugkit-run/1")
        if meta:
            self.meta.update(_jsonable(meta))
        self.write_meta()

    # -- metadata ---------------------------------------------------------------
    def update_meta(self, **fields: Any) -> None:
        """Merge ``fields`` into ``meta.json`` (atomically rewritten)."""
        self.meta.update(_jsonable(fields))
        self.write_meta()

    def write_meta(self) -> None:
        atomic_write_json(self.path / "meta.json", self.meta)

    # -- streams ----------------------------------------------------------------
    def _append(self, stream: str, record: dict) -> None:
        fh = self._files.get(stream)
        if fh is None:
            fh = open(self.path / f"{stream}.jsonl", "a", encoding="utf-8")
            self._files[stream] = fh
        fh.write(json.dumps(_jsonable(record), separators=(",", ":")) + "\n")

    def scalars(self, step: int, **values: Any) -> None:
        """Record scalar quantities measured at ``step``."""
        if values:
            self._append("scalars", {"step": int(step), **values})

    def layers(self, step: int, quantity: str, values: dict[str, float]) -> None:
        """Record one value per layer (or parameter) of ``quantity`` at ``step``."""
        if values:
            self._append("layers", {"step": int(step), "quantity": quantity, "values": values})

    def hist(self, step: int, name: str, counts, edges, layer: str | None = None, **extra: Any) -> None:
        """Record a histogram. ``edges`` is a list (1-D) or a pair of lists (2-D)."""
        self._append(
            "hists", {"step": int(step), "name": name, "layer": layer, "counts": counts, "edges": edges, **extra}
        )

    def epoch(self, epoch: int, step: int | None = None, **metrics: Any) -> None:
        """Record per-epoch metrics (train/validation loss, accuracy, F1, ...)."""
        self._append("epochs", {"epoch": int(epoch), "step": step, **metrics})

    def event(self, kind: str, message: str, step: int | None = None, **extra: Any) -> None:
        """Record a notable event (a warning, a NaN loss, an instrument that cannot run)."""
        self._append("events", {"step": step, "kind": kind, "message": message, **extra})

    def flush(self) -> None:
        """Hand everything written so far to the OS (survives the process being killed)."""
        for fh in self._files.values():
            fh.flush()

    def close(self) -> None:
        self.flush()
        for fh in self._files.values():
            fh.close()
        self._files.clear()

    def __enter__(self) -> "RunWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _versions() -> dict[str, str]:
    import platform
    import sys

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for mod in ("torch", "numpy", "debugkit"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:  # pragma: no cover - version lookup is best effort
            pass
    return out
