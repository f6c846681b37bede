"""Standalone HTML export: one file, images embedded as base64, formulas as SVG."""

from __future__ import annotations

import base64
import html
import tempfile
from pathlib import Path

import yaml

from debugkit.logbook.document import Document
from debugkit.logbook.export.base import Exporter, run_rows
from debugkit.logbook.figures import RenderedFigure
from debugkit.logbook.instruments import Instrument
from debugkit.logbook.markup import inline_to_html, markdown_to_html
from debugkit.logbook.model import Entry, MeanStd, Table

_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".svg": "image/svg+xml"}

CSS = """
:root { --accent: #1f3a5f; --muted: #696969; --rule: #d0d0d0;
        --confirmed: #1e7b3a; --refuted: #b3261e; --inconclusive: #93610a; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f4f2; color: #1d1d1d;
       font: 17px/1.55 "Latin Modern Roman", "New Computer Modern", "CMU Serif", Georgia, serif; }
main { max-width: 52rem; margin: 2rem auto; background: #fff; padding: 3rem 3.5rem;
       box-shadow: 0 1px 4px rgba(0,0,0,.08); }
h1, h2, h3 { color: var(--accent); line-height: 1.25; }
h1 { font-size: 2.1rem; margin: .3rem 0; }
.kicker { color: var(--accent); letter-spacing: .16em; font-weight: bold; font-size: .8rem; margin: 0; }
.course { font-size: 1.2rem; color: #444; margin: .2rem 0 1rem; }
.titleblock { border-bottom: 2px solid var(--accent); padding-bottom: 1rem; margin-bottom: 1.5rem; }
dl.facts { display: grid; grid-template-columns: 7rem 1fr; gap: .3rem .8rem; margin: 0; }
dl.facts dt { color: var(--muted); font-size: .8rem; letter-spacing: .05em; text-transform: uppercase; padding-top: .2rem; }
dl.facts dd { margin: 0; }
nav.toc ol { padding-left: 1.4rem; } nav.toc li { margin: .2rem 0; }
nav.toc a { color: inherit; text-decoration: none; } nav.toc a:hover { text-decoration: underline; }
.badge { display: inline-block; color: #fff; font: bold .68rem/1.6 sans-serif; letter-spacing: .07em;
         text-transform: uppercase; padding: 0 .45rem; border-radius: 3px; vertical-align: .12em; }
.badge.confirmed { background: var(--confirmed); } .badge.refuted { background: var(--refuted); }
.badge.inconclusive { background: var(--inconclusive); }
article.entry { border-top: 1px solid var(--rule); margin-top: 2.5rem; padding-top: 1rem; }
article.entry h2 .num { display: inline-block; min-width: 1.6rem; }
.meta { color: var(--muted); font-size: .9rem; margin-top: -.5rem; }
.section { display: grid; grid-template-columns: 8rem 1fr; gap: .8rem; margin: 1.1rem 0; }
.section > .label { color: var(--accent); font: bold .72rem/2.2 sans-serif; letter-spacing: .09em; text-transform: uppercase; }
.section > .body > :first-child { margin-top: 0; }
.section > .body > :last-child { margin-bottom: 0; }
.not-recorded { color: var(--muted); font-style: italic; }
figure { margin: 1.2rem 0; text-align: center; }
figure img { max-width: 100%; max-height: 26rem; }
figure.wide img { max-height: 40rem; }
figcaption { font-size: .88rem; text-align: left; padding: .3rem 1rem 0; }
figcaption b { color: var(--accent); }
table { border-collapse: collapse; margin: 1rem auto; font-size: .92rem; }
thead tr { border-top: 1.5px solid #222; border-bottom: .8px solid #222; }
tbody tr:last-child { border-bottom: 1.5px solid #222; }
th, td { padding: .25rem .7rem; }
td.num, th.num { text-align: center; }
.pos { color: var(--confirmed); } .neg { color: var(--refuted); }
code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .82em; }
code { background: #f1f1f1; padding: 0 .2em; border-radius: 2px; }
pre { background: #f6f6f6; border: 1px solid #e0e0e0; padding: .6rem .8rem; overflow-x: auto; border-radius: 2px; }
pre code { background: none; padding: 0; }
.block { background: #f8f8f8; border-left: 3px solid var(--accent); padding: .4rem .8rem; margin: .8rem 0; }
.block.diff { border-left-color: var(--muted); }
.block .blabel { color: var(--accent); font: bold .65rem sans-serif; letter-spacing: .08em; text-transform: uppercase; }
.block pre { background: none; border: 0; padding: .2rem 0; margin: 0; }
.diff .add { background: #e3f3e6; color: #14532d; display: block; }
.diff .del { background: #fbe6e4; color: #7f1d1d; display: block; }
.diff .hunk { color: #5b3f8c; display: block; }
.instrument { margin: 1.4rem 0; }
.instrument h3 { font-size: 1.05rem; margin-bottom: .3rem; }
.formula { text-align: center; margin: .5rem 0; }
caption { caption-side: bottom; font-size: .88rem; padding-top: .3rem; }
@media print { body { background: #fff; } main { box-shadow: none; margin: 0; } article.entry { break-before: page; } }
"""


