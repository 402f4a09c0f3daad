"""conv_transpose2d_as_conv: zero-insert, pad, convolve with the flipped kernel; against F.conv_transpose2d."""

from __future__ import annotations

import pytest
import torch

from segviz.ops import conv_transpose2d_as_conv


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
