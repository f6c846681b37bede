"""Fixtures of the export tests: recorded runs, written once."""

from __future__ import annotations

import warnings

import pytest
from export_runs import record_monitor_run, write_synthetic_run

import debugkit


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory) -> debugkit.Run:
    return debugkit.load_run(write_synthetic_run(tmp_path_factory.mktemp("runs") / "synthetic"))


@pytest.fixture(scope="session")
def monitor_run(tmp_path_factory) -> debugkit.Run:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # instruments that cannot run say so once
        path = record_monitor_run(tmp_path_factory.mktemp("runs") / "monitored")
    return debugkit.load_run(path)
