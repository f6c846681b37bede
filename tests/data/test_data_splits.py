"""Seeded, stratified train/validation/test splits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from debugkit.data import load_dataset, stratified_subset, train_val_test_indices
from debugkit.data.splits import split_off


def test_indices_are_disjoint_cover_everything_and_have_the_requested_sizes():
    labels = np.repeat(np.arange(4), [50, 30, 15, 5])
    train, val, test = train_val_test_indices(labels, val_fraction=0.2, test_fraction=0.1, seed=0)
    assert (len(train), len(val), len(test)) == (70, 20, 10)
    assert np.array_equal(np.sort(np.concatenate([train, val, test])), np.arange(100))


def test_stratification_keeps_class_fractions_of_an_imbalanced_set():
    labels = np.repeat([0, 1], [90, 10])
    train, val, test = train_val_test_indices(labels, val_fraction=0.2, test_fraction=0.2, seed=5)
    for part, size in ((val, 20), (test, 20), (train, 60)):
        assert len(part) == size
        assert np.sum(labels[part] == 1) == size // 10  # exactly 10 % minority in every split


def test_digits_splits_are_stratified():
    bundle = load_dataset("digits", normalize=None)
    counts = bundle.class_balance().pivot(index="label", columns="split", values="count")
    total = counts.sum(axis=1)
    for split in ("train", "val", "test"):
        share = counts[split].sum() / total.sum()
        # each class within one example of its proportional share
        assert (counts[split] - total * share).abs().max() <= 1.0, split


def test_same_seed_same_split_other_seed_other_split():
    a = load_dataset("digits", seed=7)
    b = load_dataset("digits", seed=7)
    c = load_dataset("digits", seed=8)
    torch.testing.assert_close(a.train.inputs, b.train.inputs)
    torch.testing.assert_close(a.val.targets, b.val.targets)
    torch.testing.assert_close(a.mean, b.mean)
    assert not torch.equal(a.val.inputs, c.val.inputs)


def test_split_off_falls_back_with_a_warning_when_classes_are_too_small():
    labels = np.array([0, 0, 0, 0, 0, 0, 0, 1])  # class 1 has a single member
    with pytest.warns(UserWarning, match="not stratified"):
        rest, part = split_off(np.arange(8), labels, 2, seed=0, what="validation")
    assert len(part) == 2 and len(rest) == 6


def test_split_off_rejects_impossible_sizes():
    with pytest.raises(ValueError, match="cannot split 5 of 5"):
        split_off(np.arange(5), np.zeros(5), 5, seed=0, what="validation")


def test_limit_keeps_a_stratified_subset_per_split():
    bundle = load_dataset("digits", limit=100, seed=1)
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (100, 100, 100)
    counts = torch.bincount(bundle.train.targets, minlength=10)
    assert counts.min() >= 9 and counts.max() <= 11
    subset = stratified_subset(np.arange(1000), np.arange(1000) % 4, 40, seed=0)
    assert np.bincount(subset % 4).tolist() == [10, 10, 10, 10]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"test_fraction": -0.1}, "test_fraction"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, "val_fraction \\+ test_fraction"),
        ({"limit": 0}, "limit"),
        ({"channels": 2}, "channels"),
        ({"image_size": (28,)}, "image_size"),
    ],
)
def test_bad_options_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_dataset("digits", **kwargs)
