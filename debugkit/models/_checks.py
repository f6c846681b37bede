"""Argument checks shared by the model constructors."""

from __future__ import annotations

from typing import Iterable


def positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def widths(name: str, values: Iterable[int]) -> tuple[int, ...]:
    if isinstance(values, int):
        values = (values,)
    values = tuple(values)
    for v in values:
        positive_int(f"every entry of {name}", v)
    return values


def probability(name: str, value: float) -> float:
    value = float(value)
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return value
