"""Exporters: one class per output format, looked up by file suffix."""

from debugkit.logbook.export.base import Exporter
from debugkit.logbook.export.html import HtmlExporter
from debugkit.logbook.export.markdown import MarkdownExporter
from debugkit.logbook.export.notebook import NotebookExporter
from debugkit.logbook.export.pdf import PdfExporter, TypstCompileError

EXPORTERS: dict[str, type[Exporter]] = {
    ".pdf": PdfExporter,
    ".md": MarkdownExporter,
    ".html": HtmlExporter,
    ".ipynb": NotebookExporter,
}
"""Suffix → exporter class. Add an entry to support another format."""

__all__ = [
    "EXPORTERS",
    "Exporter",
    "HtmlExporter",
    "MarkdownExporter",
    "NotebookExporter",
    "PdfExporter",
    "TypstCompileError",
]
