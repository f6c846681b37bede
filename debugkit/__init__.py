"""debugkit: see inside a PyTorch training run, find out what is wrong, and write it up."""

__version__ = "0.1.0"

from debugkit import schedules
from debugkit.instruments import PRESETS
from debugkit.monitor import Monitor
from debugkit.store import Run, RunWriter, list_runs, load_run, load_runs

__all__ = ["Monitor", "PRESETS", "Run", "RunWriter", "list_runs", "load_run", "load_runs", "schedules",
           "__version__"]
