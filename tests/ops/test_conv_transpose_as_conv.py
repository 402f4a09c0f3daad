"""conv_transpose2d_as_conv: zero-insert, pad, convolve with the flipped kernel; against F.conv_transpose2d."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from segviz.ops import conv_transpose2d_as_conv
from tests.ops.cases import conv_transpose_cases, randn


def ours(case: dict) -> torch.Tensor:
    case = dict(case)
    return conv_transpose2d_as_conv(case.pop("input"), **case)


def test_smoke_shapes():
    y = conv_transpose2d_as_conv(torch.zeros(2, 3, 4, 5), torch.zeros(3, 6, 3, 2), stride=2, padding=1)
    assert y.shape == (2, 6, 7, 8)  # (4 - 1)2 - 2 + 3 = 7, (5 - 1)2 - 2 + 2 = 8


def test_seed_flipped_filter_view():
    # The lecture: x12 = w12 z11 + w11 z12 is the flipped kernel (w33 ... w11) sliding over the
    # zero-padded z; x22 = w22 z11 + w21 z12 + w12 z21 + w11 z22.
    z = torch.tensor([[[[1.0, 10.0], [100.0, 1000.0]]]])
    w = torch.tensor([[11.0, 12, 13], [21, 22, 23], [31, 32, 33]]).reshape(1, 1, 3, 3)
    x = conv_transpose2d_as_conv(z, w)[0, 0]
    assert (x[0, 1], x[1, 1], x[1, 2]) == (12 + 110, 22 + 210 + 1200 + 11000, 23 + 220 + 1300 + 12000)


def test_zero_insertion_by_hand():
    # Stride 3 puts two zeros between pixels; a 1x1 kernel of 2 then just doubles: (2, 0, 0, 4, 0, 0, 6).
    y = conv_transpose2d_as_conv(torch.tensor([[[[1.0, 2.0, 3.0]]]]), torch.tensor([[[[2.0]]]]), stride=3)
    assert torch.equal(y, torch.tensor([[[[2.0, 0.0, 0.0, 4.0, 0.0, 0.0, 6.0]]]]))


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(conv_transpose_cases())
def test_equals_f_conv_transpose2d(case):
    assert_close(ours(case), F.conv_transpose2d(**case))


@pytest.mark.parametrize("padding", [3, (4, 2), (5, 5)])
def test_padding_larger_than_kernel_span_crops(padding):
    # p > d(k - 1) makes step 2's padding negative: it crops the zero-inserted input instead.
    case = dict(input=randn(1, 2, 5, 6, seed=0), weight=randn(2, 3, 2, 3, seed=1), bias=None,
                stride=3, padding=padding, output_padding=1, dilation=1)
    assert_close(ours(case), F.conv_transpose2d(**case))


def test_gradcheck():
    x = randn(1, 2, 2, 3, seed=0).requires_grad_()
    weight = randn(2, 2, 3, 2, seed=1).requires_grad_()
    bias = randn(2, seed=2).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x, w, b: conv_transpose2d_as_conv(x, w, b, stride=(2, 3), padding=(1, 3), output_padding=(1, 0),
                                                 dilation=(1, 2)),
        (x, weight, bias),
    )


X = torch.zeros(1, 3, 2, 2)
BAD_INPUTS = [
    pytest.param(lambda: conv_transpose2d_as_conv(X, torch.zeros(8, 3, 3, 3)),
                 r"weight of shape \(8, 3, 3, 3\) given for x with 3 channels; .* weight.shape\[0\] must be 3",
                 id="conv2d-layout"),
    pytest.param(lambda: conv_transpose2d_as_conv(X, torch.zeros(3, 1, 3, 3), stride=2, dilation=3, output_padding=3),
                 r"output_padding \(3, 3\) given .* max\(stride, dilation\) = \(3, 3\)", id="output-padding"),
    pytest.param(lambda: conv_transpose2d_as_conv(X, torch.zeros(3, 1, 3, 3), dilation=0),
                 r"dilation 0 given; dilation must be an integer >= 1", id="dilation-0"),
    pytest.param(lambda: conv_transpose2d_as_conv(X.double(), torch.zeros(3, 1, 3, 3)),
                 r"x is torch.float64 but weight is torch.float32", id="dtype"),
]


@pytest.mark.parametrize("call, message", BAD_INPUTS)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
