"""Samples of the gradient within one step: per-sample gradients or micro-batch gradients.

Gradient-noise instruments need statistics of the gradients of individual samples
("units").  Two estimators provide them behind one interface:

* :class:`PerSampleGrads` — exact per-sample gradients, represented implicitly by the
  layer inputs and output gradients captured during the user's own backward pass
  (see :mod:`debugkit.functional.per_sample`).  Unit size 1.
* :class:`MicrobatchGrads` — gradients of ``K`` disjoint chunks of the batch, computed by
  extra backward passes.  Works for any model (BatchNorm in training mode, layers without a
  per-sample handler, models that return their own loss).  A chunk of ``m`` samples has
  covariance ``Σ/m``; statistics scale by ``m`` to estimate per-sample quantities.

Units are normalised so that their mean is the batch gradient ``g``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from debugkit.functional.per_sample import LayerRecord, handler_for

Directions = dict[str, Tensor]


class GradSample:
    """Interface shared by the estimators (see module docstring)."""

    estimator: str = "?"
    n: int  # number of units
    unit_size: int  # samples per unit
    batch_size: int  # samples in the step
    names: list[str]  # parameters covered, by full name

    def sq_norms(self) -> Tensor:
        """``‖u_k‖²`` for every unit, shape ``(n,)``."""
        raise NotImplementedError

    def dots(self, dirs: list[Directions]) -> Tensor:
        """``⟨u_k, v_j⟩`` for every unit and direction, shape ``(n, len(dirs))``."""
        raise NotImplementedError

    def sum_sq(self) -> Directions:
        """``Σ_k u_k²`` elementwise, per parameter."""
        raise NotImplementedError

    def materialize(self, max_units: int | None = None) -> Directions:
        """The unit gradients themselves, ``(m, *shape)`` per parameter (``m ≤ max_units``)."""
        raise NotImplementedError


@dataclass
class _Micro:
    records: list[LayerRecord]
    size: int


class PerSampleGrads(GradSample):
    """Exact per-sample gradients ``u_i = scale · b_i`` from captured layer factors.

    Args:
        microbatches: For every backward pass of the step, the complete layer records
            and the number of samples whose factors were kept.
        scale: ``N`` for a mean-reduced loss over ``N`` samples (``u_i = ∇ℓ_i``).
        batch_size: Total samples in the step (may exceed ``n`` when subsampled).
    """

    estimator = "per_sample"
    unit_size = 1

    def __init__(self, microbatches: list[tuple[list[LayerRecord], int]], scale: float, batch_size: int):
        self._micro = [_Micro(r, s) for r, s in microbatches]
        self.scale = float(scale)
        self.batch_size = int(batch_size)
        self.n = sum(m.size for m in self._micro)
        names = []
        for rec in self._micro[0].records if self._micro else []:
            for pn, _ in handler_for(rec.module).params(rec.module):
                names.append(f"{rec.name}.{pn}" if rec.name else pn)
        self.names = names

    def _per_layer(self, fn):
        """Apply ``fn(handler, module, x, delta, prefix)`` to every capture; yield per micro-batch."""
        for micro in self._micro:
            parts = []
            for rec in micro.records:
                h = handler_for(rec.module)
                prefix = f"{rec.name}." if rec.name else ""
                for cap in rec.captures:
                    parts.append(fn(h, rec.module, cap.x, cap.delta, prefix))
            yield micro, parts

    def _single_call(self) -> bool:
        return all(len(r.captures) == 1 for m in self._micro for r in m.records)

    def sq_norms(self) -> Tensor:
        if not self._single_call():
            return sum(g.flatten(1).pow(2).sum(1) for g in self.materialize().values())
        out = [sum(parts) for _, parts in self._per_layer(lambda h, m, x, d, p: h.sq_norms(m, x, d))]
        return torch.cat(out) * self.scale**2

    def dots(self, dirs: list[Directions]) -> Tensor:
        def one(h, m, x, d, prefix):
            sub = {pn: torch.stack([v[prefix + pn] for v in dirs]) for pn, _ in h.params(m)}
            return h.dots(m, x, d, sub)

        out = [sum(parts) for _, parts in self._per_layer(one)]
        return torch.cat(out) * self.scale

    def sum_sq(self) -> Directions:
        if not self._single_call():
            return {k: v.pow(2).sum(0) for k, v in self.materialize().items()}
        acc: Directions = {}
        for _, parts in self._per_layer(lambda h, m, x, d, p: {p + k: v for k, v in h.sum_sq(m, x, d).items()}):
            for part in parts:
                for k, v in part.items():
                    acc[k] = acc[k] + v if k in acc else v
        return {k: v * self.scale**2 for k, v in acc.items()}

    def materialize(self, max_units: int | None = None) -> Directions:
        out: dict[str, list[Tensor]] = {}
        taken = 0
        for micro in self._micro:
            if max_units is not None and taken >= max_units:
                break
            keep = micro.size if max_units is None else min(micro.size, max_units - taken)
            per_micro: Directions = {}
            for rec in micro.records:
                h = handler_for(rec.module)
                prefix = f"{rec.name}." if rec.name else ""
                for cap in rec.captures:
                    for k, v in h.materialize(rec.module, cap.x[:keep], cap.delta[:keep]).items():
                        key = prefix + k
                        per_micro[key] = per_micro[key] + v if key in per_micro else v
            for k, v in per_micro.items():
                out.setdefault(k, []).append(v)
            taken += keep
        return {k: torch.cat(v) * self.scale for k, v in out.items()}


class MicrobatchGrads(GradSample):
    """Gradients of ``K`` chunks of ``unit_size`` samples each.

    Args:
        grads: Per parameter name, a tensor ``(K, *shape)`` of chunk-mean gradients.
        unit_size: Samples per chunk.
        batch_size: Samples in the step.
    """

    estimator = "microbatch"

    def __init__(self, grads: Directions, unit_size: int, batch_size: int):
        self.grads = grads
        self.names = list(grads)
        self.n = next(iter(grads.values())).shape[0] if grads else 0
        self.unit_size = int(unit_size)
        self.batch_size = int(batch_size)

    def sq_norms(self) -> Tensor:
        return sum(g.flatten(1).pow(2).sum(1) for g in self.grads.values())

    def dots(self, dirs: list[Directions]) -> Tensor:
        cols = [sum(g.flatten(1) @ d[k].flatten() for k, g in self.grads.items()) for d in dirs]
        return torch.stack(cols, 1)

    def sum_sq(self) -> Directions:
        return {k: g.pow(2).sum(0) for k, g in self.grads.items()}

    def materialize(self, max_units: int | None = None) -> Directions:
        return {k: g[:max_units] for k, g in self.grads.items()}
