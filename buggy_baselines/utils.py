"""Helpers shared by the training scripts in this folder.

You can assume that all code in this file is correct.
"""

import gzip
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import torch


def load_raw_digits():
    """The 1797 handwritten 8x8 digits bundled with scikit-learn (no download).

    Returns:
        ``(X, y)``: ``X`` is a float32 array of shape (1797, 64) with pixel values 0..16
        (row by row, 8 pixels per row), ``y`` an int64 array of labels 0..9.
    """
    # Read scikit-learn's bundled CSV directly: same data as sklearn.datasets.load_digits(),
    # without the second it takes to import sklearn.datasets.
    spec = importlib.util.find_spec("sklearn")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    path = Path(locations[0], "datasets", "data", "digits.csv.gz") if locations else None
    if path is not None and path.is_file():
        with gzip.open(path, "rt") as f:
            data = np.loadtxt(f, delimiter=",", dtype=np.float32)
        X, y = data[:, :-1], data[:, -1].astype(np.int64)
    else:
        from sklearn.datasets import load_digits

        digits = load_digits()
        X, y = digits.data.astype(np.float32), digits.target.astype(np.int64)
    return np.ascontiguousarray(X), y


def accuracy(logits, y):
    """Fraction of rows of ``logits`` whose largest entry is at the true label ``y``."""
    return (logits.argmax(dim=1) == y).float().mean().item()


def print_epoch(epoch, train_loss, train_acc, val_loss, val_acc):
    """Print one line of training progress."""
    print(
        f"epoch {epoch} train_loss {train_loss:.4f} train_acc {train_acc:.4f} "
        f"val_loss {val_loss:.4f} val_acc {val_acc:.4f}",
        flush=True,
    )


def report_result(train_loss, train_acc, val_loss, val_acc, test_loss, test_acc):
    """Print the final metrics as one machine-readable line.

    ``DEBUGKIT_RESULT {"train_loss": ..., "diverged": false}``; a NaN or infinite number is
    written as ``null`` and marks the run as diverged.
    """
    metrics = {
        "train_loss": train_loss,
        "train_acc": train_acc,
        "val_loss": val_loss,
        "val_acc": val_acc,
        "test_loss": test_loss,
        "test_acc": test_acc,
    }
    clean = {}
    diverged = False
    for key, value in metrics.items():
        value = float(value.item() if isinstance(value, torch.Tensor) else value)
        if math.isfinite(value):
            clean[key] = value
        else:
            clean[key] = None
            diverged = True
    clean["diverged"] = diverged
    print("DEBUGKIT_RESULT " + json.dumps(clean), flush=True)


def random_rotation(images, degrees):
    """Rotate each image by its own random angle, drawn uniformly from ``degrees``.

    Args:
        images: tensor of shape (N, C, H, W).
        degrees: ``(low, high)`` range of angles in degrees (counter-clockwise).

    Returns:
        A tensor of the same shape; pixels that come from outside the image repeat its border.
    """
    low, high = degrees
    angles = torch.empty(len(images)).uniform_(low, high) * (math.pi / 180)
    cos, sin = torch.cos(angles), torch.sin(angles)
    zeros = torch.zeros_like(angles)
    theta = torch.stack([torch.stack([cos, -sin, zeros], 1), torch.stack([sin, cos, zeros], 1)], 1)
    grid = torch.nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    return torch.nn.functional.grid_sample(images, grid, padding_mode="border", align_corners=False)
