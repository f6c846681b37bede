"""Evaluation figures from plain arrays: confusion matrix, per-class bars, weights, predictions.

Every function takes numpy arrays (never a model) and returns a matplotlib ``Figure`` on an
Agg canvas; :func:`debugkit.plot.style.save` writes it. The pyplot backend is never touched.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from matplotlib import ticker
from matplotlib.figure import Figure

from debugkit.plot.style import new_figure, style

BLUE, ORANGE, GREEN, RED = "#0072B2", "#E69F00", "#009E73", "#D55E00"
DPI = 150


def _short(names: Sequence[str], width: int = 12) -> list[str]:
    return [n if len(n) <= width else n[: width - 1] + "…" for n in names]


def confusion_figure(cm: np.ndarray, class_names: Sequence[str], *, title: str = "") -> Figure:
    """Heat map of a confusion matrix: colour = share of the true class (row), text = count."""
    cm = np.asarray(cm)
    k = len(class_names)
    support = cm.sum(1, keepdims=True)
    share = np.divide(cm, support, out=np.zeros(cm.shape, dtype=float), where=support > 0)
    size = min(max(4.2, 0.48 * k + 2.2), 14)
    with style():
        fig = new_figure((size + 1.0, size), DPI)
        ax = fig.subplots()
        im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        ax.grid(False)
        names = _short(class_names)
        ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 3 else 0, ha="right"
                      if max(map(len, names)) > 3 else "center")
        ax.set_yticks(range(k), names)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        if k <= 25:
            for i in range(k):
                for j in range(k):
                    if cm[i, j]:
                        ax.text(j, i, str(int(cm[i, j])), ha="center", va="center",
                                fontsize=7.5 if k <= 12 else 6,
                                color="white" if share[i, j] > 0.55 else "#222222",
                                fontweight="bold" if i == j else "normal")
        for spine in ax.spines.values():
            spine.set_visible(False)
        cbar = fig.colorbar(im, ax=ax, shrink=0.8, format=ticker.PercentFormatter(xmax=1.0))
        cbar.set_label("share of the true class (row)")
        ax.set_title(title or "Confusion matrix", loc="left")
    return fig


def per_class_figure(per_class: dict[str, np.ndarray], overall: dict[str, float], class_names: Sequence[str],
                     *, never_predicted: Sequence[str] = (), title: str = "") -> Figure:
    """Grouped bars of precision, recall and F1 per class, with the macro averages as lines."""
    k = len(class_names)
    x = np.arange(k)
    w = 0.27
    with style():
        fig = new_figure((max(6.0, 0.62 * k + 2.0), 3.6), DPI)
        ax = fig.subplots()
        for i, (key, color) in enumerate((("precision", BLUE), ("recall", ORANGE), ("f1", GREEN))):
            label = "F1" if key == "f1" else key
            ax.bar(x + (i - 1) * w, per_class[key], w, color=color, label=label, gid=f"bar:{key}")
            ax.axhline(overall[f"macro_{key}"], color=color, ls="--", lw=1,
                       label=f"macro {label} {overall[f'macro_{key}']:.3f}")
        support = per_class["support"]
        labels = [f"{n}\nn={int(s)}" for n, s in zip(_short(class_names, 10), support)]
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_ylim(0, 1.12)
        ax.yaxis.set_major_locator(ticker.MultipleLocator(0.2))
        ax.set_ylabel("score")
        handles, names = ax.get_legend_handles_labels()
        bars = [i for i, n in enumerate(names) if not n.startswith("macro")]
        lines = [i for i, n in enumerate(names) if n.startswith("macro")]
        order = [j for pair in zip(bars, lines) for j in pair]  # legend columns fill top to bottom
        ax.legend([handles[j] for j in order], [names[j] for j in order], ncols=3, loc="upper center",
                  bbox_to_anchor=(0.5, -0.2), fontsize=7)
        for i, (name, s) in enumerate(zip(class_names, support)):
            note = "absent" if s == 0 else ("never predicted" if name in never_predicted else None)
            if note:
                ax.text(i, 0.03, note, ha="center", va="bottom", fontsize=6.5, rotation=90, color="#555555",
                        bbox=dict(facecolor="white", edgecolor="none", pad=1.0))
        ax.set_title(title or "Per-class precision, recall and F1", loc="left")
    return fig


def weights_figure(weights: np.ndarray, *, titles: Sequence[str] | None = None, title: str = "",
                   max_tiles: int = 64) -> Figure:
    """One tile per output unit / class / filter: ``weights`` is ``(N, C, H, W)``.

    Grey (one-channel) tiles use a diverging colour map centred on zero with one shared,
    symmetric scale, so tiles compare directly (red = positive, blue = negative). RGB
    filters are rescaled to [0, 1] per tile.
    """
    weights = np.asarray(weights, dtype=float)
    shown = weights[:max_tiles]
    n = len(shown)
    cols = min(n, 10 if n > 16 else (5 if n > 6 else n))
    rows = math.ceil(n / cols)
    tile = 1.25 if weights.shape[-1] >= 12 else 1.0
    rgb = shown.shape[1] == 3
    vmax = float(np.abs(shown).max()) or 1.0
    with style():
        fig = new_figure((cols * tile + (0.9 if not rgb else 0.2), rows * (tile + 0.22) + 0.6), DPI)
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        im = None
        for i, ax in enumerate(axes):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(i < n)
                spine.set_color("#bbbbbb")
            if i >= n:
                ax.set_visible(False)
                continue
            w = shown[i]
            if rgb:
                lo, hi = w.min(), w.max()
                ax.imshow(np.transpose((w - lo) / (hi - lo + 1e-12), (1, 2, 0)), interpolation="nearest")
            else:
                im = ax.imshow(w.mean(0) if w.shape[0] > 1 else w[0], cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                               interpolation="nearest")
            if titles is not None:
                ax.set_title(_short([titles[i]], 11)[0], fontsize=7, fontweight="normal", pad=2)
        if im is not None:
            fig.colorbar(im, ax=list(axes[:n]), shrink=0.7, label="weight")
        note = f" (first {n} of {len(weights)})" if n < len(weights) else ""
        fig.suptitle((title or "Learned weights") + note, x=0.01, ha="left", fontsize=10)
    return fig


def predictions_figure(images: np.ndarray, y_true: Sequence[int], y_pred: Sequence[int], class_names: Sequence[str],
                       *, confidence: Sequence[float] | None = None, title: str = "") -> Figure:
    """A grid of images with predicted and true labels (wrong predictions in red with ✗).

    ``images`` is ``(N, C, H, W)`` with values in [0, 1] (already un-normalised).
    """
    images = np.clip(np.asarray(images, dtype=float), 0, 1)
    n = len(images)
    cols = min(5, n)
    rows = math.ceil(n / cols)
    with style():
        fig = new_figure((cols * 1.75, rows * 2.15 + 0.4), DPI)
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        for i, ax in enumerate(axes):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if i >= n:
                ax.set_visible(False)
                continue
            img = images[i]
            if img.shape[0] == 1:
                ax.imshow(img[0], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            else:
                ax.imshow(np.transpose(img, (1, 2, 0)), interpolation="nearest")
            ok = int(y_true[i]) == int(y_pred[i])
            color = BLUE if ok else RED
            conf = f" ({confidence[i]:.0%})" if confidence is not None else ""
            mark = "✓" if ok else "✗"
            ax.set_title(f"{mark} pred: {_short([class_names[int(y_pred[i])]], 11)[0]}{conf}\n"
                         f"true: {_short([class_names[int(y_true[i])]], 11)[0]}",
                         fontsize=7.5, color=color, fontweight="bold" if not ok else "normal", pad=3)
            for spine in ax.spines.values():
                spine.set_visible(True)
                spine.set_color(color)
                spine.set_linewidth(1.0 if ok else 2.0)
        n_wrong = sum(int(t) != int(p) for t, p in zip(y_true, y_pred))
        fig.suptitle(f"{title or 'Predictions'}: {n - n_wrong} of {n} correct", x=0.01, ha="left", fontsize=10)
    return fig
