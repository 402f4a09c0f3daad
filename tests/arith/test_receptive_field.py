"""Receptive fields: the recurrence, the traced version for any network, and the gradient measurement.

The three methods are independent (integer recurrence; per-unit windows carried through a meta
forward pass; non-zero input gradients of a positive-weight copy), so agreement between them is
evidence, and the published numbers (VGG16 pool5: 212 px, stride 32, padding 90; AlexNet pool5:
195 px; the FCN paper's "rf size" of the convolutionalized nets, tested in test_convolutionalize)
anchor them.
"""

from __future__ import annotations

import sys
import time
import warnings

import pytest
import torch
import torchvision
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

from segviz.arith import (
    LayerReceptiveField,
    ReceptiveField,
    compose,
    conv_output_size,
    gradient_receptive_field,
    input_size_for,
    receptive_field,
    receptive_fields,
)

# The seed's InceptionV3 chain: the layers that shrink the map (the padded ones keep its size and
# are left out): Conv2d_1a (3, stride 2), Conv2d_2a (3), maxpool1 (3, s2), Conv2d_4a (3),
# maxpool2 (3, s2), Mixed_6a (3, s2), Mixed_7a (3, s2).
INCEPTION_CHAIN = [(3, 2), (3, 1), (3, 2), (3, 1), (3, 2), (3, 2), (3, 2)]


def _meta(name: str, **kwargs) -> nn.Module:
    with torch.device("meta"):  # no weights, no init: instant
        return getattr(torchvision.models, name)(**kwargs)


@pytest.fixture(scope="module")
def inception():
    return _meta("inception_v3", init_weights=False, aux_logits=False)


# -- compose / input_size_for ---------------------------------------------------------------------

def test_compose_seed_examples():
    assert compose([(5, 3), (3, 2)]) == ReceptiveField(11, 6, 0)  # the seed's compound kernel
    assert compose([(3, 1), (3, 1)]).size == 5
    assert compose([(3, 1, 1, 2)]) == ReceptiveField(5, 1, 1)  # dilation 2: effective kernel 5
    assert compose([((3, 5), 1, (1, 2))]) == ReceptiveField((3, 5), 1, (1, 2))


def test_compose_accepts_modules_and_dicts():
    layers = [nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(8), {"kernel_size": 2, "stride": 2}]
    assert compose(layers) == ReceptiveField(4, 2, 1)
    assert compose(nn.Sequential(nn.Conv2d(1, 1, 4, padding="same"), nn.MaxPool2d(3, 2, 1))) == ReceptiveField(6, 2, 2)


def test_compose_vgg16_and_alexnet_features_give_the_published_numbers():
    assert compose(_meta("vgg16").features) == ReceptiveField(212, 32, 90)
    assert compose(_meta("alexnet").features) == ReceptiveField(195, 32, 66)


def test_seed_inception_arithmetic():
    # D_in = (((((D_out − 1)·2 + 2)·2 + 2)·2 + 4)·2 + 4)·2 + 3 = 32·D_out + 43
    assert input_size_for(INCEPTION_CHAIN, 1) == 75  # the "kernel size" and smallest input
    assert input_size_for(INCEPTION_CHAIN, 8) == 299  # the canonical input size
    for d_out in (2, 5, 17):
        assert input_size_for(INCEPTION_CHAIN, d_out) == 32 * d_out + 43
    assert compose(INCEPTION_CHAIN) == ReceptiveField(75, 32, 0)


def test_true_inception_receptive_field_is_far_larger_than_75(inception):
    # The padded 3x3, 5x5 and 7x1/1x7 convolutions inside the Mixed blocks keep the map's size but
    # grow the window: the true receptive field of Mixed_7c is 1311 pixels, not 75. 75 is the
    # smallest input the network accepts, which the real model confirms.
    true = receptive_field(inception, "Mixed_7c", (1, 3, 299, 299))
    assert (true.size, true.stride, true.padding) == (1311, 32, 618)
    assert true.size > input_size_for(INCEPTION_CHAIN, 1)
    assert receptive_field(inception, "Mixed_7c", (1, 3, 75, 75)).size == 1311
    with pytest.raises(ValueError, match="input_size .*74, 74.* failed.*larger input_size"):
        receptive_field(inception, "Mixed_7c", (1, 3, 74, 74))


