"""Redraw the cockpit while a run is being trained (in Jupyter, or to a PNG file)."""

from __future__ import annotations

import io
import os
from pathlib import Path

from debugkit.plot.cockpit import plot_cockpit
from debugkit.plot.style import save
from debugkit.store import load_run


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where ``IPython.display`` can show images)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class LiveCockpit:
    """Re-read a run directory every ``every`` steps and redraw its cockpit.

    In a notebook the figure replaces the previous one in the cell output
    (``clear_output(wait=True)``); elsewhere it is written to ``path``.

    Args:
        run_dir: The run directory the monitor writes to.
        every: Redraw when ``step % every == 0``.
        path: PNG to write outside a notebook; defaults to ``<run_dir>/cockpit.png``.
        notebook: Force (True) or prevent (False) notebook display; ``None`` detects it.
        **plot_kwargs: Passed to :func:`~debugkit.plot.plot_cockpit` (``figsize``, ``dpi``, ``title``).

    Example:
        >>> live = LiveCockpit("runs/demo", every=50)     # doctest: +SKIP
        >>> for step, batch in enumerate(loader):         # doctest: +SKIP
        ...     train_step(batch); live.update(step)
    """

    def __init__(self, run_dir: str | os.PathLike, every: int = 50, *, path: str | os.PathLike | None = None,
                 notebook: bool | None = None, **plot_kwargs):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive integer (redraw every N steps), got {every!r}")
        self.run_dir = Path(run_dir)
        self.every = every
        self.path = Path(path) if path is not None else self.run_dir / "cockpit.png"
        self.notebook = in_notebook() if notebook is None else notebook
        self.plot_kwargs = plot_kwargs
        self.redraws = 0
        self.figure = None  # the last figure drawn (for inspection; not shown anywhere by itself)

    def update(self, step: int, *, force: bool = False) -> bool:
        """Redraw if ``step`` is due (or ``force``); returns whether it redrew.

        Raises:
            debugkit.store.reader.RunNotFoundError: the run directory does not exist (yet).
        """
        if not force and step % self.every != 0:
            return False
        run = load_run(self.run_dir)  # a fresh Run: the reader caches, the files have grown
        fig = self.figure = plot_cockpit(run, **self.plot_kwargs)
        if self.notebook:
            from IPython.display import Image, clear_output, display

            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=fig.dpi)
            clear_output(wait=True)
            display(Image(data=buf.getvalue()))
        else:
            save(fig, self.path)
        self.redraws += 1
        return True

    def __repr__(self) -> str:
        target = "notebook" if self.notebook else str(self.path)
        return f"LiveCockpit({str(self.run_dir)!r}, every={self.every}, to={target})"
