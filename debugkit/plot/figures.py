"""Single-quantity figures for logbooks, by name: ``render_figure("alpha", run, "alpha.png")``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from debugkit.plot import data as D
from debugkit.plot.cockpit import plot_cockpit
from debugkit.plot.draw import Ctx, finish
from debugkit.plot.panels import PANELS
from debugkit.plot.style import new_figure, save, style

DPI = 150  # print quality for logbook PDFs
OWN_RUN_LEGEND = {"loss", "alpha", "learning_curves"}  # these panels name the runs themselves
SUFFIXES = (".png", ".svg", ".pdf")


def _single(name: str) -> Callable[..., Figure]:
    draw, default_size = PANELS[name]

    def make(runs, *, figsize: tuple[float, float] = default_size, dpi: float = DPI) -> Figure:
        ctx = Ctx(D.as_runs(runs))
        with style():
            fig = new_figure(figsize, dpi)
            draw(fig, ctx)
            finish(fig)
            if ctx.multi and name not in OWN_RUN_LEGEND:
                handles = [Line2D([], [], color=c, lw=2.5) for c in ctx.colors]
                fig.legend(handles, ctx.labels, loc="outside lower center", ncols=min(len(ctx.labels), 4))
            names = ", ".join(ctx.labels) if len(ctx.labels) <= 3 else f"{len(ctx.labels)} runs"
            fig.suptitle(f"{fig.get_suptitle()} — {names}", x=0.01, ha="left", fontsize="large", fontweight="bold")
        return fig

    make.__name__ = f"figure_{name}"
    make.__doc__ = f"Stand-alone figure of the {name!r} panel ({default_size[0]}×{default_size[1]} in, {DPI} dpi).\n\n" + (
        draw.__doc__ or ""
    )
    return make


FIGURES: dict[str, Callable[..., Figure]] = {"cockpit": plot_cockpit}
FIGURES.update({name: _single(name) for name in PANELS})


def render_figure(name: str, runs, path: str | os.PathLike, **kwargs) -> Path:
    """Draw the figure ``name`` for ``runs`` and write it.

    A PNG is always written (``path`` with suffix ``.png``); if ``path`` ends in ``.svg``
    or ``.pdf`` that file is written too. A path without suffix gets ``.png``.

    Args:
        name: One of :data:`FIGURES` (``cockpit``, ``loss``, ``alpha``, ...).
        runs: A :class:`~debugkit.store.Run`, a run directory, or a list of them.
        path: Where to write.
        **kwargs: Passed to the figure function (e.g. ``figsize``, ``dpi``).

    Returns:
        ``path`` (with ``.png`` appended when it had no suffix).

    Raises:
        ValueError: unknown ``name`` or unsupported suffix.

    Example:
        >>> render_figure("learning_curves", load_runs(seed_dirs), "curves.svg")  # doctest: +SKIP
    """
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; valid names: {', '.join(sorted(FIGURES))}")
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".png")
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(f"cannot write {str(path)!r}: the suffix must be one of {', '.join(SUFFIXES)}")
    fig = FIGURES[name](runs, **kwargs)
    save(fig, path.with_suffix(".png"))
    if path.suffix.lower() != ".png":
        save(fig, path)
    return path
