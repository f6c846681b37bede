"""A plain convolutional network: conv blocks, then dense layers."""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

from debugkit.models._checks import positive_int, probability, widths
from debugkit.models.activations import make_activation

#: Pooling name -> 2×2, stride-2 pooling module (``None``: no pooling).
POOLINGS: dict[str | None, Callable[[], nn.Module] | None] = {
    "max": lambda: nn.MaxPool2d(2),
    "avg": lambda: nn.AvgPool2d(2),
    None: None,
}


def conv_padding(padding: str | int, kernel_size: int) -> int | str:
    """Padding argument for ``nn.Conv2d``: ``"same"`` becomes ``k // 2`` for odd ``k``.

    An explicit int keeps the layer usable by tools (BackPACK, per-sample gradients)
    that do not understand string padding; even kernels keep ``"same"``.
    """
    if padding == "same":
        return kernel_size // 2 if kernel_size % 2 else "same"
    if padding == "valid":
        return 0
    if isinstance(padding, int) and not isinstance(padding, bool) and padding >= 0:
        return padding
    raise ValueError(f"padding must be 'same', 'valid' or a non-negative int, got {padding!r}")


def conv_output_size(size: int, kernel_size: int, padding: int | str) -> int:
    """Side length after a stride-1 convolution."""
    if padding == "same":
        return size
    return size + 2 * padding - kernel_size + 1


def _as_hw(input_size) -> tuple[int, int]:
    if isinstance(input_size, int):
        input_size = (input_size, input_size)
    input_size = tuple(input_size)
    if len(input_size) != 2:
        raise ValueError(f"input_size must be an int or (height, width), got {input_size!r}")
    return positive_int("input_size height", input_size[0]), positive_int("input_size width", input_size[1])


class CNN(nn.Module):
    """Conv blocks (Conv2d [→ BatchNorm2d] → activation [→ 2×2 pool]), then an MLP head.

    Args:
        in_channels: Input channels (1 for grey, 3 for RGB).
        num_classes: Number of classes.
        input_size: Input height/width (int or ``(H, W)``); fixes the flattened size.
        conv: Output channels of each conv block.
        kernel_size: Square kernel size of every convolution (stride 1).
        padding: ``"same"``, ``"valid"`` or an int.
        pooling: ``"max"``, ``"avg"`` or ``None`` after each conv block.
        batchnorm: BatchNorm after every conv and hidden dense layer (those layers then
            have no bias, see :class:`~debugkit.models.MLP`).
        dense: Widths of the hidden dense layers.
        dropout: Drop probability after every hidden dense activation.
        activation: Name from :data:`~debugkit.models.ACTIVATIONS`.

    Attributes:
        features: Conv blocks as one ``nn.Sequential`` (``features.0`` is the first conv).
        classifier: Flatten and dense layers (``classifier.1`` is the first Linear).

    Example:
        >>> CNN(1, 10, input_size=8)(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        input_size: int | Sequence[int],
        conv: Sequence[int] = (32, 64),
        kernel_size: int = 3,
        padding: str | int = "same",
        pooling: str | None = "max",
        batchnorm: bool = False,
        dense: Sequence[int] = (128,),
        dropout: float = 0.0,
        activation: str = "relu",
    ):
        super().__init__()
        channels = positive_int("in_channels", in_channels)
        height, width = _as_hw(input_size)
        conv = widths("conv", conv)
        dense = widths("dense", dense)
        kernel_size = positive_int("kernel_size", kernel_size)
        pad = conv_padding(padding, kernel_size)
        dropout = probability("dropout", dropout)
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {list(POOLINGS)}, got {pooling!r}")
        if dropout and not dense:
            raise ValueError("dropout has no effect with dense=(); add a dense layer or set dropout=0")

        blocks: list[nn.Module] = []
        for i, out in enumerate(conv):
            blocks.append(nn.Conv2d(channels, out, kernel_size, padding=pad, bias=not batchnorm))
            if batchnorm:
                blocks.append(nn.BatchNorm2d(out))
            blocks.append(make_activation(activation))
            height, width = conv_output_size(height, kernel_size, pad), conv_output_size(width, kernel_size, pad)
            if POOLINGS[pooling] is not None:
                blocks.append(POOLINGS[pooling]())
                height, width = height // 2, width // 2
            if min(height, width) < 1:
                raise ValueError(
                    f"input_size {_as_hw(input_size)} is too small for conv block {i + 1} of {len(conv)} "
                    f"(kernel_size={kernel_size}, padding={padding!r}, pooling={pooling!r}); "
                    "use fewer conv layers, padding='same', pooling=None, or resize the images"
                )
            channels = out

        head: list[nn.Module] = [nn.Flatten()]
        features = channels * height * width
        for size in dense:
            head.append(nn.Linear(features, size, bias=not batchnorm))
            if batchnorm:
                head.append(nn.BatchNorm1d(size))
            head.append(make_activation(activation))
            if dropout:
                head.append(nn.Dropout(dropout))
            features = size
        head.append(nn.Linear(features, positive_int("num_classes", num_classes)))
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
