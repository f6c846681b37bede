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
    data: "DataCapture | None" = None

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
            b.overlap += sum(1 for f in fps if f in self.train_fp) if self.data is None else \
                sum(1 for f in fps if f in self.train_fp or self.data.in_training_data([f]))
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
                   "val_overlap": b.overlap / b.n if (self.train_fp or self.data is not None) else None,
                   "source": "captured"}
            if b.classified:
                rec["val_acc"] = b.correct / b.classified
            if b.feat_sum is not None:
                rec["val_feature_mean_abs"] = float((b.feat_sum / b.n).abs().mean())
            out.append(rec)
        return out


def _first_tensors(batch) -> tuple[Tensor | None, Tensor | None]:
    """``(inputs, labels)`` of a DataLoader batch: ``(x, y)`` tuples/lists or ``{"x"/"input", "y"/"label"}``."""
    if isinstance(batch, Tensor):
        return batch, None
    if isinstance(batch, (tuple, list)):
        ts = [b for b in batch if isinstance(b, Tensor)]
        return (ts[0] if ts else None), (ts[1] if len(ts) > 1 else None)
    if isinstance(batch, dict):
        x = next((batch[k] for k in ("x", "input", "inputs", "image", "images") if isinstance(batch.get(k), Tensor)), None)
        y = next((batch[k] for k in ("y", "label", "labels", "target", "targets") if isinstance(batch.get(k), Tensor)), None)
        return x, y
    return None, None


@dataclass
class DataCapture:
    """What the data loaders yielded, compared with what the model was trained on.

    Batches are fingerprinted per dataset; a dataset whose batch was the last one yielded
    before an optimizer step is a *training* dataset. Evaluation inputs found among the
    training datasets' raw samples reveal validation data drawn from the training split even
    when training inputs are augmented inside the loop. A sample of raw training examples and
    of the (possibly augmented) inputs the model trained on feeds the augmentation probe.
    """

    proj: dict = field(default_factory=dict)
    by_dataset: dict = field(default_factory=dict)  # id(dataset) → fingerprints
    training: set = field(default_factory=set)
    last: int | None = None
    raw_x: list = field(default_factory=list)
    raw_y: list = field(default_factory=list)
    aug_x: list = field(default_factory=list)
    aug_y: list = field(default_factory=list)
    keep: int = 4000

    def seen_batch(self, dataset, batch) -> None:
        x, y = _first_tensors(batch)
        if x is None or not x.is_floating_point() or x.dim() == 0:
            return
        key = id(dataset)
        fps = self.by_dataset.setdefault(key, set())
        if len(fps) < _MAX_FINGERPRINTS:
            fps.update(fingerprints(x, self.proj))
        self.last = key
        if key in self.training and y is not None and sum(len(t) for t in self.raw_x) < self.keep:
            self.raw_x.append(x.detach().reshape(x.shape[0], -1).cpu())
            self.raw_y.append(y.detach().reshape(-1).cpu())

    def step_taken(self) -> None:
        if self.last is not None:
            self.training.add(self.last)

    def seen_training_input(self, x, y) -> None:
        if (isinstance(x, Tensor) and isinstance(y, Tensor) and x.is_floating_point() and not y.is_floating_point()
                and x.shape[0] == y.reshape(-1).shape[0] and sum(len(t) for t in self.aug_x) < self.keep):
            self.aug_x.append(x.detach().reshape(x.shape[0], -1).cpu())
            self.aug_y.append(y.detach().reshape(-1).cpu())

    def ready(self, n: int = 1000) -> bool:
        """Enough raw and trained-on samples for the augmentation probe."""
        return sum(len(t) for t in self.raw_x) >= n and sum(len(t) for t in self.aug_x) >= n

    def in_training_data(self, fps: list[float]) -> int:
        sets = [self.by_dataset[k] for k in self.training if k in self.by_dataset]
        return sum(1 for f in fps if any(f in s for s in sets))

    def augmentation_probe(self) -> dict | None:
        """Does a linear classifier fitted on raw training samples still work on the inputs
        the model actually trained on? Label-preserving augmentation keeps most accuracy."""
        if not self.raw_x or not self.aug_x:
            return None
        rx, ry = torch.cat(self.raw_x), torch.cat(self.raw_y)
        ax, ay = torch.cat(self.aug_x), torch.cat(self.aug_y)
        if rx.shape[1] != ax.shape[1] or len(rx) < 100 or len(ay.unique()) < 2:
            return None
        changed = 1.0 - len(set(fingerprints(ax, self.proj)) & set(fingerprints(rx, self.proj))) / max(len(ax), 1)
        from sklearn.linear_model import LogisticRegression

        g = torch.Generator().manual_seed(0)
        perm = torch.randperm(len(rx), generator=g)
        cut = int(0.7 * len(rx))
        tr, te = perm[:cut], perm[cut:]
        clf = LogisticRegression(max_iter=300)
        clf.fit(rx[tr].double().numpy(), ry[tr].numpy())
        acc_raw = float(clf.score(rx[te].double().numpy(), ry[te].numpy()))
        acc_aug = float(clf.score(ax.double().numpy(), ay.numpy()))
        return {"acc_raw": acc_raw, "acc_trained_inputs": acc_aug, "inputs_changed": changed,
                "raw_samples": len(rx), "trained_samples": len(ax)}
