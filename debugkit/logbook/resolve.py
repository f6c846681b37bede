"""Stage 1 of a build: find every run directory and image a logbook refers to, before rendering.

All problems are collected and reported at once, each naming the entry it appears in, so a
user fixes them in one go instead of waiting for a half-finished render to fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from debugkit.logbook.model import Logbook, LogbookError


class MissingReferenceError(LogbookError, FileNotFoundError):
    """A logbook refers to files or run directories that are not there.

    Attributes:
        problems: One line per missing reference (entry, what, resolved path).
    """

    def __init__(self, message: str, problems: list[str]):
        super().__init__(message)
        self.problems = problems


class MissingRunError(MissingReferenceError):
    """A logbook refers to a run directory that does not exist (or holds no run)."""


class MissingFigureError(MissingReferenceError):
    """A logbook refers to an image file that does not exist."""


@dataclass
class ResolvedLogbook:
    """A logbook whose references were all found.

    Attributes:
        logbook: The logbook.
        run_dirs: Run reference (alias or path as written) → absolute run directory.
        images: Image path as written → absolute file.
    """

    logbook: Logbook
    run_dirs: dict[str, Path] = field(default_factory=dict)
    images: dict[str, Path] = field(default_factory=dict)


def _describe(n: int, title: str, what: str) -> str:
    return f"entry {n} {title!r}, {what}"


def resolve_logbook(lb: Logbook) -> ResolvedLogbook:
    """Check that every run directory and image ``lb`` refers to exists.

    Run references are aliases from ``lb.runs`` or paths; relative paths resolve against
    ``lb.base_dir``. A run directory must hold a ``meta.json`` (as written by ``RunWriter``).

    Raises:
        MissingRunError: Some run directory is missing; the message lists every missing
            reference with the entry it appears in (and missing images too).
        MissingFigureError: No run is missing but some image file is.
    """
    resolved = ResolvedLogbook(lb)
    run_problems: list[str] = []
    image_problems: list[str] = []

    def check_run(ref: str, where: str) -> None:
        path = lb.run_path(ref).resolve()
        alias = f"run {ref!r}" + (f" (alias for {lb.runs[ref]!r})" if ref in lb.runs else "")
        if not path.exists():
            run_problems.append(f"{where}: {alias} → {path} does not exist")
        elif not path.is_dir():
            run_problems.append(f"{where}: {alias} → {path} is a file, not a run directory")
        elif not (path / "meta.json").is_file():
            run_problems.append(f"{where}: {alias} → {path} is not a run directory (no meta.json)")
        else:
            resolved.run_dirs[ref] = path

    for n, entry in enumerate(lb.entries, 1):
        for ref in entry.runs:
            check_run(ref, _describe(n, entry.title, "Runs"))
        for fig in entry.figures:
            label = f"figure {fig.caption!r}" if fig.caption else f"figure {fig.target!r}"
            if fig.is_run_figure:
                for ref in fig.runs:
                    check_run(ref, _describe(n, entry.title, f"{label} ({fig.target})"))
            else:
                path = lb.resolve_path(fig.path).resolve()
                if path.is_file():
                    resolved.images[fig.path] = path
                else:
                    image_problems.append(f"{_describe(n, entry.title, label)}: image {fig.path!r} → {path} does not exist")

    where_from = f" (relative paths resolve against {lb.base_dir or Path.cwd()})"
    if run_problems:
        problems = run_problems + image_problems
        raise MissingRunError(
            f"logbook {lb.title!r} refers to run directories that are missing{where_from}:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nRecord the runs first, or fix the paths (front matter 'runs:' map, the entry's **Runs.** line "
            "or the figure's run:<alias or path>#<figure>).",
            problems,
        )
    if image_problems:
        raise MissingFigureError(
            f"logbook {lb.title!r} refers to image files that are missing{where_from}:\n"
            + "\n".join(f"  - {p}" for p in image_problems),
            image_problems,
        )
    return resolved
