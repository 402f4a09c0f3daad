"""Output-size formulas, checked against the shapes PyTorch's own layers produce.

Hypothesis draws thousands of configurations, including the ones PyTorch refuses: the formula
must raise ``ValueError`` exactly when the layer raises, and agree on the shape otherwise. The
oracle is the functional form each layer calls (``F.conv2d`` for ``nn.Conv2d``, …) on a 1-channel
CPU tensor: building an ``nn.Conv2d`` per example would spend the time budget on weight init.
"""

from __future__ import annotations

import re

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

from segviz.arith import conv_output_size, conv_transpose_output_size, pool_output_size

MANY = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

small = st.integers(1, 6)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: a second OpenMP thread only adds synchronisation (milliseconds on a busy CPU)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
pair = st.tuples(small, small)


def _torch_shape(layer, size: tuple[int, int]) -> tuple[int, int] | None:
    """Output (H, W) of ``layer`` on a 1-channel input, or ``None`` if PyTorch refuses it.

    An output with an empty axis counts as refused: depending on the backend, PyTorch's
    transposed convolution sometimes returns a 0-pixel tensor instead of raising.
    """
    try:
        with torch.no_grad():
            shape = tuple(layer(torch.zeros(1, 1, *size)).shape[-2:])
    except (RuntimeError, ValueError):
        return None
    return None if 0 in shape else shape


def _ours(fn, *args, **kwargs) -> tuple[int, int] | None:
    try:
        out = fn(*args, **kwargs)
    except ValueError:
        return None
    return out if isinstance(out, tuple) else (out, out)


@MANY
@given(
    size=st.tuples(st.integers(1, 24), st.integers(1, 24)),
    kernel=pair,
    stride=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    padding=st.tuples(st.integers(0, 4), st.integers(0, 4)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
)
def test_conv_output_size_matches_conv2d(size, kernel, stride, padding, dilation):
    weight = torch.zeros(1, 1, *kernel)
    layer = lambda x: F.conv2d(x, weight, stride=stride, padding=padding, dilation=dilation)  # noqa: E731
    assert _ours(conv_output_size, size, kernel, stride, padding, dilation) == _torch_shape(layer, size)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@settings(max_examples=300, deadline=None)
@given(size=st.integers(1, 20), kernel=st.integers(1, 6), dilation=st.integers(1, 3),
       padding=st.sampled_from(["same", "valid"]))
def test_conv_output_size_string_padding(size, kernel, dilation, padding):
    weight = torch.zeros(1, 1, kernel, kernel)
    layer = lambda x: F.conv2d(x, weight, padding=padding, dilation=dilation)  # noqa: E731
    assert _ours(conv_output_size, size, kernel, padding=padding, dilation=dilation) == _torch_shape(
        layer, (size, size)
    )


@MANY
@given(
    size=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    kernel=pair,
    stride=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    padding=st.tuples(st.integers(0, 5), st.integers(0, 5)),
    output_padding=st.tuples(st.integers(0, 3), st.integers(0, 3)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
)
def test_conv_transpose_output_size_matches_conv_transpose2d(size, kernel, stride, padding, output_padding, dilation):
    weight = torch.zeros(1, 1, *kernel)
    layer = lambda x: F.conv_transpose2d(  # noqa: E731
        x, weight, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation
    )
    expected = _torch_shape(layer, size)
    ours = _ours(conv_transpose_output_size, size, kernel, stride, padding, output_padding, dilation)
    assert ours == expected


@MANY
@given(
    size=st.tuples(st.integers(1, 24), st.integers(1, 24)),
    kernel=pair,
    stride=st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))),
    padding=st.tuples(st.integers(0, 4), st.integers(0, 4)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    ceil_mode=st.booleans(),
)
def test_pool_output_size_matches_maxpool2d(size, kernel, stride, padding, dilation, ceil_mode):
    layer = lambda x: F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)  # noqa: E731
    expected = _torch_shape(layer, size)
    assert _ours(pool_output_size, size, kernel, stride, padding, dilation, ceil_mode) == expected


@settings(max_examples=1000, deadline=None)
@given(
    size=st.integers(1, 24), kernel=small, stride=st.integers(1, 4),
    padding=st.integers(0, 4), ceil_mode=st.booleans(),
)
def test_pool_output_size_matches_avgpool2d(size, kernel, stride, padding, ceil_mode):
    layer = lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode)  # noqa: E731
    expected = _torch_shape(layer, (size, size))
    assert _ours(pool_output_size, size, kernel, stride, padding, ceil_mode=ceil_mode) == expected


