"""Synthetic run directories with realistic values, written through ``debugkit.RunWriter``.

A uniquely named module (not ``conftest``), so tests can import it however pytest is run.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from debugkit import RunWriter

ALL_GROUPS = ("scalars", "layers", "alpha", "curvature", "tests", "hists", "acts", "epochs", "io")


def make_synthetic_run(
    path: str | Path,
    *,
    steps: int = 60,
    n_layers: int = 3,
    seed: int = 0,
    name: str | None = None,
    group: str | None = None,
    record: tuple[str, ...] = ALL_GROUPS,
    every_curv: int = 10,
    every_hist: int = 10,
    every_act: int = 5,
    lr: float = 0.1,
) -> Path:
    """Write a run that looks like a small classifier being trained with SGD.

    ``record`` picks which groups of quantities are written, so tests can leave some out.
    Returns the run directory.
    """
    rng = np.random.default_rng(seed)
    path = Path(path)
    layer_names = [f"features.{2 * i}" for i in range(n_layers - 1)] + ["classifier"]
    meta = {
        "name": name or path.name,
        "seed": seed,
        "preset": "full",
        "batch_size": 32,
        "num_classes": 10,
        "dataset": "digits",
        "config": {"optimizer": "SGD", "lr": lr, "batch_size": 32},
        "model": {
            "layers": [{"name": n, "type": "Linear", "params": 1000 + 10 * i} for i, n in enumerate(layer_names)],
            "num_params": sum(1000 + 10 * i for i in range(n_layers)),
        },
        "status": "finished",
    }
    if group is not None:
        meta["group"] = group
    t = np.arange(steps)
    tau = max(steps / 4, 2.0)
    noise = lambda s: np.exp(rng.normal(0.0, s, steps))  # noqa: E731 - multiplicative noise
    loss = (2.2 * np.exp(-t / tau) + 0.08) * noise(0.08)
    lr_t = lr * 0.5 * (1 + np.cos(np.pi * t / steps))  # cosine decay
    grad_norm = (1.6 * np.exp(-t / (1.5 * tau)) + 0.35) * noise(0.15)
    update_size = lr_t * grad_norm
    distance = 0.4 * np.sqrt(t + 1) * (1 + 0.02 * rng.normal(size=steps))
    param_norm = 8.0 + distance * 0.5
    alpha = rng.normal(-0.25 + 0.5 * t / steps, 0.35)
    frac = t / max(steps - 1, 1)
    with RunWriter(path, meta=meta) as w:
        for s in range(steps):
            rec: dict = {}
            if "scalars" in record:
                rec.update(
                    loss=float(loss[s]),
                    loss_std=float(0.6 * loss[s]),
                    lr=float(lr_t[s]),
                    grad_norm=float(grad_norm[s]),
                    param_norm=float(param_norm[s]),
                    update_size=float(update_size[s]),
                    update_ratio=float(update_size[s] / param_norm[s]),
                    distance=float(distance[s]),
                    grad_estimator="per_sample",
                    step_time=0.01,
                )
            if "alpha" in record and s > 0:  # alpha is finished one step later
                rec["alpha"] = float(alpha[s])
            if "tests" in record:
                rec.update(
                    norm_test=float(0.4 * math.exp(2.0 * frac[s]) * math.exp(rng.normal(0, 0.3))),
                    inner_test=float(0.3 * math.exp(1.6 * frac[s]) * math.exp(rng.normal(0, 0.3))),
                    ortho_test=float(0.5 * math.exp(1.2 * frac[s]) * math.exp(rng.normal(0, 0.3))),
                    mean_gsnr=float(1.2 * math.exp(-2.0 * frac[s]) * math.exp(rng.normal(0, 0.2))),
                    cabs_batch_size=float(24 + 200 * frac[s] + rng.normal(0, 8)),
                    early_stopping=float(-1.0 + 1.2 * frac[s] + rng.normal(0, 0.1)),
                )
            if "curvature" in record and s % every_curv == 0:
                ev = 4.0 + 14.0 * (1 - math.exp(-3 * frac[s])) + rng.normal(0, 0.3)
                rec.update(hess_max_ev=ev, hess_trace=6.0 * ev, tic=0.4 + 0.3 * frac[s])
            if "io" in record:
                rec.update(
                    input_mean=float(rng.normal(0.0, 0.02)),
                    input_std=float(1.0 + rng.normal(0, 0.02)),
                    input_min=-1.8,
                    input_max=float(2.9 + rng.normal(0, 0.05)),
                    output_logit_std=float(0.1 + 3.5 * frac[s]),
                    output_logit_absmax=float(0.4 + 9.0 * frac[s]),
                    output_entropy=float(math.log(10) * math.exp(-2.5 * frac[s])),
                    output_is_prob=0,
                    output_is_logprob=0,
                )
            w.scalars(s, **rec)
            if "layers" in record:
                for q, base in (("grad_norm", 0.5), ("param_norm", 4.0), ("update_size", 0.05), ("distance", 0.2)):
                    vals = {
                        n: float(base * (i + 1) ** 0.7 * (1.0 + 0.1 * rng.normal()) * (1 + (q == "distance") * s**0.5))
                        for i, n in enumerate(layer_names)
                    }
                    w.layers(s, q, vals)
            if "acts" in record and s % every_act == 0:
                # the last hidden layer slowly dies; the first one saturates a little
                dead = {n: float(min(1.0, 0.02 + (0.6 * frac[s] if i == n_layers - 2 else 0.0))) for i, n in enumerate(layer_names)}
                sat = {n: float(0.05 + (0.3 * frac[s] if i == 0 else 0.01 * i)) for i, n in enumerate(layer_names)}
                w.layers(s, "act_dead", dead)
                w.layers(s, "act_saturated", sat)
                w.layers(s, "act_mean", {n: 0.3 for n in layer_names})
                w.layers(s, "act_std", {n: 0.8 for n in layer_names})
            if "hists" in record and s % every_hist == 0:
                sd = 0.05 * math.exp(-frac[s])
                g = rng.normal(0.0, sd, 4000)
                counts, edges = np.histogram(g, bins=40, range=(-4 * sd, 4 * sd))
                w.hist(s, "grad_1d", counts.tolist(), edges.tolist(), estimator="per_sample")
                p = rng.normal(0.0, 0.3, 4000)
                c2, ge, pe = np.histogram2d(g, p + 5 * g, bins=(30, 30))
                w.hist(s, "grad_2d", c2.astype(int).tolist(), [ge.tolist(), pe.tolist()])
        if "epochs" in record:
            n_epochs = 5
            per = max(steps // n_epochs, 1)
            for e in range(n_epochs):
                st = min((e + 1) * per - 1, steps - 1)
                w.epoch(
                    e,
                    step=st,
                    train_loss=float(loss[max(st - per + 1, 0) : st + 1].mean()),
                    val_loss=float(loss[st] * 1.15 + 0.02 * rng.normal()),
                    train_acc=float(min(0.99, 0.4 + 0.12 * e + 0.01 * rng.normal())),
                    val_acc=float(min(0.97, 0.38 + 0.11 * e + 0.01 * rng.normal())),
                    val_f1=float(min(0.97, 0.35 + 0.11 * e)),
                    lr=float(lr_t[st]),
                )
        w.event("instrument_skipped", "hessian: skipped on step 0 (warm-up)", step=0)
    return path
