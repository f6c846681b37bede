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

    def elements(self, idx: Directions, max_units: int | None = None) -> Directions:
        """Unit-gradient entries at flat indices ``idx[name]``, ``(m, len)`` per parameter."""
        raise NotImplementedError


@dataclass
class _Micro:
    records: list[LayerRecord]
    size: int


class PerSampleGrads(GradSample):
    """Exact per-sample gradients ``u_i = scale · b_i`` from captured layer factors.

    Layers whose statistics need materialised per-sample gradients (convolutions,
    normalisation layers) materialise them once per step and share them between all
    statistics; linear layers use closed forms and never materialise.

    Args:
        microbatches: For every backward pass of the step, the complete layer records
            and the number of samples whose factors were kept.
        scale: ``N`` for a mean-reduced loss over ``N`` samples (``u_i = ∇ℓ_i``).
        batch_size: Total samples in the step (may exceed ``n`` when subsampled).
    """

    estimator = "per_sample"
    unit_size = 1
    #: Largest materialised per-sample gradient (floats) kept in the per-step cache.
    CACHE_LIMIT = 64_000_000

    def __init__(self, microbatches: list[tuple[list[LayerRecord], int]], scale: float, batch_size: int):
        self._micro = [_Micro(r, s) for r, s in microbatches]
        self.scale = float(scale)
        self.batch_size = int(batch_size)
        self.n = sum(m.size for m in self._micro)
        self._cache: dict[tuple, dict[str, Tensor]] = {}
        names = []
        for rec in self._micro[0].records if self._micro else []:
            for pn, _ in handler_for(rec.module).params(rec.module):
                names.append(f"{rec.name}.{pn}" if rec.name else pn)
        self.names = names

    def _captures(self):
        """Yield ``(micro index, handler, record, capture index, capture, prefix)``."""
        for mi, micro in enumerate(self._micro):
            for rec in micro.records:
                h = handler_for(rec.module)
                prefix = f"{rec.name}." if rec.name else ""
                for ci, cap in enumerate(rec.captures):
                    yield mi, h, rec, ci, cap, prefix

    def subset(self, idx_per_micro: list[Tensor]) -> "PerSampleGrads":
        """The same statistics for the samples ``idx`` of each micro-batch, sharing this
        object's materialised per-sample gradients (no second materialisation)."""
        micro = [([r.select(idx) for r in m.records], len(idx)) for m, idx in zip(self._micro, idx_per_micro)]
        sub = PerSampleGrads(micro, scale=self.scale, batch_size=self.batch_size)
        sub._parent = (self, idx_per_micro)
        return sub

    def _materialized(self, mi, h, rec, ci, cap) -> dict[str, Tensor] | None:
        """Cached per-sample gradients of one capture, if the layer prefers them and they fit."""
        if not h.prefers_materialize:
            return None
        key = (mi, rec.name, ci)
        parent = getattr(self, "_parent", None)
        if key not in self._cache and parent is not None:
            full = parent[0]._materialized(mi, h, rec, ci, parent[0]._micro[mi].records[
                [r.name for r in parent[0]._micro[mi].records].index(rec.name)].captures[ci])
            if full is not None:
                self._cache[key] = {k: v[parent[1][mi]] for k, v in full.items()}
        if key not in self._cache:
            numel = sum(p.numel() for _, p in h.params(rec.module)) * cap.x.shape[0]
            if numel > self.CACHE_LIMIT:
                return None
            self._cache[key] = h.materialize(rec.module, cap.x, cap.delta)
        return self._cache[key]

    def _single_call(self) -> bool:
        return all(len(r.captures) == 1 for m in self._micro for r in m.records)

    def _per_micro(self, fn) -> Tensor:
        """Sum ``fn(...)`` over layers within each micro-batch; concatenate micro-batches."""
        out = [0.0 for _ in self._micro]
        for mi, h, rec, ci, cap, prefix in self._captures():
            out[mi] = out[mi] + fn(mi, h, rec, ci, cap, prefix)
        return torch.cat([o if isinstance(o, Tensor) else torch.zeros(m.size) for o, m in zip(out, self._micro)])

    def sq_norms(self) -> Tensor:
        if not self._single_call():
            return sum(g.flatten(1).pow(2).sum(1) for g in self.materialize().values())

        def one(mi, h, rec, ci, cap, prefix):
            mat = self._materialized(mi, h, rec, ci, cap)
            if mat is not None:
                return sum(_row_sq(g) for g in mat.values())
            return h.sq_norms(rec.module, cap.x, cap.delta)

        return self._per_micro(one) * self.scale**2

    def dots(self, dirs: list[Directions]) -> Tensor:
        def one(mi, h, rec, ci, cap, prefix):
            sub = {pn: torch.stack([v[prefix + pn] for v in dirs]) for pn, _ in h.params(rec.module)}
            mat = self._materialized(mi, h, rec, ci, cap)
            if mat is not None:
                return sum(g.flatten(1) @ sub[k].flatten(1).T for k, g in mat.items() if k in sub)
            return h.dots(rec.module, cap.x, cap.delta, sub)

        return self._per_micro(one) * self.scale

    def sum_sq(self) -> Directions:
        if not self._single_call():
            return {k: v.pow(2).sum(0) for k, v in self.materialize().items()}
        acc: Directions = {}
        for mi, h, rec, ci, cap, prefix in self._captures():
            mat = self._materialized(mi, h, rec, ci, cap)
            part = {k: g.pow(2).sum(0) for k, g in mat.items()} if mat is not None else \
                h.sum_sq(rec.module, cap.x, cap.delta)
            for k, v in part.items():
                acc[prefix + k] = acc[prefix + k] + v if prefix + k in acc else v
        return {k: v * self.scale**2 for k, v in acc.items()}

    def _take(self, max_units: int | None):
        taken, plan = 0, []
        for micro in self._micro:
            if max_units is not None and taken >= max_units:
                plan.append(0)
                continue
            keep = micro.size if max_units is None else min(micro.size, max_units - taken)
            plan.append(keep)
            taken += keep
        return plan

    def materialize(self, max_units: int | None = None) -> Directions:
        plan = self._take(max_units)
        out: dict[str, list[Tensor]] = {}
        per_micro: list[Directions] = [{} for _ in self._micro]
        for mi, h, rec, ci, cap, prefix in self._captures():
            keep = plan[mi]
            if keep == 0:
                continue
            mat = self._materialized(mi, h, rec, ci, cap)
            grads = {k: g[:keep] for k, g in mat.items()} if mat is not None else \
                h.materialize(rec.module, cap.x[:keep], cap.delta[:keep])
            for k, v in grads.items():
                key = prefix + k
                per_micro[mi][key] = per_micro[mi][key] + v if key in per_micro[mi] else v
        for pm in per_micro:
            for k, v in pm.items():
                out.setdefault(k, []).append(v)
        return {k: torch.cat(v) * self.scale for k, v in out.items()}

    def elements(self, idx: Directions, max_units: int | None = None) -> Directions:
        """Per-sample gradient entries at flat indices ``idx[name]`` → ``(units, len)`` per name."""
        if not self._single_call():
            return {k: v.flatten(1)[:, idx[k]] for k, v in self.materialize(max_units).items() if k in idx}
        plan = self._take(max_units)
        out: dict[str, list[Tensor]] = {}
        for mi, h, rec, ci, cap, prefix in self._captures():
            keep = plan[mi]
            if keep == 0:
                continue
            sub = {pn: idx[prefix + pn] for pn, _ in h.params(rec.module) if prefix + pn in idx}
            mat = self._materialized(mi, h, rec, ci, cap)
            vals = {k: g[:keep].flatten(1)[:, sub[k]] for k, g in mat.items() if k in sub} if mat is not None else \
                h.elements(rec.module, cap.x[:keep], cap.delta[:keep], sub)
            for k, v in vals.items():
                out.setdefault(prefix + k, []).append(v)
        return {k: torch.cat(v) * self.scale for k, v in out.items()}


def _row_sq(g: Tensor) -> Tensor:
    """Squared norm of every row of ``(N, ...)`` without a squared copy of the tensor."""
    f = g.reshape(g.shape[0], -1)
    return torch.einsum("nd,nd->n", f, f)


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

    def elements(self, idx: Directions, max_units: int | None = None) -> Directions:
        return {k: g[:max_units].flatten(1)[:, idx[k]] for k, g in self.grads.items() if k in idx}
