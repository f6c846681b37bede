"""A small, complete example logbook (three entries, figures, runs) to try the renderers on.

Example:
    >>> from debugkit.logbook.example import write_example
    >>> md = write_example("/tmp/example")                     # doctest: +SKIP
    >>> build_logbook(md, "/tmp/example/logbook.pdf")          # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

EXAMPLE_MARKDOWN = """\
---
title: Debugging the digits MLP
author: Ada Lovelace
course: Numerics of Machine Learning — Exercise 11
date: 2024-01-19
baseline: 2-layer MLP, SGD lr 1e-5, batch 8, 10 epochs
runs:
  base: runs/base
  fix-lr: runs/fix-lr
  fix-init: runs/fix-init
  batch64: runs/batch64
---

## Summary

Two of the three suspected bugs were real: a learning rate that was a thousand times too small
and an initialisation with a negative mean that killed half of the hidden units. Fixing both
raised the validation accuracy from 0.11 to 0.95 (3 seeds each). The third suspicion, that the
epoch-to-epoch noise comes from the small batch, was **refuted**: it is the small validation
set (180 images, so one image is 0.56 %).

| Step | Val. acc. | Val. loss | Δ | Verdict |
|---|---|---|---|---|
| baseline | 0.11 ± 0.01 | 2.30 | — | — |
| lr 1e-5 → 1e-2 | 0.87 ± 0.02 | 0.45 ± 0.03 | +0.76 | confirmed |
| Kaiming init | 0.95 ± 0.01 | 0.17 ± 0.01 | +0.08 | confirmed |
| batch 8 → 64 | 0.95 ± 0.02 | 0.18 ± 0.02 | 0 | refuted |

## 1. Training loss does not move

**Observation.** Over all 10 epochs the training loss stays at 2.30 ≈ ln 10, the loss of a
uniform guess over the 10 classes. The gradient norm is not small (about 0.8), but the distance
from the initialisation stays below 10⁻³, and Cockpit's α sits at −1 on every step:
the steps are far too short to make progress along the local parabola.

![Training loss of the baseline (3 seeds): flat at ln 10.](figures/loss_flat.png)

**Hypothesis.** The learning rate (`lr = 1e-5`) is far too low for plain SGD on this problem.

**Experiment.** Raise the learning rate by three orders of magnitude and keep everything else
fixed; three seeds per setting.

```yaml config
lr: 0.01
```

**Result.** The loss now falls within the first epoch and α moves to about 0.3. Validation
accuracy rises from 0.11 ± 0.01 to 0.87 ± 0.02.

| lr | val acc | val loss | α (median) |
|---|---|---|---|
| 1e-5 | 0.11 ± 0.01 | 2.30 | -1 |
| 1e-3 | 0.62 ± 0.04 | 1.21 ± 0.05 | -0.82 |
| 1e-2 | 0.87 ± 0.02 | 0.45 ± 0.03 | 0.31 |

Table: Validation metrics after 10 epochs, mean ± std over 3 seeds.

![Learning curves for three learning rates.](figures/lr_curves.png){width=65%}

**Verdict.** confirmed — the learning rate was one bug; 1e-2 is kept for the next entries.

**Runs.** base, fix-lr

## 2. Half of the hidden units are dead

**Observation.** Even with `lr = 1e-2` the accuracy plateaus at 0.87. The activation histogram
of the first hidden layer has a spike at zero: 55 % of the ReLU units output 0 for every input
of a batch, from the first step on.

![Activations of the first hidden layer at step 0: a spike at zero.](figures/dead_units.png){width=70%}

**Hypothesis.** The custom initialisation draws weights from N(−0.1, 0.01²), so most
pre-activations are negative from the start and those ReLU units never receive a gradient.

**Experiment.** Replace the custom initialisation by PyTorch's Kaiming-uniform default:

```diff
--- a/train.py
+++ b/train.py
@@ -12,7 +12,7 @@ def make_model():
     model = MLP(64, 128, 10)
     for p in model.parameters():
-        torch.nn.init.normal_(p, mean=-0.1, std=0.01)
+        pass  # keep PyTorch's default (Kaiming-uniform) initialisation
     return model
```

**Result.** Dead units drop from 55 % to 4 %; validation accuracy rises to 0.95 ± 0.01.

