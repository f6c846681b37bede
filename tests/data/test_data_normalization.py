"""Normalisation with training-set statistics only."""

from __future__ import annotations

import pytest
import torch
from sklearn.datasets import load_digits

from debugkit.data import load_dataset, per_channel_statistics


@pytest.fixture(scope="module")
def raw():
    return load_dataset("digits", normalize=None, seed=3)


def test_per_channel_uses_training_statistics_only(raw):
    bundle = load_dataset("digits", normalize="per_channel", seed=3)
    expected_mean = raw.train.inputs.mean()
    expected_std = raw.train.inputs.std(correction=0)
    assert bundle.mean.shape == (1, 1, 1)
    torch.testing.assert_close(bundle.mean.flatten(), expected_mean.reshape(1))
    torch.testing.assert_close(bundle.std.flatten(), expected_std.reshape(1))
    # Statistics of all data (train + val + test) are different: the test would notice leakage.
    everything = torch.cat([raw.train.inputs, raw.val.inputs, raw.test.inputs])
    assert abs(everything.mean() - bundle.mean.item()) > 1e-4
    # Train is standardised exactly, validation/test only approximately.
    assert abs(bundle.train.inputs.mean().item()) < 1e-5
    assert abs(bundle.train.inputs.std(correction=0).item() - 1) < 1e-5
    for split in ("val", "test"):
        x = bundle.split(split).inputs
        assert abs(x.mean().item()) > 1e-4
        torch.testing.assert_close(x, (raw.split(split).inputs - bundle.mean) / bundle.std)


def test_per_channel_statistics_on_rgb_images():
    images = torch.rand(50, 3, 4, 4) * torch.tensor([1.0, 2.0, 4.0]).view(1, 3, 1, 1)
    mean, std = per_channel_statistics(images)
    for c in range(3):
        torch.testing.assert_close(mean[c, 0, 0], images[:, c].mean())
        torch.testing.assert_close(std[c, 0, 0], images[:, c].std(correction=0))


def test_per_pixel_follows_the_ds405b_formula(raw):
    bundle = load_dataset("digits", normalize="per_pixel", seed=3)
    x = raw.train.inputs
    mu = x.mean(dim=0)
    sigma = ((x - mu) ** 2).mean(dim=0).sqrt() + 1e-5
    assert bundle.mean.shape == (1, 8, 8)
    torch.testing.assert_close(bundle.mean, mu)
    torch.testing.assert_close(bundle.std, sigma)
    # Pixels that never change in training (digits' corner) become 0, not NaN.
    constant = x.std(dim=0) == 0
    assert constant.sum() >= 1
    assert torch.all(bundle.train.inputs[:, constant] == 0)
    torch.testing.assert_close(bundle.test.inputs, (raw.test.inputs - mu) / sigma)
    assert torch.isfinite(bundle.val.inputs).all()


def test_raw_digits_are_sklearn_pixels_over_16_and_scale_reproduces_0_255():
    reference = torch.from_numpy(load_digits().images).float().unsqueeze(1)
    bundle = load_dataset("digits", normalize=None, val_fraction=0.0, test_fraction=0.0)
    torch.testing.assert_close(bundle.train.inputs, reference / 16)
    assert bundle.mean is None and bundle.std is None
    scaled = load_dataset("digits", normalize=None, scale=255, val_fraction=0.0, test_fraction=0.0)
    assert scaled.train.inputs.max() == 255 and scaled.train.inputs.min() == 0
    torch.testing.assert_close(scaled.train.inputs, reference / 16 * 255)


def test_unknown_normalisation_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"normalize='zscore'.*per_channel.*per_pixel"):
        load_dataset("digits", normalize="zscore")
