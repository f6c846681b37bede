"""Classification metrics as pure functions of labels and a confusion matrix.

Conventions (the same as scikit-learn's, against which the tests check every number):

* ``confusion_matrix[i, j]`` counts examples of true class ``i`` predicted as ``j``.
* A ratio with a zero denominator (precision of a class that is never predicted, recall of
  a class absent from the labels) is ``zero_division`` (default 0), like
  ``sklearn.metrics.precision_score(..., zero_division=0)``.
* Macro averages are unweighted means over the classes that occur in the true labels *or*
  in the predictions (scikit-learn's default when ``labels`` is not given); a class the
  model never predicts therefore counts, with precision 0. Per-class arrays cover all
  ``num_classes`` classes.
* Micro averages pool the counts of all classes; for single-label classification micro
  precision = micro recall = micro F1 = accuracy.
* Per-class *accuracy* is the one-vs-rest accuracy ``(TP + TN) / N`` of "class k or not";
  the share of class-k examples that were recognised ("class accuracy" in some courses) is
  the *recall* of class k.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch


def _as_long(values) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(values) if not torch.is_tensor(values) else values)
    if t.is_floating_point() and t.numel():
        raise TypeError("labels must be integers (class indices), got floating-point values")
    return t.reshape(-1).to(torch.long).cpu()


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> torch.Tensor:
    """Counts ``C[i, j]`` of true class ``i`` predicted as ``j`` (int64, ``(K, K)``).

    Args:
        y_true: True class indices (tensor, array or list).
        y_pred: Predicted class indices, same length.
        num_classes: ``K``; default ``max(label) + 1``.

    Example:
        >>> confusion_matrix([0, 1, 1], [0, 0, 1], 2).tolist()
        [[1, 0], [1, 1]]
    """
    t, p = _as_long(y_true), _as_long(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"y_true ({t.numel()}) and y_pred ({p.numel()}) must have the same length")
    if num_classes is not None:
        k = int(num_classes)
    else:
        k = int(max(t.max(), p.max())) + 1 if t.numel() else 0
    if t.numel() and (t.min() < 0 or p.min() < 0 or t.max() >= k or p.max() >= k):
        raise ValueError(f"labels must lie in 0..{k - 1} for num_classes={k}")
    return torch.bincount(t * k + p, minlength=k * k).reshape(k, k)


def _div(num: torch.Tensor, den: torch.Tensor, zero_division: float) -> torch.Tensor:
    num, den = num.to(torch.float64), den.to(torch.float64)
    out = torch.full_like(num, float(zero_division))
    ok = den > 0
    out[ok] = num[ok] / den[ok]
    return out


def per_class_metrics(cm: torch.Tensor, zero_division: float = 0.0) -> dict[str, torch.Tensor]:
    """Per-class ``precision``, ``recall``, ``f1``, ``accuracy`` (one-vs-rest), ``support``.

    Example:
        >>> per_class_metrics(confusion_matrix([0, 1, 1], [0, 0, 1], 2))["recall"].tolist()
        [1.0, 0.5]
    """
    cm = torch.as_tensor(cm).to(torch.long)
    tp = cm.diag()
    predicted = cm.sum(0)
    support = cm.sum(1)
    n = cm.sum()
    precision = _div(tp, predicted, zero_division)
    recall = _div(tp, support, zero_division)
    f1 = _div(2 * tp, predicted + support, zero_division)  # = 2PR/(P+R), without 0/0 in between
    tn = n - predicted - support + tp
    accuracy = _div(tp + tn, n.expand_as(tp), zero_division)
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy, "support": support}


def _present(cm: torch.Tensor) -> torch.Tensor:
    """Classes occurring in the labels or in the predictions."""
    return (cm.sum(0) + cm.sum(1)) > 0


def macro_f1(cm: torch.Tensor, zero_division: float = 0.0) -> float:
    """Unweighted mean F1 over the classes present in labels or predictions.

    Example:
        >>> round(macro_f1(confusion_matrix([0, 1, 1], [0, 0, 1], 2)), 4)
        0.6667
    """
    cm = torch.as_tensor(cm)
    present = _present(cm)
    if not bool(present.any()):
        return float(zero_division)
    return float(per_class_metrics(cm, zero_division)["f1"][present].mean())


def accuracy(cm: torch.Tensor) -> float:
    """Share of correct predictions (``trace / total``)."""
    cm = torch.as_tensor(cm)
    n = int(cm.sum())
    return float(cm.diag().sum()) / n if n else float("nan")


@dataclass
class ClassificationMetrics:
    """Confusion matrix, per-class and overall metrics of one set of predictions.

    Attributes:
        confusion: ``(K, K)`` counts, rows = true class.
        class_names: Name of each class.
        per_class: ``precision``, ``recall``, ``f1``, ``accuracy`` (one-vs-rest), ``support``
            as numpy arrays of length ``K``.
        overall: ``accuracy``, ``micro_precision``, ``micro_recall``, ``micro_f1``,
            ``macro_precision``, ``macro_recall``, ``macro_f1``, ``weighted_f1``, ``n``.
        never_predicted: Classes present in the labels that the model never predicts.
        absent: Classes with no example in the labels.
    """

    confusion: np.ndarray
    class_names: list[str]
    per_class: dict[str, np.ndarray]
    overall: dict[str, float]
    never_predicted: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)

    def table(self):
        """Per-class metrics as a DataFrame (one row per class, plus macro and micro rows)."""
        import pandas as pd

        df = pd.DataFrame({k: v for k, v in self.per_class.items()}, index=pd.Index(self.class_names, name="class"))
        df.loc["macro avg"] = [self.overall["macro_precision"], self.overall["macro_recall"],
                               self.overall["macro_f1"], np.nan, self.overall["n"]]
        df.loc["micro avg"] = [self.overall["micro_precision"], self.overall["micro_recall"],
                               self.overall["micro_f1"], self.overall["accuracy"], self.overall["n"]]
        df["support"] = df["support"].astype(int)
        return df

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": dict(self.overall),
            "per_class": {name: {k: (int(v[i]) if k == "support" else float(v[i])) for k, v in self.per_class.items()}
                          for i, name in enumerate(self.class_names)},
            "confusion": self.confusion.tolist(),
            "class_names": list(self.class_names),
            "never_predicted": list(self.never_predicted),
            "absent": list(self.absent),
        }


def classification_metrics(
    y_true,
    y_pred,
    num_classes: int | None = None,
    class_names: Sequence[str] | None = None,
    zero_division: float = 0.0,
) -> ClassificationMetrics:
    """All metrics of a single-label classification (see the module docstring for conventions).

    Example:
        >>> m = classification_metrics([0, 1, 2, 2], [0, 2, 2, 2], 3)
        >>> m.overall["accuracy"], m.never_predicted
        (0.75, ['1'])
    """
    cm = confusion_matrix(y_true, y_pred, num_classes)
    k = cm.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    if len(names) != k:
        raise ValueError(f"class_names has {len(names)} entries for {k} classes")
    pc = per_class_metrics(cm, zero_division)
    present = _present(cm)
    n = int(cm.sum())
    correct = int(cm.diag().sum())

    def macro(key: str) -> float:
        return float(pc[key][present].mean()) if bool(present.any()) else float(zero_division)

    weights = pc["support"].to(torch.float64)
    weighted_f1 = float((pc["f1"] * weights).sum() / weights.sum()) if n else float(zero_division)
    micro = correct / n if n else float(zero_division)
    overall = {
        "accuracy": micro,
        "micro_precision": micro,
        "micro_recall": micro,
        "micro_f1": micro,
        "macro_precision": macro("precision"),
        "macro_recall": macro("recall"),
        "macro_f1": macro("f1"),
        "weighted_f1": weighted_f1,
        "n": n,
    }
    support, predicted = cm.sum(1), cm.sum(0)
    return ClassificationMetrics(
        confusion=cm.numpy(),
        class_names=names,
        per_class={key: v.numpy() for key, v in pc.items()},
        overall=overall,
        never_predicted=[names[i] for i in range(k) if support[i] > 0 and predicted[i] == 0],
        absent=[names[i] for i in range(k) if support[i] == 0],
    )
