"""The logbook entries a student wrote in a notebook's Markdown cells."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from debugkit.exercise.templates import PLACEHOLDERS

SECTIONS = ("observation", "hypothesis", "experiment", "result", "verdict")

_MARKER = re.compile(
    r"^(?:\*\*\s*(?P<a>observations?|hypothes[ie]s|experiments?|results?|verdict|conclusion)\s*[.:]?\s*\*\*"
    r"|#{3,4}\s+(?P<b>observations?|hypothes[ie]s|experiments?|results?|verdict|conclusion)\b)",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass
class LogbookEntryInfo:
    """One entry found in the notebook.

    Attributes:
        cell: Index of the Markdown cell it is in.
        title: Its ``##`` heading.
        filled: The sections (observation, hypothesis, experiment, result, verdict) with text in them.
        verdict: ``confirmed``, ``refuted`` or ``inconclusive`` (None if missing or unreadable).
        error: What :func:`debugkit.logbook.parse_logbook` objected to, if anything.
    """

    cell: int
    title: str
    filled: list[str] = field(default_factory=list)
    verdict: str | None = None
    error: str | None = None

    @property
    def complete(self) -> bool:
        return len(self.filled) == len(SECTIONS) and self.error is None

    def to_dict(self) -> dict:
        return {"cell": self.cell, "title": self.title, "filled": self.filled, "complete": self.complete,
                "verdict": self.verdict, "error": self.error}


@dataclass
class LogbookInfo:
    """All entries, with counts: complete entries (all five sections) and verdicts."""

    entries: list[LogbookEntryInfo] = field(default_factory=list)
    empty_templates: int = 0

    @property
    def complete(self) -> int:
        return sum(e.complete for e in self.entries)

    @property
    def verdicts(self) -> dict[str, int]:
        return dict(Counter(e.verdict for e in self.entries if e.verdict))

    def to_dict(self) -> dict:
        return {"entries": [e.to_dict() for e in self.entries], "count": len(self.entries),
                "complete": self.complete, "verdicts": self.verdicts, "empty_templates": self.empty_templates}


def strip_placeholders(text: str) -> str:
    """The text with the template's placeholder sentences removed."""
    for p in PLACEHOLDERS.values():
        text = text.replace(p, "")
    return text


def _split_entries(text: str) -> list[str]:
    """Cut a cell at its ``##`` headings (an entry without a heading gets one)."""
    parts = re.split(r"(?m)^(?=##(?!#))", text)
    parts = [p for p in parts if p.strip()]
    out = []
    for p in parts:
        if not _MARKER.search(p):
            continue  # a heading without sections (e.g. a summary): not an entry
        out.append(p if p.lstrip().startswith("##") else "## Untitled entry\n\n" + p)
    return out


def _fallback(text: str) -> tuple[str, list[str], str | None]:
    """Title, filled sections and verdict read without the full parser (for entries it rejects)."""
    title = re.match(r"\s*##\s*(.*)", text)
    filled, verdict = [], None
    marks = list(_MARKER.finditer(text))
    for k, m in enumerate(marks):
        word = (m.group("a") or m.group("b")).lower()
        sec = next((s for s in SECTIONS if word.startswith(s[:5])), "verdict" if word == "conclusion" else None)
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        body = text[m.end():end].strip()
        if sec and body:
            filled.append(sec)
            if sec == "verdict":
                w = re.match(r"[*_`\s]*([A-Za-z]+)", body)
                verdict = w.group(1).lower() if w and w.group(1).lower() in ("confirmed", "refuted", "inconclusive") \
                    else None
    return (title.group(1).strip() if title else ""), [s for s in SECTIONS if s in filled], verdict


def find_logbook(nb) -> LogbookInfo:
    """The logbook entries in ``nb``'s Markdown cells (template placeholders count as empty).

    Each entry is read with :func:`debugkit.logbook.parse_logbook`; where it objects (e.g. a verdict
    that is not confirmed/refuted/inconclusive) the entry is still listed, with the parser's message.
    """
    from debugkit.logbook import LogbookError, parse_logbook

    info = LogbookInfo()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or not _MARKER.search(cell.source):
            continue
        text = strip_placeholders(cell.source)
        for part in _split_entries(text):
            title, filled, verdict = _fallback(part)
            if not filled:  # an untouched template (or only a title): nothing written yet
                info.empty_templates += 1
                continue
            title = re.sub(r"^\d+\s*[.):]?\s*", "", title).strip()
            entry = LogbookEntryInfo(i, title, filled, verdict)
            if not title:  # the template's title left as it was: say nothing about it, read the rest
                part = re.sub(r"^\s*##.*", "## Untitled entry", part, count=1)
            try:
                lb = parse_logbook("# Logbook\n\n" + part)
                e = lb.entries[0]
                entry.title = e.title if title else ""
                entry.verdict = e.verdict or None
                entry.filled = [s for s, val in (("observation", e.observation), ("hypothesis", e.hypothesis),
                                                 ("experiment", e.experiment.description or e.experiment.config
                                                  or e.experiment.code_diff),
                                                 ("result", e.result.text or e.result.metrics),
                                                 ("verdict", e.verdict)) if val]
            except (LogbookError, IndexError) as exc:
                # the parser names line and entry of the text it was given; the cell index says where
                entry.error = re.sub(r"^<logbook text>(, line \d+)?: (entry \d+ '.*?': )?", "", str(exc))
            info.entries.append(entry)
    return info
