"""dilate_kernel: a dilated convolution is an ordinary convolution with a zero-inserted kernel."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from segviz.ops import dilate_kernel
from tests.ops.cases import randn


def test_smoke():
    assert dilate_kernel(torch.zeros(4, 3, 3, 2), (2, 3)).shape == (4, 3, 5, 4)  # d(k - 1) + 1
    assert dilate_kernel(torch.zeros(3, 3), 1).shape == (3, 3)


def test_hand_computed():
    kernel = torch.tensor([[1, 2, 3], [4, 5, 6]])
    assert dilate_kernel(kernel, (2, 3)).tolist() == [
        [1, 0, 0, 2, 0, 0, 3],
        [0, 0, 0, 0, 0, 0, 0],
        [4, 0, 0, 5, 0, 0, 6],
    ]


@st.composite
def dilated_conv_cases(draw):
    pair = lambda lo, hi: (draw(st.integers(lo, hi)), draw(st.integers(lo, hi)))  # noqa: E731
    kernel, stride, padding, dilation = pair(1, 3), pair(1, 3), pair(0, 3), pair(1, 4)
    size = tuple(  # smallest input with a non-empty output is d(k - 1) + 1 - 2p
        max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4)) for k, p, d in zip(kernel, padding, dilation)
    )
    seed = draw(st.integers(0, 2**16))
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return randn(2, c_in, *size, seed=seed), randn(c_out, c_in, *kernel, seed=seed + 1), stride, padding, dilation


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(dilated_conv_cases())
def test_conv2d_with_dilation_equals_conv2d_with_dilated_kernel(case):
    x, weight, stride, padding, dilation = case
    expected = F.conv2d(x, weight, stride=stride, padding=padding, dilation=dilation)
    assert_close(F.conv2d(x, dilate_kernel(weight, dilation), stride=stride, padding=padding), expected)


def test_same_weights_larger_span():
    weight = randn(2, 2, 3, 3, seed=0)
    dilated = dilate_kernel(weight, 4)
    assert dilated.shape[-2:] == (9, 9) and torch.equal(dilated[dilated != 0].sort().values,
                                                         weight.flatten().sort().values)


def test_gradient_flows_to_the_taps():
    weight = randn(1, 1, 2, 2, seed=0).requires_grad_()
    assert torch.autograd.gradcheck(lambda w: dilate_kernel(w, (2, 3)), (weight,))


@pytest.mark.parametrize(
    "call, message",
    [
        pytest.param(lambda: dilate_kernel(torch.zeros(3, 3), 0), "dilation 0 given; dilation must be an integer >= 1",
                     id="dilation-0"),
        pytest.param(lambda: dilate_kernel(torch.zeros(3), 2), r"weight of shape \(3,\) given; weight must have 2 or "
                     r"3 or 4 dimensions", id="weight-1d"),
    ],
)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
