"""PDF export through Typst (the ``typst`` Python package; no LaTeX, no network)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from debugkit.logbook.document import Document
from debugkit.logbook.export.base import Exporter, run_rows
from debugkit.logbook.export.typst_source import TEMPLATE, document_typst
from debugkit.logbook.model import LogbookError


class TypstCompileError(LogbookError):
    """Typst could not compile the generated source (a bug in debugkit, please report it)."""


class PdfExporter(Exporter):
    """Print-quality PDF: title page, contents, one section per entry, appendix.

    Args:
        keep_source: Also write the Typst source (``main.typ``, the template and the
            images, in ``<out>_typst/``) to tweak the layout by hand.
        font_paths: Extra font folders, e.g. for CJK text or emoji, which Typst's embedded
            fonts (New Computer Modern, Libertinus Serif, DejaVu Sans Mono) do not cover.
            System fonts are never used, so the PDF looks the same on every machine.
    """

    suffix = ".pdf"

    def __init__(self, keep_source: bool = False, font_paths: tuple = ()):
        self.keep_source = keep_source
        self.font_paths = [str(p) for p in font_paths]

    def export(self, doc: Document, out: Path) -> Path:
        import typst

        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="debugkit-typst-") as tmp:
            root = Path(tmp)
            shutil.copy(Path(__file__).with_name(TEMPLATE), root / TEMPLATE)
            filenames = {}
            for fig in doc.figures:
                name = f"figure-{fig.number}{fig.path.suffix.lower()}"
                shutil.copy(fig.path, root / name)
                filenames[fig.number] = name
            main = root / "main.typ"
            main.write_text(document_typst(doc, filenames, run_rows(doc)), encoding="utf-8")
            try:
                # Only Typst's embedded fonts: the same PDF on every machine, all fonts embedded.
                typst.compile(
                    str(main), output=str(out), root=str(root), font_paths=self.font_paths, ignore_system_fonts=True
                )
            except Exception as exc:
                kept = out.with_name(out.stem + "_typst")
                shutil.copytree(root, kept, dirs_exist_ok=True)
                raise TypstCompileError(
                    f"Typst could not compile the logbook {doc.logbook.title!r}: {exc}\n"
                    f"The generated source is kept in {kept} for inspection."
                ) from exc
            if self.keep_source:
                shutil.copytree(root, out.with_name(out.stem + "_typst"), dirs_exist_ok=True)
        return out
