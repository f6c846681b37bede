"""``EvaluationReport``: what :func:`~debugkit.evaluate.evaluate_run` found, and where it wrote it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from debugkit.evaluate.metrics import ClassificationMetrics


@dataclass
class EvaluationReport:
    """Metrics and figures of one run evaluated on one split.

    Attributes:
        run_dir: The evaluated run.
        split: ``"val"``, ``"test"`` or ``"train"``.
        metrics: :class:`ClassificationMetrics` (confusion matrix, per-class, overall).
        loss: Mean cross-entropy on the split.
        epoch: Epoch of the checkpoint that was evaluated.
        out_dir: Where figures, ``evaluation.json`` and ``evaluation.md`` were written.
        figures: Figure name -> PNG path (``confusion``, ``per_class``, ``weights``, ``predictions``).
        notes: Caveats found while evaluating (never-predicted classes, a diverged run, ...).
        test_evaluation_number: For ``split="test"``: 1 for the first look at the test set.
    """

    run_dir: Path
    split: str
    metrics: ClassificationMetrics
    loss: float
    epoch: int | None
    out_dir: Path
    figures: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    test_evaluation_number: int | None = None

    @property
    def accuracy(self) -> float:
        return self.metrics.overall["accuracy"]

    @property
    def macro_f1(self) -> float:
        return self.metrics.overall["macro_f1"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "split": self.split,
            "loss": self.loss,
            "epoch": self.epoch,
            "figures": {k: str(v) for k, v in self.figures.items()},
            "notes": list(self.notes),
            "test_evaluation_number": self.test_evaluation_number,
            **self.metrics.to_dict(),
        }

    def to_markdown(self) -> str:
        """A short Markdown report: overall metrics, the per-class table, figure links."""
        o = self.metrics.overall
        lines = [
            f"# Evaluation of `{self.run_dir.name}` on the {self.split} split",
            "",
            f"Checkpoint of epoch {self.epoch}; {o['n']} examples.",
            "",
            "| metric | value |",
            "| --- | --- |",
            f"| loss (cross-entropy) | {self.loss:.4f} |",
            f"| accuracy (= micro precision/recall/F1) | {o['accuracy']:.4f} |",
            f"| macro precision | {o['macro_precision']:.4f} |",
            f"| macro recall | {o['macro_recall']:.4f} |",
            f"| macro F1 | {o['macro_f1']:.4f} |",
            f"| weighted F1 | {o['weighted_f1']:.4f} |",
            "",
            "## Per class",
            "",
            "Accuracy per class is one-vs-rest, (TP + TN) / N; recall is the share of the class that was found.",
            "",
            "| class | precision | recall | F1 | accuracy | support |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        pc = self.metrics.per_class
        for i, name in enumerate(self.metrics.class_names):
            lines.append(f"| {name} | {pc['precision'][i]:.3f} | {pc['recall'][i]:.3f} | {pc['f1'][i]:.3f} | "
                         f"{pc['accuracy'][i]:.3f} | {int(pc['support'][i])} |")
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {n}" for n in self.notes]
        if self.figures:
            lines += ["", "## Figures", ""]
            lines += [f"![{name}]({path.name})" for name, path in self.figures.items()]
        return "\n".join(lines) + "\n"

    def save(self) -> None:
        """Write ``evaluation.json`` and ``evaluation.md`` into :attr:`out_dir`."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / "evaluation.json").write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
        (self.out_dir / "evaluation.md").write_text(self.to_markdown(), encoding="utf-8")
