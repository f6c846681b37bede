"""Search spaces for sweeps: dotted config keys -> ranges or lists of values.

Written as a dict (or the ``[space]`` table of a TOML file)::

    {
        "lr": {"low": 1e-4, "high": 1e-1, "log": True},     # float range (log scale)
        "model.dropout": {"low": 0.0, "high": 0.8},          # float range
        "model.hidden": [[64], [256], [256, 256]],           # a list = categorical
        "batch_size": [8, 64, 128],
        "epochs": {"low": 2, "high": 10},                    # two ints = int range
    }

The grid sampler needs a list for every key. Values that Optuna cannot store as a
categorical choice (lists, ``None``) are stored as JSON text and decoded again.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from debugkit.train.config import ConfigError, TrainConfig

_PRIMITIVE = (bool, int, float, str)


@dataclass(frozen=True)
class Param:
    """One searched config key.

    Attributes:
        name: Dotted config key (``lr``, ``model.hidden``).
        kind: ``float``, ``int`` or ``categorical``.
        low, high, log, step: Range of ``float``/``int`` parameters.
        choices: Values of a ``categorical`` parameter.
    """

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = field(default_factory=tuple)

    # ---------------------------------------------------------------- Optuna
    @property
    def encoded(self) -> bool:
        return self.kind == "categorical" and not all(isinstance(c, _PRIMITIVE) for c in self.choices)

    def encode(self, value: Any) -> Any:
        return json.dumps(value) if self.encoded else value

    def decode(self, value: Any) -> Any:
        return json.loads(value) if self.encoded else value

    def suggest(self, trial) -> Any:
        """Draw the value from an Optuna trial (decoded, ready for ``with_changes``)."""
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, log=self.log, step=self.step)
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log, step=int(self.step or 1))
        return self.decode(trial.suggest_categorical(self.name, [self.encode(c) for c in self.choices]))

    def grid_values(self) -> list[Any]:
        if self.kind != "categorical":
            raise ConfigError(
                f"the grid sampler needs a list of values for {self.name!r}, got a range "
                f"[{self.low}, {self.high}]; write e.g. {self.name} = [{self.low}, {self.high}] or use "
                "sampler='random' or 'tpe'"
            )
        return [self.encode(c) for c in self.choices]

    # ---------------------------------------------------------------- plots (decoded values)
    def position(self, value: Any) -> float:
        """Where a (decoded) ``value`` sits on this parameter's axis, in [0, 1]."""
        value = plain(value)
        if value is None:
            return math.nan
        if self.kind == "categorical":
            keys = [json.dumps(c) for c in self.choices]
            try:
                i = keys.index(json.dumps(value))
            except ValueError:
                return math.nan
            return i / (len(keys) - 1) if len(keys) > 1 else 0.5
        v, lo, hi = float(value), float(self.low), float(self.high)
        if self.log:
            v, lo, hi = math.log10(v), math.log10(lo), math.log10(hi)
        return (v - lo) / (hi - lo) if hi > lo else 0.5

    @property
    def numeric_choices(self) -> bool:
        """Categorical values that are all numbers (``[0.01, 0.1, 1]``, ``[32, 64]``)."""
        return self.kind == "categorical" and all(
            isinstance(c, (int, float)) and not isinstance(c, bool) for c in self.choices)

    def numeric(self, value: Any) -> float | None:
        """The value as a number for correlations, ``None`` for non-numeric categories.

        Log ranges, and numeric lists spanning two or more decades, are taken as log10.
        """
        if self.kind == "categorical" and not self.numeric_choices:
            return None
        v = float(plain(value))
        decades = self.numeric_choices and min(self.choices) > 0 and max(self.choices) / min(self.choices) >= 100
        if self.log or decades:
            return math.log10(v)
        return v

    def label(self, value: Any) -> str:
        value = plain(value)
        if isinstance(value, float):
            return f"{value:.3g}"
        return str(value)

    # ---------------------------------------------------------------- coarse to fine
    def narrowed(self, values: Sequence[Any]) -> "Param":
        """The smallest range (or set of choices) holding the (decoded) ``values``, e.g. the best trials'."""
        values = [plain(v) for v in values if plain(v) is not None]
        if not values:
            return self
        if self.kind == "categorical":
            keep = {json.dumps(v) for v in values}
            return replace(self, choices=tuple(c for c in self.choices if json.dumps(c) in keep))
        lo, hi = min(values), max(values)
        if lo == hi:  # one value: keep a small neighbourhood so the next stage can still move
            if self.log:
                lo, hi = max(self.low, lo / 2), min(self.high, hi * 2)
            else:
                half = (self.high - self.low) / 10
                lo, hi = max(self.low, lo - half), min(self.high, hi + half)
        if self.kind == "int":
            lo, hi = int(math.floor(lo)), int(math.ceil(hi))
            if lo == hi:
                return replace(self, kind="categorical", choices=(lo,), low=None, high=None, log=False)
        return replace(self, low=lo, high=hi)

    def describe(self) -> Any:
        if self.kind == "categorical":
            return list(self.choices)
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        if self.kind == "int":
            out["type"] = "int"
        return out


