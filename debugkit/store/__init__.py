"""Append-only run directories: writing while training, reading into pandas afterwards."""

from debugkit.store.reader import Run, RunNotFoundError, list_runs, load_run, load_runs
from debugkit.store.writer import RunWriter

__all__ = ["Run", "RunNotFoundError", "RunWriter", "list_runs", "load_run", "load_runs"]
