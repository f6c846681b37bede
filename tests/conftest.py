import warnings

import pytest
import torch

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)
    yield