def plain(value: Any) -> Any:
    """numpy scalars/arrays and tuples to plain Python values (pandas hands back numpy types)."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def parse_space(space: Mapping[str, Any], base: TrainConfig | None = None) -> dict[str, Param]:
    """Parse a search space; with ``base``, check every key is a valid change of that config.

    Raises:
        ConfigError: a malformed entry or a key the config does not have.
    """
    if not isinstance(space, Mapping) or not space:
        raise ConfigError("a sweep needs a non-empty search space, "
                          "e.g. {'lr': {'low': 1e-4, 'high': 1e-1, 'log': True}}")
    params: dict[str, Param] = {}
    for name, spec in space.items():
        params[name] = _parse_one(str(name), spec)
    if base is not None:
        probe = {name: p.choices[0] if p.kind == "categorical" else (int(p.low) if p.kind == "int" else p.low)
                 for name, p in params.items()}
        try:
            base.with_changes(probe)
        except ConfigError as exc:
            raise ConfigError(f"search space does not fit the base config: {exc}") from None
    return params


def _parse_one(name: str, spec: Any) -> Param:
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise ConfigError(f"space[{name!r}] is an empty list")
        return Param(name, "categorical", choices=tuple(spec))
    if not isinstance(spec, Mapping):
        raise ConfigError(f"space[{name!r}] must be a list of values or a range {{low, high, log}}, got {spec!r}")
    spec = dict(spec)
    unknown = set(spec) - {"low", "high", "log", "step", "type", "choices", "values"}
    if unknown:
        raise ConfigError(f"space[{name!r}] has unknown field(s) {sorted(unknown)}; "
                          "use low, high, log, step, type (float|int) or choices")
    choices = spec.get("choices", spec.get("values"))
    if choices is not None:
        return _parse_one(name, list(choices))
    if "low" not in spec or "high" not in spec:
        raise ConfigError(f"space[{name!r}] needs low and high (or choices), got {spec!r}")
    low, high = spec["low"], spec["high"]
    for v in (low, high):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"space[{name!r}]: low and high must be numbers, got {spec!r}")
    kind = spec.get("type") or ("int" if isinstance(low, int) and isinstance(high, int) else "float")
    if kind not in ("float", "int"):
        raise ConfigError(f"space[{name!r}]: type must be 'float' or 'int', got {kind!r}")
    if not low < high:
        raise ConfigError(f"space[{name!r}]: low must be below high, got {low} and {high}")
    log = bool(spec.get("log", False))
    if log and low <= 0:
        raise ConfigError(f"space[{name!r}]: a log range needs low > 0, got {low}")
    if log and spec.get("step") is not None:
        raise ConfigError(f"space[{name!r}]: a log range cannot have a step")
    return Param(name, kind, low=low, high=high, log=log, step=spec.get("step"))
