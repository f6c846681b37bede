"""debugkit.baselines API: locating and loading baselines, running a script, parsing its output, the key."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import debugkit.baselines as bl
from debugkit.baselines import (
    Baseline,
    BaselineRunError,
    Bug,
    UnknownBaselineError,
    baselines_dir,
    format_catalogue,
    format_key,
    get_baseline,
    list_baselines,
    load_baseline,
    parse_epochs,
    parse_result,
    run_baseline,
    write_key,
)

REPO_BASELINES = Path(bl.__file__).resolve().parents[2] / "buggy_baselines"

FAKE_SCRIPT = """\
import argparse, json
import helper  # lives in the baselines folder, one up: found through PYTHONPATH
p = argparse.ArgumentParser()
p.add_argument("--epochs", type=int, default=2)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--crash", action="store_true")
p.add_argument("--silent", action="store_true")
p.add_argument("--sleep", type=float, default=0)
a = p.parse_args()
if a.sleep:
    import time; time.sleep(a.sleep)
if a.crash:
    raise SystemExit("boom")
for e in range(1, a.epochs + 1):
    print(f"epoch {e} train_loss 0.5000 train_acc 0.{e}000 val_loss nan val_acc 0.2500")
if not a.silent:
    print("DEBUGKIT_RESULT " + json.dumps({"train_loss": a.epochs, "train_acc": a.seed, "val_loss": None,
          "val_acc": helper.VALUE, "test_loss": 1.0, "test_acc": FIXED, "diverged": True}))
"""

FAKE_TOML = """\
title = "Fake"
symptom = "nothing works"
model = "mlp"
multi = false

