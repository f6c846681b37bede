"""Bugged training scripts with known bugs, each with a fixed counterpart, for teaching debugging.

The scripts live in the repository's ``buggy_baselines/<name>/`` (``train.py``, ``train_fixed.py``,
``bug.toml``); they are plain PyTorch and never import debugkit.

Example:
    >>> from debugkit.baselines import list_baselines, run_baseline
    >>> [b.name for b in list_baselines()][:2]                      # doctest: +SKIP
    ['bad_init_scale', 'cifar_cnn']
    >>> run_baseline("dead_relu", seed=0).val_acc                    # doctest: +SKIP
    0.07
"""

from debugkit.baselines.catalogue import (
    BUG_IDS,
    MODEL_KINDS,
    Baseline,
    Bug,
    UnknownBaselineError,
    baselines_dir,
    get_baseline,
    list_baselines,
    load_baseline,
)
from debugkit.baselines.checks import changed_lines, validate_baseline
from debugkit.baselines.key import format_catalogue, format_key, write_key
from debugkit.baselines.run import (
    BaselineResult,
    BaselineRunError,
    parse_epochs,
    parse_result,
    run_baseline,
    script_env,
)

__all__ = [
    "BUG_IDS",
    "MODEL_KINDS",
    "Baseline",
    "BaselineResult",
    "BaselineRunError",
    "Bug",
    "UnknownBaselineError",
    "baselines_dir",
    "changed_lines",
    "format_catalogue",
    "format_key",
    "get_baseline",
    "list_baselines",
    "load_baseline",
    "parse_epochs",
    "parse_result",
    "run_baseline",
    "script_env",
    "validate_baseline",
    "write_key",
]