def test_hand_computed_values():
    # VGG16 at 224: five 2x2 pools halve 224 down to 7; AlexNet conv1 gives 55; FCN's 64x64
    # stride-32 upsampler turns a 7x7 score map into (7-1)*32 + 64 = 256 pixels.
    size = 224
    for _ in range(5):
        size = pool_output_size(size, 2)
    assert size == 7
    assert conv_output_size(224, 11, stride=4, padding=2) == 55
    assert conv_transpose_output_size(7, 64, stride=32) == 256
    assert pool_output_size(5, 2, stride=2, ceil_mode=True) == 3  # last window starts inside
    assert pool_output_size(4, 2, stride=2, padding=1, ceil_mode=True) == 3  # not 4: it would start in the padding


def test_returns_the_form_it_was_given():
    assert conv_output_size(10, 3) == 8
    assert conv_output_size((10, 12), 3) == (8, 10)
    assert conv_output_size(10, (3, 5)) == (8, 6)
    assert pool_output_size([9, 9], 3) == (3, 3)


def test_too_small_input_says_the_minimum():
    with pytest.raises(ValueError, match=r"at least 5 pixels"):
        conv_output_size(4, 3, dilation=2)
    with pytest.raises(ValueError, match=r"input size 3 along the width is too small.*at least 4 pixels"):
        conv_output_size((9, 3), (2, 4))
    with pytest.raises(ValueError, match=r"at least 3 pixels"):
        pool_output_size(2, 3, stride=1)
    with pytest.raises(ValueError, match=r"at least 2 pixels"):
        conv_transpose_output_size(1, 1, stride=2, padding=1)
    # the minimum quoted really is the minimum
    assert conv_output_size(5, 3, dilation=2) == 1
    assert pool_output_size(3, 3, stride=1) == 1
    assert conv_transpose_output_size(2, 1, stride=2, padding=1) == 1


def test_bad_arguments_teach():
    with pytest.raises(ValueError, match="stride 0 given; stride must be an integer >= 1"):
        conv_output_size(8, 3, stride=0)
    with pytest.raises(ValueError, match="padding -1 given"):
        conv_output_size(8, 3, padding=-1)
    with pytest.raises(ValueError, match="padding 'full' given; padding must be one of 'valid', 'same'"):
        conv_output_size(8, 3, padding="full")
    with pytest.raises(ValueError, match="padding='same' given with stride 2.*use stride=1"):
        conv_output_size(8, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"output_padding 2 given with stride 2 .*at most 1"):
        conv_transpose_output_size(8, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"padding 2 given with kernel_size 3.*at most 1"):
        pool_output_size(8, 3, padding=2)
    with pytest.raises(ValueError, match="ceil_mode 1 given"):
        pool_output_size(8, 3, ceil_mode=1)
    with pytest.raises(ValueError, match=r"kernel_size \(3, 3, 3\) given"):
        conv_output_size(8, (3, 3, 3))


def test_layers_agree_with_their_functional_oracle():
    # The hypothesis tests use F.*; the layers a learner builds give the same shapes.
    x = torch.zeros(1, 1, 29, 31)
    assert nn.Conv2d(1, 1, (3, 5), stride=2, padding=1, dilation=(2, 1))(x).shape[-2:] == conv_output_size(
        (29, 31), (3, 5), stride=2, padding=1, dilation=(2, 1)
    )
    assert nn.ConvTranspose2d(1, 1, 4, stride=3, padding=1, output_padding=2)(x).shape[-2:] == (
        conv_transpose_output_size((29, 31), 4, stride=3, padding=1, output_padding=2)
    )
    assert nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)(x).shape[-2:] == pool_output_size(
        (29, 31), 3, stride=2, padding=1, ceil_mode=True
    )


@settings(max_examples=500, deadline=None)
@given(
    kind=st.sampled_from(["conv", "transpose", "pool"]), size=st.integers(1, 12), kernel=st.integers(1, 7),
    stride=st.integers(1, 4), padding=st.integers(0, 3), dilation=st.integers(1, 3), ceil_mode=st.booleans(),
)
def test_quoted_minimum_input_is_exact(kind, size, kernel, stride, padding, dilation, ceil_mode):
    # Whenever an input is refused as too small, the size the message suggests works and the one
    # below it does not.
    call = {
        "conv": lambda n: conv_output_size(n, kernel, stride, padding, dilation),
        "transpose": lambda n: conv_transpose_output_size(n, kernel, stride, padding, 0, dilation),
        "pool": lambda n: pool_output_size(n, kernel, stride, min(padding, kernel // 2), dilation, ceil_mode),
    }[kind]
    try:
        call(size)
    except ValueError as error:
        minimum = int(re.search(r"at least (\d+) pixels", str(error)).group(1))
        assert minimum > size and call(minimum) >= 1
        if minimum > 1:
            with pytest.raises(ValueError):
                call(minimum - 1)
