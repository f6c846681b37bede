"""Drawing helpers shared by the panels: per-step lines, sparse points, layer heat maps."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib import colors as mcolors
from matplotlib import ticker
from matplotlib.figure import FigureBase

from debugkit.plot import data as D
from debugkit.plot.style import GUIDE, run_color
from debugkit.store import Run

STEP_LABEL = "step (optimizer updates)"


@dataclass
class Ctx:
    """What every panel needs: the runs, their legend labels and colours, and the space it has.

    Attributes:
        runs: The runs to draw; image panels (heat maps, histograms) show ``runs[0]``.
        compact: The panel is one of many (the dashboard), so it gets fewer layer labels.
        labels: Unique run names for legends.
        colors: One colour per run, the same in every panel.
        span: First and last step recorded in any run: the x range of every step axis.
    """

    runs: list[Run]
    compact: bool = False
    labels: list[str] = field(init=False)
    colors: list[str] = field(init=False)
    span: tuple[float, float] | None = field(init=False)

    def __post_init__(self):
        self.labels = D.run_labels(self.runs)
        self.colors = [run_color(i) for i in range(len(self.runs))]
        self.span = D.step_range(self.runs)

    def items(self):
        """``(run, label, colour)`` for every run."""
        return zip(self.runs, self.labels, self.colors)

    @property
    def multi(self) -> bool:
        return len(self.runs) > 1

    def first_note(self) -> str:
        """Suffix for panels that show only the first run of an overlay."""
        return f" — {self.labels[0]}" if self.multi else ""


def panel_title(fig: FigureBase, title: str) -> None:
    fig.suptitle(title, fontsize="large", fontweight="bold", x=0.01, ha="left")


def step_axis(ax, ctx: Ctx, label: bool = True) -> None:
    """Integer step ticks over the whole run (the same range in every panel)."""
    ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True))
    if ctx.span is not None:
        ax.set_xlim(ctx.span[0] - 0.5, ctx.span[1] + 0.5)
    if label:
        ax.set_xlabel(STEP_LABEL)


def series(ax, x, y, *, color, label=None, gid=None, smooth: bool = True, lw: float = 1.0):
    """A per-step quantity: thin raw line (binned with min/max band when long) and a smoothed line.

    Series shorter than ``SMOOTH_MIN_POINTS`` are drawn as one solid line.

    Returns the raw :class:`~matplotlib.lines.Line2D` (its data is the run's data for short runs).
    """
    red = D.reduce(np.asarray(x, float), np.asarray(y, float))
    if red.binned:
        ax.fill_between(red.x, red.lo, red.hi, color=color, alpha=0.15, lw=0, gid=f"{gid}:band" if gid else None)
    show_smooth = smooth and len(x) >= D.SMOOTH_MIN_POINTS
    (raw,) = ax.plot(
        red.x,
        red.y,
        color=color,
        lw=0.7 if show_smooth else lw * 1.3,
        alpha=0.45 if show_smooth else 1.0,
        label=label if label is not None else "_nolegend_",
        gid=gid,
    )
    if show_smooth:
        sx, sy = D.thin(np.asarray(x, float), D.smooth(np.asarray(y, float)))
        ax.plot(sx, sy, color=color, lw=1.8, label="_nolegend_", gid=f"{gid}:smooth" if gid else None)
    return raw


def sparse(ax, x, y, *, color, label=None, gid=None):
    """A quantity measured every k steps: points joined by a thin line."""
    marker = "o" if len(x) <= 200 else None
    (line,) = ax.plot(
        x, y, color=color, lw=0.9, marker=marker, ms=3.2, mec="white", mew=0.4,
        label=label if label is not None else "_nolegend_", gid=gid,
    )
    return line


def auto_log(ax, *arrays, axis: str = "y", ratio: float = 50.0) -> bool:
    """Use a log scale when the positive data spans more than ``ratio``."""
    if D.log_scale_suits(*arrays, ratio=ratio):
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
        return True
    return False


def guide(ax, value: float, *, axis: str = "y", label: str | None = None, ls="--", color=GUIDE, lw=0.9):
    line = (ax.axhline if axis == "y" else ax.axvline)(value, color=color, ls=ls, lw=lw, zorder=1.5)
    if label is not None:
        line.set_label(label)
    return line


def layer_ticks(ax, layers: list[str], max_labels: int, types: dict[str, str] | None = None) -> None:
    """Label the rows of a layer heat map (name and module type); thin out labels when there are many."""
    n = len(layers)
    k = max(1, int(np.ceil(n / max_labels)))
    idx = np.arange(0, n, k)
    types = types or {}
    ax.set_yticks(idx + 0.5)
    ax.set_yticklabels([_layer_label(layers[i], types.get(layers[i])) for i in idx], fontsize=7 if n <= 12 else 6)
    ax.tick_params(axis="y", length=0)
    ax.grid(False)


def _layer_label(name: str, kind: str | None, width: int = 16) -> str:
    short = name if len(name) <= width else "…" + name[-(width - 1):]
    return f"{short} ({kind})" if kind else short


def heatmap(ax, heat: D.Heat, *, cmap, norm, max_labels: int, types: dict[str, str] | None = None, gid=None):
    """Draw a layer × step heat map (first layer on top); returns the QuadMesh."""
    y_edges = np.arange(len(heat.layers) + 1)
    mesh = ax.pcolormesh(
        heat.x_edges, y_edges, np.ma.masked_invalid(heat.values), cmap=cmap, norm=norm,
        shading="flat", rasterized=True, gid=gid,
    )
    ax.set_ylim(len(heat.layers), 0)
    layer_ticks(ax, heat.layers, max_labels, types)
    ax.set_facecolor("#eeeeee")  # not measured
    return mesh


def log_norm(values: np.ndarray) -> mcolors.Normalize:
    v = values[np.isfinite(values) & (values > 0)]
    if v.size == 0:
        return mcolors.Normalize(0, 1)
    lo, hi = np.percentile(v, [1, 99])
    if hi <= lo:
        lo, hi = lo / 2, hi * 2
    return mcolors.LogNorm(lo, hi, clip=True)


def _log_label(v: float, _pos=None) -> str:
    if v <= 0 or not np.isfinite(v):
        return ""
    e = int(np.floor(np.log10(v) + 1e-9))
    if -3 <= e <= 3:
        return f"{v:g}"
    mant = v / 10.0**e
    return f"$10^{{{e}}}$" if abs(mant - 1) < 1e-6 else f"${mant:g}\\times10^{{{e}}}$"


def tidy_log(axis, lo: float, hi: float, room: float = 6.0) -> None:
    """Readable log ticks on a matplotlib Axis: 1-2-5 ticks within a decade or two, decades beyond.

    Call after the limits are final; labels read ``0.2, 0.5, 1`` instead of ``2×10⁻¹``.
    """
    lo, hi = sorted((lo, hi))
    if lo <= 0 or hi <= 0:
        return
    decades = max(np.log10(hi / lo), 1e-9)
    per_decade = room / decades  # how many labels fit per decade
    subs = (1.0, 2.0, 5.0) if per_decade >= 3 else (1.0, 3.0) if per_decade >= 2 else (1.0,)
    axis.set_major_locator(ticker.LogLocator(base=10, subs=subs, numticks=max(int(room), 2) + 1))
    axis.set_major_formatter(ticker.FuncFormatter(_log_label))
    axis.set_minor_formatter(ticker.NullFormatter())


def tidy(ax) -> None:
    """Apply :func:`tidy_log` to the log-scaled axes of ``ax``."""
    box = ax.get_window_extent()  # before layout, but close enough to count labels
    dpi = ax.figure.dpi
    if ax.get_yscale() == "log":
        tidy_log(ax.yaxis, *ax.get_ylim(), room=max(box.height / (0.28 * dpi), 2))
    if ax.get_xscale() == "log":
        tidy_log(ax.xaxis, *ax.get_xlim(), room=max(box.width / (0.45 * dpi), 2))


def finish(fig: FigureBase) -> None:
    """Last touches once a panel is drawn (limits are final): readable log ticks everywhere."""
    for ax in fig.axes:
        tidy(ax)
