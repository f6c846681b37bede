"""Stage 2 of a build: turn every figure into an image file and number it.

Run figures are drawn by ``debugkit.plot.render_figure(name, runs, path)``, imported only
when a logbook has run figures, so the logbook package works without the plotting backend.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from debugkit.logbook.model import Entry, Figure, LogbookError
from debugkit.logbook.resolve import ResolvedLogbook

RenderFn = Callable[[str, list, Path], Path]


class FigureRenderError(LogbookError):
    """A run figure could not be drawn; the message names the entry and the figure."""


@dataclass
class RenderedFigure:
    """A figure ready to be embedded.

    Attributes:
        figure: The figure as written in the logbook.
        number: Figure number in the document (1-based).
        entry: Number of the entry it belongs to (1-based).
        path: The image file (PNG for run figures).
        size: ``(width, height)`` in pixels, where it can be read (``None`` for SVG).
    """

    figure: Figure
    number: int
    entry: int
    path: Path
    size: tuple[int, int] | None = None

    @property
    def caption(self) -> str:
        """The caption to print: the figure's own, or for a run figure without one, what it shows."""
        if self.figure.caption or not self.figure.is_run_figure:
            return self.figure.caption
        return f"{self.figure.name.replace('_', ' ').capitalize()} ({', '.join(self.figure.runs)})"

    @property
    def aspect(self) -> float | None:
        """Width / height, if known."""
        if not self.size or not self.size[1]:
            return None
        return self.size[0] / self.size[1]


def image_size(path: Path) -> tuple[int, int] | None:
    """Pixel size of a PNG, JPEG or GIF file (``None`` for SVG or unreadable files)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(26)
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return struct.unpack(">II", head[16:24])
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", head[6:10])
        if head.startswith(b"\xff\xd8"):
            from PIL import Image  # pillow comes with matplotlib; JPEG headers are not fixed-size

            with Image.open(path) as im:
                return im.size
    except (OSError, struct.error, ImportError):
        return None
    return None


def _default_render_fn() -> RenderFn:
    try:
        from debugkit.plot import render_figure
    except ImportError as exc:
        raise FigureRenderError(
            "this logbook has run figures (run:<run>#<figure>), which are drawn by "
            f"debugkit.plot.render_figure, but it cannot be imported ({exc}); "
            "install debugkit with its plotting dependencies, or use image files instead"
        ) from exc
    return render_figure


def render_figures(
    resolved: ResolvedLogbook, out_dir: str | Path, render_fn: RenderFn | None = None
) -> list[RenderedFigure]:
    """Draw run figures into ``out_dir`` and number all figures in document order.

    Args:
        resolved: The output of :func:`~debugkit.logbook.resolve.resolve_logbook`.
        out_dir: Folder for the drawn run figures (created).
        render_fn: ``render_fn(name, runs, path) -> path``; defaults to
            ``debugkit.plot.render_figure``.

    Raises:
        FigureRenderError: A run figure could not be drawn (names entry and figure).
    """
    from debugkit.store import load_run

    lb = resolved.logbook
    out_dir = Path(out_dir)
    rendered: list[RenderedFigure] = []
    loaded: dict[Path, object] = {}
    for number, (n, entry, fig) in enumerate(lb.iter_figures(), 1):
        if fig.is_run_figure:
            if render_fn is None:
                render_fn = _default_render_fn()
            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / f"figure-{number}-{fig.name}.png"
            runs = []
            for ref in fig.runs:
                run_dir = resolved.run_dirs[ref]
                if run_dir not in loaded:
                    loaded[run_dir] = load_run(run_dir)
                runs.append(loaded[run_dir])
            path = _draw(render_fn, fig, runs, path, n, entry)
        else:
            path = resolved.images[fig.path]
        rendered.append(RenderedFigure(fig, number, n, path, image_size(path)))
    return rendered


def _draw(render_fn: RenderFn, fig: Figure, runs: list, path: Path, n: int, entry: Entry) -> Path:
    where = f"entry {n} {entry.title!r}, figure {fig.target!r}"
    try:
        result = render_fn(fig.name, runs, path)
    except Exception as exc:  # the plotting code's own error, with where it happened added
        raise FigureRenderError(f"{where}: drawing {fig.name!r} failed: {type(exc).__name__}: {exc}") from exc
    result = Path(result) if result is not None else path
    if not result.is_file():
        raise FigureRenderError(f"{where}: render_figure returned {str(result)!r}, but no such file was written")
    return result
