"""Tiny files in the real on-disk formats, loaded through load_dataset's real code path."""

from __future__ import annotations

from urllib.error import URLError

import numpy as np
import pytest
import torch

from debugkit.data import DatasetNotFoundError, load_dataset, read_idx


def as_uint8(x: torch.Tensor) -> torch.Tensor:
    """Undo ``to_float`` for unnormalised inputs: [0, 1] floats back to uint8 pixels."""
    return torch.round(x * 255).to(torch.uint8)


def all_of(dataset):
    return dataset[list(range(len(dataset)))]


# -- IDX: MNIST and Fashion-MNIST ---------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trips_raw_and_gzipped(tmp_path, writers, gz):
    array = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5)
    path = writers.idx(tmp_path / "x-idx3-ubyte", array, gz=gz)
    np.testing.assert_array_equal(read_idx(path), array)


def test_read_idx_matches_torchvision_reader(tmp_path, writers):
    from torchvision.datasets.mnist import read_image_file

    images = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    path = writers.idx(tmp_path / "train-images-idx3-ubyte", images)
    np.testing.assert_array_equal(read_idx(path), read_image_file(str(path)).numpy())


def test_read_idx_rejects_other_files(tmp_path):
    path = tmp_path / "not-idx"
    path.write_bytes(b"PK\x03\x04 definitely a zip")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)


def test_fashion_mnist_images_and_labels_round_trip(fashion_root):
    root, data = fashion_root  # train files gzipped, test files raw
    bundle = load_dataset("fashion_mnist", root=root, val_fraction=0.0, normalize=None)
    x, y = all_of(bundle.train)
    np.testing.assert_array_equal(as_uint8(x).numpy(), data["train_images"][:, None])
    np.testing.assert_array_equal(y.numpy(), data["train_labels"])
    assert y.dtype == torch.int64 and x.dtype == torch.float32
    xt, yt = all_of(bundle.test)
    np.testing.assert_array_equal(as_uint8(xt).numpy(), data["test_images"][:, None])
    np.testing.assert_array_equal(yt.numpy(), data["test_labels"])
    assert bundle.input_shape == (1, 28, 28)
    assert bundle.num_classes == 10 and bundle.class_names[9] == "Ankle boot"


def test_mnist_matches_torchvision_dataset(tmp_path, writers):
    import torchvision

    writers.mnist_like(tmp_path, "MNIST", gz_train=False, gz_test=False)
    reference = torchvision.datasets.MNIST(str(tmp_path), train=True)
    bundle = load_dataset("mnist", root=tmp_path, val_fraction=0.0, normalize=None)
    x, y = all_of(bundle.train)
    torch.testing.assert_close(as_uint8(x)[:, 0], reference.data)
    torch.testing.assert_close(y, reference.targets)


def test_torchvision_set_keeps_official_test_split_and_splits_val_from_train(fashion_root):
    root, data = fashion_root
    bundle = load_dataset("fashion_mnist", root=root, val_fraction=0.25, test_fraction=0.5, seed=3)
    assert len(bundle.test) == len(data["test_labels"])  # test_fraction is ignored
    assert len(bundle.val) == 10 and len(bundle.train) == 30
    # Train and validation images come from the training file and do not overlap.
    raw = load_dataset("fashion_mnist", root=root, val_fraction=0.25, seed=3, normalize=None)
    ids = lambda ds: set(as_uint8(all_of(ds)[0]).reshape(len(ds), -1)[:, 0].tolist())  # noqa: E731
    assert ids(raw.train) | ids(raw.val) == set(range(40))
    assert not ids(raw.train) & ids(raw.val)


# -- CIFAR-10 pickles ---------------------------------------------------------------------


def test_cifar10_batches_round_trip(cifar_root):
    root, data = cifar_root
    bundle = load_dataset("cifar10", root=root, val_fraction=0.0, normalize=None)
    x, y = all_of(bundle.train)
    np.testing.assert_array_equal(as_uint8(x).numpy(), data["train_images"])
    np.testing.assert_array_equal(y.numpy(), data["train_labels"])
    red = bundle.train[0][0]
    assert torch.all(red[0] == 1) and torch.all(red[1:] == 0)  # R, G, B plane order
    xt, yt = all_of(bundle.test)
    np.testing.assert_array_equal(as_uint8(xt).numpy(), data["test_images"])
    assert yt.tolist() == data["test_labels"]
    assert bundle.class_names[1] == "automobile" and bundle.input_shape == (3, 32, 32)


