"""``TrainConfig``: everything one training run needs, as a dataclass and a flat TOML file.

A config file is flat: top-level keys for data, optimisation and bookkeeping, plus a few
tables (``[model]``, ``[augment]``, ``[schedule_params]``, ``[init]``)::

    dataset = "digits"
    optimizer = "sgd"
    lr = 0.1
    batch_size = 32          # or "full" for full-batch gradient descent
    epochs = 20
    seed = 0
    group = "baseline"

    [model]
    name = "mlp"
    hidden = [64]
    dropout = 0.2

TOML has no ``null``: optional keys (``image_size``, ``limit``, ``max_steps``, ...) are left
out to mean "not set", and ``normalize = "none"`` switches normalisation off.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import tomllib

#: Optimizer names (``sgd`` is plain SGD without momentum, as the course asks first).
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
#: Learning-rate schedules and the parameters each one reads from ``schedule_params``.
SCHEDULES: dict[str, tuple[str, ...]] = {
    "none": (),
    "step": ("step_size", "gamma"),
    "exponential": ("gamma",),
    "cosine": ("t_max", "eta_min"),
    "onecycle": ("max_lr", "pct_start"),
}
#: Keys whose value is a table, so dotted keys (``model.hidden``) can reach inside.
TABLE_KEYS = ("model", "augment", "schedule_params", "init")


class ConfigError(ValueError):
    """A training config names an unknown key or holds an invalid value.

    The message names every offending key and, where there is a fixed set, the valid choices.
    """


def _default_model() -> dict[str, Any]:
    return {"name": "mlp", "hidden": [64]}


@dataclass
class TrainConfig:
    """Everything that defines one training run (data, model, optimiser, budget, seed).

    Attributes:
        dataset: Data set name (``digits``, ``mnist``, ``fashion_mnist``, ``cifar10``, ``svhn``).
        data_root: Where torchvision data sets live (default ``./data``).
        download: Fetch missing torchvision files (needs network).
        image_size: Resize images to this size (int or ``[H, W]``).
        channels: Convert to 1 or 3 channels.
        normalize: ``per_channel``, ``per_pixel`` or ``None`` (``"none"`` in TOML).
        augment: Training augmentation, e.g. ``{"hflip": True, "rotation": 15}``.
        val_fraction, test_fraction: Split fractions (see :func:`debugkit.data.load_dataset`).
        limit: Keep at most this many examples per split.
        data_seed: Seed of the train/val/test split (kept fixed while ``seed`` varies).
        cv_folds, cv_fold: k-fold cross-validation on train+val: train on all folds but
            ``cv_fold`` (0-based), validate on it. ``None``: the ordinary split.
        model: Spec for :func:`debugkit.models.build_model` (``{"name": "mlp", ...}``).
        init: Weight initialisation scheme name (or ``{"scheme": ..., "std": ...}``).
        optimizer: One of :data:`OPTIMIZERS`.
        lr: Learning rate.
        momentum: Momentum of the ``momentum`` optimizer.
        weight_decay: L2 penalty (decoupled for ``adamw``).
        betas: Adam's ``(β1, β2)``.
        schedule: One of :data:`SCHEDULES`; ``schedule_params`` holds its parameters.
        batch_size: Examples per step, or ``"full"`` for full-batch gradient descent.
        epochs: Passes over the training split.
        max_steps: Stop after this many optimizer steps (``None``: no limit).
        seed: Seed of initialisation, shuffling, dropout and augmentation.
        monitor: debugkit instrument preset (``economy``, ``standard``, ``full``, ...) or
            ``False`` for plain metric logging without hooks.
        name: Run name (default: the run directory's name).
        group: Label shared by runs that belong together (e.g. the seeds of one study
            configuration); learning-curve plots average over a group.
        tags: Free labels.

    Example:
        >>> cfg = TrainConfig(model={"name": "softmax"}, lr=0.5, epochs=3)
        >>> cfg.with_changes({"lr": 0.01, "model.name": "mlp", "model.hidden": [32]}).model
        {'name': 'mlp', 'hidden': [32]}
    """

    dataset: str = "digits"
    data_root: str | None = None
    download: bool = False
    image_size: int | list[int] | None = None
    channels: int | None = None
    normalize: str | None = "per_channel"
    augment: dict[str, Any] = field(default_factory=dict)
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    limit: int | None = None
    data_seed: int = 0
    cv_folds: int | None = None
    cv_fold: int | None = None
    model: dict[str, Any] = field(default_factory=_default_model)
    init: str | dict[str, Any] = "default"
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 0.0
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    schedule: str = "none"
    schedule_params: dict[str, Any] = field(default_factory=dict)
    batch_size: int | str = 32
    epochs: int = 10
    max_steps: int | None = None
    seed: int = 0
    monitor: str | bool = "economy"
    name: str | None = None
    group: str | None = None
    tags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._normalise()
        problems = self._problems()
        if problems:
            raise ConfigError(_format_problems(problems))

    # ------------------------------------------------------------------ construction
    @classmethod
    def keys(cls) -> list[str]:
        """All valid top-level keys."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> "TrainConfig":
        """Build and validate a config from a plain dict (e.g. parsed TOML or ``meta["config"]``).

        Raises:
            ConfigError: unknown keys (with suggestions) or invalid values.
        """
        if isinstance(data, TrainConfig):
            return data.copy()
        if not isinstance(data, Mapping):
            raise ConfigError(f"a training config must be a table/dict, got {type(data).__name__}")
        where = f" in {source}" if source else ""
        unknown = [k for k in data if k not in cls.keys()]
        if unknown:
            raise ConfigError(
                "; ".join(_unknown_key_message(k, cls.keys(), where) for k in unknown)
            )
        try:
            return cls(**copy.deepcopy(dict(data)))
        except ConfigError as exc:
            raise ConfigError(f"{exc}{where}") from None

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TrainConfig":
        """Read a TOML config file.

        Raises:
            FileNotFoundError: the file does not exist.
            ConfigError: the file is not valid TOML, or a key or value is invalid.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file {str(path)!r} does not exist")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        return cls.from_dict(data, source=str(path))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the config as TOML (unset optional keys are left out)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_toml(), encoding="utf-8")
        return path

    def to_toml(self) -> str:
        """The config as TOML text (scalars first, then the tables)."""
        import tomli_w

        data = _drop_none(self.to_dict())
        if self.normalize is None:
            data["normalize"] = "none"
        scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
        tables = {k: v for k, v in data.items() if isinstance(v, dict) and v}
        return tomli_w.dumps({**scalars, **tables})

    def to_dict(self) -> dict[str, Any]:
        """A deep copy as a plain JSON-able dict (what runs store in ``meta["config"]``)."""
        return copy.deepcopy(dataclasses.asdict(self))

    def copy(self) -> "TrainConfig":
        return TrainConfig(**self.to_dict())

    def with_changes(self, changes: Mapping[str, Any]) -> "TrainConfig":
        """A new, validated config with ``changes`` applied.

        Keys are top-level names (``"lr"``) or dotted paths into a table
        (``"model.hidden"``, ``"augment.rotation"``, ``"schedule_params.gamma"``).

        Raises:
            ConfigError: a key does not exist or the result is invalid.

        Example:
            >>> TrainConfig().with_changes({"model.dropout": 0.2}).model["dropout"]
            0.2
        """
        data = self.to_dict()
        for key, value in dict(changes).items():
            if not isinstance(key, str) or not key:
                raise ConfigError(f"change keys must be non-empty strings, got {key!r}")
            head, _, rest = key.partition(".")
            if head not in data:
                raise ConfigError(_unknown_key_message(head, self.keys(), f" (in change {key!r})"))
            if not rest:
                data[head] = copy.deepcopy(value)
                continue
            if head not in TABLE_KEYS:
                raise ConfigError(
                    f"change {key!r}: {head!r} is not a table, so it has no sub-key {rest!r}; "
                    f"dotted keys work for {', '.join(TABLE_KEYS)}"
                )
            table = data[head]
            if head == "init" and isinstance(table, str):
                table = {"scheme": table}
            table = dict(table)
            node = table
            parts = rest.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise ConfigError(f"change {key!r}: {part!r} is not a table")
            node[parts[-1]] = copy.deepcopy(value)
            data[head] = table
        return TrainConfig.from_dict(data)

    # ------------------------------------------------------------------ derived values
    def label(self) -> str:
        """A short human-readable description (model, optimizer, lr, batch size)."""
        model = self.model.get("name", "?")
        return f"{model} {self.optimizer} lr={self.lr:g} bs={self.batch_size}"

    def resolved_schedule_params(self) -> dict[str, Any]:
        """``schedule_params`` with each schedule's defaults filled in."""
        p = dict(self.schedule_params)
        if self.schedule == "step":
            p.setdefault("step_size", max(1, self.epochs // 3))
            p.setdefault("gamma", 0.1)
        elif self.schedule == "exponential":
            p.setdefault("gamma", 0.9)
        elif self.schedule == "cosine":
            p.setdefault("t_max", self.epochs)
            p.setdefault("eta_min", 0.0)
        elif self.schedule == "onecycle":
            p.setdefault("max_lr", self.lr)
            p.setdefault("pct_start", 0.3)
        return p

    # ------------------------------------------------------------------ validation
    def _normalise(self) -> None:
        if self.normalize in ("none", "None", "", False):
            self.normalize = None
        if self.monitor is True:
            self.monitor = "economy"
        if isinstance(self.monitor, str) and self.monitor.lower() in ("false", "off", "none"):
            self.monitor = False
        if isinstance(self.augment, (list, tuple)):
            self.augment = {name: True for name in self.augment}
        elif isinstance(self.augment, str):
            self.augment = {self.augment: True}
        elif self.augment is None:
            self.augment = {}
        if isinstance(self.image_size, tuple):
            self.image_size = list(self.image_size)
        if isinstance(self.betas, tuple):
            self.betas = list(self.betas)
        if isinstance(self.tags, tuple):
            self.tags = list(self.tags)
        if isinstance(self.model, Mapping):
            self.model = {k: list(v) if isinstance(v, tuple) else v for k, v in dict(self.model).items()}
        if self.schedule_params is None:
            self.schedule_params = {}
        for name in ("optimizer", "schedule"):
            value = getattr(self, name)
            if isinstance(value, str):
                setattr(self, name, value.lower())

    def _problems(self) -> list[str]:
        from debugkit.data import DATASETS
        from debugkit.instruments import PRESETS
        from debugkit.models import INIT_SCHEMES, MODELS, model_options

        out: list[str] = []

        def choice(key: str, value: Any, choices) -> None:
            if value not in choices:
                out.append(f"{key}={value!r} is not valid; choose one of {', '.join(map(str, choices))}")

        def number(key: str, value: Any, *, low: float | None = None, strict: bool = False,
                   integer: bool = False, optional: bool = False, high: float | None = None) -> None:
            if value is None and optional:
                return
            kind = int if integer else (int, float)
            if isinstance(value, bool) or not isinstance(value, kind) or (
                isinstance(value, float) and not math.isfinite(value)
            ):
                what = "an integer" if integer else "a finite number"
                out.append(f"{key} must be {what}, got {value!r} ({type(value).__name__})")
                return
            if low is not None and (value <= low if strict else value < low):
                out.append(f"{key} must be {'>' if strict else '>='} {low}, got {value!r}")
            if high is not None and value >= high:
                out.append(f"{key} must be < {high}, got {value!r}")

        dataset = str(self.dataset).lower().replace("-", "_")
        choice("dataset", dataset, sorted(DATASETS))
        self.dataset = dataset
        if self.data_root is not None and not isinstance(self.data_root, (str, os.PathLike)):
            out.append(f"data_root must be a path string, got {self.data_root!r}")
        if self.data_root is not None:
            self.data_root = str(self.data_root)
        if not isinstance(self.download, bool):
            out.append(f"download must be true or false, got {self.download!r}")
        if self.image_size is not None:
            sizes = self.image_size if isinstance(self.image_size, list) else [self.image_size]
            if len(sizes) not in (1, 2) or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
                out.append(f"image_size must be a positive int or [height, width], got {self.image_size!r}")
        if self.channels not in (None, 1, 3):
            out.append(f"channels must be 1 or 3 (or left out to keep the data's), got {self.channels!r}")
        choice("normalize", self.normalize, [None, "per_channel", "per_pixel"])
        if not isinstance(self.augment, dict):
            out.append(f"augment must be a table like {{hflip = true, rotation = 15}}, got {self.augment!r}")
        else:
            from debugkit.data.augmentation import parse_augment

            try:
                parse_augment(self.augment)
            except ValueError as exc:
                out.append(str(exc))
        number("val_fraction", self.val_fraction, low=0, high=1)
        number("test_fraction", self.test_fraction, low=0, high=1)
        number("limit", self.limit, low=1, integer=True, optional=True)
        number("data_seed", self.data_seed, low=0, integer=True)
        if self.cv_folds is not None or self.cv_fold is not None:
            number("cv_folds", self.cv_folds, low=2, integer=True)
            number("cv_fold", self.cv_fold, low=0, integer=True)
            if (isinstance(self.cv_folds, int) and isinstance(self.cv_fold, int)
                    and not isinstance(self.cv_fold, bool) and self.cv_fold >= self.cv_folds):
                out.append(f"cv_fold must be in 0..{self.cv_folds - 1} for cv_folds={self.cv_folds}, "
                           f"got {self.cv_fold}")

        if not isinstance(self.model, dict) or "name" not in self.model:
            out.append(f"model must be a table with a 'name' (one of {', '.join(sorted(MODELS))}), got {self.model!r}")
        elif self.model["name"] not in MODELS:
            out.append(f"model.name={self.model['name']!r} is not valid; choose one of {', '.join(sorted(MODELS))}")
        else:
            valid = model_options(self.model["name"])
            for key in self.model:
                if key not in ("name", "init") and key not in valid:
                    out.append(_unknown_key_message(key, sorted(valid), f" for model {self.model['name']!r}",
                                                    what=f"model.{key}"))
        scheme = self.init.get("scheme") if isinstance(self.init, dict) else self.init
        choice("init" if isinstance(self.init, str) else "init.scheme", scheme, list(INIT_SCHEMES))

        choice("optimizer", self.optimizer, OPTIMIZERS)
        number("lr", self.lr, low=0, strict=True)
        number("momentum", self.momentum, low=0, high=1)
        number("weight_decay", self.weight_decay, low=0)
        if not (isinstance(self.betas, list) and len(self.betas) == 2
                and all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in self.betas)):
            out.append(f"betas must be two numbers in [0, 1), e.g. [0.9, 0.999], got {self.betas!r}")
        choice("schedule", self.schedule, list(SCHEDULES))
        if not isinstance(self.schedule_params, dict):
            out.append(f"schedule_params must be a table, got {self.schedule_params!r}")
        elif self.schedule in SCHEDULES:
            allowed = SCHEDULES[self.schedule]
            for key in self.schedule_params:
                if key not in allowed:
                    hint = f"valid ones: {', '.join(allowed)}" if allowed else "it takes none"
                    out.append(f"schedule_params.{key} is not a parameter of schedule {self.schedule!r} ({hint})")
        if self.batch_size != "full":
            bad = isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1
            if bad:
                out.append(f"batch_size must be a positive integer or \"full\" (full-batch GD), "
                           f"got {self.batch_size!r}")
        number("epochs", self.epochs, low=1, integer=True)
        number("max_steps", self.max_steps, low=1, integer=True, optional=True)
        number("seed", self.seed, low=0, integer=True)
        if self.monitor is not False and self.monitor not in PRESETS:
            out.append(f"monitor={self.monitor!r} is not valid; use false or a preset: {', '.join(PRESETS)}")
        for key in ("name", "group"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, str):
                out.append(f"{key} must be a string, got {value!r}")
        if not isinstance(self.tags, list) or not all(isinstance(t, str) for t in self.tags):
            out.append(f"tags must be a list of strings, got {self.tags!r}")
        return out


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _unknown_key_message(key: str, valid, where: str = "", *, what: str | None = None) -> str:
    close = difflib.get_close_matches(str(key), list(valid), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {what or key!r}{where}{hint}; valid keys: {', '.join(valid)}"


def _format_problems(problems: list[str]) -> str:
    if len(problems) == 1:
        return f"invalid training config: {problems[0]}"
    return "invalid training config:\n  - " + "\n  - ".join(problems)
