"""Shapes, parameter counts and structure of the built-in models."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from debugkit.models import ACTIVATIONS, CNN, MLP, SoftmaxRegression, ThreeCThreeD, make_activation, model_summary

SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32)]


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("shape", SHAPES)
def test_softmax_regression(shape):
    d = math.prod(shape)
    model = SoftmaxRegression(d, 10)
    assert model(torch.randn(4, *shape)).shape == (4, 10)
    assert n_params(model) == d * 10 + 10
    assert isinstance(model.classifier, nn.Linear)


@pytest.mark.parametrize("shape", SHAPES)
def test_mlp_shapes_and_counts(shape):
    d = math.prod(shape)
    model = MLP(d, 10, hidden=(32, 16), activation="tanh", dropout=0.1)
    assert model(torch.randn(4, *shape)).shape == (4, 10)
    assert n_params(model) == (d * 32 + 32) + (32 * 16 + 16) + (16 * 10 + 10)
    types = [type(m).__name__ for m in model.features]
    assert types == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout"]


def test_mlp_batchnorm_layers_drop_the_redundant_bias():
    model = MLP(64, 10, hidden=(32,), batchnorm=True)
    assert [type(m).__name__ for m in model.features] == ["Linear", "BatchNorm1d", "ReLU"]
    assert model.features[0].bias is None
    assert n_params(model) == 64 * 32 + 2 * 32 + 32 * 10 + 10


def test_mlp_without_hidden_layers_is_softmax_regression():
    model = MLP(64, 10, hidden=())
    assert n_params(model) == n_params(SoftmaxRegression(64, 10))


def conv_params(c_in, c_out, k, bias=True):
    return c_in * c_out * k * k + (c_out if bias else 0)


@pytest.mark.parametrize("shape", SHAPES)
def test_cnn_default_on_each_input_shape(shape):
    c, h, w = shape
    model = CNN(c, 10, input_size=(h, w))
    assert model(torch.randn(2, *shape)).shape == (2, 10)
    flat = 64 * (h // 4) * (w // 4)  # two 'same' convs, two 2x2 max pools
    expected = conv_params(c, 32, 3) + conv_params(32, 64, 3) + flat * 128 + 128 + 128 * 10 + 10
    assert n_params(model) == expected


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize(
    "kwargs",
    [
        {"padding": "valid", "pooling": None, "kernel_size": 3},
        {"padding": 1, "pooling": "avg", "kernel_size": 5, "batchnorm": True, "dense": (64, 32), "dropout": 0.3},
        {"kernel_size": 4, "padding": "same", "activation": "gelu"},
    ],
)
def test_cnn_variants_run(kwargs):
    model = CNN(1, 10, input_size=28, **kwargs)
    model.train()
    out = model(torch.randn(3, 1, 28, 28))
    assert out.shape == (3, 10)
    out.sum().backward()


def test_cnn_valid_padding_counts():
    model = CNN(1, 10, input_size=8, conv=(4,), kernel_size=3, padding="valid", pooling=None, dense=())
    assert n_params(model) == conv_params(1, 4, 3) + 4 * 6 * 6 * 10 + 10


def test_cnn_names_and_module_activations():
    model = CNN(1, 10, input_size=8, pooling="max")
    names = dict(model.named_modules())
    assert isinstance(names["features.0"], nn.Conv2d) and isinstance(names["features.1"], nn.ReLU)
    assert isinstance(names["features.2"], nn.MaxPool2d) and isinstance(names["classifier.1"], nn.Linear)
    assert names["features.0"].padding == (1, 1)  # 'same' as an int, for BackPACK


def test_cnn_too_small_input_is_explained():
    with pytest.raises(ValueError, match=r"input_size \(8, 8\) is too small for conv block 4"):
        CNN(1, 10, input_size=8, conv=(8, 8, 8, 8))


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: MLP(64, 10, hidden=(0,)), "hidden"),
        (lambda: MLP(64, 10, dropout=1.0), "dropout"),
        (lambda: MLP(64, 10, hidden=(), dropout=0.5), "no effect"),
        (lambda: MLP(64, 10, activation="swish"), r"activation='swish'.*relu"),
        (lambda: CNN(1, 10, input_size=8, pooling="median"), "pooling"),
        (lambda: CNN(1, 10, input_size=8, padding="full"), "padding"),
        (lambda: SoftmaxRegression(0, 10), "in_features"),
    ],
)
def test_bad_arguments_are_named(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_three_c_three_d_has_deepobs_parameter_count_and_shapes():
    model = ThreeCThreeD()
    assert n_params(model) == 895_210
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert model.features(torch.randn(1, 3, 32, 32)).shape == (1, 128, 3, 3)
    assert model.classifier[1].in_features == 1152
    assert torch.all(model.classifier[1].bias == 0)
    assert n_params(ThreeCThreeD(num_classes=100)) == 895_210 + 90 * 257


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_are_modules_seen_by_forward_hooks(name):
    model = MLP(64, 10, hidden=(8, 8), activation=name)
    seen = []
    handles = [
        m.register_forward_hook(lambda m, i, o: seen.append(type(m).__name__))
        for m in model.modules()
        if type(m) is type(make_activation(name))
    ]
    model(torch.randn(2, 64))
    for h in handles:
        h.remove()
    assert len(seen) == 2


def test_summary_lists_layers_and_counts_trainable():
    model = MLP(64, 10, hidden=(32,))
    model.classifier.weight.requires_grad_(False)
    summary = model_summary(model)
    assert summary["num_params"] == 64 * 32 + 32 + 330
    assert summary["num_trainable"] == 64 * 32 + 32 + 10
    rows = {row["name"]: row for row in summary["layers"]}
    assert rows["features.0"] == {"name": "features.0", "type": "Linear", "params": 2080, "trainable": 2080}
    assert rows["features.1"]["type"] == "ReLU" and rows["features.1"]["params"] == 0
    assert rows["classifier"]["trainable"] == 10
    assert "features" not in rows  # containers are not layers


def test_summary_counts_shared_parameters_once():
    shared = nn.Linear(4, 4)
    summary = model_summary(nn.Sequential(shared, nn.ReLU(), shared))
    assert summary["num_params"] == 20
