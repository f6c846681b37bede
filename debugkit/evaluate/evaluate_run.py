"""``evaluate_run``: rebuild a trained run from its directory and evaluate it on one split."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from debugkit.evaluate import figures as F
from debugkit.evaluate.metrics import classification_metrics
from debugkit.evaluate.report import EvaluationReport
from debugkit.evaluate.test_set import record_test_evaluation, warn_if_reused
from debugkit.store import load_run

SPLITS = ("val", "test", "train")


def evaluate_run(
    run_dir: str | os.PathLike,
    *,
    split: str = "val",
    out_dir: str | os.PathLike | None = None,
    n_images: int = 10,
    seed: int = 0,
    device: str | torch.device = "cpu",
    figures: bool = True,
) -> EvaluationReport:
    """Evaluate a run trained by :func:`debugkit.train.train` on its validation or test split.

    Loads ``checkpoint.pt`` (``weights_only=True``) and the stored config, rebuilds data and
    model exactly as in training, and writes into ``out_dir``: ``confusion.png``,
    ``per_class.png`` (precision/recall/F1), ``weights.png`` (first linear or conv layer as
    images, one tile per class/unit/filter, when its input is the image), ``predictions.png``
    (``n_images`` random examples with predicted and true labels), ``evaluation.json`` and
    ``evaluation.md``.

    The test split is evaluated only when asked for (``split="test"``). Every such
    evaluation is recorded in the run directory (a ``test_evaluation`` event in
    ``events.jsonl``, ``meta["test_evaluations"]``), and a :class:`TestSetReuseWarning`
    is issued when the run's test split, or that of another run of the same study, was
    evaluated before.

    Args:
        run_dir: The run directory.
        split: ``"val"`` (default), ``"test"`` (the final, once-only evaluation) or ``"train"``.
        out_dir: Where to write (default ``<run_dir>/evaluation/<split>``).
        n_images: Examples in the prediction grid.
        seed: Seed for picking those examples.
        device: Torch device.
        figures: Write the figures (``False``: metrics and reports only).

    Returns:
        An :class:`EvaluationReport`.

    Raises:
        RunNotFoundError: ``run_dir`` is not a run directory.
        CheckpointError: the run has no (safely readable) checkpoint.
        ValueError: unknown ``split``.

    Example:
        >>> report = evaluate_run("runs/softmax")                 # doctest: +SKIP
        >>> report.metrics.overall["macro_f1"]                     # doctest: +SKIP
    """
    from debugkit.train.checkpoint import load_checkpoint
    from debugkit.train.config import TrainConfig
    from debugkit.train.data import build_data, build_model

    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    state = load_checkpoint(run_dir, map_location=device)
    config = TrainConfig.from_dict(state["config"])
    out_dir = Path(out_dir) if out_dir is not None else run_dir / "evaluation" / split
    notes: list[str] = []

    count_before = 0
    if split == "test":
        study = run.meta.get("study") or {}
        study_dir = Path(study["dir"]) if study.get("dir") else None
        count_before = warn_if_reused(run_dir, study_dir)

    # the training split is evaluated as it is, without the random augmentation of training
    bundle = build_data(config.with_changes({"augment": {}}) if split == "train" else config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)  # initialisation is overwritten by the checkpoint anyway
        model = build_model(config, bundle).to(device)
    model.load_state_dict(state["model"])
    model.eval()

    dataset = bundle.split(split)
    loader = bundle.loaders(1024, shuffle=False)._asdict()[split]
    logits_all, targets = [], []
    with torch.no_grad():
        for x, y in loader:
            logits_all.append(model(x.to(device)).float().cpu())
            targets.append(y)
    logits = torch.cat(logits_all) if logits_all else torch.zeros(0, bundle.num_classes)
    y_true = torch.cat(targets) if targets else torch.zeros(0, dtype=torch.long)
    loss = float(nn.functional.cross_entropy(logits, y_true)) if len(y_true) else float("nan")
    finite = torch.isfinite(logits).all(1)
    if not bool(finite.all()):
        notes.append(f"{int((~finite).sum())} of {len(finite)} examples have non-finite logits "
                     "(the weights hold NaN/inf): their predictions are meaningless")
    y_pred = logits.argmax(1)
    metrics = classification_metrics(y_true, y_pred, bundle.num_classes, bundle.class_names)
    if metrics.never_predicted:
        notes.append(f"never predicted: {', '.join(metrics.never_predicted)} (precision counted as 0)")
    if run.meta.get("status") == "diverged" or run.meta.get("diverged"):
        notes.append("the run diverged; the checkpoint holds the weights of the last finite epoch")
    if split == "val" and config.cv_folds is not None:
        notes.append(f"validation split = fold {config.cv_fold} of {config.cv_folds}")

    report = EvaluationReport(run_dir=run_dir, split=split, metrics=metrics, loss=loss,
                              epoch=int(state.get("epoch", -1)), out_dir=out_dir, notes=notes)
    if figures:
        report.figures = _write_figures(report, model, bundle, dataset, logits, y_true, y_pred, n_images, seed,
                                        run.name)
    report.save()
    if split == "test":
        record_test_evaluation(run_dir, metrics=dict(metrics.overall, loss=loss), epoch=report.epoch,
                               out_dir=out_dir, count_before=count_before)
        report.test_evaluation_number = count_before + 1
        report.save()
    return report


def _write_figures(report: EvaluationReport, model: nn.Module, bundle, dataset, logits, y_true, y_pred,
                   n_images: int, seed: int, run_name: str) -> dict[str, Path]:
    from debugkit.plot.style import save

    out: dict[str, Path] = {}
    o = report.metrics.overall
    where = f"{run_name}, {report.split} split (n={o['n']})"
    names = report.metrics.class_names
    fig = F.confusion_figure(report.metrics.confusion, names,
                             title=f"Confusion matrix — {where}\naccuracy {o['accuracy']:.3f}, "
                                   f"macro F1 {o['macro_f1']:.3f}")
    out["confusion"] = save(fig, report.out_dir / "confusion.png")
    fig = F.per_class_figure(report.metrics.per_class, o, names, never_predicted=report.metrics.never_predicted,
                             title=f"Per-class metrics — {where}")
    out["per_class"] = save(fig, report.out_dir / "per_class.png")

    found = first_layer_images(model, bundle.input_shape, names)
    if found is not None:
        weights, titles, what = found
        fig = F.weights_figure(weights, titles=titles, title=f"{what} — {run_name}")
        out["weights"] = save(fig, report.out_dir / "weights.png")
    else:
        report.notes.append("no weights figure: the first linear/conv layer does not read the image directly")

    n = min(n_images, len(y_true))
    if n > 0:
        idx = np.random.default_rng(seed).choice(len(y_true), size=n, replace=False)
        idx_t = torch.as_tensor(np.sort(idx))
        images = unnormalize(dataset.inputs[idx_t], bundle)
        probs = torch.softmax(logits[idx_t], 1)
        conf = probs.gather(1, y_pred[idx_t].unsqueeze(1)).squeeze(1)
        conf = [float(c) if math.isfinite(float(c)) else float("nan") for c in conf]
        fig = F.predictions_figure(images.numpy(), y_true[idx_t].tolist(), y_pred[idx_t].tolist(), names,
                                   confidence=conf, title=f"{n} random {report.split} images — {run_name}")
        out["predictions"] = save(fig, report.out_dir / "predictions.png")
    return out


def unnormalize(x: torch.Tensor, bundle) -> torch.Tensor:
    """Inputs back to displayable images in [0, 1] (``(N, C, H, W)``)."""
    x = x.detach().float().cpu()
    if bundle.mean is not None:
        x = x * bundle.std + bundle.mean
    scale = float(bundle.config.get("scale", 1.0) or 1.0)
    x = x / scale
    if x.dim() == 2:  # flattened square grey images (the trainer itself never flattens)
        side = int(math.isqrt(x.shape[1]))
        x = x.reshape(len(x), 1, side, side)
    return x.clamp(0, 1)


def first_layer_images(model: nn.Module, input_shape, class_names) -> tuple[np.ndarray, list[str], str] | None:
    """The first linear or conv layer's weights as images ``(N, C, H, W)``, with tile titles.

    * Linear reading the flattened image (softmax regression, first MLP layer): each row
      reshaped to the input image; titles are class names when the layer outputs the logits.
    * Conv2d: each filter ``(C, k, k)``.
    * ``None`` when the first such layer does not read the image.
    """
    layers = [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    if not layers:
        return None
    name, layer = layers[0]
    w = layer.weight.detach().float().cpu()
    if isinstance(layer, nn.Conv2d):
        return w.numpy(), [f"filter {i}" for i in range(len(w))], f"First conv layer '{name}' filters"
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or layer.in_features != math.prod(shape):
        return None
    images = w.reshape(len(w), *shape).numpy()
    is_logits = len(layers) == 1 or (name == layers[-1][0])
    if is_logits and len(w) == len(class_names):
        return images, list(class_names), f"Weights of '{name}' per class"
    return images, [f"unit {i}" for i in range(len(w))], f"Weights of '{name}' per hidden unit"
