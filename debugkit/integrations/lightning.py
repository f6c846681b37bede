"""PyTorch Lightning: record a ``Trainer.fit`` run with :class:`debugkit.Monitor`.

Example::

    from debugkit.integrations.lightning import DebugkitCallback

    trainer = lightning.pytorch.Trainer(max_epochs=5, callbacks=[DebugkitCallback(preset="standard")])
    trainer.fit(model, train_loader, val_loader)
    run = trainer.callbacks[0].run          # debugkit.Run: per-step instruments, epoch metrics

Importing this module imports Lightning (``lightning.pytorch``, else ``pytorch_lightning``);
nothing else in debugkit does.
"""

from __future__ import annotations

import functools
import numbers
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from debugkit.instruments.presets import PRESETS
from debugkit.monitor import Monitor


def _import_lightning():
    try:
        import lightning.pytorch as pl
    except ImportError:
        try:
            import pytorch_lightning as pl
        except ImportError:
            raise ImportError(
                "debugkit.integrations.lightning needs PyTorch Lightning: pip install lightning "
                "(the older package name pytorch-lightning works too)"
            ) from None
    return pl


pl = _import_lightning()

#: Monitor arguments the callback owns (it finds the model and optimizer itself).
_OWNED = ("model", "optimizer")
#: Monitor arguments that would stop training from inside ``optimizer.step()``, behind
#: Lightning's back; the Trainer has its own.
_TRAINER_LIMITS = {"max_steps": "Trainer(max_steps=...)", "max_time": "Trainer(max_time=...)"}
#: Optimizers that evaluate the closure several times per step; see :class:`ClosureFirst`.
MULTI_CLOSURE_OPTIMIZERS: tuple[type, ...] = (torch.optim.LBFGS,)


class ClosureFirst:
    """Make ``optimizer.step(closure)`` run ``closure()`` first, then ``optimizer.step()``.

    Lightning's automatic optimization runs forward and backward inside
    ``optimizer.step(closure)``, so the optimizer's step pre-hooks (where the monitor
    measures gradients) would fire *before* that step's backward and see the previous
    step's gradients. Evaluating the closure first — as Lightning's own mixed-precision
    plugin does — leaves the step hooks around the parameter update alone. This is exact
    for optimizers that call the closure once at the start of ``step`` (every torch.optim
    optimizer except LBFGS). :meth:`remove` restores the optimizer.
    """

    def __init__(self, optimizer: torch.optim.Optimizer):
        self.optimizer = optimizer
        self._had_own = "step" in vars(optimizer)
        self._previous = vars(optimizer).get("step")
        inner = optimizer.step

        # keep the marks of earlier wrappers (an LR scheduler checks for its own)
        @functools.wraps(inner)
        def step(closure: Callable[[], Any] | None = None, **kwargs: Any) -> Any:
            if closure is None:
                return inner(**kwargs)
            with torch.enable_grad():
                loss = closure()
            inner(**kwargs)
            return loss

        self._installed = step
        optimizer.step = step

    def remove(self) -> None:
        if vars(self.optimizer).get("step") is not self._installed:
            return  # wrapped again by someone else since: leave theirs (ours is harmless)
        if self._had_own:
            self.optimizer.step = self._previous
        else:
            del self.optimizer.step


def _scalar_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """``trainer.callback_metrics`` as plain floats (one-element tensors and numbers only)."""
    out = {}
    for key, value in metrics.items():
        if key in ("epoch", "step"):  # monitor.log's own arguments
            continue
        if isinstance(value, torch.Tensor):
            if value.numel() != 1:
                continue
            value = value.item()
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            out[str(key)] = float(value)
    return out


def _unique(path: Path) -> Path:
    out, n = path, 1
    while out.exists():
        n += 1
        out = path.with_name(f"{path.name}-{n}")
    return out