def data_uri(path: Path) -> str:
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def badge(verdict: str) -> str:
    v = html.escape(verdict)
    return f'<span class="badge {v}">{v}</span>'


def formula_svgs(instruments: list[Instrument]) -> list[bytes | None]:
    """Each instrument's formula typeset by Typst as an SVG (``None`` where that fails)."""
    if not instruments:
        return []
    import typst

    pages = [f"$ {i.typst} $" for i in instruments]
    src = (
        '#set page(width: auto, height: auto, margin: 4pt, fill: none)\n'
        '#set text(font: "New Computer Modern", size: 12pt)\n'
        '#show math.equation: set text(font: "New Computer Modern Math")\n' + "\n#pagebreak()\n".join(pages)
    )
    with tempfile.TemporaryDirectory() as tmp:
        main = Path(tmp) / "math.typ"
        main.write_text(src, encoding="utf-8")
        try:
            out = typst.compile(str(main), format="svg", font_paths=[], ignore_system_fonts=True)
        except Exception:  # a formula typo must not cost the whole export: fall back to text
            return [None] * len(instruments)
    if isinstance(out, bytes):
        out = [out]
    return list(out) if len(out) == len(instruments) else [None] * len(instruments)


def table_html(table: Table) -> str:
    numeric = [bool(table.rows) and all(isinstance(r[c], MeanStd) or r[c] == "" for r in table.rows) for c in range(len(table.columns))]

    def cls(c):
        return ' class="num"' if numeric[c] else ""

    head = "".join(f"<th{cls(c)}>{inline_to_html(h)}</th>" for c, h in enumerate(table.columns))
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td{cls(c)}>{html.escape(v.display()) if isinstance(v, MeanStd) else inline_to_html(v)}</td>"
            for c, v in enumerate(row)
        )
        + "</tr>"
        for row in table.rows
    )
    caption = f"<caption>{inline_to_html(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def figure_html(fig: RenderedFigure) -> str:
    wide = ' class="wide"' if fig.figure.is_run_figure and fig.figure.name == "cockpit" else ""
    style = f' style="width:{fig.figure.width * 100:g}%"' if fig.figure.width else ""
    alt = html.escape(fig.caption or f"Figure {fig.number}", quote=True)
    caption = inline_to_html(fig.caption)
    return (
        f'<figure id="figure-{fig.number}"{wide}><img src="{data_uri(fig.path)}" alt="{alt}"{style}>'
        f"<figcaption><b>Figure {fig.number}:</b> {caption}</figcaption></figure>"
    )


def _diff_html(diff: str) -> str:
    lines = []
    for line in diff.split("\n"):
        esc = html.escape(line) or " "
        if line.startswith(("+++", "---")):
            lines.append(f'<span class="hunk">{esc}</span>')
        elif line.startswith("@@"):
            lines.append(f'<span class="hunk">{esc}</span>')
        elif line.startswith("+"):
            lines.append(f'<span class="add">{esc}</span>')
        elif line.startswith("-"):
            lines.append(f'<span class="del">{esc}</span>')
        else:
            lines.append(f"<span>{esc}</span>")
    return "".join(lines)


def _section(name: str, parts: list[str]) -> str:
    parts = [p for p in parts if p]
    body = "\n".join(parts) if parts else '<p class="not-recorded">not recorded</p>'
    return f'<div class="section"><div class="label">{name}</div><div class="body">{body}</div></div>'


def entry_html(doc: Document, n: int, e: Entry) -> str:
    def figs(section):
        return [figure_html(f) for f in doc.figures_in(n, section)]

    exp = e.experiment
    experiment = [markdown_to_html(exp.description)]
    if exp.config:
        dumped = yaml.safe_dump(exp.config, sort_keys=False, allow_unicode=True).rstrip("\n")
        experiment.append(f'<div class="block"><div class="blabel">Config change</div><pre><code>{html.escape(dumped)}</code></pre></div>')
    if exp.code_diff:
        experiment.append(
            f'<div class="block diff"><div class="blabel">Code change</div><pre><code>{_diff_html(exp.code_diff)}</code></pre></div>'
        )
    result = [markdown_to_html(e.result.text)]
    if e.result.metrics is not None:
        result.append(table_html(e.result.metrics))
    verdict = f"<p>{badge(e.verdict)} {inline_to_html(e.verdict_note) if e.verdict_note else ''}</p>"
    runs = ", ".join(f"<code>{html.escape(r)}</code>" for r in e.run_refs())
    meta = badge(e.verdict) + (f" &nbsp; Runs: {runs}" if runs else "")
    return (
        f'<article class="entry" id="entry-{n}"><h2><span class="num">{n}</span> {inline_to_html(e.title)}</h2>'
        f'<p class="meta">{meta}</p>'
        + _section("Observation", [markdown_to_html(e.observation)] + figs("observation"))
        + _section("Hypothesis", [markdown_to_html(e.hypothesis)] + figs("hypothesis"))
        + _section("Experiment", experiment + figs("experiment"))
        + _section("Result", result + figs("result"))
        + _section("Verdict", [verdict] + figs("verdict"))
        + "</article>"
    )