[[bugs]]
id = "lr_too_high"
lines = [3]
description = "d"
symptom = "s"
instrument = "loss"
fix = "f"
"""


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    root = tmp_path / "baselines"
    d = root / "fake"
    d.mkdir(parents=True)
    (root / "helper.py").write_text("VALUE = 0.125\n")
    (d / "train.py").write_text("FIXED = 0.0\n" + FAKE_SCRIPT)
    (d / "train_fixed.py").write_text("FIXED = 1.0\n" + FAKE_SCRIPT)
    (d / "bug.toml").write_text(FAKE_TOML)
    (root / "not_a_baseline").mkdir()
    monkeypatch.setenv("DEBUGKIT_BASELINES", str(root))
    return root


def test_baselines_dir_default_and_override(tmp_path, monkeypatch):
    monkeypatch.delenv("DEBUGKIT_BASELINES", raising=False)
    assert baselines_dir() == REPO_BASELINES
    monkeypatch.setenv("DEBUGKIT_BASELINES", str(tmp_path))
    assert baselines_dir() == tmp_path.resolve()
    monkeypatch.setenv("DEBUGKIT_BASELINES", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="DEBUGKIT_BASELINES"):
        baselines_dir()


def test_list_and_get(fake_root):
    assert [b.name for b in list_baselines()] == ["fake"]
    b = get_baseline("fake")
    assert isinstance(b, Baseline) and b.title == "Fake" and b.model == "mlp" and b.multi is False
    assert b.bugs == (Bug("lr_too_high", (3,), "d", "s", "loss", "f"),)
    assert b.script == fake_root / "fake" / "train.py" and b.fixed_script == fake_root / "fake" / "train_fixed.py"
    assert b.bug_ids == ("lr_too_high",) and b.bug_lines == (3,) and b.effect == ""


@pytest.mark.parametrize("name", ["nope", "", "../fake", "not_a_baseline"])
def test_unknown_baseline_lists_the_valid_names(fake_root, name):
    with pytest.raises(KeyError) as err:
        get_baseline(name)
    assert isinstance(err.value, ValueError) and isinstance(err.value, UnknownBaselineError)
    assert str(err.value).startswith(f"no baseline called {name!r}") and "choose one of: fake" in str(err.value)


def test_real_catalogue_loads(monkeypatch):
    monkeypatch.delenv("DEBUGKIT_BASELINES", raising=False)
    b = get_baseline("cifar_cnn")
    assert b.multi and b.model == "cnn" and len(b.bugs) >= 3
    assert all(isinstance(line, int) for bug in b.bugs for line in bug.lines)
    with pytest.raises(KeyError, match="lr_too_high"):
        get_baseline("lr_too_hihg")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace('title = "Fake"\n', ""), "missing key 'title'"),
        (lambda t: t.replace("multi = false", 'multi = "no"'), "'multi' must be a bool"),
        (lambda t: t.replace("lines = [3]", 'lines = ["3"]'), "'lines' must be a list of line numbers"),
        (lambda t: t.replace('fix = "f"\n', ""), "#1: missing key 'fix'"),
        (lambda t: t + "[[[", "invalid TOML"),
    ],
)
def test_load_baseline_errors_name_the_problem(fake_root, edit, message):
    toml = fake_root / "fake" / "bug.toml"
    toml.write_text(edit(toml.read_text()))
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        load_baseline(fake_root / "fake")


def test_load_baseline_without_toml(tmp_path):
    with pytest.raises(FileNotFoundError, match="bug.toml"):
        load_baseline(tmp_path)


def test_parse_result_and_epochs():
    out = textwrap.dedent("""\
        epoch 1 train_loss 2.3000 train_acc 0.1000 val_loss 2.2000 val_acc 0.1500
        noise
        epoch 2 train_loss nan train_acc 0.1000 val_loss inf val_acc 0.1000
        DEBUGKIT_RESULT {"train_loss": 1.0, "diverged": false}
        DEBUGKIT_RESULT {"train_loss": null, "val_acc": 0.1, "diverged": true}
        """)
    result = parse_result(out)
    assert math.isnan(result["train_loss"]) and result["val_acc"] == 0.1 and result["diverged"] is True
    assert parse_result("no result here\n") is None
    epochs = parse_epochs(out)
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert epochs[0] == {"epoch": 1, "train_loss": 2.3, "train_acc": 0.1, "val_loss": 2.2, "val_acc": 0.15}
    assert math.isnan(epochs[1]["train_loss"]) and math.isinf(epochs[1]["val_loss"])


def test_run_baseline_passes_arguments_and_reads_the_result(fake_root):
    r = run_baseline("fake", epochs=3, seed=7)
    assert r.ok and r.returncode == 0 and r.name == "fake" and not r.fixed
    assert r.args == ["--epochs", "3", "--seed", "7"] and r.script.name == "train.py"
    assert r.train_loss == 3 and r.train_acc == 7 and r.val_acc == 0.125  # helper found via PYTHONPATH
    assert math.isnan(r.val_loss) and r.diverged and r.test_acc == 0.0
    assert len(r.epochs) == 3 and r.epochs[2]["train_acc"] == 0.3
    assert "DEBUGKIT_RESULT" in r.stdout and r.duration > 0
    fixed = run_baseline(get_baseline("fake"), fixed=True)
    assert fixed.fixed and fixed.script.name == "train_fixed.py" and fixed.test_acc == 1.0
    assert fixed.args == [] and len(fixed.epochs) == 2  # the script's own defaults


def test_run_baseline_failures(fake_root):
    with pytest.raises(BaselineRunError, match="(?s)exited with status 1.*boom"):
        run_baseline("fake", extra_args=["--crash"])
    with pytest.raises(BaselineRunError, match="printed no DEBUGKIT_RESULT line"):
        run_baseline("fake", extra_args=["--silent"])
    r = run_baseline("fake", extra_args=["--silent"], check=False)
    assert not r.ok and r.metrics is None
    with pytest.raises(BaselineRunError, match="DEBUGKIT_RESULT"):
        r.val_acc
    with pytest.raises(BaselineRunError, match="did not finish within 1 s"):
        run_baseline("fake", extra_args=["--sleep", "30"], timeout=1)
    with pytest.raises(KeyError):
        run_baseline("missing")


def test_run_baseline_uses_this_interpreter_and_extra_env(fake_root):
    d = fake_root / "envcheck"
    d.mkdir()
    (d / "bug.toml").write_text(FAKE_TOML)
    script = ("import json, os, sys\nprint('DEBUGKIT_RESULT ' + json.dumps({'exe': sys.executable, "
              "'flag': os.environ.get('MY_FLAG'), 'diverged': False}))\n")
    (d / "train.py").write_text(script)
    (d / "train_fixed.py").write_text(script)
    r = run_baseline("envcheck", env={"MY_FLAG": "on"})
    assert r.metrics["exe"] == sys.executable and r.metrics["flag"] == "on"


def test_format_catalogue(fake_root):
    plain = format_catalogue()
    assert plain.splitlines()[0].split() == ["name", "model", "bugs", "symptom"]
    assert "fake" in plain and "nothing works" in plain
    assert "instrument" not in plain and "lr_too_high" not in plain  # no spoilers without key
    key = format_catalogue(key=True)
    assert "- lr_too_high (train.py line 3)" in key and "instrument: loss" in key and "fix: f" in key


def test_format_catalogue_of_the_real_catalogue(monkeypatch):
    monkeypatch.delenv("DEBUGKIT_BASELINES", raising=False)
    baselines = list_baselines()
    plain = format_catalogue()
    assert len(plain.splitlines()) == len(baselines) + 1
    for b in baselines:
        assert b.name in plain and b.symptom in plain
        assert all(bug.fix not in plain for bug in b.bugs)
    key = format_catalogue(key=True)
    assert all(f"fix: {bug.fix}" in key for b in baselines for bug in b.bugs)


def test_write_key(fake_root, tmp_path):
    path = write_key()
    assert path == fake_root / "KEY.md"
    text = path.read_text()
    assert text == format_key() and text.startswith("# Bugged baselines: instructor key")
    assert "| [fake](#fake) | mlp | `lr_too_high` (3) | nothing works |" in text
    assert "### `lr_too_high` — train.py line 3" in text and "- **Fix:** f" in text
    other = write_key(tmp_path / "elsewhere.md")
    assert other.read_text() == text


def test_script_runs_as_notebook_cells(monkeypatch):
    """Converted to a notebook, a script has no __file__ and Jupyter's own argv; it must still run."""
    monkeypatch.delenv("DEBUGKIT_BASELINES", raising=False)
    b = get_baseline("lr_too_low")
    code = ("import sys; sys.argv = ['ipykernel_launcher.py', '-f', '/tmp/kernel-1.json', '--epochs', '1']\n"
            "exec(compile(open('train.py').read(), '<notebook cell>', 'exec'), {'__name__': '__main__'})\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=b.path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(parse_epochs(proc.stdout)) == 1 and parse_result(proc.stdout) is not None


def test_script_env_puts_the_baselines_folder_first(fake_root, monkeypatch, tmp_path):
    from debugkit.baselines import script_env

    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    env = script_env({"X": "1"})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(fake_root.resolve()), "/somewhere/else"]
    assert env["X"] == "1" and env["PYTHONUNBUFFERED"] == "1"
    assert script_env(root=tmp_path)["PYTHONPATH"].split(os.pathsep)[0] == str(tmp_path)
