"""conv_transpose2d_scatter: stamp a weighted filter copy per input pixel, against F.conv_transpose2d."""

from __future__ import annotations

import pytest
import torch

from segviz.ops import conv_transpose2d_scatter


def test_smoke_shapes():
    y = conv_transpose2d_scatter(torch.zeros(2, 3, 4, 5), torch.zeros(3, 6, 3, 2), stride=2, padding=1)
    assert y.shape == (2, 6, 7, 8)  # (4 - 1)2 - 2 + 3 = 7, (5 - 1)2 - 2 + 2 = 8


def test_lecture_example_3x3_stride_2_padding_1():
    # 2x2 input, 3x3 filter, stride 2, padding 1 -> 4x4. Four copies on a 5x5 canvas, crop 1 on the
    # top and left (output_padding 1 keeps the bottom row and right column): with a filter of ones the
    # output shows which inputs each pixel sums.
    z = torch.tensor([[[[1.0, 10.0], [100.0, 1000.0]]]])
    y = conv_transpose2d_scatter(z, torch.ones(1, 1, 3, 3), stride=2, padding=1, output_padding=1)
    expected = torch.tensor([
        [1.0, 11, 10, 10],
        [101, 1111, 1010, 1010],
        [100, 1100, 1000, 1000],
        [100, 1100, 1000, 1000],
    ])
    assert torch.equal(y[0, 0], expected)


def test_seed_x_ij_expressions():
    # z = (1, 10, 100, 1000), w_ab = 10a + b; the lecture's formulas, evaluated by hand.
    z = torch.tensor([[[[1.0, 10.0], [100.0, 1000.0]]]])
    w = torch.tensor([[11.0, 12, 13], [21, 22, 23], [31, 32, 33]]).reshape(1, 1, 3, 3)
    x = conv_transpose2d_scatter(z, w)[0, 0]
    assert (x[0, 0], x[0, 1], x[0, 3]) == (11, 12 + 110, 130)  # x11, x12 = w12 z11 + w11 z12, x14 = w13 z12
    assert x[1, 1] == 22 + 210 + 1200 + 11000  # x22 = w22 z11 + w21 z12 + w12 z21 + w11 z22


def test_dilated_copy_is_spread_out():
    # One pixel of value 2 stamps its 2x2 filter with taps 3 apart: a 4x4 canvas with 4 non-zeros.
    y = conv_transpose2d_scatter(torch.tensor([[[[2.0]]]]), torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), dilation=3)
    expected = torch.zeros(4, 4)
    expected[0, 0], expected[0, 3], expected[3, 0], expected[3, 3] = 2, 4, 6, 8
    assert torch.equal(y[0, 0], expected)



X = torch.zeros(1, 3, 2, 2)
BAD_INPUTS = [
    pytest.param(lambda: conv_transpose2d_scatter(X, torch.zeros(8, 3, 3, 3)),
                 r"weight of shape \(8, 3, 3, 3\) given for x with 3 channels; .* weight.shape\[0\] must be 3",
                 id="conv2d-layout"),
    pytest.param(lambda: conv_transpose2d_scatter(X, torch.zeros(3, 1, 3, 3), output_padding=1),
                 r"output_padding \(1, 1\) given with stride \(1, 1\)", id="output-padding-without-stride"),
    pytest.param(lambda: conv_transpose2d_scatter(X, torch.zeros(3, 1, 1, 1), padding=1),
                 r"padding \(1, 1\) crops away the whole output", id="padding-crops-all"),
    pytest.param(lambda: conv_transpose2d_scatter(X[0], torch.zeros(3, 1, 3, 3)),
                 r"x of shape \(3, 2, 2\) given; x must have 4 dimensions", id="x-3d"),
]


@pytest.mark.parametrize("call, message", BAD_INPUTS)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
