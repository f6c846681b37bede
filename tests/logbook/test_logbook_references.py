"""Run directories and images are checked before anything is drawn; run figures are drawn by
``debugkit.plot.render_figure`` (or an injected stand-in)."""

from pathlib import Path

import pypdf
import pytest

from debugkit import Run
from debugkit.logbook import (
    FigureRenderError,
    MissingFigureError,
    MissingRunError,
    build_logbook,
    parse_logbook,
    resolve_logbook,
)

LOGBOOK = """\
---
title: References
runs: {base: runs/base, fix: runs/fix-lr}
---

## 1. First

**Observation.** o

![the loss](run:base#loss)

**Verdict.** confirmed

## 2. Second

**Observation.** o

![](run:base,fix#learning_curves)

**Verdict.** refuted

**Runs.** fix
"""


def write_book(folder: Path) -> Path:
    md = folder / "book" / "logbook.md"
    md.parent.mkdir(parents=True)
    md.write_text(LOGBOOK, encoding="utf-8")
    return md


def test_missing_run_names_path_and_entry_before_rendering(tmp_path, make_run, make_fake_render):
    md = write_book(tmp_path)
    make_run(md.parent / "runs" / "base")  # 'fix' (runs/fix-lr) is missing
    calls = []
    out = tmp_path / "out" / "logbook.pdf"
    with pytest.raises(MissingRunError) as info:
        build_logbook(md, out, render_fn=make_fake_render(calls))
    message = str(info.value)
    missing = str((md.parent / "runs" / "fix-lr").resolve())
    assert missing in message
    assert "entry 2 'Second'" in message and "run 'fix' (alias for 'runs/fix-lr')" in message
    assert "entry 1" not in message  # entry 1 only uses 'base', which exists
    assert len(info.value.problems) == 2  # the figure and the Runs line of entry 2
    assert calls == [], "nothing may be drawn before all references are checked"
    assert not out.exists()
    assert isinstance(info.value, FileNotFoundError)


def test_a_directory_without_meta_json_is_not_a_run(tmp_path, make_run):
    md = write_book(tmp_path)
    make_run(md.parent / "runs" / "base")
    (md.parent / "runs" / "fix-lr").mkdir()
    with pytest.raises(MissingRunError, match=r"is not a run directory \(no meta.json\)"):
        resolve_logbook(parse_logbook(md))


def test_missing_image_names_path_and_entry(tmp_path):
    md = tmp_path / "lb.md"
    md.write_text("---\ntitle: t\n---\n## 1. Pictures\n![a plot](figs/plot.png)\n**Verdict.** refuted\n", encoding="utf-8")
    with pytest.raises(MissingFigureError, match=r"entry 1 'Pictures', figure 'a plot': image 'figs/plot.png' → .*figs/plot.png"):
        build_logbook(md, tmp_path / "out.pdf")


def test_run_figures_are_drawn_with_loaded_runs(tmp_path, make_run, make_fake_render):
    md = write_book(tmp_path)
    make_run(md.parent / "runs" / "base")
    make_run(md.parent / "runs" / "fix-lr")
    calls = []
    pdf, html = build_logbook(md, tmp_path / "out" / "lb.pdf", formats=["pdf", "html"], render_fn=make_fake_render(calls))
    # drawn once per figure, shared by both exporters
    assert [(name, [r.path.name for r in runs]) for name, runs, _ in calls] == [
        ("loss", ["base"]),
        ("learning_curves", ["base", "fix-lr"]),
    ]
    assert all(isinstance(r, Run) for _, runs, _ in calls for r in runs)
    assert sum(len(p.images) for p in pypdf.PdfReader(str(pdf)).pages) == 2
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(str(pdf)).pages)
    assert "Learning curves (base, fix)" in text  # a caption made up for a run figure without one
    assert html.read_text().count("data:image/png;base64,") == 2


def test_a_failing_plot_names_entry_and_figure(tmp_path, make_run):
    md = write_book(tmp_path)
    make_run(md.parent / "runs" / "base")
    make_run(md.parent / "runs" / "fix-lr")

    def broken(name, runs, path):
        raise KeyError("alpha")

    with pytest.raises(FigureRenderError, match=r"entry 1 'First', figure 'run:base#loss': drawing 'loss' failed: KeyError"):
        build_logbook(md, tmp_path / "lb.pdf", render_fn=broken)


def test_with_the_real_render_figure(tmp_path):
    """A logbook figure drawn by the real debugkit.plot.render_figure from a recorded run."""
    from debugkit import RunWriter

    run_dir = tmp_path / "runs" / "base"
    with RunWriter(run_dir, meta={"name": "base", "seed": 0}) as w:
        for step in range(30):
            w.scalars(step, loss=2.3 * 0.95**step, grad_norm=1.0 / (1 + step), lr=0.1)
        for epoch in range(3):
            w.epoch(epoch, step=10 * epoch + 9, train_loss=1.0 - 0.2 * epoch, val_loss=1.1 - 0.2 * epoch,
                    train_acc=0.5 + 0.1 * epoch, val_acc=0.45 + 0.1 * epoch)
    md = tmp_path / "lb.md"
    md.write_text(
        "---\ntitle: Real plots\nruns: {base: runs/base}\n---\n## 1. Loss\n![loss](run:base#loss)\n"
        "![curves](run:base#learning_curves)\n**Verdict.** confirmed\n",
        encoding="utf-8",
    )
    (pdf,) = build_logbook(md, tmp_path / "lb.pdf")
    assert sum(len(p.images) for p in pypdf.PdfReader(str(pdf)).pages) == 2
