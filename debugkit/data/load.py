"""``load_dataset``: from a registry name to ready-to-train splits."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from debugkit.data.augmentation import build_augmentation, parse_augment
from debugkit.data.bundle import DataBundle
from debugkit.data.in_memory import InMemoryDataset
from debugkit.data.normalization import normalization_statistics
from debugkit.data.normalization import normalize as apply_normalization
from debugkit.data.preprocessing import as_size, convert_channels, resize_images, to_float
from debugkit.data.sample_transform import SampleTransform
from debugkit.data.sources import SOURCES
from debugkit.data.sources.raw import RawData
from debugkit.data.splits import fraction_to_count, split_off, stratified_subset, train_val_test_indices

#: Registry of data sets: name -> source ``(root, download) -> RawData``.
DATASETS = SOURCES

#: Where torchvision data sets are looked for when ``root`` is not given.
DEFAULT_ROOT = Path("data")


def _check_fraction(name: str, value: float) -> float:
    value = float(value)
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return value


def _split_indices(raw: RawData, val_fraction: float, test_fraction: float, seed: int):
    """Train, validation and test index arrays.

    Train and validation index ``raw.train_*``; test indexes ``raw.test_*`` when the set
    has an official test split, otherwise ``raw.train_*`` as well.
    """
    if raw.test_images is None:
        if val_fraction + test_fraction >= 1:
            raise ValueError(
                f"val_fraction + test_fraction must be below 1, got {val_fraction} + {test_fraction}"
            )
        return train_val_test_indices(
            raw.train_labels, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed
        )
    # Official test split: keep it whole, carve validation out of the training part.
    n = len(raw.train_labels)
    train, val = split_off(
        np.arange(n), raw.train_labels, fraction_to_count(val_fraction, n), seed, what="validation"
    )
    return train, val, np.arange(len(raw.test_labels))


def load_dataset(
    name: str = "digits",
    *,
    root: str | os.PathLike | None = None,
    download: bool = False,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    image_size: int | Sequence[int] | None = None,
    channels: int | None = None,
    normalize: str | None = "per_channel",
    augment: Mapping[str, Any] | Sequence[str] | str | None = None,
    flatten: bool = False,
    scale: float = 1.0,
    limit: int | None = None,
) -> DataBundle:
    """Load a data set into memory, split it, normalise it and set up augmentation.

    Steps: read the files → stratified seeded split → (``limit``) → pixels to
    ``[0, scale]`` → resize / convert channels → statistics of the *training* split →
    normalise every split with them → augment (training split only, per sample, before
    normalising) → flatten.

    Args:
        name: One of :data:`DATASETS`: ``digits`` (offline, 1797 8×8 images from
            scikit-learn), ``mnist``, ``fashion_mnist``, ``cifar10``, ``svhn``.
        root: Data root for the torchvision sets (CLI ``--data-root``); defaults to
            ``./data``. Files are expected in torchvision's layout, e.g.
            ``<root>/FashionMNIST/raw/train-images-idx3-ubyte(.gz)``,
            ``<root>/cifar-10-batches-py/data_batch_1``, ``<root>/SVHN/train_32x32.mat``.
        download: Fetch missing files through torchvision (needs network).
        val_fraction: Validation share: of all examples for ``digits``, of the official
            training part for the torchvision sets.
        test_fraction: Test share of all examples (``digits`` only; the torchvision
            sets keep their official test split and ignore it).
        seed: Seed of the split; the same seed gives the same bundle.
        image_size: Resize (bilinear) to ``size`` or ``(H, W)``, e.g. ``28`` or ``32``
            to feed ``digits`` to MNIST- or CIFAR-style networks.
        channels: Convert to 1 (grey) or 3 (RGB) channels.
        normalize: ``"per_channel"`` (mean/std per channel), ``"per_pixel"`` (mean
            image and std image + 1e-5), or ``None`` (raw).
        augment: Training-split augmentation, e.g. ``{"hflip": True, "rotation": 15,
            "crop": 0.8}`` or ``["hflip"]``; see :func:`build_augmentation`.
        flatten: Yield ``(C*H*W,)`` vectors (for MLPs) instead of ``(C, H, W)`` images.
        scale: Multiplies pixels in [0, 1]; ``scale=255, normalize=None`` reproduces
            the classic "unnormalised 0–255 inputs" bug.
        limit: Keep at most this many examples per split (stratified, seeded), for
            quick experiments on the large sets.

    Returns:
        A :class:`DataBundle`.

    Raises:
        DatasetNotFoundError: Files of a torchvision set are missing (the message lists them).
        ValueError: An option is out of range or unknown.

    Example:
        >>> bundle = load_dataset("digits", image_size=28, augment={"rotation": 10})
        >>> bundle.input_shape, len(bundle.train), len(bundle.val), len(bundle.test)
        ((1, 28, 28), 1257, 270, 270)
    """
    key = str(name).lower().replace("-", "_")
    if key not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(DATASETS)}")
    val_fraction = _check_fraction("val_fraction", val_fraction)
    test_fraction = _check_fraction("test_fraction", test_fraction)
    if limit is not None and (isinstance(limit, bool) or int(limit) < 1):
        raise ValueError(f"limit must be a positive number of examples per split or None, got {limit!r}")
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1, 3 or None (keep), got {channels!r}")
    if not float(scale) > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    size = as_size(image_size)
    augment_options = parse_augment(augment)
    root_path = Path(root) if root is not None else DEFAULT_ROOT

    raw = DATASETS[key](root_path, download)
    train_idx, val_idx, test_idx = _split_indices(raw, val_fraction, test_fraction, seed)
    if limit is not None:
        train_idx, val_idx, test_idx = (
            stratified_subset(idx, labels, int(limit), seed + 2)
            for idx, labels in (
                (train_idx, raw.train_labels),
                (val_idx, raw.train_labels),
                (test_idx, raw.test_labels if raw.test_labels is not None else raw.train_labels),
            )
        )
    test_images = raw.test_images if raw.test_images is not None else raw.train_images
    test_labels = raw.test_labels if raw.test_labels is not None else raw.train_labels

    def prepare(images: torch.Tensor, idx: np.ndarray) -> torch.Tensor:
        x = to_float(images[torch.from_numpy(idx)], raw.max_value, scale)
        return convert_channels(resize_images(x, size), channels)

    train_x = prepare(raw.train_images, train_idx)
    val_x = prepare(raw.train_images, val_idx)
    test_x = prepare(test_images, test_idx)
    mean, std = normalization_statistics(train_x, normalize)
    image_shape = tuple(train_x.shape[1:])
    augmenter = build_augmentation(augment_options, image_shape[-2:])

    def finish(x: torch.Tensor) -> torch.Tensor:
        x = apply_normalization(x, mean, std)
        return x.flatten(1) if flatten else x

    if augmenter is None:
        train = InMemoryDataset(finish(train_x), raw.train_labels[train_idx])
    else:
        # Keep raw images; each access augments a fresh copy, then normalises it.
        train = InMemoryDataset(train_x, raw.train_labels[train_idx], SampleTransform(augmenter, mean, std, flatten))
    val = InMemoryDataset(finish(val_x), raw.train_labels[val_idx])
    test = InMemoryDataset(finish(test_x), test_labels[test_idx])

    return DataBundle(
        train=train,
        val=val,
        test=test,
        num_classes=len(raw.class_names),
        class_names=list(raw.class_names),
        input_shape=(int(np.prod(image_shape)),) if flatten else image_shape,
        mean=mean,
        std=std,
        name=key,
        seed=int(seed),
        config={
            "root": None if key == "digits" else str(root_path),
            "val_fraction": val_fraction,
            "test_fraction": test_fraction if raw.test_images is None else None,
            "image_size": list(size) if size else None,
            "channels": channels,
            "normalize": normalize,
            "augment": augment_options,
            "flatten": flatten,
            "scale": float(scale),
            "limit": limit,
        },
    )