layer_strategy = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2))


@settings(max_examples=300, deadline=None)
@given(layers=st.lists(layer_strategy, min_size=1, max_size=5), d_out=st.integers(1, 4))
def test_input_size_for_is_the_smallest_input_that_works(layers, d_out):
    def output(n: int) -> int:
        for k, s, p, d in layers:
            try:
                n = conv_output_size(n, k, s, p, d)
            except ValueError:
                return 0
        return n

    n = input_size_for(layers, d_out)
    assert output(n) >= d_out
    assert n == 1 or output(n - 1) < d_out


def test_input_size_for_ceil_mode_pooling():
    # GoogLeNet's pools round up: 2 pixels already give one output of a 3x3 stride-2 pool.
    assert input_size_for([{"kernel_size": 3, "stride": 2, "ceil_mode": True}]) == 2
    assert input_size_for([nn.MaxPool2d(3, 2)]) == 3


def test_compose_bad_layers_teach():
    with pytest.raises(ValueError, match=r"layer 0 'conv3x3' given; a layer must be a tuple"):
        compose(["conv3x3"])
    with pytest.raises(ValueError, match=r"layer 1 stride 0 given"):
        compose([(3, 1), (3, 0)])
    with pytest.raises(ValueError, match=r"needs 'kernel_size'.*unknown: kernel"):
        compose([{"kernel": 3}])
    with pytest.raises(ValueError, match=r"layer 0 is a LSTM.*receptive_field\(model, layer_name\)"):
        compose([nn.LSTM(2, 2)])
    with pytest.raises(ValueError, match="layers 3 given"):
        compose(3)
    with pytest.raises(ValueError, match="layer 0 padding 2 given with kernel_size 3; pooling padding must be at most half the kernel size, i.e. at most 1"):
        compose([nn.MaxPool2d(3, padding=2)])


# -- receptive_field on any module ----------------------------------------------------------------

def test_published_pool5_numbers():
    assert receptive_field(_meta("vgg16"), "features.30") == ReceptiveField(212, 32, 90)
    assert receptive_field(_meta("alexnet"), "features.12") == ReceptiveField(195, 32, 66)


@settings(max_examples=60, deadline=None)
@given(layers=st.lists(layer_strategy, min_size=1, max_size=5), pool=st.booleans())
def test_traced_sequential_matches_compose(layers, pool):
    modules = [nn.Conv2d(1, 1, k, s, p, d, device="meta") for k, s, p, d in layers]
    if pool:
        modules.insert(1, nn.MaxPool2d(2, 2, 1))
    net = nn.Sequential(*modules)
    size = input_size_for(list(net), 2)
    traced = receptive_field(net, str(len(net) - 1), (1, 1, size, size))
    expected = compose(list(net))
    assert (traced.size, traced.stride, traced.padding) == (expected.size, expected.stride, expected.padding)


small_layer = st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(0, 1), st.integers(1, 2))


@settings(max_examples=40, deadline=None)
@given(layers=st.lists(small_layer, min_size=1, max_size=4), pool=st.sampled_from([None, 2, 3]),
       ceil_mode=st.booleans())
