"""Export recorded runs to TensorBoard and Weights & Biases (optional packages, imported when used).

Example:
    >>> from debugkit.export import export_tensorboard, export_wandb
    >>> export_tensorboard(["runs/a", "runs/b"], "tb")                  # doctest: +SKIP
    >>> export_wandb("runs/a", project="debugkit", dir="wandb-export")  # doctest: +SKIP
"""

from debugkit.export.commands import tensorboard_command, wandb_command
from debugkit.export.tensorboard_export import export_tensorboard
from debugkit.export.wandb_export import export_wandb

__all__ = ["export_tensorboard", "export_wandb", "tensorboard_command", "wandb_command"]
