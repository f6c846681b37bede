"""Activation functions by name, always as ``nn.Module``\\ s so forward hooks see them."""

from __future__ import annotations

from typing import Callable

from torch import nn

#: Activation name -> module class. Modules, never ``torch.relu`` calls inside
#: ``forward``: activation statistics (dead/saturated units) come from hooks on them.
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,  # "forgot the non-linearity": a deep linear model
}


def make_activation(name: str) -> nn.Module:
    """A fresh activation module (not in-place, so hooks see the pre-activation intact).

    Example:
        >>> make_activation("tanh")
        Tanh()
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"activation={name!r} is unknown; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()
