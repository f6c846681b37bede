"""Fixtures of the plot tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from plot_synthetic import make_synthetic_run


@pytest.fixture
def synthetic_run(tmp_path):
    """Path factory: ``synthetic_run(dirname, **kwargs)`` writes a run under ``tmp_path``."""

    def factory(dirname: str = "run", /, **kwargs) -> Path:
        return make_synthetic_run(tmp_path / dirname, **kwargs)

    return factory
