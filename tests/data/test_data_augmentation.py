"""Augmentation changes training samples, never validation or test samples."""

from __future__ import annotations

import pytest
import torch

from debugkit.data import build_augmentation, load_dataset


@pytest.fixture(scope="module")
def plain():
    return load_dataset("digits", image_size=16, seed=2)


def test_flip_with_probability_one_mirrors_every_training_image(plain):
    flipped = load_dataset("digits", image_size=16, seed=2, augment={"hflip": 1.0})
    x, y = flipped.train[list(range(20))]
    torch.testing.assert_close(x, plain.train.inputs[:20].flip(-1))
    torch.testing.assert_close(y, plain.train.targets[:20])
    torch.testing.assert_close(flipped.mean, plain.mean)  # statistics from unaugmented images


def test_random_augmentation_changes_training_samples_but_not_val_or_test(plain):
    bundle = load_dataset("digits", image_size=16, seed=2, augment={"hflip": True, "rotation": 30, "crop": 0.6})
    torch.manual_seed(0)
    first = bundle.train[list(range(32))][0]
    second = bundle.train[list(range(32))][0]
    assert first.shape == (32, 1, 16, 16)
    assert not torch.allclose(first, second)
    assert not torch.allclose(first, plain.train.inputs[:32])
    for split in ("val", "test"):
        ds = bundle.split(split)
        assert ds.transform is None
        torch.testing.assert_close(ds[list(range(len(ds)))][0], plain.split(split).inputs)
        torch.testing.assert_close(ds[3][0], ds[3][0])


def test_augmented_flattened_samples_and_loaders(plain):
    bundle = load_dataset("digits", augment=["rotation"], flatten=True)
    x, y = next(iter(bundle.loaders(batch_size=16).train))
    assert x.shape == (16, 64) and y.dtype == torch.int64
    assert bundle.train[0][0].shape == (64,)
    assert bundle.val[0][0].shape == (64,)


def test_options_and_defaults():
    t = build_augmentation({"hflip": True, "rotation": 15, "crop": 0.8}, (28, 28))
    names = [type(s).__name__ for s in t.transforms]
    assert names == ["RandomResizedCrop", "RandomRotation", "RandomHorizontalFlip"]
    assert t.transforms[0].scale == (0.8, 1.0) and t.transforms[1].degrees == [-15.0, 15.0]
    assert build_augmentation({"hflip": False}, (8, 8)) is None
    assert build_augmentation(None, (8, 8)) is None


@pytest.mark.parametrize(
    "augment, match",
    [({"blur": True}, r"unknown option\(s\) \['blur'\].*hflip"), ({"crop": 1.5}, "crop"), ({"hflip": 2}, "hflip")],
)
def test_bad_augmentation_options_are_rejected(augment, match):
    with pytest.raises(ValueError, match=match):
        load_dataset("digits", augment=augment)
