"""What exporters receive: a logbook with its figures drawn and numbered, and its instruments."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from debugkit.logbook.figures import RenderedFigure
from debugkit.logbook.instruments import Instrument
from debugkit.logbook.model import Logbook


@dataclass
class Document:
    """A logbook ready for export.

    Attributes:
        logbook: The logbook.
        figures: Every figure, drawn and numbered in document order.
        instruments: Definitions for the "Instruments used" appendix.
        run_dirs: Run reference → absolute run directory.
    """

    logbook: Logbook
    figures: list[RenderedFigure] = field(default_factory=list)
    instruments: list[Instrument] = field(default_factory=list)
    run_dirs: dict[str, Path] = field(default_factory=dict)

    def figures_in(self, entry: int, section: str) -> list[RenderedFigure]:
        """Figures of entry number ``entry`` (1-based) placed in ``section``."""
        return [f for f in self.figures if f.entry == entry and f.figure.section == section]

    def verdict_counts(self) -> dict[str, int]:
        """How many entries ended with each verdict (in the order confirmed, refuted, inconclusive)."""
        from debugkit.logbook.model import VERDICTS

        return {v: sum(e.verdict == v for e in self.logbook.entries) for v in VERDICTS}
