"""Optimizers and learning-rate schedules by name (registries, not ``if`` chains)."""

from __future__ import annotations

from typing import Callable, Iterable

import torch

from debugkit.train.config import TrainConfig

OptimizerFactory = Callable[[Iterable[torch.nn.Parameter], TrainConfig], torch.optim.Optimizer]


def _sgd(params, c: TrainConfig) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=c.lr, momentum=0.0, weight_decay=c.weight_decay)


def _momentum(params, c: TrainConfig) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)


def _adam(params, c: TrainConfig) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=c.lr, betas=tuple(c.betas), weight_decay=c.weight_decay)


def _adamw(params, c: TrainConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=c.lr, betas=tuple(c.betas), weight_decay=c.weight_decay)


#: Optimizer name -> factory ``(params, config) -> torch.optim.Optimizer``.
OPTIMIZER_FACTORIES: dict[str, OptimizerFactory] = {
    "sgd": _sgd,
    "momentum": _momentum,
    "adam": _adam,
    "adamw": _adamw,
}


def build_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer named by ``config.optimizer`` over the model's trainable parameters.

    Example:
        >>> opt = build_optimizer(torch.nn.Linear(2, 2), TrainConfig(optimizer="adam", lr=1e-3))
        >>> type(opt).__name__
        'Adam'
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"{type(model).__name__} has no trainable parameters (all frozen?)")
    return OPTIMIZER_FACTORIES[config.optimizer](params, config)


class Schedule:
    """A learning-rate scheduler plus *when* it steps (after each epoch or each batch)."""

    def __init__(self, scheduler: torch.optim.lr_scheduler.LRScheduler | None, per: str):
        self.scheduler = scheduler
        self.per = per  # "epoch" | "step" | "never"

    def after_step(self) -> None:
        if self.scheduler is not None and self.per == "step":
            self.scheduler.step()

    def after_epoch(self) -> None:
        if self.scheduler is not None and self.per == "epoch":
            self.scheduler.step()

    def state_dict(self) -> dict:
        return self.scheduler.state_dict() if self.scheduler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scheduler is not None and state:
            self.scheduler.load_state_dict(state)


def build_schedule(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int) -> Schedule:
    """The learning-rate schedule named by ``config.schedule``.

    ``step``, ``exponential`` and ``cosine`` step once per epoch (``step_size`` and
    ``t_max`` count epochs); ``onecycle`` steps after every batch over the whole budget
    (``epochs × steps_per_epoch``, or ``max_steps`` if smaller).
    """
    p = config.resolved_schedule_params()
    sched = torch.optim.lr_scheduler
    if config.schedule == "none":
        return Schedule(None, "never")
    if config.schedule == "step":
        return Schedule(sched.StepLR(optimizer, step_size=int(p["step_size"]), gamma=float(p["gamma"])), "epoch")
    if config.schedule == "exponential":
        return Schedule(sched.ExponentialLR(optimizer, gamma=float(p["gamma"])), "epoch")
    if config.schedule == "cosine":
        return Schedule(sched.CosineAnnealingLR(optimizer, T_max=int(p["t_max"]), eta_min=float(p["eta_min"])),
                        "epoch")
    if config.schedule == "onecycle":
        total = config.epochs * max(1, steps_per_epoch)
        if config.max_steps is not None:
            total = min(total, config.max_steps)
        return Schedule(sched.OneCycleLR(optimizer, max_lr=float(p["max_lr"]), total_steps=max(total, 2),
                                         pct_start=float(p["pct_start"]),
                                         # plain SGD must stay momentum-free
                                         cycle_momentum=config.optimizer != "sgd"), "step")
    raise ValueError(f"unknown schedule {config.schedule!r}")  # unreachable: the config validates it
