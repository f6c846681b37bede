"""Transfer backbones load a user-provided state_dict and get a new head."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from debugkit.models import transfer_model


@pytest.fixture(scope="module")
def resnet_weights(tmp_path_factory):
    torch.manual_seed(123)
    reference = torchvision.models.resnet18(weights=None)  # ImageNet-shaped: 1000-class fc
    path = tmp_path_factory.mktemp("weights") / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    return path, reference.state_dict()


def test_loads_backbone_weights_and_replaces_the_head(resnet_weights):
    path, state = resnet_weights
    model = transfer_model("resnet18", num_classes=7, weights_path=path)
    torch.testing.assert_close(model.conv1.weight, state["conv1.weight"])
    torch.testing.assert_close(model.layer4[1].bn2.running_var, state["layer4.1.bn2.running_var"])
    assert isinstance(model.fc, nn.Linear) and model.fc.out_features == 7 and model.fc.in_features == 512
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 7)


def test_frozen_backbone_trains_only_the_head(resnet_weights):
    path, _ = resnet_weights
    model = transfer_model("resnet18", num_classes=10, weights_path=path, freeze_backbone=True)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"fc.weight", "fc.bias"}
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    assert model.fc.weight.grad is not None and model.conv1.weight.grad is None


def test_unfrozen_backbone_trains_everything(resnet_weights):
    path, _ = resnet_weights
    model = transfer_model("resnet18", num_classes=10, weights_path=path, freeze_backbone=False)
    assert all(p.requires_grad for p in model.parameters())


def test_nested_head_path(tmp_path):
    torch.manual_seed(0)
    reference = torchvision.models.mobilenet_v3_small(weights=None)
    torch.save(reference.state_dict(), tmp_path / "m.pth")
    model = transfer_model("mobilenet_v3_small", num_classes=4, weights_path=tmp_path / "m.pth")
    assert model.classifier[3].out_features == 4
    torch.testing.assert_close(model.features[0][0].weight, reference.features[0][0].weight)
    assert {n for n, p in model.named_parameters() if p.requires_grad} == {"classifier.3.weight", "classifier.3.bias"}


def test_missing_weights_file_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"never downloads.*resnet18-f37072fd\.pth"):
        transfer_model("resnet18", weights_path=tmp_path / "nope.pth")


def test_wrong_state_dict_is_rejected(tmp_path):
    torch.save(nn.Linear(3, 3).state_dict(), tmp_path / "linear.pth")
    with pytest.raises(ValueError, match="not a state_dict of torchvision's resnet18"):
        transfer_model("resnet18", weights_path=tmp_path / "linear.pth")


def test_pickled_objects_are_refused_by_weights_only_loading(tmp_path):
    torch.save(torchvision.models.resnet18(weights=None), tmp_path / "whole_model.pth")
    with pytest.raises(ValueError, match="weights_only=True"):
        transfer_model("resnet18", weights_path=tmp_path / "whole_model.pth")


def test_random_frozen_backbone_warns_and_unknown_backbone_errors():
    with pytest.warns(UserWarning, match="random backbone"):
        transfer_model("resnet18", num_classes=3)
    with pytest.raises(ValueError, match=r"backbone='vit'.*resnet18"):
        transfer_model("vit")
