"""CIFAR-10 in its python pickle batches (``<root>/cifar-10-batches-py/``)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from debugkit.data.sources.files import locate_files
from debugkit.data.sources.raw import RawData

FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"
SOURCE = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, unpacked"


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one pickled batch: ``data`` (N, 3072) uint8 rows (R, G, B planes) and ``labels``.

    Only open files you trust: the batches are Python pickles, as distributed.
    """
    with open(path, "rb") as fh:
        entry = pickle.load(fh, encoding="latin1")
    data = np.asarray(entry["data"], dtype=np.uint8)
    labels = np.asarray(entry["labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise ValueError(f"{str(path)!r} is not a CIFAR-10 batch: data {data.shape}, {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32), labels


def _download(root: Path) -> None:
    import torchvision.datasets

    torchvision.datasets.CIFAR10(str(root), train=True, download=True)


def load_cifar10_raw(root: Path, download: bool = False) -> RawData:
    """Load the five training batches, the test batch and the class names.

    Checksums are not verified (torchvision's download does that), so hand-made or
    reduced batches in the same format load as well.
    """
    folder = Path(root) / FOLDER
    names = (*TRAIN_BATCHES, TEST_BATCH, META)
    paths = locate_files(
        [(folder / n,) for n in names],
        dataset="cifar10",
        title="CIFAR-10",
        root=root,
        download=download,
        download_fn=lambda: _download(root),
        source=SOURCE,
    )
    train = [read_cifar_batch(p) for p in paths[:5]]
    test_x, test_y = read_cifar_batch(paths[5])
    with open(paths[6], "rb") as fh:
        class_names = list(pickle.load(fh, encoding="latin1")["label_names"])
    return RawData(
        torch.from_numpy(np.concatenate([x for x, _ in train])),
        torch.from_numpy(np.concatenate([y for _, y in train])),
        torch.from_numpy(test_x),
        torch.from_numpy(test_y),
        class_names,
        max_value=255.0,
    )
