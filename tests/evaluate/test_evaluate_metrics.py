"""Every metric against scikit-learn, including classes that are never predicted or absent."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from debugkit.evaluate import (
    classification_metrics,
    confusion_matrix,
    macro_f1,
    per_class_metrics,
)


def _cases():
    rng = np.random.default_rng(0)
    k = 6
    yield "random", rng.integers(0, k, 300), rng.integers(0, k, 300), k
    y = rng.integers(0, k, 200)
    p = y.copy()
    noisy = rng.random(200) < 0.3
    p[noisy] = rng.integers(0, k, int(noisy.sum()))
    p[p == 4] = 0  # class 4 is never predicted
    yield "never_predicted", y, p, k
    y2 = rng.integers(0, 5, 150)  # class 5 absent from the labels ...
    p2 = np.where(rng.random(150) < 0.2, 5, y2)  # ... but predicted sometimes
    yield "absent_but_predicted", y2, p2, k
    yield "perfect", np.arange(12) % 4, np.arange(12) % 4, 4
    yield "all_one_class", np.arange(20) % 3, np.zeros(20, dtype=int), 3


CASES = list(_cases())


@pytest.mark.parametrize("name,y,p,k", CASES, ids=[c[0] for c in CASES])
def test_against_sklearn(name, y, p, k):
    labels = list(range(k))
    m = classification_metrics(torch.as_tensor(y), torch.as_tensor(p), k)
    np.testing.assert_array_equal(m.confusion, skm.confusion_matrix(y, p, labels=labels))
    for key, fn in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        np.testing.assert_allclose(m.per_class[key], fn(y, p, labels=labels, average=None, zero_division=0),
                                   err_msg=key)
        # macro over the classes present in labels or predictions: sklearn's default label set
        assert m.overall[f"macro_{key}"] == pytest.approx(fn(y, p, average="macro", zero_division=0)), key
        assert m.overall[f"micro_{key}"] == pytest.approx(fn(y, p, average="micro", zero_division=0)), key
    assert m.overall["weighted_f1"] == pytest.approx(skm.f1_score(y, p, average="weighted", zero_division=0))
    assert m.overall["accuracy"] == pytest.approx(skm.accuracy_score(y, p))
    np.testing.assert_array_equal(m.per_class["support"], np.bincount(y, minlength=k))
    # per-class accuracy is the one-vs-rest binary accuracy
    for c in range(k):
        assert m.per_class["accuracy"][c] == pytest.approx(skm.accuracy_score(y == c, p == c)), c
    assert macro_f1(confusion_matrix(y, p, k)) == pytest.approx(m.overall["macro_f1"])


def test_never_predicted_and_absent_are_named():
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 0, 0, 0, 2, 3])
    m = classification_metrics(y, p, 4, class_names=["a", "b", "c", "d"])
    assert m.never_predicted == ["b"]
    assert m.absent == ["d"]
    assert m.per_class["precision"][1] == 0.0 and m.per_class["recall"][1] == 0.0
    table = m.table()
    assert list(table.index[-2:]) == ["macro avg", "micro avg"]
    assert table.loc["micro avg", "precision"] == pytest.approx(skm.accuracy_score(y, p))


def test_confusion_matrix_orientation_and_errors():
    cm = confusion_matrix([0, 1, 1], [0, 0, 1], 2)
    assert cm.tolist() == [[1, 0], [1, 1]]  # rows = true class
    assert confusion_matrix([], [], 3).sum() == 0
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="0..1"):
        confusion_matrix([0, 2], [0, 1], 2)
    with pytest.raises(TypeError, match="integers"):
        confusion_matrix(torch.tensor([0.0, 1.0]), torch.tensor([0, 1]))


def test_per_class_from_counts_matches_definition():
    cm = torch.tensor([[5, 1, 0], [2, 3, 0], [0, 0, 0]])
    pc = per_class_metrics(cm)
    assert pc["precision"].tolist() == pytest.approx([5 / 7, 3 / 4, 0.0])
    assert pc["recall"].tolist() == pytest.approx([5 / 6, 3 / 5, 0.0])
    assert pc["f1"][0] == pytest.approx(2 * (5 / 7) * (5 / 6) / (5 / 7 + 5 / 6))
