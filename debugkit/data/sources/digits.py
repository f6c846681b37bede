"""scikit-learn's bundled handwritten digits: 1797 real 8x8 images, no download needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from debugkit.data.sources.raw import RawData


def load_digits_raw(root: Path | None = None, download: bool = False) -> RawData:
    """Load the UCI digits shipped inside scikit-learn (``sklearn.datasets.load_digits``).

    Pixels are integers 0..16 (``max_value=16``). There is no official test split, so
    :func:`~debugkit.data.load_dataset` carves train/validation/test out of all 1797 images.
    ``root`` and ``download`` are accepted for a uniform interface and ignored.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.from_numpy(digits.images.astype(np.uint8)).unsqueeze(1)
    labels = torch.from_numpy(digits.target.astype(np.int64))
    return RawData(images, labels, None, None, [str(i) for i in range(10)], max_value=16.0)
