"""From a :class:`TrainConfig` to data and model (shared by training and evaluation).

Evaluation rebuilds exactly what training saw from the stored config alone, so both go
through these two functions.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from torch import nn

from debugkit.data import DataBundle, InMemoryDataset, build_augmentation, load_dataset
from debugkit.data.augmentation import parse_augment
from debugkit.data.normalization import normalization_statistics, normalize
from debugkit.data.sample_transform import SampleTransform
from debugkit.models import build_model as _build_model
from debugkit.train.config import TrainConfig


def build_data(config: TrainConfig) -> DataBundle:
    """Load the data set described by ``config``.

    With ``cv_folds`` set, training and validation data are the folds of the pooled
    train+val examples (stratified, seeded by ``data_seed``); normalisation statistics are
    computed on the training folds only; the test split is the ordinary one, untouched.
    """
    options = dict(
        root=config.data_root,
        download=config.download,
        test_fraction=config.test_fraction,
        seed=config.data_seed,
        image_size=config.image_size,
        channels=config.channels,
        limit=config.limit,
    )
    if config.cv_folds is None:
        return load_dataset(config.dataset, val_fraction=config.val_fraction, normalize=config.normalize,
                            augment=config.augment or None, **options)
    # Pool: everything that is not test, raw (no normalisation, no augmentation).
    pool = load_dataset(config.dataset, val_fraction=0.0, normalize=None, augment=None, **options)
    return _fold_bundle(pool, config)


def cv_fold_indices(labels: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """Validation indices of each of ``folds`` stratified folds (sorted, disjoint, covering all)."""
    from sklearn.model_selection import StratifiedKFold

    counts = np.bincount(labels)
    smallest = counts[counts > 0].min()
    if smallest < folds:
        raise ValueError(
            f"cv_folds={folds} needs at least {folds} examples of every class in train+val; the smallest "
            f"class has {smallest}. Use fewer folds or more data (limit)."
        )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [np.sort(val) for _, val in splitter.split(np.zeros(len(labels)), labels)]


def _fold_bundle(pool: DataBundle, config: TrainConfig) -> DataBundle:
    x, y = pool.train.inputs, pool.train.targets
    val_idx = cv_fold_indices(y.numpy(), config.cv_folds, config.data_seed)[config.cv_fold]
    mask = np.ones(len(y), dtype=bool)
    mask[val_idx] = False
    train_idx = torch.from_numpy(np.flatnonzero(mask))
    val_idx = torch.from_numpy(val_idx)
    train_x, val_x = x[train_idx], x[val_idx]
    mean, std = normalization_statistics(train_x, config.normalize)
    augmenter = build_augmentation(parse_augment(config.augment or None), tuple(train_x.shape[-2:]))
    if augmenter is None:
        train = InMemoryDataset(normalize(train_x, mean, std), y[train_idx])
    else:
        train = InMemoryDataset(train_x, y[train_idx], SampleTransform(augmenter, mean, std))
    val = InMemoryDataset(normalize(val_x, mean, std), y[val_idx])
    test = InMemoryDataset(normalize(pool.test.inputs, mean, std), pool.test.targets)
    cfg = dict(pool.config, normalize=config.normalize, augment=parse_augment(config.augment or None),
               cv_folds=config.cv_folds, cv_fold=config.cv_fold)
    return replace(pool, train=train, val=val, test=test, mean=mean, std=std, config=cfg)


def build_model(config: TrainConfig, bundle: DataBundle) -> nn.Module:
    """The model of ``config`` for ``bundle``'s input shape and classes, initialised.

    Uses the global torch RNG, so seed it first (the trainer does).
    """
    spec = dict(config.model)
    spec.setdefault("init", config.init)
    return _build_model(spec, bundle.input_shape, bundle.num_classes)
