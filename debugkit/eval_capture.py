"""Validation metrics seen from outside: loss calls under ``torch.no_grad()``.

A script run under ``debugkit diagnose`` imports nothing of debugkit, yet its evaluation
passes show up as forward passes without gradients followed by a loss call.  This
module aggregates them into one record per evaluation block (everything between two
training steps) with loss, accuracy, the model's mode, and two leakage signals:

* ``overlap`` — fraction of evaluated samples whose exact input was also trained on
  (fingerprints: a fixed random projection of each flattened input);
* ``feature_mean_abs`` — mean |per-feature mean| of the evaluated inputs: ≈ 0 to float
  precision when the evaluation data were normalised with their *own* statistics.

Each record also gets ``val_set``, an identifier of *which* inputs were evaluated, so the
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
    set_id: int = 0
    n: int = 0
    loss_sum: float = 0.0
    correct: int = 0
    classified: int = 0
    train_mode: int = 0
    overlap: int = 0
    feat_sum: Tensor | None = None
    new: bool = True  # a set first seen in this block


@dataclass
class EvalCapture:
    """Aggregates evaluation passes and remembers which inputs were trained on.

    Evaluation data are told apart by their inputs: every evaluated set keeps its
    fingerprints, so the validation set evaluated every epoch and a test set evaluated
    once at the end become separate records even when they are evaluated back to back.
    """

    train_fp: set = field(default_factory=set)
    proj: dict = field(default_factory=dict)
    segments: list = field(default_factory=list)
    known: list = field(default_factory=list)  # fingerprints of every evaluated set
    last_input: Tensor | None = None
    last_logits: Tensor | None = None
    last_training: bool = False
    blocks: int = 0

    def seen_training_batch(self, x) -> None:
        if isinstance(x, Tensor) and x.is_floating_point() and x.dim() > 0 and len(self.train_fp) < _MAX_FINGERPRINTS:
            self.train_fp.update(fingerprints(x, self.proj))

    def seen_eval_forward(self, x, logits, training: bool) -> None:
        self.last_input, self.last_logits, self.last_training = x, logits, training

    def _segment(self, fps: list[float]) -> EvalBlock:
        """The record this evaluation batch belongs to (a known set, or the set being built)."""
        probe = fps[0] if fps else None
        match = next((i for i, k in enumerate(self.known) if probe is not None and probe in k), None)
        cur = self.segments[-1] if self.segments else None
        if match is not None:
            if cur is None or cur.set_id != match:
                cur = EvalBlock(set_id=match, new=False)
                self.segments.append(cur)
            return cur
        if cur is None or not cur.new:
            self.known.append(set())
            cur = EvalBlock(set_id=len(self.known) - 1, new=True)
            self.segments.append(cur)
        return cur

    def seen_eval_loss(self, inp, target, loss: Tensor, reduction: str) -> None:
        if self.last_logits is None or not isinstance(inp, Tensor) or inp.dim() == 0:
            return
        n = int(inp.shape[0])
        x = self.last_input
        has_x = isinstance(x, Tensor) and x.is_floating_point() and x.shape[0] == n
        fps = fingerprints(x, self.proj) if has_x else []
        b = self._segment(fps)
        if b.new:
            self.known[b.set_id].update(fps)
        value = float(loss.detach())
        b.loss_sum += value * n if reduction != "sum" else value
        b.n += n
        b.train_mode += n if self.last_training else 0
        if isinstance(target, Tensor) and not target.is_floating_point() and inp.dim() == 2 and target.shape == (n,):
            b.correct += int((inp.detach().argmax(1) == target).sum())
            b.classified += n
        if has_x:
            b.overlap += sum(1 for f in fps if f in self.train_fp)
            s = x.detach().reshape(n, -1).double().sum(0)
            b.feat_sum = s if b.feat_sum is None or b.feat_sum.shape != s.shape else b.feat_sum + s
        self.last_logits = None

    def flush(self) -> list[dict]:
        """One record per evaluated set since the last training step."""
        segs, self.segments = self.segments, []
        out = []
        for b in segs:
            if b.n == 0:
                continue
            self.blocks += 1
            rec = {"index": self.blocks - 1, "val_loss": b.loss_sum / b.n, "val_n": b.n, "val_set": f"set{b.set_id}",
                   "val_train_mode": b.train_mode / b.n,
                   "val_overlap": b.overlap / b.n if self.train_fp else None, "source": "captured"}
            if b.classified:
                rec["val_acc"] = b.correct / b.classified
            if b.feat_sum is not None:
                rec["val_feature_mean_abs"] = float((b.feat_sum / b.n).abs().mean())
            out.append(rec)
        return out
