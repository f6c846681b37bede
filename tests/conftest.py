import os
import warnings

import pytest
import torch

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
os.environ.setdefault("MPLBACKEND", "Agg")

# Under pytest-xdist (the README's `-n 2`) every worker is one of as many processes as cores: one
# thread each (inherited by the scripts the tests launch) instead of oversubscribing the cores.
THREADS = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 2
if THREADS == 1:
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run tests marked slow (end-to-end baselines, diagnosis quality, hunts); CI does")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow end-to-end test: run with --run-slow (CI does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(THREADS)
    yield
