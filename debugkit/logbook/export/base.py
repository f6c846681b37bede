"""The exporter interface: one small class per output format."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from debugkit.logbook.document import Document


class Exporter:
    """Writes a :class:`~debugkit.logbook.document.Document` to one file format.

    Subclasses set :attr:`suffix` and implement :meth:`export`. They are registered in
    :data:`debugkit.logbook.export.EXPORTERS` under their suffix.
    """

    suffix: ClassVar[str] = ""

    def export(self, doc: Document, out: Path) -> Path:
        """Write ``doc`` to ``out`` (plus any side files) and return the main file's path."""
        raise NotImplementedError


def run_rows(doc: Document) -> list[tuple[str, str, str]]:
    """``(reference, directory, short description)`` for every run the logbook rests on."""
    import json

    rows = []
    refs: list[str] = []
    for e in doc.logbook.entries:
        refs += [r for r in e.run_refs() if r not in refs]
    for ref in refs:
        path = doc.run_dirs.get(ref)
        if path is None:
            continue
        try:
            meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        bits = []
        if meta.get("created"):
            bits.append(str(meta["created"]).replace("T", " ")[:16])
        if meta.get("seed") is not None:
            bits.append(f"seed {meta['seed']}")
        if meta.get("status"):
            bits.append(str(meta["status"]))
        shown = doc.logbook.runs.get(ref, ref)
        rows.append((ref, shown, ", ".join(bits)))
    return rows
