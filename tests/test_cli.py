"""The command line: help everywhere, clear one-line errors for user mistakes, library calls."""

import json
import math
import subprocess
import sys

import pytest

from debugkit import RunWriter
from debugkit.cli import COMMANDS, build_parser, main


def _subcommands():
    parser = build_parser()
    out = []
    for action in parser._subparsers._group_actions:
        for name, sub in action.choices.items():
            out.append([name])
            for a in getattr(sub, "_subparsers", None)._group_actions if sub._subparsers else []:
                out += [[name, n] for n in a.choices]
    return out


@pytest.mark.parametrize("argv", _subcommands(), ids=lambda a: " ".join(a))
def test_every_subcommand_has_help(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main([*argv, "--help"])
    assert e.value.code == 0
    assert "usage: debugkit" in capsys.readouterr().out


def test_all_documented_commands_exist():
    assert {"plot", "runs", "diagnose", "run", "logbook", "baselines", "train", "evaluate", "study", "sweep",
            "export", "exercise"} <= set(COMMANDS)


def _run(tmp_path):
    w = RunWriter(tmp_path / "run", meta={"num_classes": 10, "loss_fn": "CrossEntropyLoss"})
    for t in range(40):
        w.scalars(t, loss=2.3 * math.exp(-t / 10) + 0.1, output_is_prob=1.0, output_entropy_max=math.log(10),
                  alpha=0.0, grad_norm=1.0)
    w.close()
    return tmp_path / "run"


@pytest.mark.parametrize("argv,needle", [
    (["runs", "show", "/nonexistent/run"], "does not exist"),
    (["plot", "/nonexistent/run"], "does not exist"),
    (["diagnose", "--", "python", "/nonexistent/train.py"], "not found"),
    (["logbook", "build", "/nonexistent/log.md", "-o", "x.pdf"], "does not exist"),
    (["baselines", "run", "no_such_baseline"], "choose one of"),
])
def test_user_errors_are_one_line_messages(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_runs_that_are_files_are_refused(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["runs", "show", str(f)]) == 2
    assert "is a file" in capsys.readouterr().err


def test_diagnose_a_recorded_run_writes_json(tmp_path, capsys):
    run = _run(tmp_path)
    assert main(["diagnose", str(run), "--json", str(tmp_path / "r.json"), "--no-dashboard"]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["findings"][0]["id"] == "double_softmax"
    assert "double_softmax" in capsys.readouterr().out


def test_plot_and_runs_commands(tmp_path, capsys):
    run = _run(tmp_path)
    out = tmp_path / "c.png"
    assert main(["plot", str(run), "-o", str(out)]) == 0
    assert out.stat().st_size > 10_000
    assert main(["runs", "ls", str(tmp_path)]) == 0
    assert "run" in capsys.readouterr().out
    assert main(["runs", "show", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 40


def test_console_script_entry_point():
    proc = subprocess.run([sys.executable, "-m", "debugkit.cli", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("debugkit ")
