"""Markdown export: the logbook's own format, with every figure as an image file next to it."""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path

from debugkit.logbook.document import Document
from debugkit.logbook.export.base import Exporter
from debugkit.logbook.model import Figure


def files_dir(out: Path) -> Path:
    """Folder for side files of ``out`` (``report.md`` → ``report_files/``), as nbconvert does."""
    return out.with_name(out.stem + "_files")


def copy_figures(doc: Document, out: Path) -> dict[int, Path]:
    """Copy every figure into :func:`files_dir` of ``out``; figure number → copied file."""
    folder = files_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    copied = {}
    for fig in doc.figures:
        target = folder / f"figure-{fig.number}{fig.path.suffix.lower()}"
        shutil.copyfile(fig.path, target)
        copied[fig.number] = target
    return copied


def _rel(path: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(path, start)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


class MarkdownExporter(Exporter):
    """Markdown with YAML front matter, readable and rebuildable.

    Run figures become image files in ``<stem>_files/``; run and image paths are rewritten
    relative to the new file, so ``build_logbook("<stem>.md", "<stem>.pdf")`` works from it.
    """

    suffix = ".md"

    def export(self, doc: Document, out: Path) -> Path:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        folder = out.parent.resolve()
        copied = copy_figures(doc, out)
        lb = copy.deepcopy(doc.logbook)
        by_number = {f.number: f for f in doc.figures}
        number = 0
        for entry in lb.entries:
            figures = []
            # iter order of the model (section order) is the numbering order
            for fig in entry.figures:
                number += 1
                rendered = by_number[number]
                figures.append(
                    Figure(rendered.caption, path=_rel(copied[number].resolve(), folder), section=fig.section, width=fig.width)
                )
            entry.figures = figures
            entry.runs = [r if r in lb.runs else _rel(doc.logbook.run_path(r).resolve(), folder) for r in entry.runs]
        lb.runs = {alias: _rel(doc.logbook.run_path(alias).resolve(), folder) for alias in lb.runs}
        lb.base_dir = folder
        out.write_text(lb.to_markdown(), encoding="utf-8")
        return out
