"""Per-sample losses for known loss modules, and finding a loss in a model's output."""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _ce(m: nn.CrossEntropyLoss, inp: Tensor, tgt: Tensor) -> Tensor:
    return F.cross_entropy(
        inp, tgt, weight=m.weight, ignore_index=m.ignore_index, reduction="none", label_smoothing=m.label_smoothing
    )


def _nll(m: nn.NLLLoss, inp: Tensor, tgt: Tensor) -> Tensor:
    return F.nll_loss(inp, tgt, weight=m.weight, ignore_index=m.ignore_index, reduction="none")


def _bce_logits(m: nn.BCEWithLogitsLoss, inp: Tensor, tgt: Tensor) -> Tensor:
    return F.binary_cross_entropy_with_logits(inp, tgt, weight=m.weight, pos_weight=m.pos_weight, reduction="none")


#: Loss module type → function computing unreduced losses ``(N, ...)``.
PER_SAMPLE_LOSSES: dict[type, Callable[[Any, Tensor, Tensor], Tensor]] = {
    nn.CrossEntropyLoss: _ce,
    nn.NLLLoss: _nll,
    nn.MSELoss: lambda m, i, t: F.mse_loss(i, t, reduction="none"),
    nn.L1Loss: lambda m, i, t: F.l1_loss(i, t, reduction="none"),
    nn.SmoothL1Loss: lambda m, i, t: F.smooth_l1_loss(i, t, reduction="none", beta=m.beta),
    nn.HuberLoss: lambda m, i, t: F.huber_loss(i, t, reduction="none", delta=m.delta),
    nn.BCEWithLogitsLoss: _bce_logits,
    nn.BCELoss: lambda m, i, t: F.binary_cross_entropy(i, t, weight=m.weight, reduction="none"),
    nn.KLDivLoss: lambda m, i, t: F.kl_div(i, t, reduction="none", log_target=m.log_target),
}


def per_sample_losses(loss_fn: Any, inp: Tensor, target: Tensor, batch_size: int | None = None) -> Tensor | None:
    """Unreduced losses averaged to one value per sample, or None for unknown loss functions.

    The values are scaled so that their mean equals the reduced loss the module returns
    (``reduction='sum'`` multiplies by the number of samples).
    """
    fn = None
    for cls in type(loss_fn).__mro__:
        fn = PER_SAMPLE_LOSSES.get(cls)
        if fn is not None:
            break
    if fn is None or not isinstance(inp, Tensor) or not isinstance(target, Tensor):
        return None
    with torch.no_grad():
        raw = fn(loss_fn, inp.detach(), target.detach())
    n = raw.shape[0] if raw.dim() > 0 else 1
    per = raw.reshape(n, -1).mean(1) if raw.dim() > 1 else raw.reshape(n)
    reduction = getattr(loss_fn, "reduction", "mean")
    if reduction == "sum":
        per = per * raw[0].numel() * n if raw.dim() > 1 else per * n
    elif reduction == "batchmean":
        per = per * (raw[0].numel() if raw.dim() > 1 else 1)
    return per


def loss_reduction(loss_fn: Any) -> str:
    return getattr(loss_fn, "reduction", "mean")


def find_loss(output: Any) -> Tensor | None:
    """The loss inside a model's output: a scalar tensor, ``out["loss"]`` or ``out.loss``."""
    if isinstance(output, Tensor):
        return output if output.dim() == 0 and output.is_floating_point() else None
    if isinstance(output, dict):
        cand = output.get("loss")
    elif isinstance(output, (tuple, list)):
        cand = next((o for o in output if isinstance(o, Tensor) and o.dim() == 0), None)
    else:
        cand = getattr(output, "loss", None)
    return cand if isinstance(cand, Tensor) and cand.dim() == 0 else None


def find_logits(output: Any) -> Tensor | None:
    """The main prediction tensor inside a model's output (``logits`` or the first tensor)."""
    if isinstance(output, Tensor):
        return output if output.dim() >= 1 else None
    if isinstance(output, dict):
        for key in ("logits", "output", "out", "pred"):
            if isinstance(output.get(key), Tensor):
                return output[key]
        output = list(output.values())
    elif hasattr(output, "logits") and isinstance(output.logits, Tensor):
        return output.logits
    if isinstance(output, (tuple, list)):
        return next((o for o in output if isinstance(o, Tensor) and o.dim() >= 2), None)
    return None
