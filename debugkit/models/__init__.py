"""Models for debugging runs: softmax regression, MLP, CNN, DeepOBS 3c3d, transfer backbones.

Every model keeps activations as modules (hooks can see them) and names its parts
``features`` and ``classifier``. :func:`build_model` builds any of them from a dict.

Example:
    >>> from debugkit.models import build_model, init_weights
    >>> net = init_weights(build_model({"name": "mlp", "hidden": [64]}, (1, 8, 8), 10), "normal_sqrt_n")
"""

from debugkit.models.activations import ACTIVATIONS, make_activation
from debugkit.models.cnn import CNN, POOLINGS
from debugkit.models.factory import MODELS, build_model, model_options
from debugkit.models.initialization import INIT_SCHEMES, fan_in, init_weights
from debugkit.models.mlp import MLP
from debugkit.models.softmax_regression import SoftmaxRegression
from debugkit.models.summary import model_summary
from debugkit.models.three_c_three_d import ThreeCThreeD
from debugkit.models.transfer import BACKBONES, transfer_model

__all__ = [
    "ACTIVATIONS",
    "BACKBONES",
    "CNN",
    "INIT_SCHEMES",
    "MLP",
    "MODELS",
    "POOLINGS",
    "SoftmaxRegression",
    "ThreeCThreeD",
    "build_model",
    "fan_in",
    "init_weights",
    "make_activation",
    "model_options",
    "model_summary",
    "transfer_model",
]