| init | dead units | val acc |
|---|---|---|
| N(−0.1, 0.01²) | 0.55 ± 0.03 | 0.87 ± 0.02 |
| Kaiming | 0.04 ± 0.01 | 0.95 ± 0.01 |

**Verdict.** confirmed

**Runs.** fix-lr, fix-init

## 3. Validation accuracy jumps between epochs

**Observation.** From epoch 4 on the validation accuracy jumps up and down by about 1.5 points
from one epoch to the next, while the training loss falls smoothly. The norm test stays above 1
for most steps.

**Hypothesis.** With batch size 8 the gradient is mostly noise (norm test > 1), and the noisy
steps make the model, and so the validation accuracy, jump around.

**Experiment.** Batch size 8 → 64 with the learning rate scaled linearly (0.01 → 0.08), three seeds.

```yaml config
batch_size: 64
lr: 0.08
```

**Result.** The norm test drops below 1, yet the accuracy still jumps by about 1.5 points
between epochs, and the final accuracy is unchanged (0.95 ± 0.02). The jumps are 2 to 3 images
of the 180-image validation set: they are the resolution of the measurement, not the optimiser.

**Verdict.** refuted — the batch size is not the cause; I would need a larger validation set
(or cross-validation) to resolve differences below 1 %.

**Runs.** fix-init, batch64
"""


def _write_runs(root: Path) -> None:
    import math

    from debugkit.store import RunWriter

    specs = {"base": (2.3026, 0.0), "fix-lr": (2.3, 1.4), "fix-init": (2.3, 2.2), "batch64": (2.3, 2.3)}
    for name, (start, speed) in specs.items():
        with RunWriter(root / name, meta={"name": name, "seed": 0, "status": "finished", "dataset": "digits"}) as w:
            for step in range(40):
                loss = start * math.exp(-speed * step / 40) if speed else start
                w.scalars(step, loss=loss, lr=1e-2, grad_norm=0.8 * math.exp(-step / 30))
            for epoch in range(10):
                acc = 0.11 + min(0.84, speed * 0.38) * (1 - math.exp(-epoch / 2))
                w.epoch(epoch, step=4 * epoch + 3, val_acc=acc, val_loss=2.3 * (1 - acc) + 0.1)


def _write_figures(folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    steps = np.arange(400)
    style = {"axes.spines.top": False, "axes.spines.right": False, "font.size": 9}
    with plt.rc_context(style):
        fig, ax = plt.subplots(figsize=(6, 2.8), dpi=150)
        for seed in range(3):
            ax.plot(steps, np.log(10) + 0.01 * rng.standard_normal(400), lw=0.8, label=f"seed {seed}")
        ax.set(xlabel="step", ylabel="training loss", ylim=(0, 2.6))
        ax.legend(frameon=False, ncols=3, loc="lower right")
        fig.tight_layout()
        fig.savefig(folder / "loss_flat.png")
        plt.close(fig)

        fig, ax = plt.subplots(figsize=(6, 3), dpi=150)
        for lr, rate in ((1e-5, 0.0), (1e-3, 0.004), (1e-2, 0.02)):
            curve = np.log(10) * np.exp(-rate * steps) * (1 - 0.8 * (rate > 0.01)) + 0.35 * (rate > 0.01)
            ax.plot(steps, np.minimum(curve, np.log(10)) + 0.02 * rng.standard_normal(400), lw=0.9, label=f"lr = {lr:g}")
        ax.set(xlabel="step", ylabel="training loss")
        ax.legend(frameon=False)
        fig.tight_layout()
        fig.savefig(folder / "lr_curves.png")
        plt.close(fig)

        fig, ax = plt.subplots(figsize=(5, 3), dpi=150)
        acts = np.concatenate([np.zeros(5500), np.abs(rng.normal(0, 0.6, 4500))])
        ax.hist(acts, bins=60, color="#1f3a5f")
        ax.set(xlabel="activation value (first hidden layer)", ylabel="count", yscale="log")
        fig.tight_layout()
        fig.savefig(folder / "dead_units.png")
        plt.close(fig)


def write_example(folder: str | os.PathLike) -> Path:
    """Write the example logbook, its figures and four small synthetic runs under ``folder``.

    Returns:
        The path of the Markdown logbook (``folder/logbook.md``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_figures(folder / "figures")
    _write_runs(folder / "runs")
    md = folder / "logbook.md"
    md.write_text(EXAMPLE_MARKDOWN, encoding="utf-8")
    return md
