"""DeepLabV3 and ASPP: shared model tests, branches, output stride, receptive field and rates."""

from __future__ import annotations

import re
from functools import partial

import pytest
import torch

from segviz.arith import gradient_receptive_field
from segviz.models import ASPP, AtrousResNet, DeepLabV3, ImagePooling
from tests.models.base import ModelTests

TINY = dict(channels=(4, 8, 8, 16), num_blocks=1, aspp_channels=8)


class TestDeepLabV3(ModelTests):
    model_factory = staticmethod(partial(DeepLabV3, **TINY))
    input_size = (64, 64)
    odd_sizes = ((37, 45), (1, 1), (17, 100))
    max_parameters = 30_000


class TestDeepLabV3OutputStride8(ModelTests):
    model_factory = staticmethod(partial(DeepLabV3, output_stride=8, rates=(2, 4, 6), **TINY))
    input_size = (48, 40)
    odd_sizes = ((37, 45),)
    max_parameters = 30_000


@pytest.mark.parametrize("rates", [(6, 12, 18), (1,), (2, 4, 8, 16)])
def test_aspp_has_a_1x1_branch_one_per_rate_and_image_pooling(rates):
    aspp = ASPP(16, 8, rates)
    assert len(aspp.branches) == len(rates) + 2
    assert aspp.branches[0].conv.kernel_size == (1, 1)
    assert [b.conv.dilation[0] for b in aspp.branches[1:-1]] == list(rates)
    assert [b.conv.padding[0] for b in aspp.branches[1:-1]] == list(rates)  # each keeps the size
    assert isinstance(aspp.branches[-1], ImagePooling)
    assert aspp.project[0].conv.in_channels == 8 * (len(rates) + 2)  # concatenated
    assert aspp(torch.randn(2, 16, 7, 9)).shape == (2, 8, 7, 9)


def test_image_pooling_is_the_same_everywhere_and_sees_the_whole_image():
    torch.manual_seed(0)
    branch = ImagePooling(4, 3).train()
    x = torch.randn(2, 4, 6, 5, requires_grad=True)
    out = branch(x)
    assert torch.equal(out, out[..., :1, :1].expand_as(out))
    out[0, :, 0, 0].sum().backward()
    assert (x.grad[0] != 0).all()  # one corner output depends on every input pixel


def test_image_pooling_explains_a_batch_of_one_in_training():
    aspp = ASPP(4, 4, (1, 2)).train()
    with pytest.raises(ValueError, match=re.escape("a batch of 1 given in training mode") + ".*model.eval"):
        aspp(torch.randn(1, 4, 5, 5))


def test_default_rates_follow_the_output_stride():
    assert DeepLabV3(3, output_stride=16, **TINY).decoder.aspp.rates == (6, 12, 18)
    assert DeepLabV3(3, output_stride=8, **TINY).decoder.aspp.rates == (12, 24, 36)  # doubled
    assert DeepLabV3(3, output_stride=8, rates=(1, 2), **TINY).decoder.aspp.rates == (1, 2)


@pytest.mark.parametrize("size", [(64, 64), (70, 45)])
def test_output_stride_sets_the_feature_map_size(size):
    x = torch.randn(2, 3, *size)
    for output_stride in (16, 8):
        model = DeepLabV3(3, output_stride=output_stride, **TINY).eval()
        expected = tuple(-(-n // output_stride) for n in size)  # every strided layer rounds up
        assert model.encoder(x).shape[-2:] == expected
        assert model.encoder.output_stride == output_stride
        assert model(x).shape[-2:] == size


def test_atrous_stages_trade_stride_for_dilation():
    dilations = {
        os: [[block.dilation for block in stage] for stage in AtrousResNet(channels=(4, 4, 8, 8), output_stride=os).stages]
        for os in (32, 16, 8)
    }
    assert dilations[32] == [[1, 1], [1, 1], [1, 1], [1, 1]]
    assert dilations[16] == [[1, 1], [1, 1], [1, 1], [1, 2]]  # torchvision: first block keeps the previous rate
    assert dilations[8] == [[1, 1], [1, 1], [1, 2], [2, 4]]


def test_receptive_field_grows_with_the_rates():
    torch.manual_seed(0)
    size = (1, 3, 512, 512)
    backbone, fields = None, {}
    for rates in [(1, 2, 3), (2, 4, 6)]:
        model = DeepLabV3(3, output_stride=8, rates=rates, **TINY)
        backbone = gradient_receptive_field(model, "encoder", size)
        for branch, rate in enumerate(rates, start=1):
            field = gradient_receptive_field(model, f"decoder.aspp.branches.{branch}", size)
            # a 3x3 kernel of rate r on a stride-8 map reaches 2·r·8 more input pixels
            assert field.size == backbone.size + 2 * rate * 8, (rates, rate)
            fields[rate] = field.size
    assert fields[1] < fields[2] < fields[3] < fields[4] < fields[6]
    assert backbone.stride == 8


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(output_stride=4), "output_stride 4 given; output_stride must be one of 16, 8"),
        (dict(rates=()), "rates () given; rates must be one or more integers >= 1"),
        (dict(rates=(6, 0)), "rates (6, 0) given; rates must be one or more integers >= 1"),
        (dict(backbone="vgg"), "backbone 'vgg' given; backbone must be one of 'small', 'resnet50'"),
        (dict(channels=(4, 8)), "channels (4, 8) given; channels must be 4 integers >= 1"),
        (dict(weights="IMAGENET1K_V2"), "only backbone='resnet50' has torchvision weights"),
        (dict(backbone="resnet50", channels=(4, 8, 8, 16)), "channels given with backbone='resnet50'"),
    ],
)
def test_bad_arguments_say_what_would_work(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        DeepLabV3(3, **kwargs)


def test_resnet50_backbone_dilates_its_last_stages():
    with torch.device("meta"):  # torchvision's ResNet-50 (25 million parameters): shapes only
        model = DeepLabV3(21, output_stride=8, backbone="resnet50").eval()
        x = torch.empty(1, 3, 64, 64)
        features = model.encoder(x)
        out = model(x)
    assert features.shape == (1, 2048, 8, 8)
    assert out.shape == (1, 21, 64, 64)
    assert model.encoder.layer4[0].conv2.dilation == (2, 2) and model.encoder.layer4[1].conv2.dilation == (4, 4)
    assert model.decoder.aspp.project[0].conv.out_channels == 256
