"""The monitor: attach instruments to any PyTorch training loop.

Usage needs no per-step calls; the optimizer's ``step()`` marks step boundaries::

    monitor = debugkit.Monitor(model, optimizer, loss_fn=nn.CrossEntropyLoss(),
                               preset="standard", run_dir="runs/exp1")
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()            # ← instruments run here
    monitor.close()

Hooks: a forward pre-hook and hook on the model (inputs, outputs, micro-batch
boundaries), forward hooks on layers (activation statistics; inputs and a tensor hook
on the output for per-sample gradient factors), a forward hook on the loss module
(targets, per-sample losses), ``optimizer.step`` pre/post hooks (instruments), and a
watch on ``backward()`` (loss value, gradients left over from the previous step).
Forward passes under ``torch.no_grad()`` are ignored, so evaluation between steps is
free.  Everything is removed by :meth:`Monitor.close`.
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable

import torch
from torch import Tensor, nn

from debugkit._backward_watch import BackwardWatch
from debugkit.distributed import unwrap, world
from debugkit.eval_capture import DataCapture, EvalCapture
from debugkit.functional import activations as act_fn
from debugkit.functional.grad_sample import MicrobatchGrads
from debugkit.functional.hessian import make_hvp
from debugkit.functional.per_sample import Capture, LayerRecord, handler_for
from debugkit.instruments import base as needs_
from debugkit.instruments.base import Instrument
from debugkit.instruments.presets import resolve_instruments
from debugkit.schedules import as_schedule
from debugkit.losses import find_logits, find_loss, loss_reduction, per_sample_losses
from debugkit.step_context import IngredientUnavailable, StepContext
from debugkit.store.writer import RunWriter

#: Activation module type → kind used by :func:`debugkit.functional.activations.activation_stats`.
ACTIVATION_KINDS: dict[type, str] = {
    nn.ReLU: "relu",
    nn.ReLU6: "relu",
    nn.Hardswish: "other",
    nn.LeakyReLU: "other",
    nn.PReLU: "other",
    nn.ELU: "other",
    nn.SELU: "other",
    nn.CELU: "other",
    nn.GELU: "other",
    nn.SiLU: "other",
    nn.Mish: "other",
    nn.Softplus: "other",
    nn.Tanh: "tanh",
    nn.Sigmoid: "sigmoid",
    nn.Hardtanh: "hardtanh",
    nn.Hardsigmoid: "sigmoid",
    nn.Softsign: "softsign",
}

# Layers whose samples interact in training mode: per-sample gradients are undefined.
_COUPLING = (nn.modules.batchnorm._BatchNorm, nn.SyncBatchNorm)


def _kind_of(module: nn.Module) -> str | None:
    for cls in type(module).__mro__:
        if cls in ACTIVATION_KINDS:
            return ACTIVATION_KINDS[cls]
    return None


class StopTraining(BaseException):
    """Raised from ``optimizer.step()`` when ``max_steps``/``max_time`` is reached.

    A ``BaseException`` so that ``except Exception`` in user code does not swallow it.
    """


@dataclass
class _Micro:
    """One forward (and, hopefully, backward) pass within a step."""

    args: tuple
    kwargs: dict
    size: int
    output: Any = None
    logits: Tensor | None = None
    target: Any = None
    loss_module: Any = None
    loss_input_is_output: bool = True
    loss: float | None = None
    loss_source: str | None = None
    per_sample_loss: Tensor | None = None
    records: dict[str, LayerRecord] | None = None
    sub_records: dict[str, LayerRecord] | None = None
    sub_idx: Tensor | None = None
    sub_size: int = 0
    backward: bool = False


@dataclass
class _StepState:
    needs: frozenset
    t_start: float
    micro: list[_Micro] = field(default_factory=list)
    grad_before: dict[str, Tensor] | None = None
    accumulated: bool = False
    n_backward: int = 0
    snapshot: dict[str, Tensor] | None = None
    exact_ok: bool = False
    act: dict[str, dict[str, float]] = field(default_factory=dict)
    act_hist: dict[str, tuple] = field(default_factory=dict)
    io: dict[str, float] = field(default_factory=dict)
    training: bool = True
    backward_losses: list[float] = field(default_factory=list)
    user_graph: bool = False

    def used_micro(self) -> list[_Micro]:
        used = [m for m in self.micro if m.backward]
        return used or self.micro

    def batch_size(self) -> int:
        return sum(m.size for m in self.used_micro())

    def loss_value(self) -> float | None:
        vals = [m.loss for m in self.used_micro() if m.loss is not None]
        if vals:
            return sum(vals) / len(vals)
        if self.backward_losses:
            return sum(self.backward_losses)
        return None


class Monitor:
    """Record Cockpit-class instruments from a training loop.

    Args:
        model: The network (any ``nn.Module``).
        optimizer: Its optimizer (any ``torch.optim.Optimizer``); its ``step()`` marks
            training steps. Without one, call :meth:`step` yourself after each update.
        loss_fn: Optional. Loss modules (``nn.CrossEntropyLoss()`` ...) called on the model's
            output are found by themselves; a plain function passed here is wrapped as
            ``monitor.loss_fn`` (call that in the loop so per-sample losses can be derived).
            Models that return their own loss need nothing.
        preset: ``economy`` (cheap, every step), ``standard``, ``full``, or Cockpit's
            ``cockpit:economy|business|full`` equivalents; see
            :data:`debugkit.instruments.PRESETS`.
        schedule: Overrides every preset instrument's schedule (an int ``k`` = every k steps).
        instruments: Extra instruments (or, with ``preset=None``, the only ones).
        run_dir: Where the run is written (default ``runs/<time>-<model class>``).
        config, seed, name: Stored in the run's metadata.
        enabled: ``False`` installs nothing at all (zero cost).
        subsample: Samples per step used for variances that tolerate a subsample (α);
            ``None`` uses the whole batch.
        microbatches: Chunks used by the micro-batch estimator where per-sample gradients
            are undefined (BatchNorm in training mode, unsupported layers, own-loss models).
        strict: Raise errors inside instruments instead of recording them as events.
        capture_eval: Record evaluation passes (forward + loss under ``torch.no_grad()``)
            as per-epoch validation metrics, with leakage signals (used by
            ``debugkit diagnose`` on scripts that log nothing themselves).
        probes: Run quick experiments on a copy of the model at the first step and at
            the end (see :mod:`debugkit.diagnose.probes`).
        lr_range_test: Also run an LR range test probe at the first step.
        max_steps, max_time: Stop training (raise :class:`StopTraining` from
            ``optimizer.step()``) after this many steps / seconds, once the step is saved.
        start_step, initial_params: Continue a resumed run: the first step's number, and
            θ₀ for the distance from initialisation (default: ``theta0.pt`` saved in
            ``run_dir`` when the run began, loaded with ``weights_only=True``).

    Example:
        >>> mon = Monitor(model, opt, loss_fn=nn.CrossEntropyLoss(), run_dir="runs/a")  # doctest: +SKIP
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer | None = None,
        loss_fn: Callable | None = None,
        *,
        preset: str | None = "economy",
        schedule: Any = None,
        instruments: Iterable[Instrument] | None = None,
        run_dir: str | os.PathLike | None = None,
        name: str | None = None,
        config: dict | None = None,
        seed: int | None = None,
        meta: dict | None = None,
        enabled: bool = True,
        subsample: int | None = 32,
        microbatches: int = 8,
        strict: bool = False,
        capture_eval: bool = False,
        probes: bool = False,
        lr_range_test: bool = False,
        max_steps: int | None = None,
        max_time: float | None = None,
        start_step: int = 0,
        initial_params: dict[str, Tensor] | None = None,
    ):
        if not isinstance(model, nn.Module):
            raise TypeError(
                f"Monitor(model=...) needs a torch.nn.Module, got {type(model).__name__}. "
                "Pass the network itself, e.g. Monitor(model, optimizer, loss_fn=nn.CrossEntropyLoss())."
            )
        if optimizer is not None and not (hasattr(optimizer, "param_groups") and hasattr(optimizer, "step")):
            raise TypeError(
                f"Monitor(optimizer=...) needs a torch.optim.Optimizer, got {type(optimizer).__name__}."
            )
        self.wrapped = model
        model = unwrap(model)  # hooks and names on the module inside (Distributed)DataParallel
        self.model = model
        self.optimizer = optimizer
        self._rank, self._world = world()
        self._user_graph_ok = self._world == 1
        self.enabled = enabled
        self.strict = strict
        self.subsample = subsample
        self.microbatches = max(2, int(microbatches))
        self.instruments = resolve_instruments(preset, instruments, as_schedule(schedule, None) if schedule else None)
        self.preset = preset
        self.global_step = int(start_step)
        self._handles: list[Any] = []
        self._state: _StepState | None = None
        self._internal = 0
        self._closed = False
        self._nan_flagged = False
        self._warned: set[str] = set()
        self._last_post: float | None = None
        self._last_bw: Any = None
        self._recompute_problem: str | None = None
        # (DDP cannot backpropagate through its all-reduce: curvature is recomputed locally there)
        self._eval = EvalCapture() if capture_eval else None
        self._data = DataCapture() if capture_eval else None
        self._aug_probed = False
        if self._eval is not None:
            self._eval.data = self._data
        self._probes = probes
        self.max_steps, self.max_time = max_steps, max_time
        self._t_attach = time.perf_counter()
        self._lr_range = lr_range_test
        self._last_micro: _Micro | None = None
        self._loss_named = False
        self._extra: dict[str, float] = {}
        self._callbacks: list[tuple[Callable[[int], Any], int]] = []
        self._gen = torch.Generator().manual_seed(0 if seed is None else int(seed))

        names = [i.instance_name for i in self.instruments]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(
                f"two instruments share the name(s) {sorted(dupes)}; give the second one its own name, "
                "e.g. HessMaxEV(schedule=10, name='hess_max_ev_10')"
            )

        self._params: dict[str, nn.Parameter] = {n: p for n, p in model.named_parameters() if p.requires_grad}
        self._layer_of = {n: (n.rsplit(".", 1)[0] if "." in n else "(root)") for n in self._params}
        self._check_optimizer()

        # loss function: hook modules; wrap plain functions so the loop can use monitor.loss_fn
        self._user_loss_fn = loss_fn
        if loss_fn is None or isinstance(loss_fn, nn.Module):
            self.loss_fn = loss_fn
        elif callable(loss_fn):
            self.loss_fn = _LossFunction(loss_fn)
        else:
            raise TypeError(f"Monitor(loss_fn=...) must be an nn.Module or a callable, got {type(loss_fn).__name__}")

        self._factor_modules: dict[nn.Module, str] = {}
        self._act_modules: dict[nn.Module, tuple[str, str]] = {}
        self._coupling: list[nn.Module] = []
        uncovered: list[str] = []
        owners = {}
        for mname, module in model.named_modules():
            for pname, p in module.named_parameters(recurse=False):
                if p.requires_grad:
                    owners[f"{mname}.{pname}" if mname else pname] = module
            h = handler_for(module)
            if h is not None and h.params(module):
                self._factor_modules[module] = mname
                self._act_modules[module] = (mname, "linear")
            kind = _kind_of(module)
            if kind is not None:
                self._act_modules[module] = (mname, kind)
            if isinstance(module, _COUPLING):
                self._coupling.append(module)
        for pname, module in owners.items():
            h = handler_for(module)
            if h is None or pname.rsplit(".", 1)[-1] not in h.param_names:
                uncovered.append(pname)
        self._uncovered = uncovered
        self._piecewise_linear: tuple[bool, str] | None = None  # decided on first use (torch.fx tracing)

        self.run_dir = Path(run_dir) if run_dir is not None else _default_run_dir(model)
        self.writer: RunWriter | None = None
        if not enabled:
            return
        self._init_params = self._initial_params(initial_params, run_dir if start_step else None)
        if self._rank != 0:  # every rank measures (collectives); rank 0 writes
            self._attach()
            return
        self.writer = RunWriter(
            self.run_dir,
            meta={
                "name": name or self.run_dir.name,
                "status": "running",
                "config": config or {},
                "seed": seed,
                "preset": preset,
                "instruments": [i.describe() for i in self.instruments],
                "model": model_summary(model),
                "optimizer": _optimizer_summary(optimizer),
                "loss_fn": type(loss_fn).__name__ if loss_fn is not None else None,
                "uncovered_params": uncovered,
                "params_not_in_optimizer": getattr(self, "params_not_in_optimizer", []),
                "world_size": self._world,
                **(meta or {}),
            },
        )
        theta0 = self.run_dir / "theta0.pt"
        small = sum(t.numel() for t in self._init_params.values()) <= 20_000_000
        if small and not theta0.exists():  # θ₀ for resumed runs (distance from initialisation)
            torch.save({n: t.cpu() for n, t in self._init_params.items()}, theta0)
        self._attach()

    # ------------------------------------------------------------------ set-up
    def _initial_params(self, given, resumed_dir) -> dict[str, Tensor]:
        if given is not None:
            return {n: given[n].detach().clone() if n in given else p.detach().clone() for n, p in self._params.items()}
        saved = Path(resumed_dir) / "theta0.pt" if resumed_dir is not None else None
        if saved is not None and saved.exists():
            theta0 = torch.load(saved, map_location="cpu", weights_only=True)
            return {n: theta0[n].to(p.device) if n in theta0 else p.detach().clone() for n, p in self._params.items()}
        return {n: p.detach().clone() for n, p in self._params.items()}

    def _check_optimizer(self) -> None:
        self._not_in_opt: set[str] = set()
        if self.optimizer is None:
            return
        opt_ids = {id(p) for g in self.optimizer.param_groups for p in g["params"]}
        model_ids = {id(p) for p in self.model.parameters()}
        if not opt_ids & model_ids:
            raise ValueError(
                f"the optimizer ({type(self.optimizer).__name__}) does not own any parameter of the model "
                f"({type(self.model).__name__}): it was built for another model, or before the model was "
                "re-created or moved. Build it from this model, e.g. torch.optim.SGD(model.parameters(), lr=0.1)."
            )
        self.params_not_in_optimizer = [n for n, p in self._params.items() if id(p) not in opt_ids]
        self._not_in_opt = set(self.params_not_in_optimizer)

    def _attach(self) -> None:
        m = self.model
        self._handles.append(m.register_forward_pre_hook(self._on_model_pre, with_kwargs=True))
        self._handles.append(m.register_forward_hook(self._on_model_out))
        for module, (lname, kind) in self._act_modules.items():
            self._handles.append(module.register_forward_hook(partial(self._on_layer, lname, kind)))
        # every loss module, including instances created inside the loop
        self._handles.append(nn.modules.module.register_module_forward_hook(self._on_any_module))
        if self.optimizer is not None:
            self._handles.append(self.optimizer.register_step_pre_hook(lambda opt, a, k: self._pre_step(a, k)))
            self._handles.append(self.optimizer.register_step_post_hook(lambda opt, a, k: self._post_step()))
        self._handles.append(BackwardWatch(self._on_backward))

    def close(self, status: str = "finished") -> None:
        """Remove every hook and mark the run ``status`` (``finished``, ``crashed``, ...)."""
        if self._closed:
            return
        self._flush_eval()
        if self._probes and self._last_micro is not None and self.writer is not None:
            from debugkit.diagnose.probes import END_PROBES, run_probes

            extra = ({"augmentation": lambda mon, micro: mon._data.augmentation_probe()}
                     if self._data and not self._aug_probed else None)
            run_probes(self, END_PROBES, self._last_micro, extra)
        self._closed = True
        for h in self._handles:
            h.remove()
        self._handles.clear()
        if self.writer is not None:
            self.writer.update_meta(status=status, steps=self.global_step)
            self.writer.close()

    def __enter__(self) -> "Monitor":
        return self

    def __deepcopy__(self, memo) -> "Monitor":
        # copy.deepcopy(model) (EMA weights, probes) copies the model's hook dicts and with them
        # our bound methods: the copy shares this monitor, and every hook ignores modules it
        # does not watch, so copies stay unmonitored.
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close("crashed" if exc_type is not None and exc_type is not KeyboardInterrupt else
                   ("interrupted" if exc_type is KeyboardInterrupt else "finished"))

    # ------------------------------------------------------------------ public API
    def log(self, epoch: int, **metrics: Any) -> None:
        """Record per-epoch metrics, e.g. ``monitor.log(epoch, val_loss=0.4, val_acc=0.9)``."""
        if self.writer is not None:
            metrics.pop("epoch", None)
            step = metrics.pop("step", self.global_step)
            self.writer.epoch(epoch, step=step, **metrics)
            self.writer.flush()

    def note(self, message: str, kind: str = "note") -> None:
        """Add a free-text event to the run (shown in reports)."""
        if self.writer is not None:
            self.writer.event(kind, message, step=self.global_step)
            self.writer.flush()

    def resume(self, step: int) -> None:
        """Continue a run from a checkpoint: number steps from ``step`` and measure the
        distance from the θ₀ saved when the run began (``theta0.pt``)."""
        self.global_step = int(step)
        self._init_params = self._initial_params(None, self.run_dir)

    def add_callback(self, fn: Callable[[int], Any], every: int = 1) -> None:
        """Call ``fn(step)`` after every ``every``-th step is saved (e.g. a live dashboard).

        Example:
            >>> live = debugkit.plot.LiveCockpit(monitor.run_dir, every=50)   # doctest: +SKIP
            >>> monitor.add_callback(live.update, every=50)                     # doctest: +SKIP
        """
        if every < 1:
            raise ValueError(f"add_callback(every=...) must be >= 1, got {every}")
        self._callbacks.append((fn, int(every)))

    def seen_loader_batch(self, dataset, batch) -> None:
        """A DataLoader yielded ``batch`` from ``dataset`` (called by ``debugkit diagnose``)."""
        if self._data is not None and not self._closed:
            self._data.seen_batch(dataset, batch)

    def record(self, **values: float) -> None:
        """Add scalars to the current step's record (e.g. values from your own code)."""
        self._extra.update(values)

    def step(self) -> None:
        """Mark the end of a training step by hand (only needed without an optimizer)."""
        self._pre_step()
        self._post_step()

    @property
    def run(self):
        """The run recorded so far, as :class:`debugkit.Run`."""
        from debugkit.store import load_run

        if self.writer is not None:
            self.writer.flush()
        return load_run(self.run_dir)

    def diagnose(self, **kwargs):
        """Ranked findings for the run recorded so far (see :func:`debugkit.diagnose.diagnose_run`)."""
        from debugkit.diagnose import diagnose_run

        return diagnose_run(self.run, **kwargs)

    # ------------------------------------------------------------------ hooks
    def _recording(self) -> bool:
        return self._internal == 0 and torch.is_grad_enabled() and not self._closed

    def _flush_eval(self) -> None:
        if self._eval is None:
            return
        for rec in self._eval.flush():
            if self.writer is not None:
                self.writer.epoch(rec.pop("index"), step=self.global_step, **rec)
        if self.writer is not None:
            self.writer.flush()

    def _begin_step(self) -> _StepState:
        self._flush_eval()
        step = self.global_step
        needs = frozenset().union(*(i.needs(step) for i in self.instruments))
        st = _StepState(needs=needs, t_start=time.perf_counter())
        coupled = any(m.training or not m.track_running_stats for m in self._coupling)
        st.exact_ok = not coupled and not self._uncovered
        self._state = st
        return st

    def _evaluating(self) -> bool:
        return self._eval is not None and self._internal == 0 and not torch.is_grad_enabled() and not self._closed

    def _on_model_pre(self, module, args, kwargs):
        if module is not self.model:
            return
        if self._evaluating():
            self._eval_input = args[0] if args else next((v for v in kwargs.values() if isinstance(v, Tensor)), None)
            return
        if not self._recording():
            return
        st = self._state or self._begin_step()
        x = args[0] if args else next((v for v in kwargs.values() if isinstance(v, Tensor)), None)
        size = int(x.shape[0]) if isinstance(x, Tensor) and x.dim() > 0 else 1
        micro = _Micro(args=args, kwargs=kwargs, size=size)
        need_full = needs_.GRAD_SAMPLE in st.needs and st.exact_ok
        need_sub = needs_.GRAD_SUBSAMPLE in st.needs and st.exact_ok
        if need_full:
            micro.records = {}
        if need_sub or need_full:
            k = size if self.subsample is None else min(self.subsample, size)
            micro.sub_idx = torch.randperm(size, generator=self._gen)[:k].sort().values
            micro.sub_size = k
            if not need_full:
                micro.sub_records = {}
        st.micro.append(micro)
        st.training = module.training
        if self._eval is not None:
            self._eval.seen_training_batch(x)
        if needs_.IO in st.needs and isinstance(x, Tensor):
            st.io.update(act_fn.input_stats(x))

    def _on_model_out(self, module, args, output):
        if module is not self.model:
            return
        if self._evaluating():
            self._eval.seen_eval_forward(getattr(self, "_eval_input", None), find_logits(output), module.training)
            return
        if not self._recording() or self._state is None or not self._state.micro:
            return
        st = self._state
        micro = st.micro[-1]
        micro.output = output
        micro.logits = find_logits(output)
        own = find_loss(output)
        if own is not None and micro.loss is None:
            micro.loss = own.detach().item()
            micro.loss_source = "model"
        if needs_.IO in st.needs and micro.logits is not None:
            st.io.update(act_fn.output_stats(micro.logits))

    def _on_layer(self, lname: str, kind: str, module, inputs, output):
        if not self._recording() or self._state is None or not self._state.micro or module not in self._act_modules:
            return
        st = self._state
        if needs_.ACTIVATIONS in st.needs and isinstance(output, Tensor):
            st.act[lname] = act_fn.activation_stats(output, kind)
        if needs_.ACT_HIST in st.needs and isinstance(output, Tensor) and output.is_floating_point():
            st.act_hist[lname] = act_fn.value_histogram(output)
        if module in self._factor_modules:
            micro = st.micro[-1]
            target = micro.records if micro.records is not None else micro.sub_records
            if target is None or not isinstance(output, Tensor) or not output.requires_grad:
                return
            x = inputs[0].detach()
            idx = micro.sub_idx if micro.records is None else None
            if idx is not None:
                x = x[idx]
            cap = Capture(x, out=output if idx is None and needs_.GRAPH in st.needs else None)
            target.setdefault(lname, LayerRecord(module, lname)).captures.append(cap)

            def keep_delta(grad, cap=cap, idx=idx):
                # first write wins: Hessian-vector products through the user's graph
                # (curvature steps) pass this tensor again
                if cap.delta is None:
                    cap.delta = (grad if idx is None else grad[idx]).detach()

            output.register_hook(keep_delta)

    def _on_any_module(self, module, inputs, output):
        if isinstance(module, (nn.modules.loss._Loss, _LossFunction)):
            if self._evaluating():
                if isinstance(output, Tensor) and output.dim() == 0 and inputs:
                    red = loss_reduction(_user_loss(module))
                    self._eval.seen_eval_loss(inputs[0], inputs[1] if len(inputs) > 1 else None, output, red)
                return
            self._on_loss(module, inputs, output)

    def _on_loss(self, module, inputs, output):
        if not self._recording() or self._state is None or not self._state.micro:
            return
        micro = self._state.micro[-1]
        if not isinstance(output, Tensor) or output.dim() != 0 or not self._belongs_to_model(module, inputs, micro):
            return
        micro.loss = output.detach().item()
        micro.loss_source = "loss_fn"
        micro.loss_module = module
        if not self._loss_named and self.writer is not None:
            self._loss_named = True
            inner = _user_loss(module)
            self.writer.update_meta(loss_fn=getattr(inner, "__name__", type(inner).__name__))
        inp = inputs[0] if inputs else None
        micro.target = inputs[1] if len(inputs) > 1 else None
        micro.loss_input_is_output = inp is micro.logits
        if isinstance(inp, Tensor) and not micro.loss_input_is_output and micro.logits is not None:
            micro.loss_input_is_output = inp.shape == micro.logits.shape
        loss_obj = _user_loss(module)
        if needs_.PER_SAMPLE_LOSS in self._state.needs:
            psl = per_sample_losses(loss_obj, inp, micro.target)
            if psl is not None and psl.numel() == micro.size:
                micro.per_sample_loss = psl

    def _belongs_to_model(self, module, inputs, micro: _Micro) -> bool:
        """Whether a loss call is about this monitor's model (other models may train alongside)."""
        if module is self.loss_fn:
            return True
        inp = inputs[0] if inputs else None
        if not isinstance(inp, Tensor) or micro.logits is None:
            return False
        if inp is micro.logits or inp.untyped_storage().data_ptr() == micro.logits.untyped_storage().data_ptr():
            return True
        return micro.loss is None and inp.dim() > 0 and inp.shape[0] == micro.size

    def _on_backward(self, tensors, kwargs: dict) -> None:
        if not self._recording() or self._state is None:
            return
        t = tensors if isinstance(tensors, Tensor) else (tensors[0] if isinstance(tensors, (list, tuple)) and tensors else None)
        if t is None:
            return
        st = self._state
        if needs_.GRAPH in st.needs and self._user_graph_ok:
            # Curvature from the user's own graph (as Cockpit asks its users to do by hand):
            # saves recomputing forward and backward. .grad is detached again before the step.
            kwargs["create_graph"] = True
            st.user_graph = True
        if t is self._last_bw:
            return
        self._last_bw = t
        if st.n_backward == 0:
            before = {}
            for n, p in self._params.items():
                if p.grad is not None and bool(p.grad.detach().ne(0).any()):
                    before[n] = p.grad.detach().clone()
            if before:
                st.grad_before = before
                # only gradients the optimizer uses count: parameters outside it are never
                # zeroed by optimizer.zero_grad() (that is the frozen_params finding)
                st.accumulated = any(n not in self._not_in_opt for n in before)
        st.n_backward += 1
        if st.micro:
            st.micro[-1].backward = True
        if isinstance(t, Tensor) and t.dim() == 0:
            st.backward_losses.append(t.detach().item())

    # ------------------------------------------------------------------ step boundary
    def _pre_step(self, args: tuple = (), kwargs: dict | None = None):
        if self._closed:
            return None
        replaced = None
        # the hook receives step()'s arguments with the optimizer itself first
        closure = (kwargs or {}).get("closure", args[1] if len(args) > 1 else None)
        if callable(closure):
            # optimizer.step(closure) (Lightning, LBFGS): the forward/backward happens inside
            # step(). Evaluate it now so the instruments see this step's gradients, and hand the
            # optimizer a closure that returns the same loss.
            with torch.enable_grad():
                loss = closure()

            def cached(loss=loss):
                return loss

            if kwargs and "closure" in kwargs:
                replaced = (args, {**kwargs, "closure": cached})
            else:
                replaced = ((args[0], cached, *args[2:]), kwargs or {})
        st = self._state or self._begin_step()
        if self._data is not None:
            self._data.step_taken()
            for m in st.used_micro():
                x = m.args[0] if m.args else None
                self._data.seen_training_input(x, m.target)
            if self._probes and not self._aug_probed and self._data.ready():
                from debugkit.diagnose.probes import run_probes

                self._aug_probed = True
                run_probes(self, {"augmentation": lambda mon, micro: mon._data.augmentation_probe()}, None)
        self._ctx = ctx = StepContext(self, self.global_step, st)
        if st.used_micro():
            if self._probes and self._last_micro is None:
                from debugkit.diagnose.probes import START_PROBES, lr_range_test, run_probes

                run_probes(self, START_PROBES, st.used_micro()[-1],
                           {"lr_range_test": lr_range_test} if self._lr_range else None)
            self._last_micro = st.used_micro()[-1]
        t0 = time.perf_counter()
        if any(needs_.SNAPSHOT in i.needs(self.global_step) for i in self.instruments):
            st.snapshot = {n: p.detach().clone() for n, p in self._params.items()}
        for inst in self.instruments:
            if inst.due(self.global_step) and hasattr(inst, "prepare"):
                self._guarded(inst, ctx, inst.prepare)
        self._run_instruments(ctx, "pre")
        if st.user_graph:
            for p in self._params.values():  # break the graph held by .grad (and its reference cycle)
                if p.grad is not None and p.grad.grad_fn is not None:
                    p.grad = p.grad.detach()
        self._monitor_time = time.perf_counter() - t0
        return replaced

    def _post_step(self) -> None:
        if self._closed or getattr(self, "_ctx", None) is None:
            return
        ctx, st = self._ctx, self._state or self._begin_step()
        t0 = time.perf_counter()
        ctx.phase = "post"
        self._run_instruments(ctx, "post")
        now = time.perf_counter()
        self._monitor_time += now - t0
        step = self.global_step
        loss = ctx.loss
        base = {"model_training": float(st.training), "accumulated_grad": float(st.accumulated),
                "monitor_time": self._monitor_time}
        if self._last_post is not None:
            base["step_time"] = now - self._last_post
        if step % 50 == 0:  # getrusage can take milliseconds: sample it
            base["peak_memory"] = _peak_memory()
        base["loss"] = loss
        base.update(self._extra)
        self._extra = {}
        for k, v in base.items():
            ctx.scalars.setdefault(step, {}).setdefault(k, v)
        if loss is not None and not math.isfinite(loss) and not self._nan_flagged:
            self._nan_flagged = True
            msg = f"loss is {loss} at step {step}; the run keeps recording (every earlier step is saved)"
            ctx.event("nan_loss", msg)
            warnings.warn(f"debugkit: {msg} in {self.run_dir}", RuntimeWarning, stacklevel=3)
        self._write(ctx)
        self._last_post = now
        self._state = None
        self._ctx = None
        self.global_step += 1
        for fn, every in self._callbacks:
            if self.global_step % every == 0:
                try:
                    fn(self.global_step)
                except Exception as exc:  # a broken dashboard must not stop training
                    if self.strict:
                        raise
                    key = f"callback {getattr(fn, '__qualname__', fn)}"
                    if key not in self._warned:
                        self._warned.add(key)
                        warnings.warn(f"debugkit: {key} failed: {type(exc).__name__}: {exc} (reported once)",
                                      RuntimeWarning, stacklevel=2)
        if self.max_steps is not None and self.global_step >= self.max_steps:
            raise StopTraining(f"debugkit stopped training after {self.global_step} steps (max_steps)")
        if self.max_time is not None and time.perf_counter() - self._t_attach > self.max_time:
            raise StopTraining(f"debugkit stopped training after {self.max_time:.0f} s (max_time)")

    def _run_instruments(self, ctx: StepContext, phase: str) -> None:
        for inst in self.instruments:
            if inst.phase == phase and inst.due(ctx.step):
                self._guarded(inst, ctx, inst.compute)

    def _guarded(self, inst: Instrument, ctx: StepContext, fn) -> None:
        try:
            fn(ctx)
        except IngredientUnavailable as exc:
            self._warn_once(inst.instance_name, f"{inst.instance_name} cannot run: {exc}", ctx)
        except Exception as exc:  # never let an instrument kill the user's training
            if self.strict:
                raise
            self._warn_once(inst.instance_name, f"{inst.instance_name} failed: {type(exc).__name__}: {exc}", ctx)

    def _warn_once(self, key: str, message: str, ctx: StepContext) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        ctx.event("instrument_skipped", message)
        warnings.warn(f"debugkit: {message} (reported once)", RuntimeWarning, stacklevel=4)

    def _write(self, ctx: StepContext) -> None:
        w = self.writer
        if w is None:
            return
        for s, vals in sorted(ctx.scalars.items()):
            w.scalars(s, **vals)
        for s, q, vals in ctx.layer_values:
            w.layers(s, q, vals)
        for h in ctx.hists:
            w.hist(**h)
        for kind, msg in ctx.events:
            w.event(kind, msg, step=ctx.step)
        w.flush()

    # ------------------------------------------------------------------ recomputation
    def _unit_scale(self, st: _StepState) -> float:
        return float(st.batch_size())

    @contextlib.contextmanager
    def _isolated(self):
        """Extra forward passes that leave no trace: hooks off, RNG restored, and buffers
        (BatchNorm statistics) swapped for copies, so the originals are never touched and
        the recomputed graph keeps its own (double backward reads them)."""
        originals = []
        for module in self.model.modules():
            for name, buf in module._buffers.items():
                if buf is not None:
                    originals.append((module, name, buf))
                    module._buffers[name] = buf.clone()
        self._internal += 1
        try:
            cuda = [torch.cuda.current_device()] if torch.cuda.is_available() and torch.cuda.is_initialized() else []
            with torch.random.fork_rng(devices=cuda), torch.enable_grad():
                yield
        finally:
            self._internal -= 1
            for module, name, buf in originals:
                module._buffers[name] = buf

    def _recompute_loss(self, micro: _Micro, sl: slice | None = None) -> Tensor:
        """The loss of (a slice of) a captured micro-batch, recomputed at the current θ."""
        n = micro.size

        def cut(v):
            return v[sl] if sl is not None and isinstance(v, Tensor) and v.dim() > 0 and v.shape[0] == n else v

        args = tuple(cut(a) for a in micro.args)
        kwargs = {k: cut(v) for k, v in micro.kwargs.items()}
        out = self.model(*args, **kwargs)
        if micro.loss_source == "loss_fn" and micro.loss_input_is_output:
            logits = find_logits(out)
            return micro.loss_module(logits, cut(micro.target))
        if micro.loss_source == "model":
            loss = find_loss(out)
            if loss is not None:
                return loss
        self._recompute_problem = (
            "debugkit cannot recompute this loss: compute it with a torch.nn loss module (e.g. "
            "nn.CrossEntropyLoss()) called on the model output, or return the loss from the model"
        )
        raise IngredientUnavailable(self._recompute_problem)

    def _make_hvp(self, st: _StepState):
        names = [n for n, p in self._params.items() if p.grad is not None]
        params = [self._params[n] for n in names]
        if st.user_graph and all(self._params[n].grad.grad_fn is not None for n in names):
            grads = [self._params[n].grad for n in names]

            def hvp(vs):
                return [h.detach() for h in torch.autograd.grad(grads, params, vs, retain_graph=True)]

            try:
                hvp([torch.zeros_like(p) for p in params])  # fails now if .grad was modified in place
                return hvp, names, params
            except RuntimeError as exc:
                self._user_graph_ok = False
                self.note(f"curvature falls back to recomputing the loss: {str(exc).splitlines()[0]}", "info")
        micro = st.used_micro()[-1]
        with self._isolated():
            loss = self._recompute_loss(micro)
            hvp, _ = make_hvp(loss, params)
        return hvp, names, params

    def _ggn_trace(self, st: _StepState, samples: int | None, generator: torch.Generator | None):
        """``(total, {param: trace})`` of the Hessian from the Gauss-Newton matrix, or a reason why not.

        Exact in expectation for piecewise-linear networks with cross-entropy (see
        :mod:`debugkit.functional.ggn`); one backward pass to the layer outputs per sample.
        """
        from debugkit.functional import ggn
        from debugkit.functional.grad_sample import PerSampleGrads

        if self._piecewise_linear is None:
            self._piecewise_linear = ggn.piecewise_linear(self.model)
        ok, why = self._piecewise_linear
        if not ok:
            return f"the model is not piecewise linear in its parameters ({why})"
        if not ggn.eval_mode_ok(self.model):
            return "BatchNorm in training mode"
        used = st.used_micro()
        if len(used) != 1 or not st.user_graph or not st.exact_ok or used[0].records is None:
            return "needs one backward pass through the user's graph with per-sample factors"
        m = used[0]
        loss_obj = _user_loss(m.loss_module)
        if m.loss_source != "loss_fn" or not ggn.cross_entropy_ok(loss_obj) or not m.loss_input_is_output:
            return "the loss is not nn.CrossEntropyLoss on the model output"
        logits = m.logits
        if logits is None or logits.dim() != 2 or logits.grad_fn is None:
            return "the model output is not a (batch, classes) tensor in the graph"
        caps = [c for r in m.records.values() for c in r.captures]
        if not caps or any(c.out is None or c.out.grad_fn is None for c in caps):
            return "layer outputs were not kept"
        target = m.target if isinstance(m.target, Tensor) else None
        vs = ggn.output_gradients(logits, target, loss_obj.ignore_index, samples, generator)
        sums: dict[str, float] = {}
        self._internal += 1  # the extra backward passes are debugkit's own
        try:
            for v in vs:
                deltas = torch.autograd.grad(logits, [c.out for c in caps], v, retain_graph=True, allow_unused=True)
                it = iter(deltas)
                records = [LayerRecord(r.module, r.name, [Capture(c.x, _zero_if_none(next(it), c.out))
                                                           for c in r.captures]) for r in m.records.values()]
                ss = PerSampleGrads([(records, m.size)], scale=1.0, batch_size=m.size).sum_sq()
                for n, t in ss.items():
                    sums[n] = sums.get(n, 0.0) + t.double().sum().item()
        finally:
            self._internal -= 1
        missing = [n for n, p in self._params.items() if p.grad is not None and n not in sums]
        if missing:
            return f"no per-sample factors for {missing[0]}"
        if loss_obj.reduction == "mean":
            n_eff = m.size
            if target is not None and not target.is_floating_point():
                n_eff = int((target != loss_obj.ignore_index).sum())
            sums = {n: v / max(n_eff, 1) for n, v in sums.items()}
        return sum(sums.values()), sums

    def _microbatch_grads(self, st: _StepState) -> tuple[MicrobatchGrads, Tensor] | None:
        used = st.used_micro()
        total = sum(m.size for m in used)
        if total < 2:
            return None
        names = [n for n, p in self._params.items() if p.grad is not None]
        params = [self._params[n] for n in names]
        chunks: dict[str, list[Tensor]] = {n: [] for n in names}
        losses, sizes = [], []
        last = used[-1].loss_module
        reduction = loss_reduction(_user_loss(last)) if last is not None else "mean"
        try:
            with self._isolated():
                for m in used:
                    k = max(1, min(m.size, round(self.microbatches * m.size / total)))
                    for idx in torch.arange(m.size).tensor_split(k):
                        if idx.numel() == 0:
                            continue
                        sl = slice(int(idx[0]), int(idx[-1]) + 1)
                        loss = self._recompute_loss(m, sl)
                        gs = torch.autograd.grad(loss, params, allow_unused=True)
                        for n, p, g in zip(names, params, gs):
                            chunks[n].append(torch.zeros_like(p) if g is None else g.detach())
                        losses.append(loss.detach())
                        sizes.append(idx.numel())
        except IngredientUnavailable:
            return None
        count = len(losses)
        factor = float(count) if reduction == "sum" else 1.0
        grads = {n: torch.stack(v) * factor for n, v in chunks.items()}
        unit = max(1, round(total / count))
        return MicrobatchGrads(grads, unit_size=unit, batch_size=total), torch.stack(losses) * factor


