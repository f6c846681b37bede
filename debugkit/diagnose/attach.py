"""Attach monitors to a script that imports nothing of debugkit.

Every optimizer created while :class:`AutoAttach` is installed gets a
:class:`~debugkit.Monitor` on the model that owns its parameters (found among live
``nn.Module`` objects), so scripts with several models (evaluation copies, EMA
weights) are handled: only models that an optimizer trains are monitored.
``clip_grad_norm_`` is wrapped to record how hard gradients are clipped.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from debugkit.monitor import Monitor


def _owner_model(params: list[torch.Tensor]) -> nn.Module | None:
    """The outermost live module owning the most of ``params``."""
    import warnings

    ids = {id(p) for p in params}
    cands = []
    with warnings.catch_warnings():  # isinstance() on some lazy module objects warns
        warnings.simplefilter("ignore")
        objects = [o for o in gc.get_objects() if isinstance(o, nn.Module)]
    for obj in objects:
        if isinstance(obj, nn.Module):
            try:
                owned = sum(1 for p in obj.parameters() if id(p) in ids)
            except Exception:
                continue
            if owned:
                cands.append((owned, obj))
    if not cands:
        return None
    best = max(o for o, _ in cands)
    top = [m for o, m in cands if o == best]
    # outermost: not a submodule of another candidate with the same count
    children = {id(c) for m in top for c in m.modules() if c is not m}
    roots = [m for m in top if id(m) not in children]
    return (roots or top)[0]


class AutoAttach:
    """Install with :meth:`install`; monitors are in :attr:`monitors`; :meth:`close` finishes them."""

    def __init__(self, run_dir: str | os.PathLike, monitor_kwargs: dict[str, Any] | None = None):
        self.run_dir = Path(run_dir)
        self.kwargs = monitor_kwargs or {}
        self.monitors: list[Monitor] = []
        self._orig_init = None
        self._orig_clip = None

    def install(self) -> "AutoAttach":
        attach = self
        orig_init = torch.optim.Optimizer.__init__
        self._orig_init = orig_init

        def init(opt, *args, **kwargs):
            orig_init(opt, *args, **kwargs)
            attach._on_optimizer(opt)

        torch.optim.Optimizer.__init__ = init
        import torch.nn.utils as U
        import torch.nn.utils.clip_grad as CG

        orig_clip = CG.clip_grad_norm_
        self._orig_clip = orig_clip

        def clip(parameters, max_norm, *args, **kwargs):
            if isinstance(parameters, torch.Tensor):
                parameters = [parameters]
            parameters = list(parameters)
            total = orig_clip(parameters, max_norm, *args, **kwargs)
            ids = {id(p) for p in parameters}
            for m in attach.monitors:
                if any(id(p) in ids for p in m._params.values()):
                    m.record(clip_total_norm=float(total), clip_max_norm=float(max_norm))
            return total

        CG.clip_grad_norm_ = clip
        U.clip_grad_norm_ = clip

        # what the data loaders yield (before any augmentation inside the training loop)
        from torch.utils.data.dataloader import _BaseDataLoaderIter

        orig_next = _BaseDataLoaderIter.__next__
        self._orig_next = orig_next

        def next_batch(it):
            batch = orig_next(it)
            for m in attach.monitors:
                try:
                    m.seen_loader_batch(it._dataset, batch)
                except Exception:  # observing must never break the user's data pipeline
                    pass
            return batch

        _BaseDataLoaderIter.__next__ = next_batch
        return self

    def uninstall(self) -> None:
        if self._orig_init is not None:
            torch.optim.Optimizer.__init__ = self._orig_init
        if getattr(self, "_orig_next", None) is not None:
            from torch.utils.data.dataloader import _BaseDataLoaderIter

            _BaseDataLoaderIter.__next__ = self._orig_next
        if self._orig_clip is not None:
            import torch.nn.utils as U
            import torch.nn.utils.clip_grad as CG

            CG.clip_grad_norm_ = self._orig_clip
            U.clip_grad_norm_ = self._orig_clip

    def _on_optimizer(self, opt) -> None:
        from debugkit.diagnose.probes import paused

        if paused():
            return
        params = [p for g in opt.param_groups for p in g["params"]]
        model = _owner_model(params)
        if model is None:
            return
        if any(m.model is model for m in self.monitors):
            return  # a second optimizer on the same model (e.g. re-created): keep the first monitor
        k = len(self.monitors)
        run_dir = self.run_dir if k == 0 else self.run_dir / f"model{k}"
        self.monitors.append(Monitor(model, opt, run_dir=run_dir, **self.kwargs))

    def close(self, status: str) -> None:
        for m in self.monitors:
            m.close(status)
