"""Loss, the spread of per-sample losses, and the learning rate."""

from __future__ import annotations

import torch

from debugkit.instruments.base import LOSS, PER_SAMPLE_LOSS, Instrument


class Loss(Instrument):
    """Mini-batch loss (``loss``), spread of per-sample losses (``loss_std``), ``lr``, and for
    classification the batch accuracy (``train_acc``) and the share of the batch's most
    frequent class (``batch_class_purity``: ≈ 1 when the data are sorted by class and not
    shuffled)."""

    name = "loss"
    requires = frozenset({LOSS, PER_SAMPLE_LOSS})
    phase = "pre"

    def compute(self, ctx) -> None:
        ctx.scalar(self.key("loss"), ctx.loss)
        lr = ctx.lr
        if lr is not None:
            ctx.scalar(self.key("lr"), lr)
        # only losses the loss module already gives per sample: no extra forward passes
        psl = ctx.exact_per_sample_losses(gather=True)
        if psl is not None and psl.numel() > 1:
            ctx.scalar(self.key("loss_std"), psl.float().std().item())
        correct = seen = purity = 0.0
        for m in ctx.state.used_micro():
            t, z = m.target, m.logits
            if not (isinstance(t, torch.Tensor) and isinstance(z, torch.Tensor)) or t.is_floating_point():
                continue
            if t.dim() != 1 or z.dim() != 2 or z.shape[0] != t.shape[0] or t.numel() == 0:
                continue
            correct += (z.detach().argmax(1) == t).sum().item()
            seen += t.numel()
            purity += torch.bincount(t.detach().cpu()).max().item()
        if seen:
            ctx.scalar(self.key("train_acc"), correct / seen)
            ctx.scalar(self.key("batch_class_purity"), purity / seen)
