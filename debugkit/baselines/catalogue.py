"""The catalogue of bugged baselines: ``buggy_baselines/<name>/{train.py, train_fixed.py, bug.toml}``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ENV_VAR = "DEBUGKIT_BASELINES"

#: Finding ids a baseline's bugs may carry (the ids ``debugkit diagnose`` reports).
BUG_IDS: tuple[str, ...] = (
    "lr_too_high",
    "lr_too_low",
    "missing_zero_grad",
    "double_softmax",
    "unnormalized_inputs",
    "bad_init_scale",
    "symmetric_init",
    "dead_relu",
    "saturated_activations",
    "label_noise",
    "unshuffled_data",
    "frozen_params",
    "detached_graph",
    "clip_too_aggressive",
    "weight_decay_too_high",
    "lr_schedule_increasing",
    "eval_mode_training",
    "val_from_train_split",
    "val_own_normalization",
    "bad_augmentation",
)

#: Values of a baseline's ``model`` field.
MODEL_KINDS: tuple[str, ...] = ("mlp", "cnn", "softmax")


class UnknownBaselineError(KeyError, ValueError):
    """No baseline of that name; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Bug:
    """One planted bug: where it is in ``train.py`` and how to find and fix it.

    ``lines`` are 1-based line numbers in ``train.py``: the lines the fix changes or deletes; where the
    fix only inserts code (e.g. a missing ``optimizer.zero_grad()``), the line after which it goes.
    """

    id: str
    lines: tuple[int, ...]
    description: str
    symptom: str
    instrument: str
    fix: str


@dataclass(frozen=True)
class Baseline:
    """A bugged training script, its fixed counterpart and the metadata in ``bug.toml``.

    ``effect`` (optional in ``bug.toml``) records the measured damage, e.g. bugged vs fixed accuracy.

    Example:
        >>> from debugkit.baselines import get_baseline
        >>> b = get_baseline("lr_too_high")
        >>> b.bug_ids, b.script.name
        (('lr_too_high',), 'train.py')
    """

    name: str
    title: str
    symptom: str
    model: str
    multi: bool
    bugs: tuple[Bug, ...]
    path: Path
    effect: str = ""

    @property
    def script(self) -> Path:
        """The bugged script handed to students."""
        return self.path / "train.py"

    @property
    def fixed_script(self) -> Path:
        """The fixed counterpart; differs from :attr:`script` only on the bug lines."""
        return self.path / "train_fixed.py"

    @property
    def metadata(self) -> Path:
        """The ``bug.toml`` this baseline was read from."""
        return self.path / "bug.toml"

    @property
    def bug_ids(self) -> tuple[str, ...]:
        return tuple(bug.id for bug in self.bugs)

    @property
    def bug_lines(self) -> tuple[int, ...]:
        """All bug lines of ``train.py``, sorted."""
        return tuple(sorted({line for bug in self.bugs for line in bug.lines}))


def baselines_dir() -> Path:
    """The folder holding the baselines: ``$DEBUGKIT_BASELINES`` or the repository's ``buggy_baselines/``.

    Raises:
        FileNotFoundError: when the folder does not exist (e.g. debugkit installed from a wheel,
            without the repository); set ``DEBUGKIT_BASELINES`` to a checkout's ``buggy_baselines``.
    """
    override = os.environ.get(ENV_VAR)
    if override:
        path = Path(override).expanduser().resolve()
        where = f"${ENV_VAR}={override}"
    else:
        path = Path(__file__).resolve().parents[2] / "buggy_baselines"
        where = "the repository next to the debugkit package"
    if not path.is_dir():
        raise FileNotFoundError(
            f"no baselines folder at {path} (from {where}); set {ENV_VAR} to the buggy_baselines/ folder "
            "of a debugkit checkout"
        )
    return path


def _need(table: dict, key: str, kind: type, where: Path):
    if key not in table:
        raise ValueError(f"{where}: missing key {key!r}")
    value = table[key]
    if not isinstance(value, kind):
        raise ValueError(f"{where}: {key!r} must be a {kind.__name__}, got {value!r}")
    return value


def load_baseline(path: str | Path) -> Baseline:
    """Read one baseline folder (its ``bug.toml``); the folder's name is the baseline's name.

    Raises:
        FileNotFoundError: no ``bug.toml`` in the folder.
        ValueError: a key is missing or has the wrong type.
    """
    path = Path(path)
    toml = path / "bug.toml"
    if not toml.is_file():
        raise FileNotFoundError(f"{toml} does not exist; a baseline folder needs bug.toml, train.py and train_fixed.py")
    with toml.open("rb") as f:
        try:
            data = tomllib.load(f)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{toml}: invalid TOML: {err}") from err
    bugs = []
    for i, entry in enumerate(_need(data, "bugs", list, toml)):
        where = Path(f"{toml} [[bugs]] #{i + 1}")
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: must be a table")
        lines = _need(entry, "lines", list, where)
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in lines):
            raise ValueError(f"{where}: 'lines' must be a list of line numbers, got {lines!r}")
        bugs.append(
            Bug(
                id=_need(entry, "id", str, where),
                lines=tuple(lines),
                description=_need(entry, "description", str, where),
                symptom=_need(entry, "symptom", str, where),
                instrument=_need(entry, "instrument", str, where),
                fix=_need(entry, "fix", str, where),
            )
        )
    return Baseline(
        name=path.name,
        title=_need(data, "title", str, toml),
        symptom=_need(data, "symptom", str, toml),
        model=_need(data, "model", str, toml),
        multi=_need(data, "multi", bool, toml),
        bugs=tuple(bugs),
        path=path,
        effect=_need(data, "effect", str, toml) if "effect" in data else "",
    )


def list_baselines(root: str | Path | None = None) -> list[Baseline]:
    """All baselines (folders with a ``bug.toml``) in ``root`` (default :func:`baselines_dir`), by name."""
    root = Path(root) if root is not None else baselines_dir()
    return [load_baseline(p) for p in sorted(root.iterdir()) if (p / "bug.toml").is_file()]


def get_baseline(name: str, root: str | Path | None = None) -> Baseline:
    """The baseline called ``name``.

    Raises:
        UnknownBaselineError: (a ``KeyError`` and ``ValueError``) no such baseline; the message lists
            the valid names.
    """
    root = Path(root) if root is not None else baselines_dir()
    path = root / name
    if name and "/" not in name and "\\" not in name and (path / "bug.toml").is_file():
        return load_baseline(path)
    names = ", ".join(b.name for b in list_baselines(root))
    raise UnknownBaselineError(f"no baseline called {name!r} in {root}; choose one of: {names}")
