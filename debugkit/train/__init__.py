"""The instrumented reference trainer: configs (dataclass / TOML), the loop, checkpoints.

Example:
    >>> from debugkit.train import TrainConfig, train
    >>> cfg = TrainConfig(dataset="digits", model={"name": "softmax"}, lr=0.5, epochs=5)
    >>> result = train(cfg, "runs/softmax")          # doctest: +SKIP
    >>> result.metrics["val_acc"]                    # doctest: +SKIP
"""

from debugkit.train.checkpoint import (
    CHECKPOINT_NAME,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from debugkit.train.config import OPTIMIZERS, SCHEDULES, ConfigError, TrainConfig
from debugkit.train.data import build_data, build_model, cv_fold_indices
from debugkit.train.optim import OPTIMIZER_FACTORIES, build_optimizer, build_schedule
from debugkit.train.trainer import StopTraining, TrainResult, train

__all__ = [
    "CHECKPOINT_NAME",
    "OPTIMIZERS",
    "OPTIMIZER_FACTORIES",
    "SCHEDULES",
    "CheckpointError",
    "ConfigError",
    "StopTraining",
    "TrainConfig",
    "TrainResult",
    "build_data",
    "build_model",
    "build_optimizer",
    "build_schedule",
    "cv_fold_indices",
    "load_checkpoint",
    "save_checkpoint",
    "train",
]
