"""Write a :class:`~debugkit.logbook.document.Document` as Typst source for ``logbook.typ``.

All user text goes through :mod:`debugkit.logbook.markup`, which escapes it, so characters
such as ``# * _ $ @ <`` in a logbook are printed, never interpreted.
"""

from __future__ import annotations

import yaml

from debugkit.logbook.document import Document
from debugkit.logbook.figures import RenderedFigure
from debugkit.logbook.markup import breakable_code, inline_to_typst, markdown_to_typst, typst_escape, typst_string
from debugkit.logbook.model import Entry, MeanStd, Table

TEMPLATE = "logbook.typ"


def _content(typst_markup: str) -> str:
    return f"[{typst_markup}]"


def _array(items: list[str]) -> str:
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _number(value: MeanStd | None, signed: bool = False) -> str:
    return "[—]" if value is None else _content(typst_escape(value.display(signed=signed)))


def _cell(cell) -> str:
    if isinstance(cell, MeanStd):
        return _content(typst_escape(cell.display()))
    return _content(inline_to_typst(cell))


def table_typst(table: Table) -> str:
    numeric = [all(isinstance(r[c], MeanStd) or r[c] == "" for r in table.rows) and table.rows for c in range(len(table.columns))]
    aligns = _array(["center" if n else "left" for n in numeric])
    header = _array([_content(inline_to_typst(c)) for c in table.columns])
    rows = _array([_array([_cell(c) for c in row]) for row in table.rows])
    tab = f"booktab({header}, {rows}, aligns: {aligns})"
    if table.caption:
        return f"#figure({tab}, caption: {_content(inline_to_typst(table.caption))})"
    return f"#align(center, {tab})"


def figure_typst(fig: RenderedFigure, filename: str) -> str:
    args = [typst_string(filename), _content(inline_to_typst(fig.caption))]
    if fig.figure.width is not None:
        args.append(f"width: {fig.figure.width!r}")
    if fig.aspect:
        args.append(f"aspect: {fig.aspect:.4f}")
    if fig.figure.is_run_figure and fig.figure.name == "cockpit":
        args.append("max-height: 14cm")  # the dashboard has many small panels
        args.append("max-width: 1.0")
    return f"#log-figure({', '.join(args)})"


def _diff_lines(diff: str) -> str:
    items = []
    for line in diff.split("\n"):
        if line.startswith(("+++", "---")):
            kind = "h"
        elif line.startswith("@@"):
            kind = "@"
        elif line[:1] in ("+", "-"):
            kind = line[0]
        else:
            kind = " "
        items.append(_array([typst_string(kind), typst_string(breakable_code(line) or " ")]))
    return _array(items)


def _section(name: str, parts: list[str], figures: list[str] = ()) -> str:
    """A labelled section; its figures follow it at the full text width (dashboards need it)."""
    parts = [p for p in parts if p]
    body = "\n\n".join(parts) if parts else ("" if figures else "#not-recorded")
    return "\n".join([f"#section({typst_string(name)})[\n{body}\n]", *figures])


def entry_typst(doc: Document, n: int, e: Entry, filenames: dict[int, str]) -> str:
    def figs(section: str) -> list[str]:
        return [figure_typst(f, filenames[f.number]) for f in doc.figures_in(n, section)]

    exp = e.experiment
    experiment = [markdown_to_typst(exp.description)]
    if exp.config:
        dumped = yaml.safe_dump(exp.config, sort_keys=False, allow_unicode=True, width=80).rstrip("\n")
        experiment.append(f"#config-block(raw(block: true, lang: \"yaml\", {typst_string(dumped)}))")
    if exp.code_diff:
        experiment.append(f"#diff-block({_diff_lines(exp.code_diff)})")
    result = [markdown_to_typst(e.result.text)]
    if e.result.metrics is not None:
        result.append(table_typst(e.result.metrics))
    verdict = f"#badge({typst_string(e.verdict)})"
    if e.verdict_note:
        verdict += " #h(0.4em) " + markdown_to_typst(e.verdict_note)
    sections = [
        _section("Observation", [markdown_to_typst(e.observation)], figs("observation")),
        _section("Hypothesis", [markdown_to_typst(e.hypothesis)], figs("hypothesis")),
        _section("Experiment", experiment, figs("experiment")),
        _section("Result", result, figs("result")),
        _section("Verdict", [verdict], figs("verdict")),
    ]
    runs = _array([f"raw({typst_string(r)})" for r in e.run_refs()])
    title = _content(inline_to_typst(e.title))
    return f"#entry({n}, {title}, {typst_string(e.verdict)}, {runs})[\n" + "\n".join(sections) + "\n]"


