"""Diagnosis rules: each reads :class:`~debugkit.diagnose.signals.Signals`, returns findings.

A rule is a plain function registered with :func:`rule`; the registry maps the rule's
name to the function (rules are looked up, never special-cased).
"""

from __future__ import annotations

from typing import Callable

RULES: dict[str, Callable] = {}


def rule(name: str):
    """Register ``fn(signals) -> Finding | list[Finding] | None`` under ``name``."""

    def deco(fn):
        if name in RULES:
            raise ValueError(f"duplicate rule name {name!r}")
        RULES[name] = fn
        return fn

    return deco


# import the rule modules so they register themselves
from debugkit.diagnose.rules import data, gradients, initialization, model, optimization, training  # noqa: E402,F401

__all__ = ["RULES", "rule"]
