"""Data sets for debugging runs: the offline ``digits`` set and torchvision image sets.

Everything goes through :func:`load_dataset`, which returns a :class:`DataBundle`
with seeded stratified splits, training-set normalisation and optional augmentation.

Example:
    >>> from debugkit.data import load_dataset
    >>> bundle = load_dataset("digits", flatten=True)
    >>> train, val, test = bundle.loaders(batch_size=64)
"""

from debugkit.data.augmentation import AUGMENTATIONS, build_augmentation
from debugkit.data.bundle import DataBundle, Loaders
from debugkit.data.errors import DatasetNotFoundError
from debugkit.data.in_memory import InMemoryDataset
from debugkit.data.load import DATASETS, load_dataset
from debugkit.data.normalization import NORMALIZATIONS, per_channel_statistics, per_pixel_statistics
from debugkit.data.sources import RawData, read_idx
from debugkit.data.splits import stratified_subset, train_val_test_indices

__all__ = [
    "AUGMENTATIONS",
    "DATASETS",
    "NORMALIZATIONS",
    "DataBundle",
    "DatasetNotFoundError",
    "InMemoryDataset",
    "Loaders",
    "RawData",
    "build_augmentation",
    "load_dataset",
    "per_channel_statistics",
    "per_pixel_statistics",
    "read_idx",
    "stratified_subset",
    "train_val_test_indices",
]
