"""Evaluation of trained runs: metrics checked against scikit-learn, figures, test-set bookkeeping."""

from debugkit.evaluate.metrics import (
    ClassificationMetrics,
    accuracy,
    classification_metrics,
    confusion_matrix,
    macro_f1,
    per_class_metrics,
)

__all__ = [
    "ClassificationMetrics",
    "accuracy",
    "classification_metrics",
    "confusion_matrix",
    "macro_f1",
    "per_class_metrics",
]
