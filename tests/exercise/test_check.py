"""End to end: generated notebooks executed with nbclient, re-run under debugkit diagnose, judged.

Fixes are written differently from the key (another learning rate, another way to clear gradients
or to split off validation data), so a pass means the check judged behaviour, not text.
Epochs are lowered to keep the whole file within a few minutes on two cores; the fixed-baseline
references are shared by the tests through one cache folder.
"""

import json
import subprocess
import sys

import nbformat
import pytest

from debugkit.exercise import FIXED, NOT_FIXED, check_notebook, new_exercise

pytestmark = pytest.mark.slow

NUMERICS = {"seed": 1, "epochs": 5}
SMALL = {"epochs": 4}


@pytest.fixture(scope="module", autouse=True)
def python3_kernel():
    """The notebooks name the kernel ``python3``; register this interpreter as one where none exists."""
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--user", "--name", "python3"], check=True)


@pytest.fixture(scope="module")
def reference_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("reference")


def edit(path, *changes):
    """Apply ``(old, new)`` text replacements to the one student code cell holding ``old`` each."""
    nb = nbformat.read(path, as_version=4)
    for old, new in changes:
        cells = [c for c in nb.cells if c.cell_type == "code" and old in c.source and not c.metadata.get("tags")]
        assert len(cells) == 1, f"{old!r} is in {len(cells)} cells"
        cells[0].source = cells[0].source.replace(old, new)
    nbformat.write(nb, path)
    return path


def add_markdown(path, text):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(text))
    nbformat.write(nb, path)


def check(path, reference_dir, **kw):
    kw.setdefault("dashboard", False)
    return check_notebook(path, reference_dir=reference_dir, progress=False, timeout=400, **kw)


def test_untouched_single_bug_notebook_is_not_fixed(tmp_path, reference_dir):
    path = new_exercise("lr_too_low", tmp_path / "ex", **SMALL)
    report = check(path, reference_dir, json_path=tmp_path / "report.json")
    assert report.execution.ok, report.format()
    assert report.statuses == {"lr_too_low": NOT_FIXED}, report.format()
    assert report.rerun["steps"] > 100 and report.band is not None
    assert report.logbook.entries == [] and report.logbook.empty_templates == 2
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["bugs"][0]["id"] == "lr_too_low" and data["bugs"][0]["status"] == NOT_FIXED
    assert data["summary"] == {"fixed": 0, "not fixed": 1, "unclear": 0}
    assert "not fixed  lr_too_low" in report.format()


def test_single_bug_fixed_another_way_is_fixed(tmp_path, reference_dir):
    # the key says lr=0.1; momentum with a smaller learning rate is as good a fix
    path = new_exercise("lr_too_low", tmp_path / "ex", **SMALL)
    edit(path, ("lr=1e-4)", "lr=0.05, momentum=0.9)"))
    report = check(path, reference_dir, execute=False)
    assert report.execution is None
    assert report.statuses == {"lr_too_low": FIXED}, report.format()
    assert report.evidence.get("heldout_acc") >= report.band[0]


def test_broken_cell_is_reported_and_the_check_goes_on(tmp_path, reference_dir):
    path = new_exercise("lr_too_low", tmp_path / "ex", **SMALL)
    edit(path, ("test_loss, test_acc = evaluate(X_test, y_test)",
                "test_loss, test_acc = evaluate(X_test, y_test)\nprint(undefined_name + 1)"))
    nb = nbformat.read(path, as_version=4)
    broken = next(i for i, c in enumerate(nb.cells) if "undefined_name" in c.source)
    report = check(path, reference_dir)
    ex = report.execution
    assert not ex.ok and [e.index for e in ex.errors] == [broken], report.format()
    assert ex.errors[0].error == "NameError: name 'undefined_name' is not defined"
    assert "test_loss, test_acc = evaluate(X_test, y_test)" in ex.errors[0].excerpt
    assert ex.errors[0].line == "print(undefined_name + 1)"
    assert f"cell [{broken}]: NameError" in report.format()
    # the training before the broken cell still ran in the re-run, and was judged
    assert report.rerun["crash"].startswith(f"cell [{broken}]: NameError")
    assert report.statuses == {"lr_too_low": NOT_FIXED}


def test_untouched_numerics_exercise_is_not_fixed_on_every_bug(tmp_path, reference_dir):
    path = new_exercise("numerics_exercise", tmp_path / "ex", **NUMERICS)
    report = check(path, reference_dir, dashboard=True)
    assert report.execution.ok, report.format()
    assert len(report.planted) == 6
    assert report.statuses == {b: NOT_FIXED for b in report.planted}, report.format()
    assert (tmp_path / "ex" / ".debugkit-check" / "notebook" / "student-run" / "cockpit.png").is_file()


def test_numerics_exercise_fixed_other_ways_than_the_key_is_fixed(tmp_path, reference_dir):
    path = new_exercise("numerics_exercise", tmp_path / "ex", **NUMERICS)
    edit(path,
         # key: train on perm[720:]; here: everything that is neither test nor validation
         ("train_idx = perm[360:]", "train_idx = np.setdiff1d(perm[360:], val_idx)"),
         # key: xavier_normal_ with the tanh gain
         ("nn.init.normal_(module.weight, mean=0.0, std=1.0)", "nn.init.xavier_uniform_(module.weight)"),
         # key: lr=0.05 and gamma=0.9
         ("lr=1e-4, momentum=0.9)", "lr=0.03, momentum=0.9)"),
         ("ExponentialLR(optimizer, gamma=1.5)", "CosineAnnealingLR(optimizer, T_max=args.epochs)"),
         # key: ±15 degrees
         ("degrees=(0, 180)", "degrees=(-10, 10)"),
         # key: optimizer.zero_grad()
         ("        loss.backward()",
          "        for p in model.parameters():\n            p.grad = None\n        loss.backward()"))
    add_markdown(path, "## 1. The loss explodes\n\n**Observation.** The loss grows after epoch 3.\n\n"
                       "**Hypothesis.** Gradients accumulate.\n\n**Experiment.** Clear .grad every step.\n\n"
                       "**Result.** The loss falls to 0.1.\n\n**Verdict.** confirmed — accumulated_grad is 0 now.")
    add_markdown(path, "## 2. Rotations\n\n**Observation.** 6 and 9 are confused.\n\n**Hypothesis.** Rotations.\n\n"
                       "**Verdict.** maybe")
    report = check(path, reference_dir, execute=False)
    assert report.statuses == {b: FIXED for b in report.planted}, report.format()
    lb = report.logbook
    assert len(lb.entries) == 2 and lb.complete == 1 and lb.verdicts == {"confirmed": 1}
    assert lb.entries[1].error and "maybe" in lb.entries[1].error


def test_randomized_subset_partly_fixed_with_model_zero_grad(tmp_path, reference_dir):
    path = new_exercise("numerics_exercise", tmp_path / "ex", bugs=["missing_zero_grad", "val_from_train_split"],
                        **NUMERICS)
    # zero_grad on the model instead of the optimizer; the validation split is left as it was
    edit(path, ("        output = model(xb)", "        model.zero_grad()\n        output = model(xb)"))
    report = check(path, reference_dir)
    assert report.execution.ok, report.format()
    assert report.statuses == {"missing_zero_grad": FIXED, "val_from_train_split": NOT_FIXED}, report.format()
