"""The reference trainer: a plain training loop, instrumented by :class:`debugkit.Monitor`.

Every call of :func:`train` leaves a complete debugkit run directory::

    meta.json  scalars.jsonl  layers.jsonl  hists.jsonl  epochs.jsonl  events.jsonl
    checkpoint.pt        model + optimizer + scheduler state, epoch, step, config, RNG state
    config.toml          the config, ready for ``debugkit.train.TrainConfig.load``

The test split is never loaded into a loader here: only :func:`debugkit.evaluate.evaluate_run`
with ``split="test"`` looks at it, and it records that it did.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from debugkit.evaluate.metrics import confusion_matrix, macro_f1
from debugkit.monitor import Monitor
from debugkit.monitor import model_summary as monitor_model_summary
from debugkit.store import RunWriter, load_run
from debugkit.train.checkpoint import (
    CHECKPOINT_NAME,
    checkpoint_path,
    load_checkpoint,
    save_checkpoint,
)
from debugkit.train.config import ConfigError, TrainConfig
from debugkit.train.data import build_data, build_model
from debugkit.train.optim import build_optimizer, build_schedule

#: Examples per batch when evaluating (independent of the training batch size).
EVAL_BATCH_SIZE = 1024
#: Config keys that may differ when a run is resumed (a longer budget, new labels).
RESUMABLE_CHANGES = ("epochs", "max_steps", "monitor", "name", "group", "tags")


class StopTraining(Exception):
    """Raise from an ``on_epoch`` callback to end training after this epoch.

    Args:
        status: What the run's metadata records (``"pruned"``, ``"stopped"``, ...).
        message: Stored as an event in the run.
    """

    def __init__(self, status: str = "stopped", message: str = ""):
        super().__init__(message or status)
        self.status = status
        self.message = message


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
        run_dir: The run directory (open it with :func:`debugkit.load_run`).
        metrics: Metrics of the last epoch (``train_loss``, ``val_acc``, ...).
        model: The trained model (weights of the last step; NaN if diverged).
        config: The validated config.
        status: ``finished``, ``diverged`` (non-finite loss), or the status of a
            :class:`StopTraining` (e.g. ``pruned``).
        epochs: Epochs completed.
        steps: Optimizer steps taken.
        history: Per-epoch metric dicts, including epoch 0 (before training).
    """

    run_dir: Path
    metrics: dict[str, float]
    model: nn.Module
    config: TrainConfig
    status: str
    epochs: int
    steps: int
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def run(self):
        """The recorded run (:class:`debugkit.Run`)."""
        return load_run(self.run_dir)


def train(
    config: TrainConfig | dict | str | os.PathLike,
    run_dir: str | os.PathLike | None = None,
    *,
    progress: bool = True,
    device: str | torch.device = "cpu",
    resume: bool = False,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    meta: dict[str, Any] | None = None,
) -> TrainResult:
    """Train the model described by ``config`` and record everything in ``run_dir``.

    Per epoch it logs ``train_loss``, ``train_acc`` (running means over the epoch's
    batches), ``val_loss``, ``val_acc``, ``val_f1`` (macro), ``lr`` and ``epoch_time``; epoch
    0 is measured before the first step (for the initial-loss check, ln C for C classes).
    A checkpoint is written after every epoch. A non-finite loss stops the run at once and
    marks it ``diverged`` (everything recorded so far is kept).

    Args:
        config: A :class:`TrainConfig`, a dict of its fields, or a TOML file path.
        run_dir: Where to write the run (default ``runs/<time>-<name>``).
        progress: Show a tqdm bar (only when stderr is a terminal).
        device: Torch device to train on.
        resume: Continue from ``run_dir/checkpoint.pt`` (a run stopped or killed
            part-way, or one given a larger ``epochs``). Without a checkpoint the run starts.
        on_epoch: Called as ``on_epoch(epoch, metrics)`` after each epoch's metrics are
            logged; raise :class:`StopTraining` in it to stop (e.g. to prune a sweep trial).
        meta: Extra entries for the run's ``meta.json`` (studies store ``meta["study"]``).

    Returns:
        A :class:`TrainResult`.

    Raises:
        ConfigError: invalid config, or resuming with a config that changes the run.
        FileExistsError: ``run_dir`` already holds a run and ``resume`` is False.

    Example:
        >>> cfg = TrainConfig(model={"name": "softmax"}, lr=0.5, epochs=2, monitor=False)
        >>> result = train(cfg, "runs/doc-softmax", progress=False)   # doctest: +SKIP
        >>> result.metrics["val_acc"] > 0.8                           # doctest: +SKIP
        True
    """
    config = _as_config(config)
    device = torch.device(device)
    run_dir = Path(run_dir) if run_dir is not None else _default_run_dir(config)
    state = _prepare_run_dir(run_dir, config, resume)

    # Seed inside a forked RNG: the caller's random state is left as it was.
    cuda = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(config.seed)
        return _Trainer(config, run_dir, device, progress, on_epoch, state, meta or {}).run()


