"""Evaluation of trained runs: metrics checked against scikit-learn, figures, test-set bookkeeping.

Example:
    >>> from debugkit.evaluate import evaluate_run
    >>> report = evaluate_run("runs/softmax", split="val")     # doctest: +SKIP
    >>> print(report.to_markdown())                            # doctest: +SKIP
"""

from debugkit.evaluate.evaluate_run import evaluate_run, first_layer_images, unnormalize
from debugkit.evaluate.metrics import (
    ClassificationMetrics,
    accuracy,
    classification_metrics,
    confusion_matrix,
    macro_f1,
    per_class_metrics,
)
from debugkit.evaluate.report import EvaluationReport
from debugkit.evaluate.test_set import TestSetReuseWarning, test_evaluations

__all__ = [
    "ClassificationMetrics",
    "EvaluationReport",
    "TestSetReuseWarning",
    "accuracy",
    "classification_metrics",
    "confusion_matrix",
    "evaluate_run",
    "first_layer_images",
    "macro_f1",
    "per_class_metrics",
    "test_evaluations",
    "unnormalize",
]
