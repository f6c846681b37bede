"""Validation metrics seen from outside: loss calls under ``torch.no_grad()``.

A script run under ``debugkit diagnose`` imports nothing of debugkit, yet its evaluation
passes show up as forward passes without gradients followed by a loss call.  This
module aggregates them into one record per evaluation block (everything between two
training steps) with loss, accuracy, the model's mode, and two leakage signals:

* ``overlap`` — fraction of evaluated samples whose exact input was also trained on
  (fingerprints: a fixed random projection of each flattened input);
* ``feature_mean_abs`` — mean |per-feature mean| of the evaluated inputs: ≈ 0 to float
  precision when the evaluation data were normalised with their *own* statistics.

Each block also gets ``val_set``, an identifier of *which* inputs were evaluated, so the
set evaluated every epoch (validation) is told apart from one evaluated once (test).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

_MAX_FINGERPRINTS = 2_000_000


def fingerprints(x: Tensor, proj: dict[int, Tensor]) -> list[float]:
    """One float per sample that identifies its exact input values."""
    flat = x.detach().reshape(x.shape[0], -1).double()
    d = flat.shape[1]
    if d not in proj:
        proj[d] = torch.randn(d, generator=torch.Generator().manual_seed(d), dtype=torch.float64)
    vals = (flat * proj[d].to(flat.device)).sum(1)
    return [round(v, 6) for v in vals.tolist()]


@dataclass
class EvalBlock:
    n: int = 0
    loss_sum: float = 0.0
    correct: int = 0
    classified: int = 0
    train_mode: int = 0
    overlap: int = 0
    feat_sum: Tensor | None = None
    fp_sum: float = 0.0


@dataclass
class EvalCapture:
    """Aggregates evaluation passes and remembers which inputs were trained on."""

    train_fp: set = field(default_factory=set)
    proj: dict = field(default_factory=dict)
    block: EvalBlock | None = None
    last_input: Tensor | None = None
    last_logits: Tensor | None = None
    last_training: bool = False
    blocks: int = 0

    def seen_training_batch(self, x) -> None:
        if isinstance(x, Tensor) and x.is_floating_point() and x.dim() > 0 and len(self.train_fp) < _MAX_FINGERPRINTS:
            self.train_fp.update(fingerprints(x, self.proj))

    def seen_eval_forward(self, x, logits, training: bool) -> None:
        self.last_input, self.last_logits, self.last_training = x, logits, training

    def seen_eval_loss(self, inp, target, loss: Tensor, reduction: str) -> None:
        if self.last_logits is None or not isinstance(inp, Tensor) or inp.dim() == 0:
            return
        n = int(inp.shape[0])
        b = self.block = self.block or EvalBlock()
        value = float(loss.detach())
        b.loss_sum += value * n if reduction != "sum" else value
        b.n += n
        b.train_mode += n if self.last_training else 0
        if isinstance(target, Tensor) and not target.is_floating_point() and inp.dim() == 2 and target.shape == (n,):
            b.correct += int((inp.detach().argmax(1) == target).sum())
            b.classified += n
        x = self.last_input
        if isinstance(x, Tensor) and x.is_floating_point() and x.shape[0] == n:
            fps = fingerprints(x, self.proj)
            b.overlap += sum(1 for f in fps if f in self.train_fp)
            b.fp_sum += sum(fps)
            s = x.detach().reshape(n, -1).double().sum(0)
            b.feat_sum = s if b.feat_sum is None or b.feat_sum.shape != s.shape else b.feat_sum + s
        self.last_logits = None

    def flush(self) -> dict | None:
        """The finished block as a record (None if nothing was evaluated)."""
        b, self.block = self.block, None
        if b is None or b.n == 0:
            return None
        self.blocks += 1
        # which data were evaluated: the same set (e.g. validation, every epoch) gets the same id
        rec = {"val_loss": b.loss_sum / b.n, "val_n": b.n, "val_set": f"{b.n}:{b.fp_sum:.3f}",
               "val_train_mode": b.train_mode / b.n,
               "val_overlap": b.overlap / b.n if self.train_fp else None, "source": "captured"}
        if b.classified:
            rec["val_acc"] = b.correct / b.classified
        if b.feat_sum is not None:
            rec["val_feature_mean_abs"] = float((b.feat_sum / b.n).abs().mean())
        return rec