def test_gradient_measurement_agrees_on_random_stacks(layers, pool, ceil_mode):
    modules = [nn.Conv2d(1, 2, 1)] + [nn.Conv2d(2, 2, k, s, p, d) for k, s, p, d in layers]
    if pool:
        modules.insert(2, nn.MaxPool2d(pool, 2, pool // 2, ceil_mode=ceil_mode))
    net = nn.Sequential(*modules)
    expected = compose(list(net))
    size = 3 * expected.size + 4 * expected.stride  # the centre unit's window lies inside
    assert receptive_field(net, str(len(net) - 1), (1, 1, size, size)) == expected
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradient_receptive_field(net, str(len(net) - 1), (1, 1, size, size)) == expected


def test_resnet50_follows_its_main_path_and_is_fast():
    model = _meta("resnet50")
    start = time.perf_counter()
    field = receptive_field(model, "layer4")
    elapsed = time.perf_counter() - start
    # the 1x1 shortcuts see less than the 3x3 path, so the union is the main path's recurrence
    main_path = [model.conv1, model.maxpool] + [
        conv for block in [*model.layer1, *model.layer2, *model.layer3, *model.layer4]
        for conv in (block.conv1, block.conv2, block.conv3)
    ]
    assert field == compose(main_path) == ReceptiveField(427, 32, 213)
    assert elapsed < 2.0, f"receptive_field(resnet50) took {elapsed:.2f} s"


class TwoBranches(nn.Module):
    """A 3x3 and a dilated 3x3 (effective 5x5) branch, added; then a 1x1 and a 3x3 branch, concatenated."""

    def __init__(self) -> None:
        super().__init__()
        self.narrow = nn.Conv2d(1, 2, 3, padding=1)
        self.wide = nn.Conv2d(1, 2, 3, padding=2, dilation=2)
        self.point = nn.Conv2d(2, 2, 1)
        self.spread = nn.Conv2d(2, 2, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)

    def forward(self, x):
        y = self.narrow(x) + self.wide(x)
        return torch.cat([self.spread(y), self.pool(self.point(y))], dim=1)


def test_parallel_paths_take_the_largest():
    model = TwoBranches()
    assert receptive_field(model, "narrow", (1, 1, 16, 16)) == ReceptiveField(3, 1, 1)
    assert receptive_field(model, "wide", (1, 1, 16, 16)) == ReceptiveField(5, 1, 2)
    # y: union of 3 and 5 -> 5; then a 3x3 stride-2 conv and a 3x3 stride-2 pool: 5 + 2 = 7
    assert receptive_field(model, "", (1, 1, 16, 16)) == ReceptiveField(7, 2, 3)
    assert receptive_field(model, model.pool, (1, 1, 16, 16)) == ReceptiveField(7, 2, 3)
    assert gradient_receptive_field(model, "", (1, 1, 32, 32)) == ReceptiveField(7, 2, 3)


def test_global_pooling_and_linear_cover_the_input():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    # unit 0 of the conv sees pixels -1..1, unit 7 sees 6..8: pooling all 8 covers -1..8, 10 pixels
    for layer in ("1", "2", "3"):
        assert receptive_field(net, layer, (1, 3, 8, 8)) == ReceptiveField(10, 8, 1, covers_input=True)
    assert receptive_field(net, "0", (1, 3, 8, 8)).covers_input is False
    # measured, only real pixels count (no gradient reaches padding); no stride with one unit
    assert gradient_receptive_field(net, "3", (1, 3, 8, 8)) == ReceptiveField(8, None, 0, covers_input=True)


def test_upsampling_spreads_windows():
    conv = nn.Conv2d(1, 1, 3, stride=2)
    up = nn.Sequential(conv, nn.Upsample(scale_factor=2, mode="nearest"))
    assert receptive_field(up, "1", (1, 1, 17, 17)) == ReceptiveField(3, 1, 0)
    # bilinear reads two neighbours: 3 + 2 = 5 pixels (stride 2 before upsampling)
    bilinear = nn.Sequential(conv, nn.Upsample(scale_factor=2, mode="bilinear"))
    assert receptive_field(bilinear, "1", (1, 1, 33, 33)).size == 5
    # an FCN-style decoder: a 4x4 stride-2 transposed convolution reads two input units
    decoder = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.ReLU(),
                            nn.ConvTranspose2d(2, 2, 4, stride=2, padding=1), nn.Conv2d(2, 1, 3, padding=1))
    for layer in ("2", "3"):
        assert receptive_field(decoder, layer, (1, 1, 40, 40)).size == gradient_receptive_field(
            decoder, layer, (1, 1, 40, 40)).size
    assert receptive_field(decoder, "2", (1, 1, 40, 40)).stride == 1


def test_fractional_stride_after_upsampling_beyond_the_input():
    net = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.Upsample(scale_factor=2))
    field = receptive_field(net, "1", (1, 1, 8, 8))
    assert field.size == 3 and field.stride == pytest.approx(0.5)


