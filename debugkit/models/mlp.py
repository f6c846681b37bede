"""Multi-layer perceptron with configurable depth, width, activation, dropout, BatchNorm."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from debugkit.models._checks import positive_int, probability, widths
from debugkit.models.activations import make_activation


class MLP(nn.Module):
    """Flatten → hidden blocks (Linear [→ BatchNorm1d] → activation [→ Dropout]) → Linear.

    Args:
        in_features: Input values per example (``C*H*W`` for images).
        num_classes: Number of classes (size of the logits).
        hidden: Width of each hidden layer; ``()`` gives softmax regression.
        activation: Name from :data:`~debugkit.models.ACTIVATIONS`.
        dropout: Drop probability after every hidden activation.
        batchnorm: BatchNorm after every hidden linear layer. Those linear layers then
            have no bias: BatchNorm subtracts the mean, so a bias would get exactly zero
            gradient and look like a dead parameter to the instruments.

    Attributes:
        features: ``nn.Sequential`` of the hidden blocks (``features.0`` is the first Linear).
        classifier: The output ``nn.Linear``.

    Example:
        >>> MLP(784, 10, hidden=(256, 128), activation="tanh")(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        hidden: Sequence[int] = (128,),
        activation: str = "relu",
        dropout: float = 0.0,
        batchnorm: bool = False,
    ):
        super().__init__()
        width = positive_int("in_features", in_features)
        hidden = widths("hidden", hidden)
        dropout = probability("dropout", dropout)
        if dropout and not hidden:
            raise ValueError("dropout has no effect with hidden=(); add a hidden layer or set dropout=0")
        layers: list[nn.Module] = []
        for size in hidden:
            layers.append(nn.Linear(width, size, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(make_activation(activation))
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        self.flatten = nn.Flatten()
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width, positive_int("num_classes", num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(self.flatten(x)))
