"""FCN-32s/16s/8s: shared model tests, bilinear initialisation, zero-initialised skips, alignment."""

from __future__ import annotations

import re
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from segviz.models import FCN, FCN8s, FCN16s, FCN32s, FCNEncoder
from segviz.ops import bilinear_kernel
from tests.models.base import ModelTests

TINY = dict(channels=(4, 4, 8, 8, 8), num_convs=1, fc_channels=16)


def bilinear_upsample(x: torch.Tensor, factor: int) -> torch.Tensor:
    """FCN's upsampling written out with the functional op: kernel 2f, stride f, padding f/2."""
    weight = bilinear_kernel(x.shape[1], 2 * factor, dtype=x.dtype)
    return F.conv_transpose2d(x, weight, stride=factor, padding=factor // 2)


class FCNTests(ModelTests):
    input_size = (64, 64)
    odd_sizes = ((37, 45), (64, 33), (1, 1), (95, 97))
    max_parameters = 150_000  # FCN-32s's fixed 64x64 upsampling kernel alone has num_classes² · 4096


class TestFCN32s(FCNTests):
    model_factory = staticmethod(partial(FCN32s, **TINY))


class TestFCN16s(FCNTests):
    model_factory = staticmethod(partial(FCN16s, **TINY))


class TestFCN8s(FCNTests):
    model_factory = staticmethod(partial(FCN8s, **TINY))


def make(cls, seed=0, **kwargs):
    torch.manual_seed(seed)
    return cls(num_classes=3, **{**TINY, **kwargs})


def test_the_three_variants_come_from_one_builder():
    for cls, variant, factor in [(FCN32s, "32s", 32), (FCN16s, "16s", 16), (FCN8s, "8s", 8)]:
        model = make(cls)
        assert type(model).__mro__[1] is FCN and model.variant == variant
        # FCN's final upsampling: kernel 2f, stride f (64/32, 32/16, 16/8)
        assert model.head.kernel_size == (2 * factor,) * 2 and model.head.stride == (factor,) * 2
    assert make(FCN8s).decoder.upscore2.kernel_size == (4, 4)
    assert str(FCN(3, "16s", **TINY)) == str(FCN16s(3, **TINY)).replace("FCN16s", "FCN", 1)


@pytest.mark.parametrize("cls", [FCN32s, FCN16s, FCN8s])
def test_upsampling_equals_bilinear_interpolation_inside(cls):
    # untrained: the final transposed convolution is F.interpolate(..., "bilinear") away from the border
    model = make(cls).eval()
    with torch.no_grad():
        logits, scores = model(torch.randn(2, 3, 96, 128), return_scores=True)
    factor = {FCN32s: 32, FCN16s: 16, FCN8s: 8}[cls]
    coarse = scores[factor]
    expected = F.interpolate(coarse, scale_factor=factor, mode="bilinear", align_corners=False)
    b = factor // 2
    assert_close(logits[..., b:-b, b:-b], expected[..., b:-b, b:-b], rtol=1e-4, atol=1e-5)
    assert not torch.allclose(logits[..., :b, :], expected[..., :b, :], atol=1e-4)  # the border differs


def test_skip_score_layers_start_at_zero_so_fcn8s_starts_as_the_coarse_prediction():
    fcn8s = make(FCN8s).eval()
    for layer in (fcn8s.decoder.score_pool4, fcn8s.decoder.score_pool3):
        assert not layer.weight.any() and not layer.bias.any()
    fcn32s = make(FCN32s).eval()  # same seed: same encoder and score_fr
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        logits8, scores8 = fcn8s(x, return_scores=True)
        logits32, scores32 = fcn32s(x, return_scores=True)
    assert_close(scores8[32], scores32[32])
    # the skips add exactly nothing: FCN-8s = FCN-32s's scores through the 2x, 2x and 8x bilinear layers
    assert torch.equal(scores8[16], fcn8s.decoder.upscore2(scores8[32]))
    expected = bilinear_upsample(bilinear_upsample(bilinear_upsample(scores32[32], 2), 2), 8)
    assert_close(logits8, expected, rtol=1e-4, atol=1e-5)
    # ... which is FCN-32s's own prediction wherever the coarse scores vary linearly (composed
    # bilinear upsamplings are not one bilinear upsampling in general): on a constant image,
    # far from the border that the padded convolutions see
    flat = torch.ones(1, 3, 512, 512)
    with torch.no_grad():
        inside = (..., slice(192, -192), slice(192, -192))
        assert_close(fcn8s(flat)[inside], fcn32s(flat)[inside], rtol=1e-4, atol=1e-5)


def test_without_zero_init_the_skips_contribute_from_the_start():
    model = make(FCN8s, zero_init_skips=False)
    assert model.decoder.score_pool3.weight.any()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        _, scores = model.eval()(x, return_scores=True)
        assert not torch.equal(scores[16], model.decoder.upscore2(scores[32]))


def test_final_upsampling_is_fixed_unless_asked():
    model = make(FCN8s)
    assert not model.head.weight.requires_grad and model.decoder.upscore2.weight.requires_grad
    before = model.head.weight.clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    F.cross_entropy(model(torch.randn(2, 3, 32, 32)), torch.zeros(2, 32, 32, dtype=torch.long)).backward()
    optimizer.step()
    assert torch.equal(model.head.weight, before)
    assert torch.equal(before, bilinear_kernel(3, 16))
    assert make(FCN8s, freeze_final_upsampling=False).head.weight.requires_grad


def test_odd_sizes_are_padded_then_cropped_at_offset_zero():
    # a 50x70 image gives exactly the top-left 50x70 of the prediction for the image zero-padded to 64x96
    model = make(FCN8s).eval()
    x = torch.randn(1, 3, 50, 70)
    with torch.no_grad():
        cropped = model(x)
        padded = model(F.pad(x, (0, 96 - 70, 0, 64 - 50)))
    assert cropped.shape[-2:] == (50, 70)
    assert torch.equal(cropped, padded[..., :50, :70])


def test_score_maps_have_one_unit_per_stride_block_of_the_image():
    model = make(FCN8s).eval()
    with torch.no_grad():
        _, scores = model(torch.randn(1, 3, 50, 70), return_scores=True)
    assert list(scores) == [32, 16, 8]
    assert {s: tuple(m.shape[-2:]) for s, m in scores.items()} == {32: (2, 3), 16: (4, 5), 8: (7, 9)}
    _, only = make(FCN32s).eval()(torch.randn(1, 3, 64, 64), return_scores=True)
    assert list(only) == [32]


def test_small_encoder_strides():
    encoder = FCNEncoder.small(3, **TINY)
    features = encoder(torch.zeros(1, 3, 96, 64))
    assert features["pool3"].shape[-2:] == (12, 8)
    assert features["pool4"].shape[-2:] == (6, 4)
    assert features["fc7"].shape == (1, 16, 3, 2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(variant="4s"), "variant '4s' given; variant must be one of '32s', '16s', '8s'"),
        (dict(channels=(4, 8)), "channels (4, 8) given; channels must be 5 integers >= 1, one per stage"),
        (dict(fc_kernel_size=4), "fc_kernel_size 4 given; fc_kernel_size must be odd"),
        (dict(dropout=1.5), "dropout 1.5 given; dropout must be a number in [0, 1)"),
        (dict(backbone="resnet"), "backbone 'resnet' given; backbone must be one of 'small', 'vgg16'"),
        (dict(weights="IMAGENET1K_V1"), "only backbone='vgg16' has torchvision weights"),
        (dict(backbone="vgg16", channels=(8,) * 5), "channels given with backbone='vgg16'"),
        (dict(backbone="vgg16", in_channels=1), "VGG16 takes RGB images, in_channels=3"),
        (dict(num_classes=0), "num_classes 0 given; num_classes must be an integer >= 1"),
    ],
)
def test_bad_arguments_say_what_would_work(kwargs, message):
    kwargs = {"num_classes": 3, "variant": "8s", **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        FCN(**kwargs)


def test_vgg16_weights_are_never_downloaded(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(ValueError, match="segviz never downloads"):
        FCN8s(21, backbone="vgg16", weights="IMAGENET1K_V1")
    with pytest.raises(ValueError, match="weights must be None or one of VGG16_Weights"):
        FCN8s(21, backbone="vgg16", weights="imagenet")


@pytest.mark.slow
def test_vgg16_backbone_convolutionalized():
    # the one test that builds torchvision's VGG16 (138 million parameters, about 2 s)
    torch.manual_seed(0)
    model = FCN8s(21, backbone="vgg16", dropout=0.0).eval()
    fc6 = model.encoder.fc6[0]
    assert fc6.kernel_size == (7, 7) and fc6.in_channels == 512 and fc6.out_channels == 4096
    assert fc6.padding == (3, 3)  # "same": keeps pool5's size, so the maps stay aligned
    assert [len(stage) for stage in model.encoder.stages] == [5, 5, 7, 7, 7]  # conv/ReLU pairs + pool
    assert model.decoder.score_pool4.in_channels == 512 and model.decoder.score_pool3.in_channels == 256
    with torch.no_grad():
        logits, scores = model(torch.randn(1, 3, 64, 80), return_scores=True)
    assert logits.shape == (1, 21, 64, 80)
    assert scores[32].shape[-2:] == (2, 3)