# ---------------------------------------------------------------------------- the loop
class _Trainer:
    def __init__(self, config: TrainConfig, run_dir: Path, device: torch.device, progress: bool,
                 on_epoch, checkpoint: dict | None, extra_meta: dict[str, Any]):
        self.config = config
        self.run_dir = run_dir
        self.device = device
        self.progress = progress
        self.on_epoch = on_epoch
        self.checkpoint = checkpoint

        self.bundle = build_data(config)
        self.model = build_model(config, self.bundle).to(device)
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = build_optimizer(self.model, config)
        n_train = len(self.bundle.train)
        self.batch_size = n_train if config.batch_size == "full" else min(int(config.batch_size), n_train)
        has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in self.model.modules())
        # BatchNorm cannot train on a last batch of one example
        self.drop_last = has_bn and n_train % self.batch_size == 1
        self.steps_per_epoch = n_train // self.batch_size if self.drop_last else math.ceil(n_train / self.batch_size)
        self.schedule = build_schedule(self.optimizer, config, self.steps_per_epoch)
        self.val_loader = self.bundle.loaders(EVAL_BATCH_SIZE, shuffle=False).val
        self.epoch = 0
        self.step = 0
        self.history: list[dict[str, float]] = []
        self.metrics: dict[str, float] = {}

        if checkpoint is not None:
            self.model.load_state_dict(checkpoint["model"])
            self.optimizer.load_state_dict(checkpoint["optimizer"])
            self.schedule.load_state_dict(checkpoint.get("scheduler") or {})
            if "rng" in checkpoint:
                torch.set_rng_state(checkpoint["rng"])
            self.epoch = int(checkpoint["epoch"])
            self.step = int(checkpoint["global_step"])
            self.metrics = dict(checkpoint.get("metrics") or {})
            self.history = load_run(run_dir).epochs.to_dict("records") if (run_dir / "epochs.jsonl").exists() else []

        meta = {
            "group": config.group,
            "tags": list(config.tags),
            "dataset": self.bundle.describe(),
            "num_classes": self.bundle.num_classes,
            "class_names": list(self.bundle.class_names),
            "batch_size": self.batch_size,
            "trainer": {
                "checkpoint": CHECKPOINT_NAME,
                "device": str(device),
                "steps_per_epoch": self.steps_per_epoch,
                "resumed_from_epoch": self.epoch if checkpoint is not None else None,
            },
            **extra_meta,
        }
        self.recorder = _Recorder(self.model, self.optimizer, self.loss_fn, config, run_dir, meta)
        self.recorder.step = self.step
        if checkpoint is not None and self.recorder.monitor is not None:
            self.recorder.monitor.resume(self.step)  # distance from the θ₀ saved when the run began
        config.save(run_dir / "config.toml")

    # ---------------------------------------------------------------- main
    def run(self) -> TrainResult:
        status = "finished"
        t0 = time.perf_counter()
        try:
            if self.checkpoint is None:
                self._log_epoch(0, self._evaluate_initial(), time_s=0.0)
                self._save()
            status = self._loop()
        except StopTraining as stop:
            status = stop.status
            self.recorder.event("stopped", stop.message or f"training stopped by on_epoch callback: {status}")
        except KeyboardInterrupt:
            self.recorder.close("interrupted")
            raise
        except BaseException:
            self.recorder.close("crashed")
            raise
        self.recorder.update_meta(final=self.metrics, epochs_completed=self.epoch,
                                  train_time=time.perf_counter() - t0)
        self.recorder.close(status)
        return TrainResult(run_dir=self.run_dir, metrics=dict(self.metrics), model=self.model, config=self.config,
                           status=status, epochs=self.epoch, steps=self.step, history=list(self.history))

    def _done(self) -> bool:
        c = self.config
        return self.epoch >= c.epochs or (c.max_steps is not None and self.step >= c.max_steps)

    def _loop(self) -> str:
        from tqdm.auto import tqdm

        c = self.config
        total = c.epochs * self.steps_per_epoch
        if c.max_steps is not None:
            total = min(total, c.max_steps)
        bar = tqdm(total=total, initial=min(self.step, total), unit="step", desc=self.run_dir.name,
                   disable=not self.progress or not sys.stderr.isatty(), dynamic_ncols=True)
        try:
            while not self._done():
                epoch = self.epoch + 1
                t0 = time.perf_counter()
                train_metrics, diverged_at = self._train_epoch(epoch, bar)
                metrics = {**train_metrics, **self._evaluate(self.val_loader, "val")}
                metrics["lr"] = self.optimizer.param_groups[0]["lr"]
                self.epoch = epoch
                self._log_epoch(epoch, metrics, time.perf_counter() - t0)
                bar.set_postfix(loss=f"{metrics['train_loss']:.3g}", val_acc=f"{metrics['val_acc']:.3f}")
                if diverged_at is not None:
                    self._mark_diverged(epoch, diverged_at, metrics["train_loss"])
                    return "diverged"
                self.schedule.after_epoch()
                self._save()
                if self.on_epoch is not None:
                    self.on_epoch(epoch, dict(metrics))
        finally:
            bar.close()
        return "finished"

    def _train_epoch(self, epoch: int, bar) -> tuple[dict[str, float], int | None]:
        c = self.config
        self.model.train()
        # One generator per epoch: the batch order of epoch e does not depend on resuming.
        loader = self.bundle.loaders(self.batch_size, seed=_epoch_seed(c.seed, epoch), drop_last=self.drop_last).train
        loss_sum, correct, seen = 0.0, 0, 0
        diverged_at = None
        for x, y in loader:
            x, y = x.to(self.device), y.to(self.device)
            self.optimizer.zero_grad(set_to_none=True)
            logits = self.model(x)
            loss = self.loss_fn(logits, y)
            loss.backward()
            self.optimizer.step()
            self.schedule.after_step()
            self.step += 1
            self.recorder.step = self.step
            value = loss.item()
            loss_sum += value * len(y)
            correct += int((logits.detach().argmax(1) == y).sum())
            seen += len(y)
            bar.update(1)
            if not math.isfinite(value):
                diverged_at = self.step - 1
                break
            if c.max_steps is not None and self.step >= c.max_steps:
                break
        return {"train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1)}, diverged_at

    @torch.no_grad()
    def _evaluate(self, loader, prefix: str) -> dict[str, float]:
        was_training = self.model.training
        self.model.eval()
        k = self.bundle.num_classes
        loss_sum, n = 0.0, 0
        cm = torch.zeros(k, k, dtype=torch.long)
        for x, y in loader:
            x, y = x.to(self.device), y.to(self.device)
            logits = self.model(x)
            loss_sum += nn.functional.cross_entropy(logits, y, reduction="sum").item()
            n += len(y)
            cm += confusion_matrix(y.cpu(), logits.argmax(1).cpu(), k)
        self.model.train(was_training)
        acc = float(cm.diag().sum()) / max(n, 1)
        return {f"{prefix}_loss": loss_sum / max(n, 1), f"{prefix}_acc": acc, f"{prefix}_f1": macro_f1(cm)}

    def _evaluate_initial(self) -> dict[str, float]:
        train_loader = self.bundle.loaders(EVAL_BATCH_SIZE, shuffle=False).train
        out = self._evaluate(train_loader, "train")
        out.pop("train_f1")
        out.update(self._evaluate(self.val_loader, "val"))
        out["lr"] = self.optimizer.param_groups[0]["lr"]
        return out

    def _log_epoch(self, epoch: int, metrics: dict[str, float], time_s: float) -> None:
        metrics = {**metrics, "epoch_time": time_s}
        self.metrics = {k: v for k, v in metrics.items()}
        self.history.append({"epoch": epoch, "step": self.step, **metrics})
        self.recorder.log(epoch, **metrics)

    def _mark_diverged(self, epoch: int, step: int, loss: float) -> None:
        msg = (f"non-finite training loss at step {step} (epoch {epoch}); training stopped. "
               "The checkpoint keeps the weights of the last finite epoch.")
        self.recorder.event("diverged", msg, step=step)
        self.recorder.update_meta(diverged={"step": step, "epoch": epoch})

    def _save(self) -> None:
        save_checkpoint(self.run_dir, {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.schedule.state_dict(),
            "epoch": self.epoch,
            "global_step": self.step,
            "config": self.config.to_dict(),
            "metrics": dict(self.metrics),
            "rng": torch.get_rng_state(),
            "format": "debugkit-checkpoint/1",
        })


def _epoch_seed(seed: int, epoch: int) -> int:
    return (int(seed) * 1_000_003 + int(epoch)) % (2**63 - 1)


# ---------------------------------------------------------------------------- recording
class _Recorder:
    """The run store behind the loop: a :class:`Monitor`, or a bare :class:`RunWriter` with
    ``monitor = false`` (no hooks, per-epoch metrics only)."""

    def __init__(self, model, optimizer, loss_fn, config: TrainConfig, run_dir: Path, meta: dict):
        name = config.name or run_dir.name
        self.monitor: Monitor | None = None
        self._step = 0
        if config.monitor is False:
            self.writer = RunWriter(run_dir, meta={
                "name": name, "status": "running", "config": config.to_dict(), "seed": config.seed,
                "preset": None, "instruments": [], "model": monitor_model_summary(model),
                "optimizer": {"class": type(optimizer).__name__}, "loss_fn": type(loss_fn).__name__, **meta,
            })
        else:
            self.monitor = Monitor(model, optimizer, loss_fn, preset=config.monitor, run_dir=run_dir, name=name,
                                   config=config.to_dict(), seed=config.seed, meta=meta)
            self.writer = self.monitor.writer

    @property
    def step(self) -> int:
        return self._step

    @step.setter
    def step(self, value: int) -> None:
        self._step = value
        if self.monitor is not None:
            # the monitor counts steps itself; on resume it must continue the stored count
            self.monitor.global_step = value

    def log(self, epoch: int, **metrics: Any) -> None:
        self.writer.epoch(epoch, step=self._step, **metrics)
        self.writer.flush()

    def event(self, kind: str, message: str, step: int | None = None) -> None:
        self.writer.event(kind, message, step=self._step if step is None else step)
        self.writer.flush()

    def update_meta(self, **fields: Any) -> None:
        self.writer.update_meta(**fields)

    def close(self, status: str) -> None:
        if self.monitor is not None:
            self.monitor.close(status)
        else:
            self.writer.update_meta(status=status, steps=self._step)
            self.writer.close()


# ---------------------------------------------------------------------------- helpers
def _as_config(config) -> TrainConfig:
    if isinstance(config, TrainConfig):
        return config.copy()
    if isinstance(config, dict):
        return TrainConfig.from_dict(config)
    if isinstance(config, (str, os.PathLike)):
        return TrainConfig.load(config)
    raise TypeError(f"config must be a TrainConfig, a dict or a TOML path, got {type(config).__name__}")


def _default_run_dir(config: TrainConfig) -> Path:
    name = config.name or f"{config.model.get('name', 'model')}-{config.optimizer}"
    return Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"


def _prepare_run_dir(run_dir: Path, config: TrainConfig, resume: bool) -> dict | None:
    """Check ``run_dir`` and return the checkpoint to resume from (or ``None``)."""
    if run_dir.exists() and not run_dir.is_dir():
        raise NotADirectoryError(f"run_dir {str(run_dir)!r} is a file; pass a directory path")
    has_run = (run_dir / "meta.json").exists()
    has_ckpt = checkpoint_path(run_dir).exists()
    if not resume:
        if has_run or has_ckpt:
            raise FileExistsError(
                f"{str(run_dir)!r} already holds a run; pass resume=True to continue it, or choose a new run_dir"
            )
        return None
    if not has_ckpt:
        if has_run:
            _discard_unfinished(run_dir)
        return None
    state = load_checkpoint(run_dir)
    old = TrainConfig.from_dict(state["config"])
    diffs = [f"{k}: {getattr(old, k)!r} -> {getattr(config, k)!r}" for k in TrainConfig.keys()
             if k not in RESUMABLE_CHANGES and getattr(old, k) != getattr(config, k)]
    if diffs:
        raise ConfigError(
            f"cannot resume {str(run_dir)!r} with a different config ({'; '.join(diffs)}); only "
            f"{', '.join(RESUMABLE_CHANGES)} may change. Start a new run directory instead."
        )
    return state


def _discard_unfinished(run_dir: Path) -> None:
    """A run killed before its first checkpoint: nothing can be resumed, so start it afresh."""
    import json

    try:
        meta = json.loads((run_dir / "meta.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        meta = {}
    if "trainer" not in meta:
        raise FileExistsError(
            f"{str(run_dir)!r} holds a run that debugkit.train did not write (no checkpoint to resume); "
            "choose another run_dir"
        )
    for name in ("meta.json", "scalars.jsonl", "layers.jsonl", "hists.jsonl", "epochs.jsonl", "events.jsonl"):
        (run_dir / name).unlink(missing_ok=True)
