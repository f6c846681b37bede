"""Plots from the run store: the Cockpit-style dashboard, single-quantity figures, live mode.

Reads :class:`debugkit.store.Run` objects only (never torch objects), so a run recorded
elsewhere can be plotted. Figures use an Agg canvas and never touch the pyplot backend.
"""

from debugkit.plot.cockpit import plot_cockpit
from debugkit.plot.figures import FIGURES, render_figure
from debugkit.plot.live import LiveCockpit

__all__ = ["FIGURES", "LiveCockpit", "plot_cockpit", "render_figure"]
