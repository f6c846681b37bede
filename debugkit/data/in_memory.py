"""A map-style data set whose inputs and labels live in memory as tensors."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset


class InMemoryDataset(Dataset):
    """Inputs and int64 labels held as tensors, with an optional per-sample transform.

    Indexing with an int gives one ``(x, y)`` pair; indexing with a sequence, tensor
    or slice of indices gives a whole batch at once, which is how
    :meth:`DataBundle.loaders` keeps an epoch on ``digits`` in the millisecond range.

    Args:
        inputs: ``(N, ...)`` float tensor (images before ``transform``).
        targets: ``(N,)`` int64 labels.
        transform: Applied to each sample's input (e.g. augmentation + normalisation).

    Example:
        >>> ds = InMemoryDataset(torch.zeros(4, 1, 8, 8), torch.tensor([0, 1, 0, 1]))
        >>> ds[0][0].shape, ds[[0, 1]][0].shape
        (torch.Size([1, 8, 8]), torch.Size([2, 1, 8, 8]))
    """

    def __init__(
        self,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ):
        if len(inputs) != len(targets):
            raise ValueError(f"inputs ({len(inputs)}) and targets ({len(targets)}) must have the same length")
        self.inputs = inputs
        self.targets = targets.to(torch.int64)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int | Sequence[int] | torch.Tensor | slice):
        if isinstance(index, (int, np.integer)) or (torch.is_tensor(index) and index.ndim == 0):
            x = self.inputs[index]
            if self.transform is not None:
                x = self.transform(x)
            return x, self.targets[index]
        if not isinstance(index, slice):
            index = torch.as_tensor(index, dtype=torch.long)
        x = self.inputs[index]
        if self.transform is not None:
            # One call per sample so every image draws its own random augmentation.
            x = torch.stack([self.transform(xi) for xi in x]) if len(x) else x
        return x, self.targets[index]

    def __repr__(self) -> str:
        extra = f", transform={self.transform!r}" if self.transform is not None else ""
        return f"InMemoryDataset(n={len(self)}, input_shape={tuple(self.inputs.shape[1:])}{extra})"
