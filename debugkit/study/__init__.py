"""Studies (lr × batch size, seeds, cross-validation, ablations) and Optuna sweeps.

Example:
    >>> from debugkit.study import run_study
    >>> from debugkit.train import TrainConfig
    >>> base = TrainConfig(model={"name": "softmax"}, epochs=5)
    >>> result = run_study("lr-batch", base, out_dir="studies/lr", lrs=[0.01, 0.1, 1.0],   # doctest: +SKIP
    ...                    batch_sizes=[16, 64, "full"], seeds=3)
"""

from debugkit.study.coarse_to_fine import run_coarse_to_fine
from debugkit.study.definition import KINDS, Change, StudyDefinition, load_study
from debugkit.study.honesty import StudyWarning
from debugkit.study.results import StudyResult
from debugkit.study.runner import run_study
from debugkit.study.space import Param, parse_space
from debugkit.study.stats import (
    ALPHA,
    Comparison,
    Summary,
    compare,
    holm,
    summarize,
    welch_t_test,
)
from debugkit.study.sweep import SweepResult, default_storage, load_sweep, run_sweep

__all__ = [
    "ALPHA",
    "KINDS",
    "Param",
    "Change",
    "Comparison",
    "StudyDefinition",
    "StudyResult",
    "StudyWarning",
    "Summary",
    "SweepResult",
    "compare",
    "default_storage",
    "holm",
    "load_study",
    "load_sweep",
    "parse_space",
    "run_coarse_to_fine",
    "run_study",
    "run_sweep",
    "summarize",
    "welch_t_test",
]