def summary_typst(doc: Document) -> str:
    lb = doc.logbook
    if not (lb.summary or lb.summary_table):
        return ""
    out = ["#heading(level: 1)[Summary]", markdown_to_typst(lb.summary)]
    if lb.summary_table:
        header = _array(["[Step]", "[Val. acc.]", "[Val. loss]", "[Δ]", "[Verdict]"])
        rows = []
        for r in lb.summary_table:
            delta = _number(r.delta, signed=True)
            if r.delta is not None and r.delta.mean != 0:
                color = "verdict-colors.confirmed" if r.delta.mean > 0 else "verdict-colors.refuted"
                delta = f"text(fill: {color}, {delta})"
            rows.append(
                _array(
                    [
                        _content(inline_to_typst(r.step)),
                        _number(r.val_acc),
                        _number(r.val_loss),
                        delta,
                        f"badge({typst_string(r.verdict)})" if r.verdict else "[—]",
                    ]
                )
            )
        out.append(
            f"#align(center, booktab({header}, {_array(rows)}, aligns: (left, center, center, center, center)))"
        )
    return "\n\n".join(p for p in out if p)


def appendix_typst(doc: Document, run_rows: list[tuple[str, str, str]]) -> str:
    out = []
    if doc.instruments:
        out += [
            "#pagebreak(weak: true)",
            "#heading(level: 1)[Instruments used]",
            "The quantities behind the figures of this logbook, as debugkit computes them.",
            "#set math.equation(numbering: \"(1)\")",
        ]
        for ins in doc.instruments:
            out.append(
                "#block(breakable: false, above: 1.3em)["
                f"#text(weight: \"bold\", fill: accent)[{typst_escape(ins.title)}]\n"
                f"$ {ins.typst} $\n"
                f"{markdown_to_typst(ins.text)}]"
            )
    if run_rows:
        if not out:
            out.append("#pagebreak(weak: true)")
        out.append("#heading(level: 1)[Runs referenced]" if not doc.instruments else "#heading(level: 2)[Runs referenced]")
        header = _array(["[Run]", "[Directory]", "[Recorded]"])
        rows = _array(
            [_array([f"raw({typst_string(a)})", f"raw({typst_string(p)})", _content(typst_escape(d))]) for a, p, d in run_rows]
        )
        out.append(f"#booktab({header}, {rows}, size: 8.5pt)")
    return "\n\n".join(out)


def _shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to fit a running header."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut.rstrip(" ,;:-") + "…"


def document_typst(doc: Document, filenames: dict[int, str], run_rows: list[tuple[str, str, str]] = ()) -> str:
    """The complete Typst source; ``filenames`` maps figure number → image file next to it."""
    lb = doc.logbook
    counts = ", ".join(f"{k}: {v}" for k, v in doc.verdict_counts().items())
    head = [
        f'#import "{TEMPLATE}": *',
        "#show: logbook.with(",
        f"  title: {_content(inline_to_typst(lb.title))},",
        f"  title-text: {typst_string(lb.title)},",
        f"  running-title: {typst_string(_shorten(lb.title, 70))},",
        f"  author: {_content(typst_escape(lb.author))},",
        f"  author-text: {typst_string(lb.author)},",
        f"  course: {_content(inline_to_typst(lb.course))},",
        f"  date: {_content(typst_escape(lb.date))},",
        f"  baseline: {_content(inline_to_typst(lb.baseline))},",
        f"  counts: ({counts}),",
        ")",
    ]
    body = [summary_typst(doc)]
    body += [entry_typst(doc, n, e, filenames) for n, e in enumerate(lb.entries, 1)]
    body.append(appendix_typst(doc, list(run_rows)))
    return "\n".join(head) + "\n\n" + "\n\n".join(b for b in body if b) + "\n"
