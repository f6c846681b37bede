"""The data model validates its input with messages that say what to write instead."""

import pytest

from debugkit.logbook import Entry, Experiment, Figure, Logbook, LogbookError, MeanStd, Result, SummaryRow, Table


def test_verdict_must_be_one_of_three():
    assert Entry("t", verdict="Confirmed").verdict == "confirmed"
    with pytest.raises(LogbookError, match=r"entry 't'.*'maybe' is not one of confirmed, refuted, inconclusive"):
        Entry("t", verdict="maybe")
    with pytest.raises(LogbookError, match="verdict is missing"):
        Entry("t")


def test_summary_row_verdict_may_be_empty_but_not_wrong():
    assert SummaryRow("baseline", val_acc="0.11 ± 0.01", verdict="—").verdict is None
    with pytest.raises(LogbookError, match="summary table row 'lr'"):
        SummaryRow("lr", verdict="yes")


def test_meanstd_parse_display_and_text():
    m = MeanStd.parse("0.91 ± 0.01 (n=3)")
    assert (m.mean, m.std, m.n) == (0.91, 0.01, 3)
    assert MeanStd.parse("0.91 +- 0.01") == MeanStd(0.91, 0.01)
    assert MeanStd.parse("lr=0.1") is None
    # as written when read from text, rounded when computed
    assert MeanStd.parse("2.30").display() == "2.30"
    assert MeanStd(0.912345, 0.01234).display() == "0.912 ± 0.012"
    assert MeanStd(1e-5).display() == "1e−5"
    assert MeanStd(0.79).to_text(signed=True) == "+0.79"
    assert MeanStd.parse(MeanStd(0.1 + 0.2, 1 / 3).to_text()) == MeanStd(0.1 + 0.2, 1 / 3)
    with pytest.raises(LogbookError, match="negative"):
        MeanStd(1.0, -0.1)


def test_table_cells_are_normalised_and_checked():
    t = Table(["lr", "acc"], [["1e-5", (0.11, 0.01)], [0.01, "0.91 ± 0.01"]])
    assert t.rows[0] == [MeanStd(1e-5), MeanStd(0.11, 0.01)]
    assert t.rows[1][1] == MeanStd(0.91, 0.01)
    assert Table(["a"], [["text"]]).rows == [["text"]]
    with pytest.raises(LogbookError, match="row 1 has 1 cells but the table has 2 columns"):
        Table(["a", "b"], [["x"]])


def test_figure_needs_a_path_or_runs_and_a_name():
    assert Figure.from_target("run:base,fix#loss").runs == ("base", "fix")
    assert Figure.from_target("figs/a.png").path == "figs/a.png"
    with pytest.raises(LogbookError, match="names no figure"):
        Figure.from_target("run:base")
    with pytest.raises(LogbookError, match="either an image path or runs"):
        Figure("c", path="a.png", runs=["base"], name="loss")
    with pytest.raises(LogbookError, match="not an image"):
        Figure("c", path="notes.txt")
    with pytest.raises(LogbookError, match="section 'discussion'"):
        Figure("c", path="a.png", section="discussion")
    with pytest.raises(LogbookError, match="width"):
        Figure("c", path="a.png", width=1.5)


def test_entry_accepts_plain_strings_and_keeps_figures_in_section_order():
    e = Entry(
        "t",
        experiment="lr up",
        result="better",
        verdict="refuted",
        figures=[Figure("r", path="r.png", section="result"), Figure("o", path="o.png", section="observation")],
        runs=["base"],
    )
    assert e.experiment == Experiment("lr up") and e.result == Result("better")
    assert [f.caption for f in e.figures] == ["o", "r"]
    assert e.run_refs() == ["base"]


def test_config_must_be_plain_yaml():
    assert Experiment(config={"betas": (0.9, 0.99)}).config == {"betas": [0.9, 0.99]}
    with pytest.raises(LogbookError, match="not plain YAML data"):
        Experiment(config={"lr": object()})


def test_logbook_validates_run_aliases_and_needs_a_title():
    with pytest.raises(LogbookError, match="run alias 'a b'"):
        Logbook("t", runs={"a b": "runs/x"})
    with pytest.raises(LogbookError, match="needs a title"):
        Logbook("")


def test_paths_resolve_against_base_dir(tmp_path):
    lb = Logbook("t", runs={"base": "runs/base"}, base_dir=tmp_path)
    assert lb.run_path("base") == tmp_path / "runs" / "base"
    assert lb.run_path("other/run") == tmp_path / "other" / "run"
    assert lb.resolve_path("/abs/x.png").as_posix() == "/abs/x.png"
