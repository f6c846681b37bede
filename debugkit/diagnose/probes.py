"""Probes: quick experiments on a copy of the live model (Karpathy's recipe, automated).

They run inside the monitored process on the first captured batch (and at the end),
on deep copies with the RNG state restored, so the user's training is untouched.
Results are recorded as ``probe`` events and read by the diagnosis rules.
"""

from __future__ import annotations

import contextlib
import copy
import math
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from debugkit.losses import find_logits, find_loss

if TYPE_CHECKING:  # pragma: no cover
    from debugkit.monitor import Monitor, _Micro

#: Probes run at the first step, by name; each returns a JSON-able dict or None.
START_PROBES: dict[str, Any] = {}
END_PROBES: dict[str, Any] = {}

_paused = 0


def paused() -> bool:
    """True while probes build their own optimizers (auto-attach must ignore those)."""
    return _paused > 0


@contextlib.contextmanager
def _sandbox(monitor: "Monitor"):
    global _paused
    _paused += 1
    monitor._internal += 1
    try:
        cuda = [torch.cuda.current_device()] if torch.cuda.is_available() and torch.cuda.is_initialized() else []
        with torch.random.fork_rng(devices=cuda):
            yield
    finally:
        monitor._internal -= 1
        _paused -= 1


def probe(table: dict):
    def deco(fn):
        table[fn.__name__] = fn
        return fn

    return deco


def copy_model(model: nn.Module) -> nn.Module:
    """A deep copy without gradients (``.grad`` may carry a graph on curvature steps)."""
    grads = {p: p.grad for p in model.parameters()}
    for p in grads:
        p.grad = None
    try:
        return copy.deepcopy(model)
    finally:
        for p, g in grads.items():
            p.grad = g


def _loss_of(micro: "_Micro", model: nn.Module) -> Tensor | None:
    out = model(*micro.args, **micro.kwargs)
    if micro.loss_source == "model":
        return find_loss(out)
    if micro.loss_module is not None and micro.loss_input_is_output:
        return micro.loss_module(find_logits(out), micro.target)
    return None


@probe(START_PROBES)
def symmetric_weights(monitor, micro) -> dict | None:
    """Layers whose output units all have identical incoming weights."""
    layers = []
    weighted = [(name, m.weight) for name, m in monitor.model.named_modules()
                if isinstance(getattr(m, "weight", None), nn.Parameter) and m.weight.dim() >= 2]
    # the output layer may start symmetric (e.g. zero-initialised): its rows get different gradients
    for name, w in weighted[:-1]:
        if w.shape[0] < 2 or not w.requires_grad:
            continue
        rows = w.detach().flatten(1)
        spread = (rows - rows[0]).abs().max().item()
        if spread <= 1e-8 * max(rows.abs().max().item(), 1e-12) or spread == 0.0:
            layers.append(name)
    monitor._symmetric_layers = layers
    return {"layers": layers}


@probe(START_PROBES)
def batch_dependency(monitor, micro) -> dict | None:
    """Does sample 0's output depend on other samples' inputs (in eval mode)?"""
    x = micro.args[0] if micro.args else None
    if not isinstance(x, Tensor) or not x.is_floating_point() or x.shape[0] < 2:
        return None
    model = copy_model(monitor.model).eval()
    xi = x.detach().clone().requires_grad_(True)
    out = find_logits(model(xi, *micro.args[1:], **micro.kwargs))
    if out is None or out.shape[0] != x.shape[0]:
        return None
    out[0].sum().backward()
    g = xi.grad.reshape(x.shape[0], -1).norm(dim=1)
    total = g.sum().item()
    if total == 0:
        return {"leak": 0.0, "note": "no input gradient"}
    return {"leak": g[1:].sum().item() / total}


