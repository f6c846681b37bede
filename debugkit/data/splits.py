"""Seeded, stratified train/validation/test index splits."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.model_selection import train_test_split


def _as_numpy(labels) -> np.ndarray:
    return labels.numpy() if hasattr(labels, "numpy") else np.asarray(labels)


def fraction_to_count(fraction: float, n: int) -> int:
    """Round ``fraction * n`` half up (``0.15 * 10 -> 2``), without float surprises."""
    return int(np.floor(fraction * n + 0.5 + 1e-9))


def split_off(
    indices: np.ndarray, labels, size: int, seed: int, *, what: str = "split"
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``indices`` into ``(rest, part)`` with ``size`` examples in ``part``.

    Stratified by ``labels[indices]`` so each class keeps its share; falls back to an
    unstratified split (with a warning) when a class is too small to appear in both parts.
    Both outputs are sorted, and the result depends only on the inputs and ``seed``.

    Args:
        indices: Indices into ``labels`` to split.
        labels: Class label of every example (numpy array or tensor).
        size: Number of examples that go to ``part`` (0 gives an empty part).
        seed: Random seed.
        what: Name of the part for messages (``"validation"``).

    Example:
        >>> rest, val = split_off(np.arange(10), np.array([0, 1] * 5), 2, seed=0)
        >>> len(rest), len(val)
        (8, 2)
    """
    indices = np.asarray(indices, dtype=np.int64)
    if size == 0:
        return np.sort(indices), np.zeros(0, dtype=np.int64)
    if not 0 < size < len(indices):
        raise ValueError(
            f"cannot split {size} of {len(indices)} examples off as the {what} split; "
            "use more data or a smaller fraction"
        )
    strata = _as_numpy(labels)[indices]
    try:
        rest, part = train_test_split(indices, test_size=size, random_state=seed, stratify=strata)
    except ValueError as err:
        try:
            rest, part = train_test_split(indices, test_size=size, random_state=seed)
        except ValueError as err2:
            raise ValueError(
                f"cannot split {size} of {len(indices)} examples off as the {what} split ({err2}); "
                "use more data or another fraction"
            ) from err2
        warnings.warn(
            f"{what} split of {len(indices)} examples is not stratified: {err}",
            stacklevel=3,
        )
    return np.sort(rest), np.sort(part)


def stratified_subset(indices: np.ndarray, labels, size: int, seed: int) -> np.ndarray:
    """Keep at most ``size`` of ``indices``, preserving class fractions (sorted output).

    Example:
        >>> stratified_subset(np.arange(100), np.arange(100) % 2, 10, seed=0).shape
        (10,)
    """
    indices = np.asarray(indices, dtype=np.int64)
    if len(indices) <= size:
        return np.sort(indices)
    rest, kept = split_off(indices, labels, size, seed, what="limited")
    return kept


def train_val_test_indices(
    labels, *, val_fraction: float, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split all examples into train/validation/test index arrays.

    ``val_fraction`` and ``test_fraction`` are shares of *all* examples. The test part is
    split off first, then the validation part from the rest.

    Example:
        >>> tr, va, te = train_val_test_indices(np.arange(100) % 2, val_fraction=0.2,
        ...                                     test_fraction=0.1, seed=0)
        >>> len(tr), len(va), len(te)
        (70, 20, 10)
    """
    n = len(labels)
    rest, test = split_off(np.arange(n), labels, fraction_to_count(test_fraction, n), seed, what="test")
    n_val = fraction_to_count(val_fraction, n)
    train, val = split_off(rest, labels, n_val, seed + 1, what="validation")
    return train, val, test
