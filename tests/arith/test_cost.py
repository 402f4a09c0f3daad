"""Cost arithmetic, checked against published numbers and against PyTorch's own layers."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from segviz.arith import count_flops, dense_output_parameters, sliding_window_cost


def test_count_flops_matches_published_mult_adds():
    # Published (torchvision model docs, papers): AlexNet 0.71 GMACs, VGG16 15.47 GMACs, ResNet-18
    # 1.81 GMACs at 224x224; FlopCounterMode counts a multiply-add as 2 FLOPs.
    gmacs = lambda model: count_flops(model, (1, 3, 224, 224)) / 2e9  # noqa: E731
    with torch.device("meta"):  # no memory, no weight initialisation
        alexnet, vgg16, resnet18 = (torchvision.models.alexnet(), torchvision.models.vgg16(), torchvision.models.resnet18())
    assert gmacs(alexnet) == pytest.approx(0.71, abs=0.01)
    assert gmacs(vgg16) == pytest.approx(15.47, abs=0.01)
    assert gmacs(resnet18) == pytest.approx(1.81, abs=0.01)


@pytest.mark.parametrize("stride, padding, groups", [(1, 0, 1), (2, 1, 1), (1, 2, 4)])
def test_count_flops_conv_formula(stride, padding, groups):
    conv = nn.Conv2d(8, 16, kernel_size=3, stride=stride, padding=padding, groups=groups, bias=False)
    out = conv(torch.zeros(2, 8, 11, 13))  # real forward for the output shape
    macs_per_output = (8 // groups) * 3 * 3
    assert count_flops(conv, (2, 8, 11, 13)) == 2 * out.numel() * macs_per_output


def test_count_flops_does_not_touch_weights():
    model = nn.Linear(4, 3)
    before = model.weight.detach().clone()
    assert count_flops(model, (5, 4)) == 2 * 5 * 4 * 3
    assert model.weight.device.type == "cpu" and torch.equal(model.weight, before)


def test_count_flops_bad_input():
    with pytest.raises(ValueError, match="model of type str given"):
        count_flops("alexnet", (1, 3, 8, 8))
    with pytest.raises(ValueError, match="input_size 0 given"):
        count_flops(nn.Identity(), (1, 0))


def test_sliding_window_cost_counts():
    cost = sliding_window_cost((4, 6), (3, 5), flops_per_window=10)
    assert (cost.windows, cost.pixels_read, cost.redundancy, cost.total_flops) == (24, 360, 15, 240)
    assert cost.speedup_over(24) == 10
    with pytest.raises(ValueError, match="window 0 given"):
        sliding_window_cost(8, 0)


def test_sliding_window_reads_equal_unfold():
    # The pixels read are exactly what F.unfold extracts with one window per pixel.
    x = torch.zeros(1, 1, 9, 7)
    patches = nn.functional.unfold(x, kernel_size=(5, 3), padding=(2, 1))  # [1, 5*3, 9*7]
    cost = sliding_window_cost((9, 7), (5, 3))
    assert patches.numel() == cost.pixels_read and patches.shape[-1] == cost.windows


def test_dense_output_parameters_equals_linear_layer():
    in_shape, out_shape = (3, 3, 4), (5, 5, 2)
    layer = nn.Linear(3 * 3 * 4, 5 * 5 * 2)
    assert dense_output_parameters(in_shape, out_shape) == sum(p.numel() for p in layer.parameters())
    assert dense_output_parameters(in_shape, out_shape, bias=False) == layer.weight.numel()


def test_dense_output_parameters_seed_numbers():
    # 13x13x128 conv5 features -> 227x227x21 scores: 13*13*128*227*227*21 weights.
    assert dense_output_parameters((13, 13, 128), (227, 227, 21), bias=False) == 23_408_181_888


def test_count_flops_counts_a_training_mode_model_as_at_inference_and_keeps_its_mode():
    # DeepLabV3's image pooling refuses a batch of 1 in training mode (BN of one value per channel)
    from segviz.models import DeepLabV3

    model = DeepLabV3(num_classes=3)
    assert model.training
    assert count_flops(model, (1, 3, 64, 64)) == count_flops(model.eval(), (1, 3, 64, 64)) > 0
    model.train()
    count_flops(model, (1, 3, 64, 64))
    assert model.training


def test_count_flops_runs_through_max_unpooling_decoders():
    # SegNet and DeconvNet unpool with the encoder's indices; on the meta device they have no values
    from segviz.models import DeconvNet, SegNet

    for model in (SegNet(3, in_channels=3), DeconvNet(3, in_channels=3)):
        assert count_flops(model, (1, 3, 64, 64)) > count_flops(model.encoder, (1, 3, 64, 64)) > 0
