"""The Hessian trace of piecewise-linear networks from the generalised Gauss-Newton matrix.

For a network whose output is piecewise linear in every single parameter (linear and
convolution layers joined by ReLU, max-pooling, dropout, ...), the second derivative of the
output along any one parameter is zero almost everywhere, so the Hessian diagonal of the loss
equals the diagonal of the generalised Gauss-Newton matrix ``G = Σₙ Jₙᵀ Hₗ Jₙ`` (which is why
BackPACK's exact ``DiagHessian`` and ``DiagGGN`` agree on such networks).  For the
cross-entropy loss ``Hₗ = diag(p) − ppᵀ = E_{y∼p}[(p − e_y)(p − e_y)ᵀ]``, hence

    tr(H) = tr(G) = Σₙ E_{y∼pₙ} ‖∇θ ℓ(xₙ, y)‖²                (sum reduction)

— the squared per-sample gradient norms of the loss with labels *sampled from the model*.
One backward pass of ``p − e_y`` to the layer outputs plus the per-sample norm machinery
gives an unbiased estimate (BackPACK's ``DiagGGNMC`` idea); summing over all classes
weighted by ``p`` gives it exactly.  This replaces Hessian-vector products (a double
backward pass) by one ordinary backward pass.
"""

from __future__ import annotations

import operator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: Modules whose output is piecewise linear in their input and (where they have them) their
#: own parameters.  BatchNorm qualifies only in evaluation mode (checked at run time).
PIECEWISE_LINEAR_MODULES: tuple[type, ...] = (
    nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Embedding,
    nn.ReLU, nn.LeakyReLU, nn.ReLU6, nn.Hardtanh, nn.Identity,
    nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d,
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
    nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d,
    nn.Flatten, nn.Unflatten, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d,
    nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d,
)
_BATCHNORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)

#: Functions and tensor methods allowed inside a custom module's ``forward`` (found by torch.fx).
_FUNCTIONS = {
    F.relu, torch.relu, F.leaky_relu, F.relu6, F.hardtanh, F.dropout, F.dropout2d,
    F.max_pool1d, F.max_pool2d, F.max_pool3d, F.avg_pool1d, F.avg_pool2d, F.avg_pool3d,
    F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_max_pool2d, torch.flatten, torch.cat,
    operator.add, operator.sub, operator.neg, operator.getitem, getattr, torch.add, torch.reshape,
}
_METHODS = {"view", "reshape", "flatten", "size", "relu", "permute", "transpose", "contiguous", "squeeze",
            "unsqueeze", "add", "sub", "neg", "__getitem__", "dim"}


def piecewise_linear(model: nn.Module) -> tuple[bool, str]:
    """Whether every parameter enters the output piecewise linearly; the reason if not.

    ``nn.Sequential`` trees of known layers are checked directly; other modules are traced
    with ``torch.fx`` and every operation of their ``forward`` must be on the allowed list.
    Multiplying two values that both depend on the input (attention, gating) or any smooth
    nonlinearity (tanh, sigmoid, softmax, normalisation in training mode) disqualifies.
    """
    for name, m in model.named_modules():
        if isinstance(m, PIECEWISE_LINEAR_MODULES):
            continue
        if type(m) in (nn.Sequential, nn.ModuleList, nn.ModuleDict):
            continue
        if type(m).__module__.startswith("torch.nn"):
            return False, f"{name or 'model'}: {type(m).__name__} is not piecewise linear"
        ok, why = _traced_ok(m)
        if not ok:
            return False, f"{name or type(m).__name__}: {why}"
    return True, ""


def _traced_ok(m: nn.Module) -> tuple[bool, str]:
    try:
        import torch.fx

        graph = torch.fx.Tracer().trace(m)
    except Exception as exc:  # data-dependent control flow and friends
        return False, f"forward cannot be traced ({type(exc).__name__})"
    modules = dict(m.named_modules())
    for node in graph.nodes:
        if node.op in ("placeholder", "output", "get_attr"):
            continue
        if node.op == "call_module":
            sub = modules.get(str(node.target))
            if sub is None:
                return False, f"unknown submodule {node.target}"
            continue  # checked on its own by piecewise_linear's walk
        if node.op == "call_function" and node.target in _FUNCTIONS:
            continue
        if node.op == "call_method" and node.target in _METHODS:
            continue
        target = getattr(node.target, "__name__", node.target)
        return False, f"{node.op} {target} is not piecewise linear"
    return True, ""


def eval_mode_ok(model: nn.Module) -> bool:
    """BatchNorm layers must normalise with running statistics (then they are affine)."""
    return all(not m.training and m.track_running_stats for m in model.modules() if isinstance(m, _BATCHNORM))


def cross_entropy_ok(loss_module) -> bool:
    """A plain ``nn.CrossEntropyLoss`` (label smoothing allowed: it leaves ``Hₗ`` unchanged)."""
    return (isinstance(loss_module, nn.CrossEntropyLoss) and loss_module.weight is None
            and loss_module.reduction in ("mean", "sum"))


def output_gradients(logits: Tensor, target: Tensor | None, ignore_index: int, samples: int | None,
                     generator: torch.Generator | None = None) -> list[Tensor]:
    """Vectors ``v`` with ``Σ_v v vᵀ`` = ``diag(p) − ppᵀ`` per sample (in expectation when sampled).

    ``samples=None``: exact, one vector per class (``√p_c (e_c − p)``); else ``samples``
    vectors ``(p − e_y)/√samples`` with ``y ∼ p``.  Rows whose target is ``ignore_index``
    are zero (they do not enter the loss).
    """
    p = torch.softmax(logits.detach().double(), dim=1)
    keep = torch.ones(len(p), 1, dtype=p.dtype)
    if target is not None and not target.is_floating_point():
        keep = (target != ignore_index).to(p.dtype).unsqueeze(1)
    out = []
    if samples is None:
        eye = torch.eye(p.shape[1], dtype=p.dtype)
        for c in range(p.shape[1]):
            out.append((p[:, c:c + 1].sqrt() * (eye[c] - p) * keep).to(logits.dtype))
        return out
    for _ in range(samples):
        y = torch.multinomial(p, 1, generator=generator).squeeze(1)
        out.append(((p - F.one_hot(y, p.shape[1]).to(p.dtype)) * keep / samples ** 0.5).to(logits.dtype))
    return out
