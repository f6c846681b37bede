"""Exercise notebooks, planting, keys, errors: fast tests (no kernel, no training)."""

import re

import nbformat
import pytest

import debugkit
from debugkit.baselines import (
    BUG_IDS,
    UnknownBaselineError,
    baselines_dir,
    get_baseline,
    list_baselines,
)
from debugkit.exercise import (
    exercise_key,
    format_exercises,
    list_exercises,
    new_exercise,
    read_exercise,
)
from debugkit.exercise.planting import bug_hunks, choose_bugs, plant
from debugkit.exercise.templates import TAG_INSTRUMENTATION, TAG_LOGBOOK, TAG_TASK


def tags(cell):
    return cell.metadata.get("tags", [])


def key_section(key, bug_id):
    """The part of an instructor key under the heading of ``bug_id``."""
    return re.search(rf"^## \d+\. `{bug_id}`$(.*?)(?=^## |\Z)", key, re.MULTILINE | re.DOTALL).group(1)


def student_code(nb):
    return [c.source for c in nb.cells if c.cell_type == "code" and not tags(c)]


def test_list_exercises_tells_symptoms_without_spoilers():
    exercises = list_exercises()
    names = [e.name for e in exercises]
    assert "numerics_exercise" in names and "lr_too_low" in names
    assert names == sorted(names)
    for e in exercises:
        b = get_baseline(e.name)
        assert (e.num_bugs, e.multi, e.symptom) == (len(b.bugs), b.multi, b.symptom)
        text = f"{e.title} {e.symptom}".lower()
        assert not [bid for bid in BUG_IDS if bid in text], e.name
    listing = format_exercises(exercises)
    assert len(listing.splitlines()) == len(exercises)
    assert "6 bugs" in next(line for line in listing.splitlines() if line.startswith("numerics_exercise"))


def test_new_exercise_structure_and_metadata(tmp_path):
    path = new_exercise("numerics_exercise", tmp_path / "ex", seed=5)
    assert path == tmp_path / "ex" / "notebook.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    meta = nb.metadata["debugkit"]
    baseline = get_baseline("numerics_exercise")
    assert meta["baseline"] == "numerics_exercise"
    assert meta["bugs"] == list(baseline.bug_ids)
    assert meta["seed"] == 5 and meta["version"] == debugkit.__version__
    assert nb.metadata["kernelspec"]["name"] == "python3"

    # no visible cell names a bug or says where it is
    visible = "\n".join(c.source for c in nb.cells)
    assert not [bid for bid in BUG_IDS if bid in visible]

    # utils.py next to the notebook, imported from the working directory
    assert (tmp_path / "ex" / "utils.py").read_text() == (baselines_dir() / "utils.py").read_text()
    code = "\n".join(student_code(nb))
    assert [line for line in code.splitlines() if "sys.path.insert" in line] == [
        "sys.path.insert(0, str(Path.cwd()))  # utils.py sits next to this notebook"]
    assert re.search(r"parse_args\(args=\[\]\)|parse_known_args\(\)", code)  # a kernel's argv is not the script's
    assert re.search(r'"--seed", type=int, default=5\)', code)

    # cells follow the script's # %% markers: same number of markdown cells, code lines in order
    script = baseline.script.read_text()
    assert sum(c.cell_type == "markdown" and not tags(c) for c in nb.cells) == script.count("# %% [markdown]")
    assert sum(c.cell_type == "code" and not tags(c) for c in nb.cells) == script.count("# %%\n")
    script_code = [line for line in script.splitlines() if line.strip() and not line.startswith("#")
                   and "sys.path.insert" not in line and "parse_args()" not in line and "--seed" not in line]
    cell_code = [line for line in code.splitlines() if line.strip() and not line.startswith("#")]
    assert [line for line in cell_code if line in script_code] == script_code

    # task first; monitor between the optimizer cell and the training cell; dashboard after the script
    assert tags(nb.cells[0]) == [TAG_TASK] and "logbook" in nb.cells[0].source.lower()
    index = {id(c): i for i, c in enumerate(nb.cells)}
    instr = [i for i, c in enumerate(nb.cells) if tags(c) == [TAG_INSTRUMENTATION]]
    assert len(instr) == 2
    opt = next(i for i, c in enumerate(nb.cells) if "optimizer = torch.optim" in c.source and not tags(c))
    train = next(i for i, c in enumerate(nb.cells) if ".backward()" in c.source and not tags(c))
    assert opt + 1 == instr[0] < train
    assert "debugkit.Monitor(model, optimizer" in nb.cells[instr[0]].source
    assert "add_callback(" in nb.cells[instr[0]].source and "LiveCockpit" in nb.cells[instr[0]].source
    last_code = max(index[id(c)] for c in nb.cells if c.cell_type == "code" and not tags(c))
    assert instr[1] == last_code + 1
    assert "monitor.diagnose()" in nb.cells[instr[1]].source and "plot_cockpit" in nb.cells[instr[1]].source

    # logbook template at the end, in the logbook format
    book = [c for c in nb.cells if tags(c) == [TAG_LOGBOOK]]
    assert book and nb.cells[-1] is book[-1]
    entry = book[1].source
    for section in ("Observation", "Hypothesis", "Experiment", "Result", "Verdict"):
        assert f"**{section}.**" in entry


