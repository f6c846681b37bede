"""build_model: registry-based construction from plain dicts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from debugkit.models import CNN, MLP, MODELS, SoftmaxRegression, ThreeCThreeD, build_model, model_options


@pytest.mark.parametrize(
    "spec, shape, cls",
    [
        ({"name": "softmax"}, (1, 8, 8), SoftmaxRegression),
        ({"name": "mlp", "hidden": [64], "activation": "tanh"}, (64,), MLP),
        ({"name": "cnn", "conv": [8, 16], "dense": [], "pooling": "avg"}, (1, 28, 28), CNN),
        ({"name": "3c3d"}, (3, 32, 32), ThreeCThreeD),
    ],
)
def test_builds_each_model(spec, shape, cls):
    model = build_model(spec, shape, 10)
    assert type(model) is cls
    assert model(torch.randn(2, *shape)).shape == (2, 10)


def test_options_reach_the_model():
    model = build_model({"name": "mlp", "hidden": [64, 32], "activation": "tanh", "dropout": 0.2}, (1, 8, 8), 5)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 64), (64, 32), (32, 5)]
    assert isinstance(model.features[1], nn.Tanh) and model.features[2].p == 0.2


def test_init_in_the_spec_is_applied():
    model = build_model({"name": "mlp", "init": {"scheme": "constant", "value": 0.5}}, (64,), 10)
    assert torch.all(model.features[0].weight == 0.5)
    model = build_model({"name": "softmax", "init": "zeros"}, (64,), 10)
    assert torch.all(model.classifier.weight == 0)


@pytest.mark.parametrize(
    "spec, shape, match",
    [
        ({"name": "resnet"}, (1, 8, 8), r"'resnet' is unknown.*'mlp'"),
        ({"name": "mlp", "hiden": [64]}, (64,), r"no option\(s\) \['hiden'\].*'hidden'"),
        ({"hidden": [64]}, (64,), "'name' key"),
        ({"name": "cnn"}, (64,), r"needs image inputs \(C, H, W\).*flatten"),
        ({"name": "3c3d"}, (1, 28, 28), "image_size=32, channels=3"),
        ({"name": "transfer"}, (1, 32, 32), "channels=3"),
        ({"name": "mlp", "init": {"std": 1}}, (64,), "'scheme'"),
    ],
)
def test_errors_say_what_to_do(spec, shape, match):
    with pytest.raises(ValueError, match=match):
        build_model(spec, shape, 10)


def test_every_registered_model_declares_its_options():
    assert set(MODELS) == {"softmax", "mlp", "cnn", "3c3d", "transfer"}
    assert model_options("cnn")["pooling"] == "max"
    assert model_options("3c3d") == {}
