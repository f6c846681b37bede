"""Jupyter notebook export (nbformat v4): one Markdown cell per section, figures as attachments."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import yaml

from debugkit.logbook.document import Document
from debugkit.logbook.export.base import Exporter, run_rows
from debugkit.logbook.figures import RenderedFigure
from debugkit.logbook.model import Entry, MeanStd, Table

_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".svg": "image/svg+xml"}
_VERDICT_MARK = {"confirmed": "✅", "refuted": "❌", "inconclusive": "❔"}
_CODE_RE = re.compile(r"(```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|`+[^`]*`+)", re.S)


def nb_text(text: str) -> str:
    """User Markdown made safe for Jupyter: ``$`` is not math and ``<`` not HTML (outside code)."""
    parts = _CODE_RE.split(text)
    return "".join(p if i % 2 else p.replace("$", "\\$").replace("<", "&lt;") for i, p in enumerate(parts))


def _cell_text(value) -> str:
    text = value.display() if isinstance(value, MeanStd) else nb_text(value)
    return text.replace("|", "\\|")


def table_md(table: Table) -> str:
    lines = ["| " + " | ".join(_cell_text(c) for c in table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(_cell_text(c) for c in row) + " |" for row in table.rows]
    if table.caption:
        lines += ["", f"*{nb_text(table.caption)}*"]
    return "\n".join(lines)


def verdict_md(verdict: str) -> str:
    return f"{_VERDICT_MARK.get(verdict, '')} **{verdict}**"


class NotebookExporter(Exporter):
    """A notebook to hand in or to continue from: the logbook as Markdown cells, figures embedded.

    The last cell loads the runs the logbook rests on with ``debugkit.load_run``.
    """

    suffix = ".ipynb"

    def export(self, doc: Document, out: Path) -> Path:
        import nbformat
        from nbformat import v4

        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        lb = doc.logbook
        cells = []
        head = [f"# {nb_text(lb.title)}"]
        if lb.course:
            head.append(f"*{nb_text(lb.course)}*")
        facts = [f"**{k}:** {nb_text(v)}" for k, v in (("Author", lb.author), ("Date", lb.date), ("Baseline", lb.baseline)) if v]
        if facts:
            head.append("  \n".join(facts))
        if lb.entries:
            head.append("**Entries:**\n\n" + "\n".join(
                f"{n}. {nb_text(e.title)} — {verdict_md(e.verdict)}" for n, e in enumerate(lb.entries, 1)))
        cells.append(v4.new_markdown_cell("\n\n".join(head)))

        if lb.summary or lb.summary_table:
            parts = ["## Summary"]
            if lb.summary:
                parts.append(nb_text(lb.summary))
            if lb.summary_table:
                rows = ["| Step | Val. acc. | Val. loss | Δ | Verdict |", "|---|---|---|---|---|"]
                for r in lb.summary_table:
                    rows.append(
                        f"| {_cell_text(r.step)} | {r.val_acc.display() if r.val_acc else '—'} | "
                        f"{r.val_loss.display() if r.val_loss else '—'} | "
                        f"{r.delta.display(signed=True) if r.delta else '—'} | {r.verdict or '—'} |"
                    )
                parts.append("\n".join(rows))
            cells.append(v4.new_markdown_cell("\n\n".join(parts)))

        for n, e in enumerate(lb.entries, 1):
            cells += self._entry_cells(doc, n, e)

        if doc.instruments:
            parts = ["## Instruments used"]
            for ins in doc.instruments:
                parts.append(f"**{ins.title}**\n\n$$ {ins.latex} $$\n\n{nb_text(ins.text)}")
            cells.append(v4.new_markdown_cell("\n\n".join(parts)))

        rows = run_rows(doc)
        if rows:
            folder = out.parent.resolve()
            lines = ["# The runs this logbook rests on", "import debugkit", "", "runs = {"]
            for ref, _, _ in rows:
                try:
                    rel = Path(os.path.relpath(doc.run_dirs[ref], folder)).as_posix()
                except ValueError:
                    rel = doc.run_dirs[ref].as_posix()
                lines.append(f"    {json.dumps(ref)}: debugkit.load_run({json.dumps(rel)}),")
            lines += ["}", "runs"]
            cells.append(v4.new_code_cell("\n".join(lines)))

        nb = v4.new_notebook(
            cells=cells,
            metadata={
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
                "title": lb.title,
                "authors": [{"name": lb.author}] if lb.author else [],
            },
        )
        nbformat.validate(nb)
        nbformat.write(nb, str(out))
        return out

    def _entry_cells(self, doc: Document, n: int, e: Entry) -> list:
        from nbformat import v4

        runs = ", ".join(f"`{r}`" for r in e.run_refs())
        cells = [v4.new_markdown_cell(
            f"## {n}. {nb_text(e.title)}\n\n{verdict_md(e.verdict)}" + (f" · runs: {runs}" if runs else ""))]

        def section(name: str, parts: list[str], section_key: str):
            figures = doc.figures_in(n, section_key)
            body = [p for p in parts if p] or ["*not recorded*"]
            attachments = {}
            for fig in figures:
                key, bundle = self._attachment(fig)
                attachments[key] = bundle
                body.append(f"![Figure {fig.number}: {nb_text(fig.caption)}](attachment:{key})\n\n"
                            f"*Figure {fig.number}: {nb_text(fig.caption)}*")
            cell = v4.new_markdown_cell(f"### {name}\n\n" + "\n\n".join(body))
            if attachments:
                cell["attachments"] = attachments
            cells.append(cell)

        exp = e.experiment
        experiment = [nb_text(exp.description)]
        if exp.config:
            dumped = yaml.safe_dump(exp.config, sort_keys=False, allow_unicode=True).rstrip("\n")
            experiment.append(f"Config change:\n\n```yaml\n{dumped}\n```")
        if exp.code_diff:
            experiment.append(f"Code change:\n\n```diff\n{exp.code_diff}\n```")
        result = [nb_text(e.result.text)]
        if e.result.metrics is not None:
            result.append(table_md(e.result.metrics))
        verdict = verdict_md(e.verdict) + (f" — {nb_text(e.verdict_note)}" if e.verdict_note else "")
        section("Observation", [nb_text(e.observation)], "observation")
        section("Hypothesis", [nb_text(e.hypothesis)], "hypothesis")
        section("Experiment", experiment, "experiment")
        section("Result", result, "result")
        section("Verdict", [verdict], "verdict")
        return cells

    @staticmethod
    def _attachment(fig: RenderedFigure) -> tuple[str, dict]:
        suffix = fig.path.suffix.lower()
        key = f"figure-{fig.number}{suffix}"
        data = fig.path.read_bytes()
        if suffix == ".svg":
            return key, {"image/svg+xml": data.decode("utf-8")}
        return key, {_MIME[suffix]: base64.b64encode(data).decode("ascii")}