def test_cifar10_grey_resized(cifar_root):
    root, _ = cifar_root
    bundle = load_dataset("cifar10", root=root, channels=1, image_size=28, normalize=None, val_fraction=0.0)
    red = bundle.train[0][0]
    assert red.shape == (1, 28, 28)
    torch.testing.assert_close(red, torch.full((1, 28, 28), 0.299))  # luma of pure red


# -- SVHN .mat ----------------------------------------------------------------------------


def test_svhn_mat_round_trip_with_label_10_as_0(svhn_root):
    root, data = svhn_root
    bundle = load_dataset("svhn", root=root, val_fraction=0.0, normalize=None)
    x, y = all_of(bundle.train)
    np.testing.assert_array_equal(as_uint8(x).numpy(), data["train_images"])
    np.testing.assert_array_equal(y.numpy(), data["train_labels"])
    assert y.min() == 0 and y.max() == 9
    ramp = as_uint8(bundle.train[0][0])[1]
    np.testing.assert_array_equal(ramp[5].numpy(), np.arange(32) * 8)  # width axis, not height
    xt, yt = all_of(bundle.test)
    np.testing.assert_array_equal(as_uint8(xt).numpy(), data["test_images"])
    np.testing.assert_array_equal(yt.numpy(), data["test_labels"])


# -- missing files and downloads ----------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("fashion_mnist", ["FashionMNIST/raw/train-images-idx3-ubyte(.gz)", "FashionMNIST/raw/t10k-labels-idx1-ubyte(.gz)"]),
        ("mnist", ["MNIST/raw/train-labels-idx1-ubyte(.gz)"]),
        ("cifar10", ["cifar-10-batches-py/data_batch_1", "cifar-10-batches-py/data_batch_5",
                     "cifar-10-batches-py/test_batch", "cifar-10-batches-py/batches.meta"]),
        ("svhn", ["SVHN/train_32x32.mat", "SVHN/test_32x32.mat"]),
    ],
)
def test_missing_files_error_names_every_file_and_download(tmp_path, name, expected):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset(name, root=tmp_path)
    message = str(info.value)
    for rel in expected:
        assert f"{tmp_path}/{rel}" in message
    assert "--download" in message and "network" in message
    assert isinstance(info.value, FileNotFoundError)
    assert info.value.dataset == name


def test_missing_error_lists_only_the_missing_files(tmp_path, writers):
    writers.mnist_like(tmp_path, "FashionMNIST")
    (tmp_path / "FashionMNIST/raw/t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("fashion_mnist", root=tmp_path)
    assert [p.name for p in info.value.missing] == ["t10k-labels-idx1-ubyte"]
    assert "train-images" not in str(info.value)


def test_failed_download_says_it_needs_network(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(self):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.FashionMNIST, "download", offline)
    with pytest.raises(DatasetNotFoundError, match="needs network access") as info:
        load_dataset("fashion_mnist", root=tmp_path, download=True)
    assert "name resolution" in str(info.value)
    assert isinstance(info.value.__cause__, URLError)
    assert f"{tmp_path}/FashionMNIST/raw/train-images-idx3-ubyte(.gz)" in str(info.value)


def test_download_goes_through_torchvision_and_then_loads(tmp_path, monkeypatch, writers):
    import torchvision.datasets

    calls = []

    def fake_download(self):  # torchvision leaves the .gz files and their extracted copies
        calls.append(self.root)
        writers.mnist_like(tmp_path, "MNIST", gz_train=True, gz_test=True)
        writers.mnist_like(tmp_path, "MNIST", gz_train=False, gz_test=False)

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", fake_download)
    bundle = load_dataset("mnist", root=tmp_path, download=True, val_fraction=0.0)
    assert calls == [str(tmp_path)] and len(bundle.train) == 40
    load_dataset("mnist", root=tmp_path, download=True)  # files present: no second download
    assert len(calls) == 1


def test_unknown_dataset_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"unknown data set 'imagenet'.*'cifar10'.*'digits'"):
        load_dataset("imagenet")
