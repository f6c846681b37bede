"""torch.distributed support: global statistics over the full global batch.

Under ``DistributedDataParallel`` every rank sees its own part of the batch.  The
gradient in ``.grad`` is already averaged by DDP; everything else the instruments need is
combined here: losses are averaged, per-sample quantities gathered, sums reduced and
Hessian-vector products averaged.  Only rank 0 writes the run directory.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from debugkit.functional.grad_sample import Directions, GradSample


def world() -> tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` without an initialised process group."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside ``DistributedDataParallel`` / ``DataParallel``."""
    from torch.nn.parallel import DataParallel, DistributedDataParallel

    while isinstance(model, (DataParallel, DistributedDataParallel)):
        model = model.module
    return model


def all_sum(t: Tensor) -> Tensor:
    import torch.distributed as dist

    out = t.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out


def all_max(value: float) -> float:
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())


def all_mean_float(value: float | None) -> float | None:
    """Average of a float over ranks (ranks without a value contribute nothing)."""
    t = torch.tensor([0.0 if value is None else float(value), 0.0 if value is None else 1.0], dtype=torch.float64)
    t = all_sum(t)
    return float(t[0] / t[1]) if t[1] > 0 else None


def all_sum_int(value: int) -> int:
    return int(all_sum(torch.tensor([int(value)], dtype=torch.int64)).item())


def gather_cat(t: Tensor | None) -> Tensor | None:
    """Concatenate a 1-D/2-D tensor from every rank along dim 0 (sizes may differ)."""
    import torch.distributed as dist

    _, w = world()
    parts: list = [None] * w
    dist.all_gather_object(parts, None if t is None else t.detach().cpu())
    parts = [p for p in parts if p is not None]
    return torch.cat(parts) if parts else None


class GlobalSample(GradSample):
    """A rank's :class:`GradSample` seen as the sample of the whole global batch."""

    def __init__(self, local: GradSample):
        self.local = local
        self.estimator = local.estimator
        self.unit_size = local.unit_size
        self.names = local.names
        self.n = all_sum_int(local.n)
        self.batch_size = all_sum_int(local.batch_size)

    def sq_norms(self) -> Tensor:
        return gather_cat(self.local.sq_norms())

    def dots(self, dirs: list[Directions]) -> Tensor:
        return gather_cat(self.local.dots(dirs))

    def sum_sq(self) -> Directions:
        return {k: all_sum(v) for k, v in self.local.sum_sq().items()}

    def materialize(self, max_units: int | None = None) -> Directions:
        return self.local.materialize(max_units)  # histograms: this rank's units (counts are summed later)

    def elements(self, idx: Directions, max_units: int | None = None) -> Directions:
        return self.local.elements(idx, max_units)


def averaged_hvp(hvp):
    """Hessian-vector products of the global (rank-averaged) loss."""
    _, w = world()

    def fn(vs):
        return [all_sum(h) / w for h in hvp(vs)]

    return fn