def _resolve_module(pl_module: torch.nn.Module, path: str | None) -> torch.nn.Module:
    if path is None:
        return pl_module
    try:
        module = pl_module.get_submodule(path)
    except AttributeError as exc:
        raise ValueError(
            f"DebugkitCallback(model={path!r}): {type(pl_module).__name__} has no submodule {path!r} ({exc}); "
            "name the module your training_step calls, e.g. model='net' for self.net(x)"
        ) from None
    return module


class DebugkitCallback(pl.Callback):
    """Attach a :class:`debugkit.Monitor` to the LightningModule for the length of ``fit``.

    At ``on_fit_start`` the monitor is attached to the module (or to ``model``, a submodule)
    and the trainer's first optimizer; epoch metrics (every scalar in
    ``trainer.callback_metrics``) are recorded with ``monitor.log(epoch, ...)`` at the end of
    each validation epoch and training epoch (records of one epoch merge); the run is
    closed as ``finished`` at ``on_fit_end``, or ``crashed``/``interrupted`` from
    ``on_exception``. Only the global-rank-0 process records.

    The monitor's hooks see the forward pass of the module it is attached to: if your
    ``training_step`` calls ``self.net(x)`` rather than ``self(x)``, pass ``model="net"``.
    A loss computed by an ``nn`` loss module (``nn.CrossEntropyLoss()``) gives per-sample
    losses; a functional loss (``F.cross_entropy``) is still recorded, from ``backward()``.

    Args:
        preset: Instrument preset (``economy``, ``standard``, ``full``, ...).
        run_dir: Where the run is written (default: a new
            ``<trainer.default_root_dir>/debugkit/<time>-<module class>`` for every ``fit``).
            A fit resumed from a checkpoint (``fit(..., ckpt_path=...)``) with the same
            ``run_dir`` appends to the run, its steps continuing Lightning's ``global_step``.
        model: Dotted name of the submodule to monitor (default: the LightningModule).
        **monitor_kwargs: Passed on to :class:`debugkit.Monitor` (``loss_fn``, ``schedule``,
            ``config`` (default: the module's ``hparams``), ``meta``, ``subsample``, ...).

    Attributes:
        monitor: The :class:`~debugkit.Monitor` while ``fit`` runs (``None`` before).
        run_dir: The run directory once ``fit`` has started.

    Example:
        >>> cb = DebugkitCallback(preset="standard", run_dir="runs/lit")            # doctest: +SKIP
        >>> Trainer(max_epochs=3, callbacks=[cb]).fit(module, train_dl, val_dl)     # doctest: +SKIP
        >>> cb.run.scalars[["loss", "grad_norm"]]                                   # doctest: +SKIP
    """

    def __init__(self, preset: str | None = "economy", run_dir: str | Path | None = None, *,
                 model: str | None = None, **monitor_kwargs: Any):
        super().__init__()
        if preset is not None and preset not in PRESETS:
            raise ValueError(f"DebugkitCallback(preset={preset!r}): unknown preset; choose one of {sorted(PRESETS)}")
        for key in _OWNED:
            if key in monitor_kwargs:
                raise TypeError(
                    f"DebugkitCallback does not take {key}=...: it monitors the LightningModule (or the submodule "
                    "named by model='...') and the trainer's first optimizer"
                )
        for key, instead in _TRAINER_LIMITS.items():
            if monitor_kwargs.get(key) is not None:
                raise ValueError(f"DebugkitCallback({key}=...): stop Lightning training with {instead} instead")
        self.preset = preset
        self._run_dir_arg = Path(run_dir) if run_dir is not None else None
        self.run_dir: Path | None = None
        self.model_path = model
        self.monitor_kwargs = monitor_kwargs
        self.monitor: Monitor | None = None
        self._recording = False
        self._closure_first: ClosureFirst | None = None

    # ---------------------------------------------------------------- attach / detach
    def on_fit_start(self, trainer, pl_module) -> None:
        self.monitor, self.run_dir = None, None
        if not trainer.is_global_zero or self.monitor_kwargs.get("enabled") is False:
            return
        optimizers = list(trainer.optimizers)
        if not optimizers:
            warnings.warn("debugkit: the trainer has no optimizer (configure_optimizers returned none); "
                          "DebugkitCallback records nothing", RuntimeWarning, stacklevel=2)
            return
        optimizer = optimizers[0]
        if isinstance(optimizer, MULTI_CLOSURE_OPTIMIZERS):
            warnings.warn(f"debugkit: {type(optimizer).__name__} evaluates the closure several times per step, "
                          "which DebugkitCallback cannot follow; this fit is not recorded", RuntimeWarning,
                          stacklevel=2)
            return
        module = _resolve_module(pl_module, self.model_path)
        kwargs = dict(self.monitor_kwargs)
        if kwargs.get("config") is None:
            kwargs["config"] = dict(getattr(pl_module, "hparams", None) or {})
        kwargs["meta"] = {**self._trainer_meta(trainer, pl_module, len(optimizers)), **(kwargs.get("meta") or {})}
        self.run_dir = self._run_dir_arg
        if self.run_dir is None:  # a new run for every fit
            stamp = time.strftime("%Y%m%d-%H%M%S")
            self.run_dir = _unique(Path(trainer.default_root_dir) / "debugkit" /
                                   f"{stamp}-{type(pl_module).__name__.lower()}")
        self._closure_first = ClosureFirst(optimizer)
        try:
            self.monitor = Monitor(module, optimizer, preset=self.preset, run_dir=self.run_dir, **kwargs)
        except BaseException:
            self._closure_first.remove()
            self._closure_first = None
            raise
        self._recording = True
        if len(optimizers) > 1:
            self.monitor.note(f"the module has {len(optimizers)} optimizers; debugkit records the first "
                              f"({type(optimizer).__name__}) only", "info")

    def on_train_start(self, trainer, pl_module) -> None:
        # a fit resumed from a checkpoint goes on counting where Lightning does (restored after
        # on_fit_start), so an explicit run_dir continues the same step axis
        if self._recording:
            self.monitor.global_step = int(trainer.global_step)

    def on_fit_end(self, trainer, pl_module) -> None:
        self._close("finished")

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        self._close("interrupted" if isinstance(exception, KeyboardInterrupt) else "crashed")

    def teardown(self, trainer, pl_module, stage: str) -> None:
        # normally closed by on_fit_end / on_exception already; never leave hooks behind
        self._close("finished")

    def _close(self, status: str) -> None:
        if self._closure_first is not None:
            self._closure_first.remove()
            self._closure_first = None
        if self._recording:
            self._recording = False
            self.monitor.close(status)

    # ---------------------------------------------------------------- epoch metrics
    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self._log_epoch(trainer)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._log_epoch(trainer)

    def _log_epoch(self, trainer) -> None:
        if not self._recording:
            return
        metrics = _scalar_metrics(trainer.callback_metrics)
        if metrics:
            self.monitor.log(trainer.current_epoch, **metrics)

    # ---------------------------------------------------------------- results
    @property
    def run(self):
        """The recorded run (:class:`debugkit.Run`), during or after ``fit``."""
        if self.run_dir is None:
            raise RuntimeError("DebugkitCallback has not recorded anything yet: call trainer.fit(...) first")
        from debugkit.store import load_run

        if self._recording and self.monitor.writer is not None:
            self.monitor.writer.flush()
        return load_run(self.run_dir)

    @staticmethod
    def _trainer_meta(trainer, pl_module, n_optimizers: int) -> dict[str, Any]:
        return {
            "integration": "lightning",
            "lightning_version": getattr(pl, "__version__", "?"),
            "lightning_module": type(pl_module).__name__,
            "trainer": {
                "max_epochs": trainer.max_epochs,
                "max_steps": trainer.max_steps,
                "accumulate_grad_batches": trainer.accumulate_grad_batches,
                "gradient_clip_val": trainer.gradient_clip_val,
                "precision": str(trainer.precision),
                "optimizers": n_optimizers,
            },
        }
