"""Curvature from Hessian-vector products: max eigenvalue (power iteration) and trace."""

from __future__ import annotations

import math
import warnings
from typing import Callable, Sequence

import torch
from torch import Tensor

HVP = Callable[[Sequence[Tensor]], list[Tensor]]


def make_hvp(loss: Tensor, params: Sequence[Tensor]) -> tuple[HVP, list[Tensor]]:
    """Return ``v ↦ H v`` for ``loss`` w.r.t. ``params`` (double backward), and the gradient."""
    grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
    pairs = [(p, g) for p, g in zip(params, grads) if g is not None]
    used_params = [p for p, _ in pairs]
    used_grads = [g for _, g in pairs]
    used = {id(p) for p in used_params}
    index = [i for i, p in enumerate(params) if id(p) in used]

    def hvp(vs: Sequence[Tensor]) -> list[Tensor]:
        sub = [vs[i] for i in index]
        hv = torch.autograd.grad(used_grads, used_params, sub, retain_graph=True, allow_unused=True)
        out = [torch.zeros_like(p) for p in params]
        for i, h in zip(index, hv):
            if h is not None:
                out[i] = h.detach()
        return out

    return hvp, [g.detach() for g in used_grads]


def _dot(a: Sequence[Tensor], b: Sequence[Tensor]) -> Tensor:
    return sum((x * y).sum() for x, y in zip(a, b))


def power_iteration(
    hvp: HVP,
    like: Sequence[Tensor],
    *,
    max_iter: int = 100,
    rtol: float = 1e-3,
    atol: float = 1e-6,
    generator: torch.Generator | None = None,
    init: Sequence[Tensor] | None = None,
    return_vector: bool = False,
):
    """Largest-magnitude Hessian eigenvalue by power iteration (as Cockpit's ``HessMaxEV``).

    Args:
        init: Start vector (e.g. last step's eigenvector); random uniform if None.
        return_vector: Also return the final (normalised) iterate.

    Returns:
        The eigenvalue estimate and the number of Hessian-vector products used
        (and the vector, if asked for).
    """
    if init is not None:
        v = [t.detach().clone() for t in init]
    else:
        v = [torch.rand(p.shape, generator=generator, dtype=p.dtype).to(p.device) for p in like]
    norm = math.sqrt(_dot(v, v).item())
    v = [x / norm for x in v]
    eig = math.inf
    for i in range(1, max_iter + 1):
        hv = hvp(v)
        new = _dot(v, hv).item()
        norm = math.sqrt(_dot(hv, hv).item())
        if norm == 0.0:
            return (0.0, i, v) if return_vector else (0.0, i)
        v = [x / norm for x in hv]
        if abs(new - eig) <= atol + rtol * abs(new):
            return (new, i, v) if return_vector else (new, i)
        eig = new
    warnings.warn(f"power iteration did not converge in {max_iter} Hessian-vector products", stacklevel=2)
    return (eig, max_iter, v) if return_vector else (eig, max_iter)


def hutchinson_trace(
    hvp: HVP, like: Sequence[Tensor], *, samples: int = 1, generator: torch.Generator | None = None
) -> tuple[float, list[float]]:
    """Hutchinson's estimate ``E[vᵀHv]`` with Rademacher ``v``: total and per parameter tensor."""
    per = torch.zeros(len(like), dtype=torch.float64)
    for _ in range(samples):
        v = [
            (torch.randint(0, 2, p.shape, generator=generator) * 2 - 1).to(dtype=p.dtype, device=p.device)
            for p in like
        ]
        hv = hvp(v)
        per += torch.tensor([(a * b).sum().item() for a, b in zip(v, hv)], dtype=torch.float64)
    per /= samples
    return per.sum().item(), per.tolist()


def exact_diagonal(hvp: HVP, like: Sequence[Tensor]) -> list[Tensor]:
    """Exact Hessian diagonal with one HVP per parameter element (tiny models only)."""
    out = []
    for i, p in enumerate(like):
        diag = torch.zeros(p.numel(), dtype=p.dtype, device=p.device)
        for j in range(p.numel()):
            v = [torch.zeros_like(q) for q in like]
            v[i].view(-1)[j] = 1.0
            diag[j] = hvp(v)[i].view(-1)[j]
        out.append(diag.view_as(p))
    return out
