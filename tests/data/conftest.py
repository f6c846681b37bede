"""Writers for tiny data sets in the real on-disk formats, and fixtures using them.

The writers are independent of debugkit's readers: they follow the published format
descriptions (IDX, CIFAR-10 python batches, SVHN .mat), so a reader bug cannot cancel out.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    """IDX: 0x0000, type 0x08 (uint8), ndim, big-endian uint32 dims, raw bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    payload = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as fh:
            fh.write(payload)
    else:
        path.write_bytes(payload)
    return path


def make_images(n: int, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Random uint8 images whose first pixel is the image's index (to trace it)."""
    images = np.random.default_rng(seed).integers(0, 256, size=(n, *shape), dtype=np.uint8)
    images.reshape(n, -1)[:, 0] = np.arange(n)
    return images


def imbalanced_labels(n: int, weights=(0.5, 0.3, 0.2)) -> np.ndarray:
    """Labels 0..len(weights)-1 in the given proportions, interleaved."""
    counts = np.round(np.asarray(weights) * n).astype(int)
    counts[-1] = n - counts[:-1].sum()
    labels = np.concatenate([np.full(c, k) for k, c in enumerate(counts)])
    return np.random.default_rng(1).permutation(labels).astype(np.uint8)


def write_mnist_like(root: Path, folder: str, n_train=40, n_test=10, gz_train=True, gz_test=False) -> dict:
    raw = root / folder / "raw"
    data = {
        "train_images": make_images(n_train, (28, 28), seed=0),
        "train_labels": imbalanced_labels(n_train),
        "test_images": make_images(n_test, (28, 28), seed=1),
        "test_labels": imbalanced_labels(n_test),
    }
    for key, array in data.items():
        write_idx(raw / IDX_NAMES[key], array, gz=gz_train if key.startswith("train") else gz_test)
    return data


CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar10(root: Path, per_batch=8, n_test=6) -> dict:
    """Five ``data_batch_i``, ``test_batch`` (dicts with 'data' (N, 3072) uint8 rows of
    R, G, B planes, 'labels' list) and ``batches.meta`` ('label_names'), pickled."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    n_train = 5 * per_batch
    images = make_images(n_train, (3, 32, 32), seed=2)
    images[0] = 0
    images[0, 0] = 255  # image 0 is pure red: catches channel-order bugs
    labels = imbalanced_labels(n_train).astype(int)
    for b in range(5):
        sl = slice(b * per_batch, (b + 1) * per_batch)
        batch = {
            "batch_label": f"training batch {b + 1} of 5",
            "labels": labels[sl].tolist(),
            "data": images[sl].reshape(per_batch, 3072),
            "filenames": [f"img_{i}.png" for i in range(sl.start, sl.stop)],
        }
        with open(folder / f"data_batch_{b + 1}", "wb") as fh:
            pickle.dump(batch, fh, protocol=2)
    test_images = make_images(n_test, (3, 32, 32), seed=3)
    test_labels = (np.arange(n_test) % 10).tolist()
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({"labels": test_labels, "data": test_images.reshape(n_test, 3072)}, fh, protocol=2)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": CIFAR_CLASSES, "num_cases_per_batch": per_batch, "num_vis": 3072}, fh, protocol=2)
    return {"train_images": images, "train_labels": labels, "test_images": test_images, "test_labels": test_labels}


def write_svhn(root: Path, n_train=30, n_test=6) -> dict:
    """``train_32x32.mat`` / ``test_32x32.mat``: X (32, 32, 3, N) uint8, y (N, 1) in 1..10."""
    import scipy.io

    folder = root / "SVHN"
    folder.mkdir(parents=True)
    out = {}
    for split, n, seed in (("train", n_train, 4), ("test", n_test, 5)):
        hwc = make_images(n, (32, 32, 3), seed=seed)
        # Image 0: green channel rises along the width, so an H/W swap shows.
        hwc[0, :, :, 1] = np.arange(32, dtype=np.uint8)[None, :] * 8
        digits = np.arange(n) % 10  # digit 0 is stored as label 10
        y = np.where(digits == 0, 10, digits).reshape(n, 1).astype(np.uint8)
        scipy.io.savemat(folder / f"{split}_32x32.mat", {"X": np.transpose(hwc, (1, 2, 3, 0)), "y": y})
        out[f"{split}_images"] = np.transpose(hwc, (0, 3, 1, 2))  # (N, C, H, W)
        out[f"{split}_labels"] = digits
    return out


@pytest.fixture
def fashion_root(tmp_path):
    return tmp_path, write_mnist_like(tmp_path, "FashionMNIST")


@pytest.fixture
def cifar_root(tmp_path):
    return tmp_path, write_cifar10(tmp_path)


@pytest.fixture
def svhn_root(tmp_path):
    return tmp_path, write_svhn(tmp_path)


@pytest.fixture
def writers():
    """The format writers, for tests that create files at a chosen moment."""
    from types import SimpleNamespace

    return SimpleNamespace(idx=write_idx, mnist_like=write_mnist_like, cifar10=write_cifar10, svhn=write_svhn)
