"""debugkit: see inside a PyTorch training run, find out what is wrong, and write it up."""

__version__ = "0.1.0"

from debugkit.store import Run, RunWriter, list_runs, load_run, load_runs

__all__ = ["Run", "RunWriter", "list_runs", "load_run", "load_runs", "__version__"]
