"""Errors raised while locating data sets on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence


class DatasetNotFoundError(FileNotFoundError):
    """A data set's files are not where debugkit looks for them.

    The message lists every missing file with its full path and says how to get it.

    Attributes:
        dataset: Name of the data set (``"fashion_mnist"``, ...).
        missing: The files that were not found (for gzip-able files the uncompressed
            name; the ``.gz`` variant is accepted as well).
    """

    def __init__(self, message: str, *, dataset: str, missing: Sequence[Path] = ()):
        super().__init__(message)
        self.dataset = dataset
        self.missing = [Path(p) for p in missing]

    def __str__(self) -> str:  # FileNotFoundError would prepend errno fields otherwise
        return self.args[0]
