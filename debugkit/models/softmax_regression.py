"""Softmax (multinomial logistic) regression: one linear layer on flattened inputs."""

from __future__ import annotations

import torch
from torch import nn

from debugkit.models._checks import positive_int


class SoftmaxRegression(nn.Module):
    """Flatten, then one ``nn.Linear`` to class logits.

    The softmax itself belongs to the loss (``nn.CrossEntropyLoss`` takes logits), so
    ``forward`` returns logits; at initialisation with zero weights the loss is ln(C).

    Args:
        in_features: Number of input values per example (e.g. 784 for 1×28×28).
        num_classes: Number of classes.

    Example:
        >>> SoftmaxRegression(64, 10)(torch.zeros(5, 1, 8, 8)).shape
        torch.Size([5, 10])
    """

    def __init__(self, in_features: int, num_classes: int):
        super().__init__()
        self.flatten = nn.Flatten()
        in_features = positive_int("in_features", in_features)
        self.classifier = nn.Linear(in_features, positive_int("num_classes", num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(x))