@pytest.mark.parametrize(
    "name, kwargs, layer, size",
    [
        ("vgg16", {}, "features.30", 224),  # pool5 of unit 3 sees pixels 6..217: inside 224
        ("alexnet", {}, "features.12", 256),
        ("resnet50", {}, "layer2", 224),
        ("resnet50", {}, "layer3", 448),
        ("inception_v3", {"init_weights": False, "aux_logits": False}, "Mixed_5b", 160),
        ("googlenet", {"init_weights": False, "aux_logits": False}, "inception4a", 224),
        ("convnext_tiny", {}, "features.1.0", 224),  # nn.Linear on channels-last: reshapes both ways
        ("mobilenet_v3_large", {}, "features.3", 224),
    ],
)
def test_gradient_measurement_agrees_on_torchvision_models(name, kwargs, layer, size):
    model = _meta(name, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "clipped by the border", no unknown op
        measured = gradient_receptive_field(model, layer, (1, 3, size, size))
        traced = receptive_field(model, layer, (1, 3, size, size))
    assert measured == traced


def test_squeeze_excitation_makes_every_unit_see_the_whole_image():
    # SE blocks rescale channels by a globally pooled vector: each output depends on every pixel.
    model = _meta("mobilenet_v3_large")
    assert not receptive_field(model, "features.3").covers_input  # the last block without SE
    assert receptive_field(model, "features.4").covers_input
    with pytest.warns(UserWarning, match="touches the image border"):
        assert gradient_receptive_field(model, "features.4").covers_input


def test_gradient_measurement_runs_full_width_when_the_code_needs_channels():
    class Reshaping(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 8, 5, stride=2)
            self.b = nn.Conv2d(8, 8, 3)

        def forward(self, x):
            first, second = self.a(x).split(4, dim=1)  # needs the real 8 channels
            return self.b(torch.cat([second, first], dim=1))

    model = Reshaping()
    assert gradient_receptive_field(model, "b", (1, 3, 40, 40)) == receptive_field(model, "b", (1, 3, 40, 40))
    assert receptive_field(model, "b", (1, 3, 40, 40)) == ReceptiveField(9, 2, 0)


def test_gradient_measurement_warns_when_clipped():
    with pytest.warns(UserWarning, match="touches the image border"):
        field = gradient_receptive_field(_meta("resnet50"), "layer4", (1, 3, 224, 224))
    assert field.size < 427


def test_receptive_fields_table_matches_compose_layer_by_layer():
    vgg = _meta("vgg16")
    rows = receptive_fields(vgg, (1, 3, 224, 224))
    assert all(isinstance(r, LayerReceptiveField) for r in rows)
    by_name = {r.name: r for r in rows}
    for i in range(len(vgg.features)):
        row = by_name[f"features.{i}"]
        assert row.field == compose(vgg.features[: i + 1]), row.name
        assert row.module_type == type(vgg.features[i]).__name__
    assert by_name["features.30"].output_shape == (1, 512, 7, 7)
    assert by_name["classifier.6"].covers_input and by_name["classifier.6"].output_shape == (1, 1000)
    assert rows[-1].name == "" and rows[-1].module_type == "VGG"


def test_torchvision_models_need_no_fallback_rule():
    models = [_meta("resnet50"), _meta("vgg16"), _meta("alexnet"),
              _meta("googlenet", init_weights=False, aux_logits=False),
              _meta("inception_v3", init_weights=False, aux_logits=False, transform_input=True)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for model in models:
            size = 299 if isinstance(model, torchvision.models.Inception3) else 224
            assert receptive_fields(model, (1, 3, size, size))


def test_unknown_op_is_conservative_and_says_so():
    class Flipping(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            return self.conv(torch.flip(x, dims=[3]))

    with pytest.warns(UserWarning, match=r"no rule for aten\.flip"):
        field = receptive_field(Flipping(), "conv", (1, 1, 10, 10))
    assert field.covers_input  # an upper bound: the whole image


def test_bad_arguments_teach():
    vgg = _meta("vgg16")
    with pytest.raises(ValueError, match=r"layer 'features.300' is not in this VGG; did you mean 'features.30'"):
        receptive_field(vgg, "features.300")
    with pytest.raises(ValueError, match=r"model of type str given"):
        receptive_field("vgg16", "features.30")
    with pytest.raises(ValueError, match=r"input_size \(224, 224\) given; .*\(1, 3, 224, 224\)"):
        receptive_field(vgg, "features.30", (224, 224))
    with pytest.raises(ValueError, match=r"input_size 0 given"):
        receptive_fields(vgg, (1, 3, 0, 224))
    aux = _meta("inception_v3", init_weights=False, aux_logits=True)
    with pytest.raises(ValueError, match=r"'AuxLogits.conv0' was not called"):
        receptive_field(aux, "AuxLogits.conv0", (1, 3, 299, 299))
    with pytest.raises(ValueError, match=r"unit \(1,\) given; unit must have 2 indices"):
        gradient_receptive_field(nn.Conv2d(1, 1, 3), "", (1, 1, 8, 8), unit=(1,))


def test_model_is_left_as_it_was():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout())
    model.train()
    weight = model[0].weight.detach().clone()
    running = model[1].running_mean.clone()
    receptive_fields(model, (1, 1, 8, 8))
    gradient_receptive_field(model, "1", (1, 1, 16, 16))
    assert model.training and model[1].training
    assert torch.equal(model[0].weight, weight) and torch.equal(model[1].running_mean, running)
    assert not model._forward_hooks and not model[0]._forward_hooks


def test_reflection_padding_and_pixel_shuffle():
    net = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(1, 4, 3), nn.PixelShuffle(2))
    field = receptive_field(net, "2", (1, 1, 8, 8))
    assert field.size == 3 and field.stride == pytest.approx(0.5)
    # reflection reuses real pixels: unit 0 of the conv sees pixels 0..1 (and 1 again), not padding
    assert receptive_field(net, "1", (1, 1, 8, 8)).padding == 0
    assert F.pad(torch.zeros(1, 1, 8, 8), (1, 1, 1, 1), mode="reflect").shape[-1] == 10


class DataDependent(nn.Module):
    """Python control flow on values: cannot run on the meta device."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 5, padding=2)

    def forward(self, x):
        y = self.conv(x)
        return y if bool(y.abs().sum() >= 0) else -y


def test_data_dependent_models_run_for_real():
    assert receptive_field(DataDependent(), "", (1, 1, 12, 12)) == ReceptiveField(5, 1, 2)
    with torch.device("meta"):
        model = DataDependent()
    with pytest.raises(ValueError, match="the forward pass of DataDependent on input_size .* failed"):
        receptive_field(model, "conv", (1, 1, 12, 12))


class _Upsampler(nn.Module):
    def __init__(self, **kwargs) -> None:
        super().__init__()
        self.kwargs = kwargs
        self.conv = nn.Conv2d(1, 1, 3, stride=2, padding=1)

    def forward(self, x):
        return F.interpolate(self.conv(x), **self.kwargs)


@pytest.mark.parametrize("layer", [
    _Upsampler(scale_factor=3, mode="nearest"),
    _Upsampler(size=(17, 17), mode="nearest-exact"),
    _Upsampler(scale_factor=2.5, mode="bilinear"),
    _Upsampler(size=(23, 23), mode="bilinear", align_corners=True),
    _Upsampler(size=(23, 23), mode="bicubic"),
    _Upsampler(size=(7, 7), mode="bilinear", antialias=True),
    nn.Sequential(nn.Conv2d(1, 1, 3, stride=2, padding=1), nn.ConvTranspose2d(1, 1, 3, 2, 1, output_padding=1)),
    nn.Sequential(nn.Conv2d(1, 1, 3, stride=2, padding=1), nn.ConvTranspose2d(1, 1, 5, 3, 2)),
])
def test_every_unit_window_is_exact_after_upsampling(layer):
    # White-box: the traced per-unit windows (clipped to the image) equal the pixels with a
    # non-zero gradient, unit by unit, along the width.
    tracer_module = sys.modules["segviz.arith.receptive_field"]
    model, size = layer.double(), 20
    outputs, _, _ = tracer_module._trace(model, (1, 1, size, size))
    width_axis = outputs[""][-1][0][1]
    x = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    with tracer_module._PositiveProbe(False):
        out = torch.func.functional_call(model, tracer_module._positive_state(model), (x,))
    row = next(r for r in range(out.shape[-2]) if out[0, 0, r].abs().sum() > 0)
    for unit in range(out.shape[-1]):
        (grad,) = torch.autograd.grad(out[0, 0, row, unit], x, retain_graph=True)
        columns = (grad[0, 0].sum(0) != 0).nonzero().flatten().tolist()
        lo, hi = int(width_axis.lo[unit]), int(width_axis.hi[unit])
        assert (columns[0], columns[-1]) == (max(lo, 0), min(hi, size - 1)), unit
