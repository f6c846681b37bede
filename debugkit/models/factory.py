"""``build_model``: a model from a plain dict (a config file's ``[model]`` table)."""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Mapping, Sequence

from torch import nn

from debugkit.models.cnn import CNN
from debugkit.models.initialization import init_weights
from debugkit.models.mlp import MLP
from debugkit.models.softmax_regression import SoftmaxRegression
from debugkit.models.three_c_three_d import ThreeCThreeD
from debugkit.models.transfer import transfer_model

Shape = Sequence[int]


def _image_shape(name: str, input_shape: Shape) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise ValueError(
            f"model {name!r} needs image inputs (C, H, W), got input_shape={tuple(input_shape)}; "
            "load the data without flatten=True"
        )
    return tuple(input_shape)


def _softmax(input_shape: Shape, num_classes: int) -> nn.Module:
    return SoftmaxRegression(math.prod(input_shape), num_classes)


def _mlp(
    input_shape: Shape,
    num_classes: int,
    hidden: Sequence[int] = (128,),
    activation: str = "relu",
    dropout: float = 0.0,
    batchnorm: bool = False,
) -> nn.Module:
    return MLP(math.prod(input_shape), num_classes, hidden, activation, dropout, batchnorm)


def _cnn(
    input_shape: Shape,
    num_classes: int,
    conv: Sequence[int] = (32, 64),
    kernel_size: int = 3,
    padding: str | int = "same",
    pooling: str | None = "max",
    batchnorm: bool = False,
    dense: Sequence[int] = (128,),
    dropout: float = 0.0,
    activation: str = "relu",
) -> nn.Module:
    c, h, w = _image_shape("cnn", input_shape)
    return CNN(c, num_classes, (h, w), conv, kernel_size, padding, pooling, batchnorm, dense, dropout, activation)


def _three_c_three_d(input_shape: Shape, num_classes: int) -> nn.Module:
    if tuple(input_shape) != (3, 32, 32):
        raise ValueError(
            f"model '3c3d' needs input_shape (3, 32, 32), got {tuple(input_shape)}; "
            "load the data with image_size=32, channels=3 (and without flatten)"
        )
    return ThreeCThreeD(num_classes)


def _transfer(
    input_shape: Shape,
    num_classes: int,
    backbone: str = "resnet18",
    weights_path: str | None = None,
    freeze_backbone: bool = True,
) -> nn.Module:
    if _image_shape("transfer", input_shape)[0] != 3:
        raise ValueError(
            f"model 'transfer' needs 3 input channels, got input_shape={tuple(input_shape)}; "
            "load the data with channels=3"
        )
    return transfer_model(backbone, num_classes, weights_path, freeze_backbone)


#: Model name -> builder ``(input_shape, num_classes, **options) -> nn.Module``.
MODELS: dict[str, Callable[..., nn.Module]] = {
    "softmax": _softmax,
    "mlp": _mlp,
    "cnn": _cnn,
    "3c3d": _three_c_three_d,
    "transfer": _transfer,
}


def model_options(name: str) -> dict[str, Any]:
    """The options (and defaults) a model name accepts in a spec.

    Example:
        >>> model_options("mlp")["hidden"]
        (128,)
    """
    if name not in MODELS:
        raise ValueError(f"model name {name!r} is unknown; choose one of {sorted(MODELS)}")
    params = list(inspect.signature(MODELS[name]).parameters.values())[2:]
    return {p.name: p.default for p in params}


def _parse_init(init: str | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    if isinstance(init, str):
        return init, {}
    if isinstance(init, Mapping) and "scheme" in init:
        options = dict(init)
        return options.pop("scheme"), options
    raise ValueError(f"spec 'init' must be a scheme name or a dict with a 'scheme' key, got {init!r}")


def build_model(spec: Mapping[str, Any], input_shape: Shape, num_classes: int) -> nn.Module:
    """Build a model from a spec dict.

    Args:
        spec: ``{"name": <one of MODELS>, <option>: value, ...}`` plus an optional
            ``"init"``: a scheme name or ``{"scheme": ..., <init_weights option>: ...}``.
            Lists (from TOML/JSON) are fine wherever tuples are expected.
        input_shape: ``bundle.input_shape``: ``(C, H, W)`` or ``(D,)``.
        num_classes: ``bundle.num_classes``.

    Raises:
        ValueError: Unknown name or option (the message lists the valid ones).

    Example:
        >>> net = build_model({"name": "mlp", "hidden": [64], "activation": "tanh"}, (1, 8, 8), 10)
        >>> net.features[0]
        Linear(in_features=64, out_features=64, bias=True)
    """
    if not isinstance(spec, Mapping) or "name" not in spec:
        raise ValueError(f"model spec must be a dict with a 'name' key (one of {sorted(MODELS)}), got {spec!r}")
    options = dict(spec)
    name = options.pop("name")
    init = options.pop("init", None)
    valid = model_options(name)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"model {name!r} has no option(s) {unknown}; valid options are {sorted(valid)}")
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    model = MODELS[name](tuple(input_shape), num_classes, **options)
    if init is not None:
        scheme, init_options = _parse_init(init)
        init_weights(model, scheme, **init_options)
    return model
