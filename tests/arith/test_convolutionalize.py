"""Convolutionalization: same weights, same logits at the training size, a heatmap beyond it."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from segviz.arith import ReceptiveField, convolutionalize, receptive_field


def _meta(name: str, **kwargs) -> nn.Module:
    with torch.device("meta"):
        return getattr(torchvision.models, name)(**kwargs)


def _tiny_vgg(num_classes: int = 5) -> torchvision.models.VGG:
    """A real torchvision VGG without padding: stride 4, 34x34 inputs give the 7x7 the classifier reads."""
    with torch.device("meta"):  # skip the 4096-wide default classifier's init
        model = torchvision.models.VGG(nn.Sequential(), num_classes=num_classes, init_weights=False)
    model.features = nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3), nn.BatchNorm2d(16), nn.ReLU(inplace=True), nn.MaxPool2d(2),
    )
    model.classifier = nn.Sequential(
        nn.Linear(16 * 7 * 7, 32), nn.ReLU(True), nn.Dropout(),
        nn.Linear(32, 32), nn.ReLU(True), nn.Dropout(), nn.Linear(32, num_classes),
    )
    with torch.no_grad():
        model.features[4].running_mean.uniform_(-1, 1)
        model.features[4].running_var.uniform_(0.5, 2)
    return model.double().eval()


def test_vgg16_structure_and_names():
    vgg = _meta("vgg16")
    fcn = convolutionalize(vgg)
    fc6, fc7, fc8 = fcn.classifier[0], fcn.classifier[3], fcn.classifier[6]
    assert isinstance(fc6, nn.Conv2d) and fc6.weight.shape == (4096, 512, 7, 7)
    assert isinstance(fc7, nn.Conv2d) and fc7.weight.shape == (4096, 4096, 1, 1)
    assert isinstance(fc8, nn.Conv2d) and fc8.weight.shape == (1000, 4096, 1, 1)
    assert isinstance(fcn.avgpool, nn.Identity)
    names = dict(fcn.named_modules())
    assert names["features.30"] is fcn.features[30] and names["classifier.0"] is fc6
    # the original is untouched
    assert isinstance(vgg.classifier[0], nn.Linear) and isinstance(vgg.avgpool, nn.AdaptiveAvgPool2d)
    assert vgg.classifier[0].weight.shape == (4096, 25088)


@pytest.mark.parametrize("height, width", [(224, 224), (256, 320), (512, 384), (500, 375)])
def test_vgg16_heatmap_size(height, width):
    fcn = convolutionalize(_meta("vgg16", num_classes=21))
    out = fcn(torch.empty(2, 3, height, width, device="meta"))
    assert out.shape == (2, 21, (height - 224) // 32 + 1, (width - 224) // 32 + 1)


@pytest.mark.parametrize("name", ["vgg11", "vgg13_bn", "vgg19", "alexnet"])
def test_other_supported_architectures(name):
    fcn = convolutionalize(_meta(name, num_classes=10))
    assert fcn(torch.empty(1, 3, 288, 288, device="meta")).shape == (1, 10, 3, 3)


def test_published_rf_sizes_of_convolutionalized_nets():
    # Long, Shelhamer & Darrell (FCN, CVPR 2015), Table 1, "rf size": AlexNet 355, VGG16 404.
    vgg_fc6 = receptive_field(convolutionalize(_meta("vgg16")), "classifier.0", (1, 3, 512, 512))
    alex_fc6 = receptive_field(convolutionalize(_meta("alexnet")), "classifier.1", (1, 3, 512, 512))
    assert vgg_fc6 == ReceptiveField(404, 32, 90)  # pool5's 212 + (7 − 1)·32
    assert alex_fc6 == ReceptiveField(355, 32, 66)  # pool5's 195 + (6 − 1)·32
    # fc7 and fc8 are 1x1: they see what fc6 sees
    assert receptive_field(convolutionalize(_meta("vgg16")), "classifier.6", (1, 3, 512, 512)).size == 404


def test_alexnet_logits_equal_at_224_with_the_same_weights():
    torch.manual_seed(0)
    alexnet = torchvision.models.alexnet(num_classes=7).double().eval()
    fcn = convolutionalize(alexnet).eval()
    fc6 = fcn.classifier[1]
    assert fc6.weight.shape == (4096, 256, 6, 6)
    assert torch.equal(fc6.weight.flatten(1), alexnet.classifier[1].weight)  # the same numbers
    assert fc6.weight.data_ptr() != alexnet.classifier[1].weight.data_ptr()  # in a copy
    x = torch.randn(2, 3, 224, 224, dtype=torch.float64)
    with torch.no_grad():
        expected = alexnet(x)
        got = fcn(x)
    assert got.shape == (2, 7, 1, 1)
    torch.testing.assert_close(got.flatten(1), expected)
    with torch.no_grad():
        assert fcn(torch.randn(1, 3, 256, 320, dtype=torch.float64)).shape == (1, 7, 2, 4)


def test_tiny_vgg_is_a_sliding_window_classifier():
    # Without padding, each heatmap entry is exactly the classifier applied to one 34x34 crop,
    # taken every 4 pixels (the stride of features): the FCN computes all crops at once.
    torch.manual_seed(0)
    model = _tiny_vgg()
    fcn = convolutionalize(model).eval()
    assert torch.equal(fcn.classifier[0].weight.reshape(32, -1), model.classifier[0].weight)
    assert torch.equal(fcn.classifier[3].weight.reshape(32, 32), model.classifier[3].weight)
    x = torch.randn(1, 3, 34 + 4 * 3, 34 + 4 * 2, dtype=torch.float64)
    with torch.no_grad():
        heatmap = fcn(x)
        assert heatmap.shape == (1, 5, 4, 3)
        for i in range(4):
            for j in range(3):
                crop = x[:, :, 4 * i: 4 * i + 34, 4 * j: 4 * j + 34]
                torch.testing.assert_close(heatmap[:, :, i, j], model(crop))


def test_training_mode_is_kept_and_gradients_flow():
    model = _tiny_vgg().train()
    fcn = convolutionalize(model)
    assert fcn.training and fcn.classifier[2].training
    fcn(torch.randn(2, 3, 40, 40, dtype=torch.float64)).sum().backward()
    assert fcn.classifier[0].weight.grad is not None and model.classifier[0].weight.grad is None


def test_unsupported_models_say_what_is_supported():
    with pytest.raises(ValueError, match=r"a ResNet given; convolutionalize supports torchvision's VGG .* and AlexNet"):
        convolutionalize(_meta("resnet18"))
    with pytest.raises(ValueError, match="a str given"):
        convolutionalize("vgg16")
    modified = _meta("vgg11")
    modified.avgpool = nn.Identity()
    with pytest.raises(ValueError, match="this VGG has been modified"):
        convolutionalize(modified)
    odd = _meta("vgg11")
    odd.classifier[1] = nn.Sigmoid()
    with pytest.raises(ValueError, match="classifier.1 is a Sigmoid"):
        convolutionalize(odd)