def test_every_baseline_builds_a_notebook(tmp_path):
    for b in list_baselines():
        nb, meta = read_exercise(new_exercise(b.name, tmp_path / b.name))
        assert meta["bugs"] == list(b.bug_ids)
        assert sum(tags(c) == [TAG_INSTRUMENTATION] for c in nb.cells) == 2


def test_planting_all_bugs_gives_train_py_and_none_gives_train_fixed():
    for b in list_baselines():
        assert plant(b).text == b.script.read_text(), b.name
        assert plant(b, []).text == b.fixed_script.read_text(), b.name
        owned = {bid for h in bug_hunks(b) for bid in h.bug_ids}
        assert owned == set(b.bug_ids), b.name


def test_planting_a_subset_reapplies_only_those_hunks():
    b = get_baseline("numerics_exercise")
    p = plant(b, ["missing_zero_grad", "lr_too_low"])
    assert p.bugs == ["missing_zero_grad", "lr_too_low"]
    assert "optimizer.zero_grad()" not in p.text and "lr=1e-4" in p.text  # planted
    for fixed in ("perm[720:]", "gamma=0.9", "xavier_normal_", "degrees=(-15, 15)"):  # not planted
        assert fixed in p.text
    lines = p.text.splitlines()
    assert "lr=1e-4" in lines[p.lines["lr_too_low"][0] - 1]
    assert p.missing == {"missing_zero_grad": p.lines["missing_zero_grad"]}
    assert "loss = criterion(output, yb)" in lines[p.lines["missing_zero_grad"][0] - 1]
    with pytest.raises(ValueError, match="no bug.*'nope'.*missing_zero_grad"):
        plant(b, ["nope"])


def test_randomize_plants_different_subsets_and_the_key_matches(tmp_path):
    b = get_baseline("numerics_exercise")
    fixed_lines = {line.strip() for line in b.fixed_script.read_text().splitlines()}
    subsets = []
    for seed in range(6):
        path = new_exercise("numerics_exercise", tmp_path / f"s{seed}", seed=seed, randomize=True)
        nb, meta = read_exercise(path)
        assert meta["seed"] == seed and meta["randomize"] is True
        assert 2 <= len(meta["bugs"]) < len(b.bugs) and set(meta["bugs"]) <= set(b.bug_ids)
        assert meta["bugs"] == choose_bugs(b, seed)
        subsets.append(tuple(meta["bugs"]))
        code = "\n".join(student_code(nb))
        for bug in b.bugs:  # each bug's bugged line is in the notebook exactly when it is planted
            bugged = [b.script.read_text().splitlines()[n - 1].strip() for n in bug.lines]
            if bug.id == "missing_zero_grad":
                assert ("optimizer.zero_grad()" in code) == (bug.id not in meta["bugs"])
            else:
                assert all((line in code) == (bug.id in meta["bugs"]) for line in bugged), (seed, bug.id)

        key = exercise_key(path.parent)
        assert re.findall(r"^## \d+\. `(\w+)`", key, re.MULTILINE) == meta["bugs"]
        for bid in meta["bugs"]:
            bug = next(x for x in b.bugs if x.id == bid)
            section = key_section(key, bid)
            assert bug.fix in section and bug.description in section
            where = re.search(r"cell \[(\d+)\], line (\d+): `(.*)`", section)
            cell, line, text = int(where.group(1)), int(where.group(2)), where.group(3)
            assert nb.cells[cell].source.split("\n")[line - 1].strip() == text
            assert text not in fixed_lines or bid == "missing_zero_grad"  # the bugged line, not the fixed one
        for other in set(b.bug_ids) - set(meta["bugs"]):
            assert f"`{other}`" not in key
    assert len(set(subsets)) >= 4


