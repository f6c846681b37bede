"""Execute a student's notebook headless (``nbclient``) and collect the cells that fail."""

from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CellError:
    """A code cell that raised (or did not finish).

    Attributes:
        index: The cell's index in the notebook (0-based, as ``nb.cells[index]``).
        excerpt: The first lines of its source.
        error: ``ErrorName: message``.
        line: The offending source line, when the traceback names it.
    """

    index: int
    excerpt: str
    error: str
    line: str | None = None

    def to_dict(self) -> dict:
        return {"index": self.index, "excerpt": self.excerpt, "error": self.error, "line": self.line}


@dataclass
class Execution:
    """The outcome of running the notebook top to bottom.

    Attributes:
        ok: Every code cell ran without an error.
        errors: The failing cells, in order (after the first, later errors are often consequences).
        message: Why the notebook could not be run at all (no kernel, a timeout ...), else None.
        seconds: Wall time.
        path: Where the executed notebook (with outputs) was written.
    """

    ok: bool
    errors: list[CellError] = field(default_factory=list)
    message: str | None = None
    seconds: float = 0.0
    path: Path | None = None

    def to_dict(self) -> dict:
        return {"ok": self.ok, "errors": [e.to_dict() for e in self.errors], "message": self.message,
                "seconds": round(self.seconds, 1), "path": str(self.path) if self.path else None}


def excerpt(source: str, lines: int = 3, width: int = 100) -> str:
    """The first non-blank ``lines`` of a cell, each cut at ``width`` characters."""
    rows = [r[:width] for r in source.split("\n") if r.strip()][:lines]
    more = len([r for r in source.split("\n") if r.strip()]) > lines
    return "\n".join(rows) + ("\n..." if more else "")


def _error_line(tb: list[str], source: str) -> str | None:
    """The cell line a traceback points at (IPython marks it with ``---->``)."""
    import re

    ansi = re.compile(r"\x1b\[[0-9;]*m")
    for frame in reversed(tb):
        for row in ansi.sub("", frame).split("\n"):
            m = re.match(r"^\s*-+>\s*(\d+)\s+(.*)$", row)
            if m:
                return m.group(2).strip()
    return None


def execute_notebook(nb, workdir: str | os.PathLike, *, timeout: float = 900, kernel_name: str | None = None,
                     env: dict | None = None, out_path: str | os.PathLike | None = None) -> Execution:
    """Run every cell of ``nb`` (a copy; ``nb`` is not changed) in ``workdir``, continuing after errors.

    Args:
        nb: An nbformat v4 notebook.
        workdir: The kernel's working directory (the notebook's folder).
        timeout: Seconds one cell may run.
        kernel_name: Jupyter kernel; defaults to the notebook's kernelspec, else ``python3``.
        env: Environment of the kernel process (defaults to this process's).
        out_path: Write the executed notebook (with outputs) here.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = copy.deepcopy(nb)
    name = kernel_name or (nb.metadata.get("kernelspec") or {}).get("name") or "python3"
    current = {"index": None}

    def on_start(cell, cell_index, **_):
        current["index"] = cell_index

    client = NotebookClient(nb, timeout=timeout, kernel_name=name, allow_errors=True,
                            resources={"metadata": {"path": str(Path(workdir).resolve())}}, on_cell_start=on_start)
    t0 = time.perf_counter()
    message = None
    errors: list[CellError] = []
    try:
        client.execute(env=dict(env if env is not None else os.environ))
    except CellTimeoutError:
        i = current["index"]
        message = f"cell [{i}] did not finish within {timeout:g} s"
        if i is not None:
            errors.append(CellError(i, excerpt(nb.cells[i].source), f"Timeout: no result within {timeout:g} s"))
    except DeadKernelError as exc:
        i = current["index"]
        message = f"the kernel died while running cell [{i}]: {exc}"
        if i is not None:
            errors.append(CellError(i, excerpt(nb.cells[i].source), f"DeadKernelError: {exc}"))
    except Exception as exc:  # noqa: BLE001 - no such kernel, kernel failed to start, ...
        message = (f"the notebook could not be executed: {type(exc).__name__}: {exc}. Is a Jupyter kernel "
                   f"{name!r} installed? (`python -m ipykernel install --user --name {name}`)")
    seconds = time.perf_counter() - t0
    seen = {e.index for e in errors}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or i in seen:
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append(CellError(i, excerpt(cell.source), f"{out.get('ename')}: {out.get('evalue')}",
                                        _error_line(out.get("traceback", []), cell.source)))
                break
    errors.sort(key=lambda e: e.index)
    path = None
    if out_path is not None:
        path = Path(out_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
    return Execution(ok=not errors and message is None, errors=errors, message=message, seconds=seconds, path=path)