def _user_loss(module):
    """The loss the user passed: a plain function wrapped as :class:`_LossFunction` is unwrapped."""
    return module.fn if isinstance(module, _LossFunction) else module


def _zero_if_none(delta: Tensor | None, like: Tensor) -> Tensor:
    return torch.zeros_like(like) if delta is None else delta.detach()


class _LossFunction(nn.Module):
    """Wraps a plain loss function so the monitor can see its inputs."""

    def __init__(self, fn: Callable):
        super().__init__()
        self.fn = fn
        self.reduction = "mean"

    def forward(self, *args, **kwargs):
        return self.fn(*args, **kwargs)


def _peak_memory() -> int:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return int(torch.cuda.max_memory_allocated())
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _default_run_dir(model: nn.Module) -> Path:
    return Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{type(model).__name__.lower()}"


def _optimizer_summary(opt) -> dict | None:
    if opt is None:
        return None
    group = {k: v for k, v in opt.param_groups[0].items() if k != "params"}
    clean = {k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v)) for k, v in group.items()}
    return {"class": type(opt).__name__, "groups": len(opt.param_groups), **clean}


def model_summary(model: nn.Module) -> dict:
    """Layers with their type and parameter counts (stored in the run's metadata)."""
    layers = []
    for name, module in model.named_modules():
        own = list(module.parameters(recurse=False))
        if not own and any(True for _ in module.children()):
            continue
        layers.append({
            "name": name or "(root)",
            "type": type(module).__name__,
            "params": sum(p.numel() for p in own),
            "trainable": sum(p.numel() for p in own if p.requires_grad),
        })
    return {
        "class": type(model).__name__,
        "layers": layers,
        "num_params": sum(p.numel() for p in model.parameters()),
        "num_trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }
