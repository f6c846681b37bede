"""Build an exercise notebook: the bugged script as cells, debugkit instrumentation, a logbook template."""

from __future__ import annotations

import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from debugkit.baselines import Baseline, baselines_dir
from debugkit.exercise import templates as T
from debugkit.exercise.catalogue import exercise_baseline
from debugkit.exercise.cells import (
    ScriptCell,
    adapt_for_notebook,
    has_default,
    split_cells,
)
from debugkit.exercise.planting import PlantedScript, choose_bugs, plant

#: Version of the notebook layout and metadata written by :func:`new_exercise`.
EXERCISE_FORMAT = 1
NOTEBOOK_NAME = "notebook.ipynb"
METADATA_KEY = "debugkit"

_OPTIMIZER = re.compile(r"^\s*(?P<name>\w+)\s*=\s*(?:torch\.)?optim\.\w+\(", re.MULTILINE)
_PARAMS_OF = re.compile(r"(?P<name>\w+)(?:\.\w+|\[[^\]]*\])*\.parameters\(\)")
_TRAINS = re.compile(r"\.backward\(|\.step\(")


@dataclass
class BugLocation:
    """Where a planted bug sits in the notebook.

    Attributes:
        cell: Index of the cell in the notebook (0-based, as ``nb.cells[cell]``).
        lines: 1-based lines within that cell.
        code: The text of those lines.
        missing_after: The lines (of :attr:`lines`) after which code is missing, rather than wrong.
    """

    cell: int
    lines: list[int]
    code: list[str]
    missing_after: list[int] = field(default_factory=list)


@dataclass
class BuiltExercise:
    """The cells of an exercise notebook and where its bugs are (before it is written)."""

    baseline: Baseline
    bugs: list[str]
    seed: int | None
    epochs: int | None
    randomize: bool
    cells: list  # nbformat cells
    locations: dict[str, list[BugLocation]] = field(default_factory=dict)

    @property
    def metadata(self) -> dict:
        import debugkit

        return {"baseline": self.baseline.name, "bugs": list(self.bugs), "seed": self.seed,
                "version": debugkit.__version__, "format": EXERCISE_FORMAT, "randomize": self.randomize,
                "epochs": self.epochs}


def _tagged(cell, tag: str):
    cell.metadata["tags"] = [tag]
    return cell


