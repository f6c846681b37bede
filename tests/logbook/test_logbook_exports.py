"""HTML, notebook and Markdown exports carry the figures; build_logbook picks exporters by suffix."""

import base64
import html.parser
from pathlib import Path

import nbformat
import pytest

from debugkit.logbook import EXPORTERS, Entry, Logbook, LogbookError, build_logbook, parse_logbook, plan_outputs
from debugkit.logbook.export import HtmlExporter, MarkdownExporter, NotebookExporter, PdfExporter


class _Images(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs)["src"])


def test_html_is_standalone_with_every_figure(example):
    text = example["html"].read_text(encoding="utf-8")
    parser = _Images()
    parser.feed(text)
    pngs = [s for s in parser.srcs if s.startswith("data:image/png;base64,")]
    assert len(pngs) == 3
    for src in pngs:
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG")
    formulas = [s for s in parser.srcs if s.startswith("data:image/svg+xml;base64,")]
    assert len(formulas) == len(list(_instrument_keys(example)))
    assert all(s.startswith("data:") for s in parser.srcs), "no image may point outside the file"
    for e in example["logbook"].entries:
        assert e.title in text
    assert 'class="badge refuted"' in text and "0.87 ± 0.02" in text and "Figure 3:" in text


def _instrument_keys(example):
    from debugkit.logbook import instruments_for

    return [i.key for i in instruments_for(example["logbook"])]


def test_html_escapes_user_text(tmp_path):
    lb = Logbook("<script>alert(1)</script>", entries=[Entry("a & b <i>", observation="<b>x</b> & `<y>`", verdict="refuted")])
    (out,) = build_logbook(lb, tmp_path / "x.html")
    text = out.read_text()
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<b>x</b>" not in text and "<code>&lt;y&gt;</code>" in text


def test_notebook_validates_and_embeds_figures(example):
    nb = nbformat.read(str(example["ipynb"]), as_version=4)
    nbformat.validate(nb)
    attachments = [(c, name) for c in nb.cells if c.cell_type == "markdown" for name in c.get("attachments", {})]
    assert len(attachments) == 3
    for cell, name in attachments:
        assert f"attachment:{name}" in cell.source
        assert base64.b64decode(cell.attachments[name]["image/png"]).startswith(b"\x89PNG")
    sources = "\n".join(c.source for c in nb.cells)
    for e in example["logbook"].entries:
        assert e.title in sources
    for heading in ("### Observation", "### Hypothesis", "### Experiment", "### Result", "### Verdict"):
        assert sources.count(heading) == 3
    assert "$$ \\alpha = \\frac{2t}{\\bar\\alpha} - 1" in sources
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 1 and 'debugkit.load_run("../runs/base")' in code[0].source
    assert (example["ipynb"].parent / "../runs/base/meta.json").is_file()


def test_notebook_code_cell_loads_the_runs(example):
    """Run the notebook as a student would: its one code cell loads the runs it rests on."""
    from nbclient import NotebookClient

    nb = nbformat.read(str(example["ipynb"]), as_version=4)
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(example["ipynb"].parent)}}).execute()
    (code,) = [c for c in nb.cells if c.cell_type == "code"]
    shown = code.outputs[-1]["data"]["text/plain"]
    for ref in ("base", "fix-lr", "fix-init", "batch64"):
        assert f"'{ref}': Run(" in shown


def test_notebook_keeps_dollars_and_tags_literal(tmp_path):
    lb = Logbook("t", entries=[Entry("costs $5 and $10", observation="<b>x</b> `$y$`", verdict="refuted")])
    (out,) = build_logbook(lb, tmp_path / "x.ipynb")
    sources = "\n".join(c.source for c in nbformat.read(str(out), as_version=4).cells)
    assert "costs \\$5 and \\$10" in sources and "&lt;b>x&lt;/b> `$y$`" in sources


def test_markdown_export_writes_figures_next_to_it_and_rebuilds(example, tmp_path):
    out = example["md_out"]
    files = sorted((out.parent / "logbook_files").glob("figure-*.png"))
    assert [f.name for f in files] == ["figure-1.png", "figure-2.png", "figure-3.png"]
    lb = parse_logbook(out)
    original = example["logbook"]
    assert [e.title for e in lb.entries] == [e.title for e in original.entries]
    assert [f.path for _, _, f in lb.iter_figures()] == [f"logbook_files/figure-{i}.png" for i in (1, 2, 3)]
    assert lb.run_path("base").resolve() == original.run_path("base").resolve()
    (pdf,) = build_logbook(out, tmp_path / "again.pdf")
    assert pdf.stat().st_size > 10_000


def test_registry_and_output_planning(tmp_path):
    assert EXPORTERS == {".pdf": PdfExporter, ".md": MarkdownExporter, ".html": HtmlExporter, ".ipynb": NotebookExporter}
    assert plan_outputs("a/b.PDF") == [(Path("a/b.PDF"), PdfExporter)]
    assert [p for p, _ in plan_outputs("a/b.pdf", ["html", ".ipynb"])] == [Path("a/b.html"), Path("a/b.ipynb")]
    assert [p for p, _ in plan_outputs("a/v1.2", "pdf")] == [Path("a/v1.2.pdf")]
    with pytest.raises(LogbookError, match="cannot tell the format"):
        plan_outputs("a/b")
    with pytest.raises(LogbookError, match=r"no exporter for \.docx"):
        plan_outputs("a/b.docx")


def test_build_refuses_to_overwrite_its_source(tmp_path):
    md = Logbook("t", entries=[Entry("e", verdict="refuted")]).save(tmp_path / "lb.md")
    with pytest.raises(LogbookError, match="refusing to overwrite"):
        build_logbook(md, md)
    (copy,) = build_logbook(md, tmp_path / "copy.md")
    assert parse_logbook(copy) == parse_logbook(md)