@probe(START_PROBES)
def overfit_one_batch(monitor, micro, steps: int = 40) -> dict | None:
    """Can the model, with the user's optimizer settings, drive one batch's loss down?"""
    opt = monitor.optimizer
    if opt is None:
        return None
    model = copy_model(monitor.model)
    params = dict(model.named_parameters())
    names = {id(p): n for n, p in monitor.model.named_parameters()}
    groups = []
    for g in opt.param_groups:
        ps = [params[names[id(p)]] for p in g["params"] if id(p) in names]
        groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": ps})
    try:
        new_opt = type(opt)(groups)
    except Exception:
        return None
    losses = []
    for _ in range(steps):
        new_opt.zero_grad()
        loss = _loss_of(micro, model)
        if loss is None:
            return None
        if not torch.isfinite(loss):
            losses.append(float("nan"))
            break
        loss.backward()
        new_opt.step()
        losses.append(loss.item())
    first, last = losses[0], losses[-1]
    ok = math.isfinite(last) and (last < 0.2 * first or last < 0.05)
    return {"first": first, "last": last, "passed": bool(ok), "steps": len(losses)}


@probe(END_PROBES)
def input_dependence(monitor, micro) -> dict | None:
    """Is the loss on real inputs better than on all-zero inputs (Karpathy's baseline)?"""
    x = micro.args[0] if micro.args else None
    if not isinstance(x, Tensor) or not x.is_floating_point():
        return None
    model = copy_model(monitor.model).eval()
    with torch.no_grad():
        real = _loss_of(micro, model)
        zero_micro = copy.copy(micro)
        zero_micro.args = (torch.zeros_like(x),) + tuple(micro.args[1:])
        zero = _loss_of(zero_micro, model)
    if real is None or zero is None:
        return None
    return {"loss_real": real.item(), "loss_zero_input": zero.item(), "uses_input": bool(real.item() < zero.item())}


@probe(END_PROBES)
def symmetric_after(monitor, micro) -> dict | None:
    before = getattr(monitor, "_symmetric_layers", None)
    if not before:
        return None
    still = symmetric_weights(monitor, micro)["layers"]
    return {"layers": before, "still_symmetric": bool(still), "still": still}


def lr_range_test(monitor, micro, lo: float = 1e-6, hi: float = 10.0, steps: int = 60) -> dict | None:
    """Exponentially increase the learning rate on the captured batch; suggest a value."""
    opt = monitor.optimizer
    if opt is None:
        return None
    model = copy_model(monitor.model)
    new_opt = type(opt)([{**{k: v for k, v in opt.param_groups[0].items() if k != "params"},
                          "params": list(model.parameters())}])
    lrs, losses = [], []
    for i in range(steps):
        lr = lo * (hi / lo) ** (i / (steps - 1))
        for g in new_opt.param_groups:
            g["lr"] = lr
        new_opt.zero_grad()
        loss = _loss_of(micro, model)
        if loss is None:
            return None
        if not torch.isfinite(loss) or (losses and loss.item() > 4 * min(losses)):
            break
        loss.backward()
        new_opt.step()
        lrs.append(lr)
        losses.append(loss.item())
    if len(losses) < 5:
        return {"lrs": lrs, "losses": losses, "suggested_lr": None}
    best = min(range(len(losses)), key=losses.__getitem__)
    return {"lrs": lrs, "losses": losses, "suggested_lr": lrs[best] / 10}


def run_probes(monitor: "Monitor", table: dict, micro: "_Micro", extra: dict | None = None) -> dict:
    """Run the probes of ``table`` (plus ``extra``) and record each result as an event."""
    results = {}
    for name, fn in {**table, **(extra or {})}.items():
        try:
            with _sandbox(monitor):
                res = fn(monitor, micro)
        except Exception as exc:  # a probe that cannot run on this model says so and moves on
            res = {"error": f"{type(exc).__name__}: {exc}"}
        if res is None:
            continue
        results[name] = res
        if monitor.writer is not None:
            monitor.writer.event("probe", f"probe {name}: {_short(res)}", step=monitor.global_step, probe=name,
                                 result=res)
    if monitor.writer is not None:
        monitor.writer.flush()
    return results


def _short(res: dict) -> str:
    items = [f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in res.items()
             if not isinstance(v, (list, dict))]
    return ", ".join(items)[:200]
