"""Runs the export tests read: a synthetic one with known values, and a real Monitor run."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

import debugkit
from debugkit import RunWriter

STEPS = 12


def write_synthetic_run(path: Path, name: str = "synthetic", seed: int = 0, status: str = "finished") -> Path:
    """A run with every kind of record, values chosen so each step's value is distinct."""
    rng = torch.Generator().manual_seed(seed)
    config = {"lr": 0.05, "batch_size": 32, "optimizer": {"name": "sgd", "momentum": 0.9},
              "layers": [64, 32], "augment": None, "use_bn": False}
    w = RunWriter(path, meta={"name": name, "status": status, "config": config, "seed": seed,
                              "preset": "standard", "model": {"class": "MLP", "num_params": 1234, "layers": []}})
    for s in range(STEPS):
        vals = {"loss": 2.3 * math.exp(-0.1 * s) + 0.01 * seed, "grad_norm": 1.0 + 0.1 * s, "lr": 0.05,
                "alpha": -0.5 + 0.05 * s, "grad_estimator": "per_sample", "step_time": 0.01 * (s + 1),
                "input_mean": 0.1 * s}
        if s % 4 == 0:  # measured on some steps only
            vals.update(hess_max_ev=10.0 + s, norm_test=0.5 + 0.01 * s)
        w.scalars(s, **vals)
        w.layers(s, "grad_norm", {"features.0": 0.5 + 0.01 * s, "head": 0.2 + 0.02 * s})
        w.layers(s, "act_dead", {"features.1": 0.1 * (s % 3)})
        if s % 3 == 0:
            counts = torch.randint(0, 50, (20,), generator=rng).float().tolist()
            edges = torch.linspace(-1 - s, 1 + s, 21).tolist()
            w.hist(s, "grad_1d", counts, edges, estimator="per_sample")
            w.hist(s, "act", counts[:10], torch.linspace(0, 3, 11).tolist(), layer="features.1")
            w.hist(s, "grad_2d", [[1, 2], [3, 4]], [[0, 1, 2], [0, 1, 2]])
    for e, step in enumerate((4, 8, 12)):
        w.epoch(e, step=step, train_loss=1.5 - 0.2 * e, val_loss=1.6 - 0.1 * e, val_acc=0.5 + 0.1 * e)
    w.event("note", "synthetic run for the export tests", step=0)
    w.close()
    return path


def record_monitor_run(path: Path, preset: str = "standard", steps: int = 8) -> Path:
    """A real (tiny) training run recorded by debugkit.Monitor."""
    torch.manual_seed(0)
    x, y = torch.randn(steps * 16, 10), torch.randint(0, 3, (steps * 16,))
    model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    with debugkit.Monitor(model, opt, loss_fn=loss_fn, preset=preset, run_dir=path,
                          config={"lr": 0.1, "hidden": 16}, schedule=2) as mon:
        for s in range(steps):
            xb, yb = x[s * 16:(s + 1) * 16], y[s * 16:(s + 1) * 16]
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
            if s % 4 == 3:
                with torch.no_grad():
                    val = loss_fn(model(x), y).item()
                mon.log(s // 4, val_loss=val, train_loss=val * 0.9)
    return path
