"""The Markdown + front matter format: round trips, hand-written variants, errors with line numbers."""

import textwrap

import pytest

from debugkit.logbook import (
    Entry,
    Experiment,
    Figure,
    Logbook,
    LogbookError,
    MeanStd,
    Result,
    SummaryRow,
    Table,
    parse_logbook,
)

NASTY = "#set page(width: 1cm) *bold* _it_ $x^2$ @ref <lbl> [a] {b} \\ // /* ~ -- ... = + 1. `tick` 50% & \"q\" 'q'"


def full_logbook() -> Logbook:
    return Logbook(
        title="Debugging: the *digits* MLP #1",
        author="Ada <ada@example.org>",
        course="NumML $11$",
        date="2024-01-19",
        baseline="lr=1e-5 @ batch 8",
        summary="Two bugs.\n\n- lr\n- init",
        summary_table=[
            SummaryRow("baseline", val_acc=(0.11, 0.01), val_loss=2.3),
            SummaryRow("lr | 1e-2", val_acc=MeanStd(0.87, 0.02, 3), val_loss=0.45, delta=0.76, verdict="confirmed"),
            SummaryRow("batch", val_acc=0.95, delta=-0.001, verdict="refuted"),
        ],
        entries=[
            Entry(
                "Loss [does] not move",
                observation=f"Flat.\n\n{NASTY}\n\n```python\n## not a heading\n**Result.** not a section\n```",
                hypothesis="lr too low",
                experiment=Experiment("raise it", config={"lr": 0.01, "sched": {"gamma": 0.1}}, code_diff="-a\n+b"),
                result=Result(
                    "better\n\n| a | b |\n|---|---|\n| 1 | 2 |",
                    Table(["lr", "acc ± std"], [["1e-5", "0.11 ± 0.01"], ["x|y", (0.9, 0.01, 3)]], caption="3 seeds"),
                ),
                verdict="confirmed",
                verdict_note="kept lr = 1e-2",
                figures=[
                    Figure("flat [loss]", runs=["base"], name="loss", section="observation"),
                    Figure("curves", runs=["base", "fix"], name="learning_curves", width=0.7),
                    Figure("", path="figs/my figure (1).png", section="experiment"),
                ],
                runs=["base", "runs/other"],
            ),
            Entry(
                "Structure inside texts",
                observation="## looks like a heading\n**Hypothesis.** looks like a section\n![x](y.png)\n| not | a table |",
                result="| a | b |\n|---|---|\n| 1 | 2 |",
                verdict="inconclusive",
            ),
            Entry("Empty", verdict="refuted"),
        ],
        runs={"base": "runs/base", "fix": "runs/fix-lr"},
        instruments=["alpha", "norm_test"],
        meta={"hunt": {"seed": 3}},
    )


def test_round_trip_of_a_full_logbook():
    lb = full_logbook()
    text = lb.to_markdown()
    again = parse_logbook(text)
    assert again == lb
    assert again.to_markdown() == text


def test_round_trip_of_the_example(example):
    lb = example["logbook"]
    assert parse_logbook(lb.to_markdown()) == lb
    assert len(lb.entries) == 3
    assert [e.verdict for e in lb.entries] == ["confirmed", "confirmed", "refuted"]
    assert lb.entries[0].result.metrics.rows[2][1] == MeanStd(0.87, 0.02)
    assert lb.entries[1].experiment.code_diff.startswith("--- a/train.py")
    assert len(lb.summary_table) == 4 and lb.summary_table[1].delta == MeanStd(0.76)


