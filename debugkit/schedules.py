"""When an instrument runs: plain ``step -> bool`` functions with a readable description."""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np


class Schedule:
    """A predicate on the (0-based) optimizer step, with a description for the run metadata."""

    def __init__(self, fn: Callable[[int], bool], description: str):
        self._fn = fn
        self.description = description

    def __call__(self, step: int) -> bool:
        return bool(self._fn(step))

    def __repr__(self) -> str:
        return self.description

    def __or__(self, other: "Schedule") -> "Schedule":
        return Schedule(lambda s: self(s) or other(s), f"{self.description} | {other.description}")


def every(k: int = 1, offset: int = 0) -> Schedule:
    """Steps ``offset, offset + k, offset + 2k, ...``."""
    if k < 1:
        raise ValueError(f"every(k) needs k >= 1, got {k}")
    return Schedule(lambda s: s >= offset and (s - offset) % k == 0, f"every({k}, offset={offset})")


def first(n: int) -> Schedule:
    """The first ``n`` steps."""
    return Schedule(lambda s: s < n, f"first({n})")


def at(steps: Iterable[int]) -> Schedule:
    """Exactly the given steps."""
    chosen = frozenset(int(s) for s in steps)
    return Schedule(lambda s: s in chosen, f"at({sorted(chosen)[:5]}{'...' if len(chosen) > 5 else ''})")


def log_spaced(end: int = 100_000, num: int = 300, start: int = 0) -> Schedule:
    """About ``num`` steps between ``start`` and ``end``, dense early and sparse late (plus step 0)."""
    pts = np.unique(np.round(np.logspace(0, np.log10(max(end - start, 1)), num)).astype(int) + start - 1)
    chosen = frozenset(int(s) for s in pts) | {start}
    return Schedule(lambda s: s in chosen, f"log_spaced(end={end}, num={num})")


def never() -> Schedule:
    return Schedule(lambda s: False, "never()")


def as_schedule(value: "Schedule | int | Callable[[int], bool] | None", default: Schedule) -> Schedule:
    """Accept a Schedule, an interval ``k`` (every k steps), a plain predicate, or None (default)."""
    if value is None:
        return default
    if isinstance(value, Schedule):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return every(int(value))
    if callable(value):
        return Schedule(value, getattr(value, "__name__", "custom"))
    raise TypeError(f"schedule must be a Schedule, an int interval or a callable step -> bool, got {value!r}")
