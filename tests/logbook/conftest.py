"""Fixtures for the logbook tests: tiny PNGs, synthetic runs, the example logbook built once."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from debugkit import RunWriter


def write_png(path: Path, width: int = 60, height: int = 30, rgb=(31, 58, 95)) -> Path:
    """A solid-colour PNG written without any imaging library (fast, dependency-free)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", raw) + chunk(b"IEND", b"")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path


def write_run(path: Path, name: str | None = None, steps: int = 5) -> Path:
    """A minimal run directory (meta.json plus a few loss values)."""
    with RunWriter(path, meta={"name": name or path.name, "seed": 0, "status": "finished"}) as w:
        for s in range(steps):
            w.scalars(s, loss=2.3 - 0.1 * s)
    return path


def fake_render(calls: list | None = None, size=(120, 50)):
    """A stand-in for ``debugkit.plot.render_figure`` that records its calls and writes a PNG."""

    def render(name, runs, path):
        if calls is not None:
            calls.append((name, runs, Path(path)))
        return write_png(Path(path), *size)

    return render


@pytest.fixture(scope="session")
def example(tmp_path_factory):
    """The packaged example logbook (3 entries, 3 matplotlib figures, 4 runs), built to all formats once."""
    from debugkit.logbook import build_logbook, parse_logbook
    from debugkit.logbook.example import write_example

    root = tmp_path_factory.mktemp("example")
    md = write_example(root)
    outputs = build_logbook(md, root / "out" / "logbook.pdf", formats=["pdf", "html", "ipynb", "md"])
    return {
        "root": root,
        "md": md,
        "logbook": parse_logbook(md),
        "pdf": outputs[0],
        "html": outputs[1],
        "ipynb": outputs[2],
        "md_out": outputs[3],
    }


# Helpers as fixtures: test modules cannot import this conftest by name, since other test
# folders have a conftest.py too.
@pytest.fixture
def make_png():
    return write_png


@pytest.fixture
def make_run():
    return write_run


@pytest.fixture
def make_fake_render():
    return fake_render
