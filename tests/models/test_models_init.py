"""Initialisation schemes: statistics match their formulas."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from debugkit.models import CNN, INIT_SCHEMES, MLP, fan_in, init_weights

FAN_IN, FAN_OUT = 400, 600


def linear() -> nn.Linear:
    return nn.Linear(FAN_IN, FAN_OUT)


def rel_close(a: float, b: float, tol: float = 0.03) -> bool:
    return abs(a - b) <= tol * abs(b)


@pytest.mark.parametrize(
    "scheme, kwargs, expected_std",
    [
        ("normal_sqrt_n", {}, 1 / math.sqrt(FAN_IN)),
        ("xavier_normal", {}, math.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("xavier_normal", {"gain": 2.0}, 2 * math.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("xavier_uniform", {}, math.sqrt(6 / (FAN_IN + FAN_OUT)) / math.sqrt(3)),
        ("kaiming_normal", {}, math.sqrt(2 / FAN_IN)),
        ("kaiming_normal", {"nonlinearity": "tanh"}, (5 / 3) / math.sqrt(FAN_IN)),
        ("kaiming_uniform", {}, math.sqrt(6 / FAN_IN) / math.sqrt(3)),
        ("normal", {"std": 0.1}, 0.1),
    ],
)
def test_weight_std_matches_formula(scheme, kwargs, expected_std):
    layer = init_weights(linear(), scheme, generator=torch.Generator().manual_seed(0), **kwargs)
    w = layer.weight
    assert rel_close(w.std().item(), expected_std)
    assert abs(w.mean().item()) < 5 * expected_std / math.sqrt(w.numel())  # 5 sigma of the sample mean
    assert torch.all(layer.bias == 0)


def test_uniform_schemes_respect_their_bounds():
    w = init_weights(linear(), "xavier_uniform").weight
    bound = math.sqrt(6 / (FAN_IN + FAN_OUT))
    assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound


def test_normal_sqrt_n_uses_std_not_variance_and_conv_fan_in():
    w = init_weights(nn.Linear(784, 500), "normal_sqrt_n").weight
    assert rel_close(w.std().item(), 1 / 28)  # std = 1/sqrt(784); n**-0.25 would be 0.19
    conv = init_weights(nn.Conv2d(16, 256, 3), "normal_sqrt_n")
    assert fan_in(conv.weight) == 16 * 9
    assert rel_close(conv.weight.std().item(), 1 / math.sqrt(144))


def test_zeros_constant_and_bias():
    model = init_weights(MLP(8, 3, hidden=(5,)), "zeros", bias=0.5)
    assert all(torch.all(p == 0) for n, p in model.named_parameters() if n.endswith("weight"))
    assert all(torch.all(p == 0.5) for n, p in model.named_parameters() if n.endswith("bias"))
    model = init_weights(MLP(8, 3, hidden=(5,)), "constant", value=0.25)
    assert torch.all(model.features[0].weight == 0.25) and torch.all(model.classifier.weight == 0.25)


def test_default_leaves_pytorch_initialisation_untouched():
    model = MLP(8, 3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    init_weights(model, "default", bias=3.0)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_batchnorm_is_left_alone_and_convs_are_initialised():
    model = CNN(1, 10, input_size=8, batchnorm=True)
    init_weights(model, "normal", std=0.5)
    bn = model.features[1]
    assert isinstance(bn, nn.BatchNorm2d) and torch.all(bn.weight == 1) and torch.all(bn.bias == 0)
    assert rel_close(model.features[0].weight.std().item(), 0.5, tol=0.25)


def test_generator_makes_initialisation_reproducible():
    a = init_weights(linear(), "kaiming_normal", generator=torch.Generator().manual_seed(1))
    b = init_weights(linear(), "kaiming_normal", generator=torch.Generator().manual_seed(1))
    c = init_weights(linear(), "kaiming_normal", generator=torch.Generator().manual_seed(2))
    assert torch.equal(a.weight, b.weight) and not torch.equal(a.weight, c.weight)


def test_unknown_scheme_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"'he'.*kaiming_normal.*xavier_uniform"):
        init_weights(linear(), "he")
    assert {"default", "normal_sqrt_n", "zeros", "constant", "normal"} <= set(INIT_SCHEMES)


def test_model_without_weights_is_an_error():
    with pytest.raises(ValueError, match="no weight matrix"):
        init_weights(nn.ReLU(), "zeros")
