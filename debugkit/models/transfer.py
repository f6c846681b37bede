"""Torchvision backbones with a new classification head, from local weight files only."""

from __future__ import annotations

import os
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import torch
from torch import nn

from debugkit.models._checks import positive_int


@dataclass(frozen=True)
class Backbone:
    """How to build a torchvision model and where its classification head sits.

    Attributes:
        builder: Function name in ``torchvision.models`` (called with ``weights=None``).
        head: Dotted path of the final ``nn.Linear`` (``"fc"``, ``"classifier.3"``).
        weights: Name of the torchvision weights enum, for the download hint.
    """

    builder: str
    head: str
    weights: str

    def build(self) -> nn.Module:
        import torchvision.models

        return getattr(torchvision.models, self.builder)(weights=None)

    def weights_url(self) -> str:
        import torchvision.models

        try:
            return getattr(torchvision.models, self.weights).DEFAULT.url
        except AttributeError:
            return f"torchvision.models.{self.weights}"


#: Backbone name -> :class:`Backbone`.
BACKBONES: dict[str, Backbone] = {
    "resnet18": Backbone("resnet18", "fc", "ResNet18_Weights"),
    "resnet34": Backbone("resnet34", "fc", "ResNet34_Weights"),
    "resnet50": Backbone("resnet50", "fc", "ResNet50_Weights"),
    "mobilenet_v3_small": Backbone("mobilenet_v3_small", "classifier.3", "MobileNet_V3_Small_Weights"),
    "efficientnet_b0": Backbone("efficientnet_b0", "classifier.1", "EfficientNet_B0_Weights"),
}


def _replace(model: nn.Module, path: str, module: nn.Module) -> None:
    parent_path, _, name = path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    setattr(parent, name, module)


def _load_backbone_weights(model: nn.Module, spec: Backbone, name: str, path: Path) -> None:
    if not path.is_file():
        raise FileNotFoundError(
            f"weights_path {str(path)!r} does not exist. debugkit never downloads weights: fetch the "
            f"{name} state_dict (e.g. {spec.weights_url()}) on a machine with network access and "
            "pass the path of the .pth file"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(
            f"weights_path {str(path)!r} holds pickled Python objects, not plain tensors; debugkit loads "
            "weights with torch.load(..., weights_only=True) so a weights file cannot run code. "
            "Re-save it with torch.save(model.state_dict(), path)"
        ) from err
    if not isinstance(state, Mapping):
        raise TypeError(
            f"weights_path {str(path)!r} holds a {type(state).__name__}, not a state_dict; "
            f"save it with torch.save(model.state_dict(), path) from torchvision's {name}"
        )
    head_keys = {k for k in model.state_dict() if k.startswith(spec.head + ".")}
    # The head is always new; the file's head (e.g. 1000 ImageNet classes) is ignored.
    state = {k: v for k, v in state.items() if k not in head_keys}
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as err:  # shape mismatch
        raise ValueError(
            f"weights_path {str(path)!r} does not fit torchvision's {name}: {err}"
        ) from err
    missing = [k for k in missing if k not in head_keys]
    if missing or unexpected:
        raise ValueError(
            f"weights_path {str(path)!r} is not a state_dict of torchvision's {name}: "
            f"missing keys {missing[:5]}{'...' if len(missing) > 5 else ''}, "
            f"unexpected keys {list(unexpected)[:5]}{'...' if len(unexpected) > 5 else ''}"
        )


def transfer_model(
    backbone: str = "resnet18",
    num_classes: int = 10,
    weights_path: str | os.PathLike | None = None,
    freeze_backbone: bool = True,
) -> nn.Module:
    """A torchvision backbone with a fresh ``nn.Linear`` head for ``num_classes``.

    Weights come only from a file you provide (``torch.load(..., weights_only=True)``);
    nothing is downloaded. The file's own head is ignored. Inputs must have 3 channels
    (load grey data with ``channels=3``).

    Note that a frozen backbone's BatchNorm layers still update their running
    statistics in ``train()`` mode.

    Args:
        backbone: Name from :data:`BACKBONES`.
        num_classes: Outputs of the new head.
        weights_path: A ``state_dict`` of the torchvision model (e.g. the ImageNet
            ``resnet18-f37072fd.pth``). ``None`` keeps random weights.
        freeze_backbone: Set ``requires_grad=False`` on everything but the head.

    Returns:
        The torchvision model with its head replaced.

    Example:
        >>> net = transfer_model("resnet18", 10, weights_path="resnet18-f37072fd.pth")  # doctest: +SKIP
    """
    if backbone not in BACKBONES:
        raise ValueError(f"backbone={backbone!r} is unknown; choose one of {sorted(BACKBONES)}")
    spec = BACKBONES[backbone]
    model = spec.build()
    if weights_path is not None:
        _load_backbone_weights(model, spec, backbone, Path(weights_path))
    elif freeze_backbone:
        warnings.warn(
            f"transfer_model({backbone!r}) without weights_path keeps a random backbone; with "
            "freeze_backbone=True only the head learns, on random features",
            stacklevel=2,
        )
    old_head = model.get_submodule(spec.head)
    _replace(model, spec.head, nn.Linear(old_head.in_features, positive_int("num_classes", num_classes)))
    if freeze_backbone:
        for name, param in model.named_parameters():
            param.requires_grad_(name.startswith(spec.head + "."))
    return model
