"""``build_logbook``: resolve runs → draw figures → export, each stage a plain function or class."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

from debugkit.logbook.document import Document
from debugkit.logbook.export import EXPORTERS, Exporter
from debugkit.logbook.figures import RenderFn, render_figures
from debugkit.logbook.instruments import instruments_for
from debugkit.logbook.markdown_io import parse_logbook
from debugkit.logbook.model import Logbook, LogbookError
from debugkit.logbook.resolve import resolve_logbook


def load_logbook(source: Logbook | str | os.PathLike) -> Logbook:
    """A :class:`Logbook` as is, or parsed from a Markdown file path / Markdown text."""
    if isinstance(source, Logbook):
        return source
    return parse_logbook(source)


def _normalise_suffix(fmt: str) -> str:
    fmt = str(fmt).strip().lower()
    return fmt if fmt.startswith(".") else "." + fmt


def plan_outputs(out: str | os.PathLike, formats: Iterable[str] | str | None = None) -> list[tuple[Path, type[Exporter]]]:
    """Which files to write: ``out`` by its suffix, or ``out`` with each suffix in ``formats``.

    Raises:
        LogbookError: No format can be told, or a format has no exporter.
    """
    out = Path(out)
    if isinstance(formats, str):
        formats = [formats]
    if formats is None:
        if not out.suffix:
            raise LogbookError(
                f"cannot tell the format of {str(out)!r}: give it a suffix ({', '.join(EXPORTERS)}) or pass formats="
            )
        suffixes = [out.suffix.lower()]
    else:
        suffixes = list(dict.fromkeys(_normalise_suffix(f) for f in formats))
        if not suffixes:
            raise LogbookError("formats= is empty; name at least one of " + ", ".join(EXPORTERS))
    unknown = [s for s in suffixes if s not in EXPORTERS]
    if unknown:
        raise LogbookError(f"no exporter for {', '.join(unknown)}; available: {', '.join(EXPORTERS)}")
    if formats is None:
        return [(out, EXPORTERS[suffixes[0]])]
    return [(out.with_suffix(s) if out.suffix.lower() in EXPORTERS or not out.suffix else Path(f"{out}{s}"), EXPORTERS[s]) for s in suffixes]


def build_logbook(
    source: Logbook | str | os.PathLike,
    out: str | os.PathLike,
    *,
    formats: Iterable[str] | str | None = None,
    render_fn: RenderFn | None = None,
) -> list[Path]:
    """Render a logbook to PDF, Markdown, HTML and/or a Jupyter notebook.

    The pipeline: parse (if ``source`` is a path) → check every run directory and image
    exists (before anything is drawn) → draw run figures once → run each exporter.

    Args:
        source: A :class:`Logbook`, or a Markdown logbook file (or its text).
        out: Output file; its suffix (``.pdf``, ``.md``, ``.html``, ``.ipynb``) picks the format.
        formats: Several formats at once, e.g. ``["pdf", "html"]``; each is written to
            ``out`` with that suffix.
        render_fn: Draws run figures, ``render_fn(name, runs, path) -> path``; defaults to
            ``debugkit.plot.render_figure``.

    Returns:
        The files written, in the order of ``formats``.

    Raises:
        MissingRunError: A referenced run directory does not exist (lists all, with entries).
        MissingFigureError: A referenced image file does not exist.
        LogbookError: The logbook or the arguments are malformed.

    Example:
        >>> build_logbook("logbooks/digits.md", "logbooks/digits.pdf")         # doctest: +SKIP
        >>> build_logbook(lb, "out/digits", formats=["pdf", "html", "ipynb"])  # doctest: +SKIP
    """
    lb = load_logbook(source)
    outputs = plan_outputs(out, formats)
    if isinstance(source, (str, os.PathLike)) and (not isinstance(source, str) or "\n" not in source):
        src = Path(source).resolve()
        for path, _ in outputs:
            if path.resolve() == src:
                raise LogbookError(f"refusing to overwrite the source logbook {str(src)!r}; choose another output path")
    resolved = resolve_logbook(lb)  # every reference checked before any drawing starts
    instruments = instruments_for(lb)
    with tempfile.TemporaryDirectory(prefix="debugkit-logbook-") as tmp:
        figures = render_figures(resolved, Path(tmp) / "figures", render_fn)
        doc = Document(lb, figures, instruments, resolved.run_dirs)
        return [exporter_cls().export(doc, path) for path, exporter_cls in outputs]
