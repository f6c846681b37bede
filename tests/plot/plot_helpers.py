"""Find what a figure drew, by the ``gid`` the panels give their artists."""

from __future__ import annotations

import struct
from pathlib import Path


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels from the PNG header."""
    head = Path(path).read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def artists(fig, gid: str | None = None, prefix: str | None = None) -> list:
    """All artists of ``fig`` (sub-figures included) whose gid equals ``gid`` or starts with ``prefix``."""
    def keep(a):
        g = a.get_gid()
        if g is None:
            return False
        return g == gid if gid is not None else g.startswith(prefix)

    return fig.findobj(keep)


def one(fig, gid: str):
    found = artists(fig, gid=gid)
    assert len(found) == 1, f"expected one artist with gid {gid!r}, found {len(found)}"
    return found[0]


def notes(fig) -> list[str]:
    return [t.get_text() for t in artists(fig, gid="note")]