def test_randomize_single_bug_baseline_keeps_the_bug_with_another_seed(tmp_path):
    seeds = {}
    for seed in (1, 2):
        nb, meta = read_exercise(new_exercise("lr_too_low", tmp_path / str(seed), seed=seed, randomize=True))
        assert meta["bugs"] == ["lr_too_low"]
        assert "lr=1e-4" in "\n".join(student_code(nb))
        seeds[seed] = re.search(r'"--seed", type=int, default=(\d+)\)', "\n".join(student_code(nb))).group(1)
    assert seeds == {1: "1", 2: "2"}
    _, meta = read_exercise(new_exercise("lr_too_low", tmp_path / "drawn", randomize=True))
    assert isinstance(meta["seed"], int)  # drawn, and kept so the key can be rebuilt


def test_key_of_the_full_notebook_lists_every_bug_with_its_cell(tmp_path):
    path = new_exercise("numerics_exercise", tmp_path / "ex")
    key = exercise_key(tmp_path / "ex")
    assert re.findall(r"^## \d+\. `(\w+)`", key, re.MULTILINE) == list(get_baseline("numerics_exercise").bug_ids)
    assert "something is missing after cell [" in key_section(key, "missing_zero_grad")
    nb = nbformat.read(path, as_version=4)
    # the student moves the learning-rate line and deletes the rotation line: the key says so
    cell = next(c for c in nb.cells if "lr=1e-4" in c.source)
    cell.source = "# tuning\n" + cell.source
    train = next(c for c in nb.cells if "degrees=(0, 180)" in c.source)
    train.source = "\n".join(line for line in train.source.split("\n") if "degrees=(0, 180)" not in line)
    nbformat.write(nb, path)
    key = exercise_key(path)
    assert "(moved since the notebook was created)" in key_section(key, "lr_too_low")
    assert "no longer in the notebook" in key_section(key, "bad_augmentation")
    assert "moved" not in key_section(key, "val_from_train_split")


def test_explicit_bug_choice(tmp_path):
    _, meta = read_exercise(new_exercise("numerics_exercise", tmp_path / "a", bugs=["lr_too_low", "missing_zero_grad"],
                                         seed=3, epochs=4))
    assert meta["bugs"] == ["missing_zero_grad", "lr_too_low"] and meta["epochs"] == 4
    with pytest.raises(ValueError, match="not both"):
        new_exercise("numerics_exercise", tmp_path / "b", bugs=["lr_too_low"], randomize=True)
    with pytest.raises(ValueError, match="no bug.*dead_relu"):
        new_exercise("numerics_exercise", tmp_path / "c", bugs=["dead_relu"])


def test_clear_errors(tmp_path):
    with pytest.raises(UnknownBaselineError, match="nope.*numerics_exercise"):
        new_exercise("nope", tmp_path / "x")
    new_exercise("lr_too_low", tmp_path / "x")
    with pytest.raises(FileExistsError, match="overwrite"):
        new_exercise("lr_too_low", tmp_path / "x")
    new_exercise("lr_too_high", tmp_path / "x", overwrite=True)
    assert read_exercise(tmp_path / "x")[1]["baseline"] == "lr_too_high"

    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    nbformat.write(plain, tmp_path / "plain.ipynb")
    with pytest.raises(ValueError, match="no debugkit exercise metadata"):
        exercise_key(tmp_path / "plain.ipynb")
    with pytest.raises(FileNotFoundError, match="no exercise notebook"):
        exercise_key(tmp_path / "missing")
    (tmp_path / "broken.ipynb").write_text("{not json")
    with pytest.raises(ValueError, match="not a readable Jupyter notebook"):
        read_exercise(tmp_path / "broken.ipynb")