def summary_html(doc: Document) -> str:
    lb = doc.logbook
    if not (lb.summary or lb.summary_table):
        return ""
    out = ['<section id="summary"><h2>Summary</h2>', markdown_to_html(lb.summary)]
    if lb.summary_table:
        rows = []
        for r in lb.summary_table:
            delta = "—"
            if r.delta is not None:
                cls = "pos" if r.delta.mean > 0 else "neg" if r.delta.mean < 0 else ""
                delta = f'<span class="{cls}">{html.escape(r.delta.display(signed=True))}</span>'
            cells = [
                f"<td>{inline_to_html(r.step)}</td>",
                f'<td class="num">{html.escape(r.val_acc.display()) if r.val_acc else "—"}</td>',
                f'<td class="num">{html.escape(r.val_loss.display()) if r.val_loss else "—"}</td>',
                f'<td class="num">{delta}</td>',
                f'<td class="num">{badge(r.verdict) if r.verdict else "—"}</td>',
            ]
            rows.append("<tr>" + "".join(cells) + "</tr>")
        out.append(
            "<table><thead><tr><th>Step</th><th class=num>Val. acc.</th><th class=num>Val. loss</th>"
            f"<th class=num>Δ</th><th class=num>Verdict</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
    out.append("</section>")
    return "\n".join(out)


def appendix_html(doc: Document) -> str:
    out = []
    if doc.instruments:
        out.append('<section id="instruments"><h2>Instruments used</h2>'
                   "<p>The quantities behind the figures of this logbook, as debugkit computes them.</p>")
        for ins, svg in zip(doc.instruments, formula_svgs(doc.instruments)):
            if svg is not None:
                src = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
                formula = f'<img src="{src}" alt="{html.escape(ins.latex, quote=True)}">'
            else:
                formula = f"<code>{html.escape(ins.latex)}</code>"
            out.append(
                f'<div class="instrument"><h3>{html.escape(ins.title)}</h3><div class="formula">{formula}</div>'
                f"{markdown_to_html(ins.text)}</div>"
            )
        out.append("</section>")
    rows = run_rows(doc)
    if rows:
        body = "".join(
            f"<tr><td><code>{html.escape(a)}</code></td><td><code>{html.escape(p)}</code></td><td>{html.escape(d)}</td></tr>"
            for a, p, d in rows
        )
        out.append(
            '<section id="runs"><h2>Runs referenced</h2><table><thead><tr><th>Run</th><th>Directory</th>'
            f"<th>Recorded</th></tr></thead><tbody>{body}</tbody></table></section>"
        )
    return "\n".join(out)


def document_html(doc: Document) -> str:
    lb = doc.logbook
    facts = []
    for label, value in (("Author", lb.author), ("Date", lb.date), ("Baseline", lb.baseline)):
        if value:
            facts.append(f"<dt>{label}</dt><dd>{inline_to_html(value)}</dd>")
    counts = " &nbsp; ".join(f"{k} × {badge(v)}" for v, k in doc.verdict_counts().items() if k)
    facts.append(f"<dt>Entries</dt><dd>{len(lb.entries)} &nbsp; {counts}</dd>")
    toc = "".join(
        f'<li><a href="#entry-{n}">{inline_to_html(e.title)}</a> {badge(e.verdict)}</li>' for n, e in enumerate(lb.entries, 1)
    )
    course = f'<p class="course">{inline_to_html(lb.course)}</p>' if lb.course else ""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="debugkit">',
        f"<title>{html.escape(lb.title)}</title><style>{CSS}</style></head><body><main>",
        f'<header class="titleblock"><p class="kicker">DEBUGGING LOGBOOK</p><h1>{inline_to_html(lb.title)}</h1>{course}'
        f'<dl class="facts">{"".join(facts)}</dl></header>',
        f'<nav class="toc"><h2>Contents</h2><ol>{toc}</ol></nav>' if lb.entries else "",
        summary_html(doc),
        *[entry_html(doc, n, e) for n, e in enumerate(lb.entries, 1)],
        appendix_html(doc),
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


class HtmlExporter(Exporter):
    """A single self-contained HTML file (figures and formulas embedded, no network needed)."""

    suffix = ".html"

    def export(self, doc: Document, out: Path) -> Path:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(document_html(doc), encoding="utf-8")
        return out
