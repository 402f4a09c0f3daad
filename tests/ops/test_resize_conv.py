"""resize_conv / ResizeConv: nearest resize then convolve; against F.interpolate + F.conv2d."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from segviz.ops import ResizeConv, overlap_count, resize_conv
from tests.ops.cases import randn


def test_smoke():
    assert resize_conv(torch.zeros(2, 3, 4, 5), torch.zeros(6, 3, 3, 3)).shape == (2, 6, 8, 10)
    assert resize_conv(torch.zeros(2, 3, 4, 5), torch.zeros(6, 3, 3, 1), scale=(3, 2)).shape == (2, 6, 12, 10)


def test_hand_computed():
    # (1, 2) -> nearest x2 -> rows (1, 1, 2, 2); kernel (1, -1) across, no padding: differences.
    x = torch.tensor([[[[1.0, 2.0]]]])
    y = resize_conv(x, torch.tensor([[[[1.0, -1.0]]]]), scale=(1, 2), padding=0)
    assert y.tolist() == [[[[0.0, -1.0, 0.0]]]]


CASES = list(itertools.product([2, (2, 3)], [(3, 3), (1, 3), (2, 2)], [None, 0, (2, 1)]))


@pytest.mark.parametrize("scale, kernel, padding", CASES)
def test_equals_interpolate_nearest_then_conv2d(scale, kernel, padding):
    x, weight, bias = randn(2, 3, 4, 5, seed=0), randn(4, 3, *kernel, seed=1), randn(4, seed=2)
    factor = scale if isinstance(scale, tuple) else (scale, scale)
    same = ((kernel[0] - 1) // 2, (kernel[1] - 1) // 2)
    expected = F.conv2d(F.interpolate(x, scale_factor=factor, mode="nearest"), weight, bias,
                        padding=same if padding is None else padding)
    assert_close(resize_conv(x, weight, bias, scale, padding), expected)


def test_no_checkerboard_unlike_transposed_conv():
    # Uniform input, uniform kernel: transposed conv (k=3, s=2) sums 1, 2 or 4 copies in a checkerboard;
    # resize-convolution reads the same number of taps everywhere inside.
    assert len(overlap_count(4, 3, 2)[1:-1, 1:-1].unique()) == 3  # 1, 2, 4
    y = resize_conv(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 3, 3))
    assert (y[0, 0, 1:-1, 1:-1] == 9).all()


def test_gradcheck():
    x, weight, bias = randn(1, 2, 2, 3, seed=0), randn(2, 2, 3, 2, seed=1), randn(2, seed=2)
    assert torch.autograd.gradcheck(lambda x, w, b: resize_conv(x, w, b, scale=(2, 3)),
                                    (x.requires_grad_(), weight.requires_grad_(), bias.requires_grad_()))


def test_module_equals_function():
    torch.manual_seed(0)
    module = ResizeConv(3, 4, kernel_size=(3, 1), scale=(2, 3))
    x = torch.randn(2, 3, 4, 5)
    assert torch.equal(module(x), resize_conv(x, module.weight, module.bias, (2, 3)))
    assert module(x).shape == (2, 4, 8, 15)
    assert repr(module) == "ResizeConv(3, 4, kernel_size=(3, 1), scale=(2, 3), padding=None, bias=True)"
    assert ResizeConv(3, 4, bias=False).bias is None
    assert sum(p.numel() for p in module.parameters()) == 4 * 3 * 3 + 4


BAD_INPUTS = [
    pytest.param(lambda: resize_conv(torch.zeros(1, 2, 3, 3), torch.zeros(4, 3, 3, 3)),
                 r"weight of shape \(4, 3, 3, 3\) given for x with 2 channels; a conv2d weight is", id="channels"),
    pytest.param(lambda: resize_conv(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 3, 3), scale=0), "scale 0 given",
                 id="scale-0"),
    pytest.param(lambda: resize_conv(torch.zeros(1, 1, 1, 1), torch.zeros(1, 1, 5, 5), padding=0),
                 r"input 2x2 with padding \(0, 0\) is smaller than the kernel's span 5x5", id="too-small"),
    pytest.param(lambda: ResizeConv(0, 4), "in_channels 0 given", id="module-channels"),
]


@pytest.mark.parametrize("call, message", BAD_INPUTS)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
