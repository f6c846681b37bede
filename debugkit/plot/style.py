"""One look for every debugkit figure: palette, fonts, grid, the grey "not recorded" note.

Figures are built as plain :class:`matplotlib.figure.Figure` objects on an Agg canvas, so
plotting never selects or changes the user's pyplot backend (a notebook keeps its own).
The style is applied with :func:`matplotlib.rc_context` while a figure is being built,
never to the global ``rcParams``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Okabe & Ito (2008): distinguishable with the common colour-vision deficiencies and in grey print.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
GUIDE = "#6b6b6b"  # reference lines (thresholds, zero lines)
NOTE = "#8c8c8c"  # text of the "not recorded" note
WARN = "#D55E00"  # things that look wrong (non-finite loss, instability region)
SEQ_CMAP = "viridis"  # magnitudes (log norms, histogram counts)
FRAC_CMAP = "magma_r"  # fractions in [0, 1] (dead / saturated units): white = none

# Light tints that group the cockpit panels like Cockpit's coloured columns.
GROUP_TINT = {
    "performance": "#f4f4f4",
    "step": "#eaf1f8",
    "gradients": "#fdf3e6",
    "curvature": "#e9f5ef",
    "activations": "#f5ecf2",
}

NOT_RECORDED = "not recorded — enable with preset='full'"

RC = {
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "legend.edgecolor": "#cccccc",
    "figure.titlesize": 13,
    "figure.titleweight": "bold",
    "axes.grid": True,
    "axes.grid.which": "major",
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.6,
    "grid.alpha": 0.8,
    "axes.axisbelow": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.7,
    "axes.prop_cycle": mpl.cycler(color=OKABE_ITO),
    "lines.linewidth": 1.3,
    "image.cmap": SEQ_CMAP,
    "axes.formatter.limits": (-3, 4),
    "axes.formatter.use_mathtext": True,
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Apply the debugkit style while building a figure (restored afterwards)."""
    with mpl.rc_context(RC):
        yield


def run_color(i: int) -> str:
    """Colour of the ``i``-th run of an overlay (the same in every panel)."""
    return OKABE_ITO[i % len(OKABE_ITO)]


def new_figure(figsize: tuple[float, float], dpi: float) -> Figure:
    """A figure on an Agg canvas with constrained layout (no pyplot, no display)."""
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def note(ax, message: str = NOT_RECORDED, *, title: str | None = None) -> None:
    """Turn ``ax`` into a grey note saying why it is empty (instead of failing)."""
    if title is not None:
        ax.set_title(title)
    # tick_params, not set_xticks([]): the locator is shared with axes that share x
    ax.tick_params(which="both", bottom=False, left=False, labelbottom=False, labelleft=False)
    ax.grid(False)
    ax.set_xlabel("")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("#dddddd")
    ax.set_facecolor("#fafafa")
    ax.text(
        0.5,
        0.5,
        message,
        transform=ax.transAxes,
        ha="center",
        va="center",
        color=NOTE,
        fontsize=8,
        style="italic",
        wrap=True,
        gid="note",
    )


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` at its own size and dpi; the format follows the suffix (png, svg, pdf)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=fig.dpi, facecolor=fig.get_facecolor())
    return path