def test_the_brief_example_reads_as_intended():
    text = textwrap.dedent(
        """\
        ---
        title: Debugging the digits MLP
        author: Ada
        runs: {base: runs/base, fix1: runs/fix-lr}
        ---
        ## 1. Loss does not move
        **Observation.** The training loss stays at 2.30 ...
        ![The loss is flat](run:base#loss)
        **Hypothesis.** The learning rate is far too low.
        **Experiment.** lr 1e-5 → 1e-2 (`config: {lr: 0.01}`)
        **Result.** Validation accuracy 0.12 → 0.91 ± 0.01 (3 seeds).
        ![](run:fix1#learning_curves)
        **Verdict.** confirmed
        """
    )
    lb = parse_logbook(text)
    (e,) = lb.entries
    assert e.title == "Loss does not move"
    assert e.observation == "The training loss stays at 2.30 ..."
    assert e.experiment == Experiment("lr 1e-5 → 1e-2", config={"lr": 0.01})
    assert [(f.section, f.runs, f.name) for f in e.figures] == [
        ("observation", ("base",), "loss"),
        ("result", ("fix1",), "learning_curves"),
    ]
    assert e.verdict == "confirmed"
    assert lb.runs == {"base": "runs/base", "fix1": "runs/fix-lr"}
    assert parse_logbook(lb.to_markdown()) == lb


def test_hand_written_variants():
    text = textwrap.dedent(
        """\
        # A title from a heading

        Some summary text.

        ## Entry 1: Variants
        Text before any section is the observation.

        ### Hypothesis
        Something.

        **Experiment:** change it

        ```yaml config
        lr: 1e-3
        betas: [0.9, 0.99]
        ```

        **Results.** worse

        | setting | acc |
        |:---|---:|
        | a | 0.5 ± 0.1 |

        Table: the caption

        ![wide](figs/a.png){width=60%}

        **Verdict:** **Refuted.** It got worse.

        **Runs:** `runs/a`, runs/b
        """
    )
    lb = parse_logbook(text)
    assert lb.title == "A title from a heading" and lb.summary == "Some summary text."
    (e,) = lb.entries
    assert e.observation == "Text before any section is the observation."
    assert e.hypothesis == "Something."
    assert e.experiment.config == {"lr": 0.001, "betas": [0.9, 0.99]}  # 1e-3 is a number, not text
    assert e.result.text == "worse"
    assert e.result.metrics == Table(["setting", "acc"], [["a", MeanStd(0.5, 0.1)]], "the caption")
    assert e.figures == [Figure("wide", path="figs/a.png", width=0.6)]
    assert (e.verdict, e.verdict_note) == ("refuted", "It got worse.")
    assert e.runs == ["runs/a", "runs/b"]


def test_relative_paths_resolve_against_the_files_folder(tmp_path):
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "lb.md").write_text("---\ntitle: t\nruns: {base: runs/base}\n---\n", encoding="utf-8")
    lb = parse_logbook(folder / "lb.md")
    assert lb.base_dir == folder.resolve()
    assert lb.run_path("base") == folder.resolve() / "runs" / "base"
    assert parse_logbook(str(folder / "lb.md")) == lb


@pytest.mark.parametrize(
    "body, message",
    [
        ("## 1. X\n\n**Observation.** o\n\n**Verdict.** maybe\n", r"line 8: entry 1 'X': verdict 'maybe' is not one of"),
        ("## 1. X\n\n**Observation.** o\n", r"line 4: entry 1 'X'.*verdict is missing"),
        ("## 1. X\n**Observation.** a\n**Observation.** b\n**Verdict.** refuted\n", "line 6: .*observation section appears twice"),
        ("## 1. X\n![c](run:base)\n**Verdict.** refuted\n", "line 5: .*names no figure"),
        ("## 1. X\n**Experiment.** `config: {lr: [}`\n**Verdict.** refuted\n", "line 5: .*not valid YAML"),
    ],
)
def test_errors_name_line_and_entry(body, message):
    with pytest.raises(LogbookError, match=message):
        parse_logbook("---\ntitle: t\n---\n" + body)


def test_front_matter_errors():
    with pytest.raises(LogbookError, match="unknown front matter key.*'autor'"):
        parse_logbook("---\ntitle: t\nautor: Ada\n---\n")
    with pytest.raises(LogbookError, match="never closed"):
        parse_logbook("---\ntitle: t\n")
    with pytest.raises(LogbookError, match="no title"):
        parse_logbook("---\nauthor: a\n---\n\nno title here\n")


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        parse_logbook(tmp_path / "nope.md")
