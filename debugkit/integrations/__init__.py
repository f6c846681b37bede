"""Integrations with training frameworks; each imports its framework only when used.

Example:
    >>> from debugkit.integrations import DebugkitCallback   # imports Lightning  # doctest: +SKIP
"""

from __future__ import annotations

__all__ = ["DebugkitCallback"]

#: Attribute → module that defines it (imported on first access).
_LAZY = {"DebugkitCallback": "debugkit.integrations.lightning"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'debugkit.integrations' has no attribute {name!r}")
