"""Logbooks: observation → hypothesis → experiment → result → verdict, written by hand or by a
hunt, kept as Markdown with YAML front matter and rendered to PDF, HTML, Markdown or notebooks.

Example:
    >>> from debugkit.logbook import parse_logbook, build_logbook   # doctest: +SKIP
    >>> build_logbook("logbooks/digits.md", "logbooks/digits.pdf")  # doctest: +SKIP
"""

from debugkit.logbook.build import build_logbook, load_logbook, plan_outputs
from debugkit.logbook.document import Document
from debugkit.logbook.export import EXPORTERS, Exporter
from debugkit.logbook.figures import FigureRenderError, RenderedFigure, render_figures
from debugkit.logbook.instruments import INSTRUMENTS, Instrument, instruments_for
from debugkit.logbook.markdown_io import parse_logbook, to_markdown
from debugkit.logbook.model import (
    SECTIONS,
    VERDICTS,
    Entry,
    Experiment,
    Figure,
    Logbook,
    LogbookError,
    MeanStd,
    Result,
    SummaryRow,
    Table,
)
from debugkit.logbook.resolve import MissingFigureError, MissingReferenceError, MissingRunError, resolve_logbook

__all__ = [
    "EXPORTERS",
    "INSTRUMENTS",
    "SECTIONS",
    "VERDICTS",
    "Document",
    "Entry",
    "Experiment",
    "Exporter",
    "Figure",
    "FigureRenderError",
    "Instrument",
    "Logbook",
    "LogbookError",
    "MeanStd",
    "MissingFigureError",
    "MissingReferenceError",
    "MissingRunError",
    "RenderedFigure",
    "Result",
    "SummaryRow",
    "Table",
    "build_logbook",
    "instruments_for",
    "load_logbook",
    "parse_logbook",
    "plan_outputs",
    "render_figures",
    "resolve_logbook",
    "to_markdown",
]
