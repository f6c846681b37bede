"""A loaded data set: train/validation/test splits plus everything needed to use them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pandas as pd
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

SPLITS = ("train", "val", "test")


class Loaders(NamedTuple):
    """Train, validation and test ``DataLoader``\\ s (unpack or use attributes)."""

    train: DataLoader
    val: DataLoader
    test: DataLoader


def _resolve_batch_size(batch_size: int | str | None, n: int) -> int:
    if batch_size is None or batch_size == "full":
        return max(n, 1)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, None or 'full' (full batch), got {batch_size!r}")
    return batch_size


def _loader(dataset: Dataset, batch_size: int, sampler, drop_last: bool, num_workers: int) -> DataLoader:
    batches = BatchSampler(sampler, batch_size=batch_size, drop_last=drop_last)
    if hasattr(dataset, "inputs"):
        # In-memory set: fetch each batch with one indexing call instead of one call
        # per sample (batch_size=None turns off per-sample collation).
        return DataLoader(dataset, sampler=batches, batch_size=None, num_workers=num_workers)
    return DataLoader(dataset, batch_sampler=batches, num_workers=num_workers)


@dataclass
class DataBundle:
    """Everything :func:`~debugkit.data.load_dataset` produced.

    Attributes:
        train: Training split; yields ``(x float32, y int64)``, augmented if requested.
        val: Validation split (never augmented).
        test: Test split (never augmented).
        num_classes: Number of classes.
        class_names: Name of each class index.
        input_shape: ``(C, H, W)``, or ``(D,)`` when flattened.
        mean: Training-set mean used for normalisation (``(C, 1, 1)`` per channel,
            ``(C, H, W)`` per pixel) or ``None`` for raw inputs.
        std: Training-set standard deviation, same shape as ``mean``, or ``None``.
        name: Registry name of the data set (``"digits"``).
        seed: Seed of the split (and the default seed of :meth:`loaders`).
        config: The options it was loaded with (JSON-able, for the run's metadata).

    Example:
        >>> bundle = load_dataset("digits")                       # doctest: +SKIP
        >>> train, val, test = bundle.loaders(batch_size=32)      # doctest: +SKIP
    """

    train: Dataset
    val: Dataset
    test: Dataset
    num_classes: int
    class_names: list[str]
    input_shape: tuple[int, ...]
    mean: torch.Tensor | None = field(default=None, repr=False)
    std: torch.Tensor | None = field(default=None, repr=False)
    name: str = ""
    seed: int = 0
    config: dict[str, Any] = field(default_factory=dict, repr=False)

    def split(self, name: str) -> Dataset:
        """The split called ``name`` (``"train"``, ``"val"`` or ``"test"``)."""
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {name!r}")
        return getattr(self, name)

    def class_balance(self) -> pd.DataFrame:
        """Count and fraction of each class in each split.

        Returns:
            Long DataFrame with columns ``split, label, class_name, count, fraction``
            (``fraction`` is relative to the split's size).

        Example:
            >>> bundle.class_balance().pivot(index="class_name", columns="split",  # doctest: +SKIP
            ...                              values="fraction")
        """
        rows = []
        for split in SPLITS:
            targets = torch.as_tensor(_targets(self.split(split)), dtype=torch.int64)
            counts = torch.bincount(targets, minlength=self.num_classes).tolist()
            total = max(len(targets), 1)
            for label, count in enumerate(counts):
                rows.append(
                    {
                        "split": split,
                        "label": label,
                        "class_name": self.class_names[label],
                        "count": count,
                        "fraction": count / total,
                    }
                )
        return pd.DataFrame(rows, columns=["split", "label", "class_name", "count", "fraction"])

    def loaders(
        self,
        batch_size: int | str | None,
        *,
        shuffle: bool = True,
        num_workers: int = 0,
        seed: int | None = None,
        drop_last: bool = False,
    ) -> Loaders:
        """Train/validation/test ``DataLoader``\\ s.

        Args:
            batch_size: Examples per batch; ``None`` or ``"full"`` puts each whole split
                in one batch (full-batch gradient descent).
            shuffle: Reshuffle the training split every epoch (validation and test
                are never shuffled).
            num_workers: Worker processes per loader.
            seed: Seed of the shuffling generator; defaults to the bundle's ``seed``,
                so two calls with the same arguments give the same batches.
            drop_last: Drop an incomplete last training batch (BatchNorm fails on a
                batch of one).

        Returns:
            :class:`Loaders` ``(train, val, test)``.

        Example:
            >>> train, val, test = bundle.loaders(batch_size="full")   # doctest: +SKIP
        """
        generator = torch.Generator().manual_seed(self.seed if seed is None else int(seed))
        train_sampler = (
            RandomSampler(self.train, generator=generator) if shuffle else SequentialSampler(self.train)
        )
        def make(split: Dataset, sampler, drop: bool) -> DataLoader:
            return _loader(split, _resolve_batch_size(batch_size, len(split)), sampler, drop, num_workers)

        return Loaders(
            train=make(self.train, train_sampler, drop_last),
            val=make(self.val, SequentialSampler(self.val), False),
            test=make(self.test, SequentialSampler(self.test), False),
        )

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary for a run's metadata (``meta["dataset"]``)."""
        return {
            "name": self.name,
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "input_shape": list(self.input_shape),
            "sizes": {split: len(self.split(split)) for split in SPLITS},
            "seed": self.seed,
            **self.config,
        }


def _targets(dataset: Dataset):
    if hasattr(dataset, "targets"):
        return dataset.targets
    return [int(dataset[i][1]) for i in range(len(dataset))]
