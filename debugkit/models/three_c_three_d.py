"""DeepOBS's ``cifar10_3c3d`` test problem network (three conv, three dense layers)."""

from __future__ import annotations

import torch
from torch import nn

from debugkit.models._checks import positive_int
from debugkit.models.initialization import init_weights


class ThreeCThreeD(nn.Module):
    """The 3c3d network of DeepOBS (Schneider et al., 2019) for 3×32×32 inputs.

    conv 3→64 5×5 valid, ReLU, maxpool 3/2 pad 1; conv 64→96 3×3 valid, ReLU, maxpool
    3/2 pad 1; conv 96→128 3×3 pad 1, ReLU, maxpool 3/2 pad 1; flatten (128·3·3 = 1152);
    dense 1152→512→256→``num_classes`` with ReLUs. 895,210 parameters for 10 classes.
    Initialised like DeepOBS: Xavier-normal weights, zero biases.

    Example:
        >>> ThreeCThreeD()(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 5),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1),
            nn.Conv2d(64, 96, 3),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1),
            nn.Conv2d(96, 128, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(1152, 512),
            nn.ReLU(),
            nn.Linear(512, 256),
            nn.ReLU(),
            nn.Linear(256, positive_int("num_classes", num_classes)),
        )
        init_weights(self, "xavier_normal", bias=0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
