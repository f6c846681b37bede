"""DataBundle: shapes, loaders, class balance, summary."""

from __future__ import annotations

import json
import time

import pytest
import torch
import torch.nn.functional as F

from debugkit.data import DataBundle, load_dataset


@pytest.fixture(scope="module")
def digits() -> DataBundle:
    return load_dataset("digits")


def test_default_digits_bundle(digits):
    assert (len(digits.train), len(digits.val), len(digits.test)) == (1257, 270, 270)
    assert digits.num_classes == 10 and digits.class_names == [str(i) for i in range(10)]
    assert digits.input_shape == (1, 8, 8)
    x, y = digits.train[0]
    assert x.shape == (1, 8, 8) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and y.ndim == 0


@pytest.mark.parametrize(
    "kwargs, shape",
    [({"image_size": 28}, (1, 28, 28)), ({"image_size": 32, "channels": 3}, (3, 32, 32)), ({"flatten": True}, (64,))],
)
def test_resize_channels_flatten_shapes(kwargs, shape):
    bundle = load_dataset("digits", **kwargs)
    assert bundle.input_shape == shape
    assert bundle.train[0][0].shape == shape and bundle.test[0][0].shape == shape


def test_resize_is_bilinear_and_rgb_copies_grey():
    raw = load_dataset("digits", normalize=None)
    big = load_dataset("digits", normalize=None, image_size=32, channels=3)
    expected = F.interpolate(raw.val.inputs, size=(32, 32), mode="bilinear", align_corners=False)
    torch.testing.assert_close(big.val.inputs[:, :1], expected)
    torch.testing.assert_close(big.val.inputs[:, 1], big.val.inputs[:, 2])


def test_loaders_cover_each_split_once_with_seeded_shuffling(digits):
    train, val, test = digits.loaders(batch_size=100)
    batches = list(train)
    assert [len(x) for x, _ in batches] == [100] * 12 + [57]
    seen = torch.cat([y for _, y in batches])
    assert torch.equal(torch.sort(seen).values, torch.sort(digits.train.targets).values)
    assert not torch.equal(seen, digits.train.targets)  # shuffled
    again = torch.cat([y for _, y in digits.loaders(batch_size=100).train])
    other = torch.cat([y for _, y in digits.loaders(batch_size=100, seed=1).train])
    assert torch.equal(seen, again) and not torch.equal(seen, other)
    assert torch.equal(torch.cat([y for _, y in val]), digits.val.targets)  # never shuffled
    assert sum(len(y) for _, y in test) == 270


@pytest.mark.parametrize("batch_size", [None, "full"])
def test_full_batch(digits, batch_size):
    loaders = digits.loaders(batch_size)
    for loader, n in zip(loaders, (1257, 270, 270)):
        (x, y), = list(loader)
        assert x.shape == (n, 1, 8, 8) and y.shape == (n,)


def test_bad_batch_size(digits):
    with pytest.raises(ValueError, match="batch_size"):
        digits.loaders(batch_size=0)


def test_plain_dataloader_works_on_the_splits(digits):
    x, y = next(iter(torch.utils.data.DataLoader(digits.val, batch_size=8)))
    torch.testing.assert_close(x, digits.val.inputs[:8])
    torch.testing.assert_close(y, digits.val.targets[:8])


def test_an_epoch_on_digits_takes_milliseconds(digits):
    loader = digits.loaders(batch_size=32).train
    list(loader)  # warm up
    start = time.perf_counter()
    n = sum(len(y) for _, y in loader)
    assert n == 1257 and time.perf_counter() - start < 0.25


def test_class_balance_counts_and_fractions(digits):
    table = digits.class_balance()
    assert list(table.columns) == ["split", "label", "class_name", "count", "fraction"]
    assert len(table) == 30
    train = table[table.split == "train"].set_index("label")
    assert train["count"].tolist() == torch.bincount(digits.train.targets, minlength=10).tolist()
    assert table.groupby("split")["fraction"].sum().round(6).eq(1.0).all()


def test_describe_is_json_able(digits):
    summary = json.loads(json.dumps(digits.describe()))
    assert summary["name"] == "digits" and summary["sizes"] == {"train": 1257, "val": 270, "test": 270}
    assert summary["normalize"] == "per_channel" and summary["input_shape"] == [1, 8, 8]
