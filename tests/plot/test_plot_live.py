"""Live mode: redraw every N steps from the run directory, to a notebook or to a PNG."""

from __future__ import annotations

import sys
import types

import pytest
from plot_synthetic import make_synthetic_run
from plot_helpers import one

from debugkit import RunWriter
from debugkit.plot import LiveCockpit
from debugkit.store.reader import RunNotFoundError

SMALL = {"figsize": (8, 6), "dpi": 40}  # the layout is what is tested, not the resolution


def test_redraws_every_n_steps_from_the_growing_run(tmp_path):
    run_dir = make_synthetic_run(tmp_path / "live", steps=10, record=("scalars",))
    live = LiveCockpit(run_dir, every=5, notebook=False, **SMALL)
    assert live.update(3) is False and live.redraws == 0 and not live.path.exists()
    assert live.update(5) is True
    assert live.path == run_dir / "cockpit.png" and live.path.stat().st_size > 0
    assert len(one(live.figure, "loss:live").get_ydata()) == 10
    with RunWriter(run_dir) as w:  # training goes on
        for s in range(10, 15):
            w.scalars(s, loss=0.5)
    assert live.update(12, force=True) is True  # not due, but forced
    assert len(one(live.figure, "loss:live").get_ydata()) == 15  # re-read, not cached
    assert live.redraws == 2


def test_notebook_display_replaces_the_previous_figure(tmp_path, monkeypatch):
    calls = []
    fake = types.ModuleType("IPython.display")
    fake.clear_output = lambda wait=False: calls.append(("clear", wait))
    fake.display = lambda obj: calls.append(("display", obj))
    fake.Image = lambda data: ("png", data)
    monkeypatch.setitem(sys.modules, "IPython.display", fake)
    run_dir = make_synthetic_run(tmp_path / "nb", steps=6, record=("scalars",))
    live = LiveCockpit(run_dir, every=2, notebook=True, **SMALL)
    live.update(1)  # not due
    live.update(2)
    assert [c[0] for c in calls] == ["clear", "display"]
    assert calls[0] == ("clear", True)  # wait=True: no flicker
    kind, data = calls[1][1]
    assert kind == "png" and data.startswith(b"\x89PNG")
    assert not (run_dir / "cockpit.png").exists()


def test_outside_a_notebook_it_writes_a_png_by_default(tmp_path):
    live = LiveCockpit(tmp_path / "r", every=1, path=tmp_path / "out" / "live.png")
    assert live.notebook is False  # pytest is not a Jupyter kernel
    assert live.path == tmp_path / "out" / "live.png"


@pytest.mark.parametrize("every", [0, -3, 2.5, True])
def test_every_must_be_a_positive_integer(tmp_path, every):
    with pytest.raises(ValueError, match="every must be a positive integer"):
        LiveCockpit(tmp_path, every=every)


def test_missing_run_directory_raises_on_update(tmp_path):
    live = LiveCockpit(tmp_path / "not_yet", every=1, notebook=False)
    with pytest.raises(RunNotFoundError):
        live.update(0)
