"""SVHN (cropped digits) from its MATLAB files (``<root>/SVHN/train_32x32.mat``, ...)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from debugkit.data.sources.files import locate_files
from debugkit.data.sources.raw import RawData

FOLDER = "SVHN"
FILES = {"train": "train_32x32.mat", "test": "test_32x32.mat"}
SOURCE = "http://ufldl.stanford.edu/housenumbers/"


def read_svhn_mat(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Read ``X`` (32, 32, 3, N) uint8 and ``y`` (N, 1) from a SVHN ``.mat`` file.

    SVHN labels the digit 0 as class 10; it becomes class 0 here (as in torchvision).
    """
    import scipy.io

    mat = scipy.io.loadmat(path)
    if "X" not in mat or "y" not in mat:
        raise ValueError(f"{str(path)!r} is not a SVHN file: it needs the variables 'X' and 'y'")
    images = np.ascontiguousarray(np.transpose(mat["X"], (3, 2, 0, 1)).astype(np.uint8))
    labels = mat["y"].astype(np.int64).reshape(-1)
    labels[labels == 10] = 0
    if len(labels) != len(images):
        raise ValueError(f"{str(path)!r}: {len(images)} images but {len(labels)} labels")
    return torch.from_numpy(images), torch.from_numpy(labels)


def _download(root: Path) -> None:
    import torchvision.datasets

    for split in FILES:
        torchvision.datasets.SVHN(str(Path(root) / FOLDER), split=split, download=True)


def load_svhn_raw(root: Path, download: bool = False) -> RawData:
    """Load SVHN's official train and test splits (the ``extra`` split is not used)."""
    folder = Path(root) / FOLDER
    paths = locate_files(
        [(folder / FILES["train"],), (folder / FILES["test"],)],
        dataset="svhn",
        title="SVHN",
        root=root,
        download=download,
        download_fn=lambda: _download(root),
        source=SOURCE,
    )
    train_x, train_y = read_svhn_mat(paths[0])
    test_x, test_y = read_svhn_mat(paths[1])
    return RawData(train_x, train_y, test_x, test_y, [str(i) for i in range(10)], max_value=255.0)