def _markdown(text: str) -> str:
    """A script's Markdown cell for a notebook: without the script's command-line usage line."""
    lines = [line for line in text.split("\n") if not re.search(r"`python [\w./-]+\.py\b", line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _place_monitor(cells: list[ScriptCell], name: str) -> tuple[int, str, str]:
    """Index of the script cell after which the monitor goes, and the model and optimizer names."""
    code = [(i, c) for i, c in enumerate(cells) if c.kind == "code"]
    opt = [(i, c) for i, c in code if _OPTIMIZER.search(c.source)]
    if not opt:
        raise ValueError(f"{name}: no cell creates a torch.optim optimizer; the monitor cannot be attached")
    at, cell = opt[-1]
    optimizer = _OPTIMIZER.findall(cell.source)[-1]
    params = _PARAMS_OF.search(cell.source)
    model = params.group("name") if params else "model"
    if _TRAINS.search(cell.source):
        raise ValueError(f"{name}: the cell that creates the optimizer also trains; the monitor needs a cell "
                         "boundary (# %%) between them")
    if not any(_TRAINS.search(c.source) for i, c in code if i > at):
        raise ValueError(f"{name}: no training cell (with .backward() or .step()) follows the optimizer cell")
    return at, model, optimizer


def build_exercise(baseline: str | Baseline, bugs: list[str] | None = None, *, seed: int | None = None,
                   epochs: int | None = None, randomize: bool = False) -> BuiltExercise:
    """The cells of the notebook planting ``bugs`` (all of the baseline's if None) and where each bug is.

    Deterministic: the same arguments give the same cells (the instructor key relies on it).
    """
    from nbformat import v4

    b = baseline if isinstance(baseline, Baseline) else exercise_baseline(baseline)
    planted: PlantedScript = plant(b, bugs)
    text = adapt_for_notebook(planted.text, seed=seed, epochs=epochs)
    if seed is not None and not has_default(text, "--seed"):
        raise ValueError(f"{b.name}: train.py has no add_argument('--seed', ..., default=N) line to set the seed in")
    script_cells = split_cells(text)
    after, model, optimizer = _place_monitor(script_cells, b.name)
    last_code = max(i for i, c in enumerate(script_cells) if c.kind == "code")

    cells = [_tagged(v4.new_markdown_cell(T.task_text(b.title, b.symptom, multi=len(planted.bugs) > 1,
                                                      randomized=set(planted.bugs) != set(b.bug_ids))),
                   T.TAG_TASK)]
    where: dict[int, int] = {}  # script cell → notebook cell
    for i, c in enumerate(script_cells):
        where[i] = len(cells)
        cells.append(v4.new_code_cell(c.source) if c.kind == "code" else v4.new_markdown_cell(_markdown(c.source)))
        if i == after:
            cells.append(_tagged(v4.new_code_cell(T.monitor_cell(model, optimizer)), T.TAG_INSTRUMENTATION))
        if i == last_code:
            cells.append(_tagged(v4.new_code_cell(T.dashboard_cell()), T.TAG_INSTRUMENTATION))
    cells.append(_tagged(v4.new_markdown_cell(T.logbook_intro()), T.TAG_LOGBOOK))
    for n in (1, 2):
        cells.append(_tagged(v4.new_markdown_cell(T.logbook_entry(n)), T.TAG_LOGBOOK))

    text_lines = text.split("\n")
    locations: dict[str, list[BugLocation]] = {}
    for bid, lines in planted.lines.items():
        found: dict[int, BugLocation] = {}
        for line in lines:
            for i, c in enumerate(script_cells):
                at = c.locate(line)
                if at is not None:
                    loc = found.setdefault(where[i], BugLocation(where[i], [], []))
                    loc.lines.append(at)
                    loc.code.append(text_lines[line - 1])
                    if line in planted.missing.get(bid, []):
                        loc.missing_after.append(at)
        locations[bid] = list(found.values())
    return BuiltExercise(b, planted.bugs, seed, epochs, randomize, cells, locations)


def new_exercise(baseline: str, out_dir: str | os.PathLike, *, seed: int | None = None, randomize: bool = False,
                 epochs: int | None = None, bugs: list[str] | None = None, overwrite: bool = False) -> Path:
    """Write ``out_dir/notebook.ipynb`` (and ``utils.py``): a debugging exercise built from a baseline.

    The notebook holds the task, the bugged ``train.py`` cut into cells at its ``# %%`` markers,
    debugkit cells (a monitor with a live cockpit before the training cell, the cockpit and the
    automatic diagnosis after the script) and a logbook template. The planted bugs are recorded in the
    notebook's metadata (``metadata.debugkit``), not in any cell.

    Args:
        baseline: Name of a baseline (see :func:`list_exercises`).
        out_dir: Folder to write to (created if missing).
        seed: Default of the script's ``--seed`` (data split, initialisation, shuffling); with
            ``randomize`` also the choice of bugs. ``None`` keeps the script's default (and draws a
            seed when randomising).
        randomize: Plant a random subset (at least two) of a multi-bug baseline's bugs, chosen by
            ``seed``, so neighbours get different notebooks; a single-bug baseline keeps its bug
            (the seed still changes data split and initialisation).
        epochs: Default of the script's ``--epochs`` (None keeps it).
        bugs: Plant exactly these bug ids (instead of all, or a random subset with ``randomize``).
        overwrite: Replace an existing notebook (otherwise it is an error: it may hold a student's work).

    Returns:
        The notebook's path.

    Raises:
        debugkit.baselines.UnknownBaselineError: unknown baseline (the message lists the valid names).
        FileExistsError: the notebook exists and ``overwrite`` is False.
        ValueError: ``bugs`` names a bug the baseline does not have, or is given with ``randomize``.

    Example:
        >>> new_exercise("numerics_exercise", "ex/ada", seed=3, randomize=True)   # doctest: +SKIP
        PosixPath('ex/ada/notebook.ipynb')
    """
    import nbformat
    from nbformat import v4

    b = exercise_baseline(baseline)
    out = Path(out_dir)
    path = out / NOTEBOOK_NAME
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists (it may hold a student's work); choose another folder or pass "
                              "overwrite=True (--force)")
    if randomize and bugs is not None:
        raise ValueError("give either bugs=[...] (plant these) or randomize=True (a random subset), not both")
    if bugs is not None and not bugs:
        raise ValueError(f"bugs=[] plants nothing; choose from {', '.join(b.bug_ids)}")
    if randomize and seed is None:
        seed = secrets.randbelow(1_000_000)
    if randomize:
        bugs = choose_bugs(b, seed)
    built = build_exercise(b, bugs, seed=seed, epochs=epochs, randomize=randomize)

    nb = v4.new_notebook()
    nb.cells = built.cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata[METADATA_KEY] = built.metadata
    nbformat.validate(nb)
    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    shutil.copyfile(baselines_dir() / "utils.py", out / "utils.py")
    return path


def notebook_path(path: str | os.PathLike) -> Path:
    """``path`` itself if it is a notebook file, else ``path/notebook.ipynb``."""
    p = Path(path)
    if p.is_dir():
        p = p / NOTEBOOK_NAME
    if not p.is_file():
        raise FileNotFoundError(f"no exercise notebook at {p}; create one with `debugkit exercise new BASELINE --out DIR`")
    return p


def read_exercise(path: str | os.PathLike):
    """The notebook at ``path`` (a notebook or its folder) and its ``metadata.debugkit``.

    Raises:
        FileNotFoundError: no notebook there.
        ValueError: the notebook has no debugkit metadata (it was not made by ``debugkit exercise new``,
            or the metadata was removed), or it is not a valid notebook.
    """
    import nbformat

    p = notebook_path(path)
    try:
        nb = nbformat.read(p, as_version=4)
    except Exception as exc:  # nbformat raises several kinds on broken JSON
        raise ValueError(f"{p} is not a readable Jupyter notebook: {type(exc).__name__}: {exc}") from exc
    meta = nb.metadata.get(METADATA_KEY)
    if not isinstance(meta, dict) or "baseline" not in meta or "bugs" not in meta:
        raise ValueError(
            f"{p} has no debugkit exercise metadata (metadata.{METADATA_KEY} with 'baseline' and 'bugs'): it was not "
            "created by `debugkit exercise new`, or its metadata was edited. Check the notebook the student was given, "
            "or re-create it with the same baseline and --seed."
        )
    return nb, dict(meta)


def rebuild(meta: dict) -> BuiltExercise:
    """The exercise a notebook's metadata describes, built again (for keys and checks)."""
    return build_exercise(meta["baseline"], list(meta["bugs"]), seed=meta.get("seed"), epochs=meta.get("epochs"),
                          randomize=bool(meta.get("randomize")))
