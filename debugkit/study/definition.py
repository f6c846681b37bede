"""Study definitions: what to vary around a base config, from Python or a TOML file.

A study file names its ``kind``, the ``[base]`` training config and what to vary::

    kind = "ablation"
    name = "regularisation"
    seeds = 3                      # per configuration: a count (0, 1, 2) or a list

    [base]
    dataset = "digits"
    epochs = 10
    [base.model]
    name = "mlp"
    hidden = [64]
    dropout = 0.2

    [[changes]]
    name = "no dropout"
    changes = { "model.dropout" = 0.0 }

    [[changes]]
    name = "adam"
    changes = { optimizer = "adam", lr = 0.001 }

Other kinds: ``lr-batch`` (``lrs = [...]``, ``batch_sizes = [...]``), ``seeds``
(``seeds = 10``), ``cv`` (``folds = 5``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import tomllib

from debugkit.train.config import ConfigError, TrainConfig

#: Study kinds and the options each one reads (besides ``seeds``).
KINDS: dict[str, tuple[str, ...]] = {
    "lr-batch": ("lrs", "batch_sizes"),
    "seeds": (),
    "cv": ("folds",),
    "ablation": ("changes",),
}
#: Seeds per configuration when a study does not say.
DEFAULT_SEEDS = {"lr-batch": 2, "seeds": 5, "cv": 1, "ablation": 3}
FILE_KEYS = ("kind", "name", "base", "seeds", "lrs", "batch_sizes", "folds", "changes", "tuning_budgets", "metric")


@dataclass
class Change:
    """One named variant of an ablation: dotted config keys -> new values."""

    name: str
    changes: dict[str, Any]


@dataclass
class StudyDefinition:
    """A study: its kind, base config and what varies.

    Attributes:
        kind: One of :data:`KINDS`.
        base: The configuration everything starts from.
        name: Study name (labels groups and plots).
        seeds: Seeds run for every configuration (for ``cv``: the seed of every fold).
        lrs, batch_sizes: The ``lr-batch`` grid.
        folds: Number of folds of ``cv``.
        changes: The ``ablation`` variants (the baseline is added automatically).
        tuning_budgets: Optional trials spent tuning each configuration, e.g.
            ``{"baseline": 20, "adam": 5}``; unequal budgets draw a warning.
        metric: Metric the comparisons use (a per-epoch column, default ``val_acc``).
    """

    kind: str
    base: TrainConfig
    name: str = ""
    seeds: list[int] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    batch_sizes: list[int | str] = field(default_factory=list)
    folds: int = 5
    changes: list[Change] = field(default_factory=list)
    tuning_budgets: dict[str, int] = field(default_factory=dict)
    metric: str = "val_acc"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"study kind {self.kind!r} is not valid; choose one of {', '.join(KINDS)}")
        if not isinstance(self.base, TrainConfig):
            self.base = TrainConfig.from_dict(self.base, source="[base]")
        self.name = self.name or self.kind
        self.seeds = _seed_list(self.seeds if self.seeds not in (None, [], 0) else DEFAULT_SEEDS[self.kind])
        self.changes = [c if isinstance(c, Change) else _as_change(c, i) for i, c in enumerate(self.changes or [])]
        problems = []
        if self.kind == "lr-batch":
            if not self.lrs:
                self.lrs = [self.base.lr]
            if not self.batch_sizes:
                self.batch_sizes = [self.base.batch_size]
            for lr in self.lrs:
                if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0:
                    problems.append(f"lrs must be positive numbers, got {lr!r}")
            for bs in self.batch_sizes:
                if bs != "full" and (isinstance(bs, bool) or not isinstance(bs, int) or bs < 1):
                    problems.append(f"batch_sizes must be positive integers or \"full\", got {bs!r}")
        if self.kind == "cv" and (isinstance(self.folds, bool) or not isinstance(self.folds, int) or self.folds < 2):
            problems.append(f"folds must be an integer >= 2, got {self.folds!r}")
        if self.kind == "ablation":
            if not self.changes:
                problems.append("an ablation needs at least one entry in changes, e.g. "
                                "[[changes]] name = \"no dropout\" changes = { \"model.dropout\" = 0.0 }")
            names = [c.name for c in self.changes]
            if "baseline" in names or len(set(names)) != len(names):
                problems.append(f"change names must be unique and not 'baseline', got {names}")
            for c in self.changes:
                try:
                    self.base.with_changes(c.changes)
                except ConfigError as exc:
                    problems.append(f"change {c.name!r}: {exc}")
        if problems:
            raise ConfigError("invalid study definition:\n  - " + "\n  - ".join(problems))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> "StudyDefinition":
        where = f" in {source}" if source else ""
        unknown = [k for k in data if k not in FILE_KEYS]
        if unknown:
            raise ConfigError(f"unknown study key(s) {unknown}{where}; valid keys: {', '.join(FILE_KEYS)}")
        if "kind" not in data:
            raise ConfigError(f"a study needs a kind{where} (one of {', '.join(KINDS)})")
        if "base" not in data:
            raise ConfigError(f"a study needs a [base] table with the training config{where}")
        data = dict(data)
        data["base"] = TrainConfig.from_dict(data["base"], source=f"[base]{where}")
        return cls(**data)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "StudyDefinition":
        """Read a study TOML file (see the module docstring)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"study file {str(path)!r} does not exist")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        return cls.from_dict(data, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "seeds": list(self.seeds),
                               "metric": self.metric, "base": self.base.to_dict()}
        if self.kind == "lr-batch":
            out.update(lrs=list(self.lrs), batch_sizes=list(self.batch_sizes))
        if self.kind == "cv":
            out["folds"] = self.folds
        if self.kind == "ablation":
            out["changes"] = [{"name": c.name, "changes": dict(c.changes)} for c in self.changes]
        if self.tuning_budgets:
            out["tuning_budgets"] = dict(self.tuning_budgets)
        return out


def load_study(path: str | os.PathLike) -> StudyDefinition:
    """Read a study definition from TOML (shortcut for :meth:`StudyDefinition.load`)."""
    return StudyDefinition.load(path)


def _seed_list(seeds: int | Sequence[int]) -> list[int]:
    if isinstance(seeds, bool):
        raise ConfigError(f"seeds must be a count or a list of integers, got {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ConfigError(f"seeds must be at least 1, got {seeds}")
        return list(range(seeds))
    out = list(seeds)
    if not out or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in out):
        raise ConfigError(f"seeds must be a count or a list of non-negative integers, got {seeds!r}")
    if len(set(out)) != len(out):
        raise ConfigError(f"seeds must not repeat, got {out}")
    return out


def _as_change(c: Any, i: int) -> Change:
    if isinstance(c, Mapping) and set(c) <= {"name", "changes"} and isinstance(c.get("changes"), Mapping):
        return Change(name=str(c.get("name") or f"change {i + 1}"), changes=dict(c["changes"]))
    raise ConfigError(f"changes[{i}] must look like {{name = \"no dropout\", changes = {{\"model.dropout\" = 0.0}}}}, "
                      f"got {c!r}")
