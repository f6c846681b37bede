"""A JSON-able description of a model's layers and parameter counts."""

from __future__ import annotations

from typing import Any

from torch import nn


def model_summary(model: nn.Module) -> dict[str, Any]:
    """Leaf layers (and any module owning parameters directly) with their parameter counts.

    Returns:
        ``{"layers": [{"name", "type", "params", "trainable"}, ...], "num_params",
        "num_trainable"}``, where ``params`` counts the layer's own parameters and
        ``trainable`` those of them with ``requires_grad``. Shared parameters are
        counted once in the totals.

    Example:
        >>> s = model_summary(nn.Sequential(nn.Linear(4, 3), nn.ReLU()))
        >>> s["num_params"], s["layers"][0]
        (15, {'name': '0', 'type': 'Linear', 'params': 15, 'trainable': 15})
    """
    layers = []
    for name, module in model.named_modules():
        own = list(module.parameters(recurse=False))
        if next(module.children(), None) is not None and not own:
            continue
        layers.append(
            {
                "name": name,
                "type": type(module).__name__,
                "params": sum(p.numel() for p in own),
                "trainable": sum(p.numel() for p in own if p.requires_grad),
            }
        )
    unique = {id(p): p for p in model.parameters()}.values()
    return {
        "layers": layers,
        "num_params": sum(p.numel() for p in unique),
        "num_trainable": sum(p.numel() for p in unique if p.requires_grad),
    }
