"""conv2d_matrix / conv2d_via_matrix: the convolution written as one matrix, against F.conv2d."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from segviz.ops import conv2d_matrix, conv2d_via_matrix
from tests.ops.cases import randn


def seed_kernel() -> torch.Tensor:
    """The lecture's 3x3 kernel with w_ab = 10a + b, so w11 = 11, w12 = 12, ..., w33 = 33."""
    return torch.tensor([[11, 12, 13], [21, 22, 23], [31, 32, 33]]).reshape(1, 1, 3, 3)


@st.composite
def conv_cases(draw):
    """A valid F.conv2d configuration with non-square kernels, strides, paddings, dilations."""
    pair = lambda lo, hi: (draw(st.integers(lo, hi)), draw(st.integers(lo, hi)))  # noqa: E731
    kernel, stride, padding, dilation = pair(1, 4), pair(1, 3), pair(0, 2), pair(1, 3)
    # smallest input with a non-empty output: d(k - 1) + 1 - 2p
    size = tuple(
        max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4))
        for k, p, d in zip(kernel, padding, dilation)
    )
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    return dict(
        x=randn(n, c_in, *size, seed=seed),
        weight=randn(c_out, c_in, *kernel, seed=seed + 1),
        bias=randn(c_out, seed=seed + 2) if draw(st.booleans()) else None,
        stride=stride,
        padding=padding,
        dilation=dilation,
    )


def test_smoke_shapes():
    matrix = conv2d_matrix(torch.zeros(5, 3, 3, 2), (6, 7), stride=(2, 1), padding=1)
    assert matrix.shape == (5 * 3 * 8, 3 * 6 * 7)  # H_out = (6 + 2 - 3) // 2 + 1, W_out = 7 + 2 - 2 + 1
    assert conv2d_via_matrix(torch.zeros(2, 3, 6, 7), torch.zeros(5, 3, 3, 2), padding=1).shape == (2, 5, 6, 8)


def test_seed_matrix_of_3x3_kernel_on_4x4_input():
    # The lecture's 4x16 matrix, row by row (w11 = 11, ..., w33 = 33).
    expected = torch.tensor([
        [11, 12, 13, 0, 21, 22, 23, 0, 31, 32, 33, 0, 0, 0, 0, 0],
        [0, 11, 12, 13, 0, 21, 22, 23, 0, 31, 32, 33, 0, 0, 0, 0],
        [0, 0, 0, 0, 11, 12, 13, 0, 21, 22, 23, 0, 31, 32, 33, 0],
        [0, 0, 0, 0, 0, 11, 12, 13, 0, 21, 22, 23, 0, 31, 32, 33],
    ])
    assert torch.equal(conv2d_matrix(seed_kernel(), (4, 4)), expected)


def test_seed_1d_stride_2_padding_1():
    # Kernel (x, y, z) = (2, 3, 5), input (a, b, c, d): outputs (ay + bz, bx + cy + dz); the padding
    # columns of the lecture's matrix touch only zeros, so they are not part of W.
    matrix = conv2d_matrix(torch.tensor([[[[2, 3, 5]]]]), (1, 4), stride=(1, 2), padding=(0, 1))
    assert torch.equal(matrix, torch.tensor([[3, 5, 0, 0], [0, 2, 3, 5]]))


def test_matrix_is_sparse_and_shares_weights():
    # Every row of the seed matrix holds the same nine weights: shared weights, sparse connections.
    matrix = conv2d_matrix(seed_kernel(), 4)
    for row in matrix:
        assert sorted(row[row != 0].tolist()) == sorted(seed_kernel().flatten().tolist())


@settings(max_examples=120, deadline=None, derandomize=True, database=None)
@given(conv_cases())
def test_matrix_times_vec_equals_f_conv2d(case):
    x, weight = case["x"], case["weight"]
    args = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"])
    matrix = conv2d_matrix(weight, x.shape[2:], **args)
    expected = F.conv2d(x, weight, **args)
    assert_close(x.reshape(len(x), -1) @ matrix.T, expected.reshape(len(x), -1))


@settings(max_examples=120, deadline=None, derandomize=True, database=None)
@given(conv_cases())
def test_conv2d_via_matrix_equals_f_conv2d(case):
    assert_close(conv2d_via_matrix(**case), F.conv2d(**case))


@pytest.mark.parametrize("stride, padding, dilation", [(2, 1, 1), ((2, 2), (1, 1), (1, 1)), (1, 0, 2)])
def test_ints_and_pairs_agree(stride, padding, dilation):
    x, weight = randn(1, 2, 6, 6, seed=0), randn(3, 2, 3, 3, seed=1)
    assert_close(conv2d_via_matrix(x, weight, None, stride, padding, dilation),
                 F.conv2d(x, weight, None, stride, padding, dilation))


def test_gradcheck():
    x = randn(1, 2, 4, 5, seed=0).requires_grad_()
    weight = randn(2, 2, 2, 3, seed=1).requires_grad_()
    bias = randn(2, seed=2).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x, w, b: conv2d_via_matrix(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2)), (x, weight, bias)
    )


K3 = torch.zeros(1, 1, 3, 3)
X4 = torch.zeros(1, 1, 4, 4)
BAD_INPUTS = [
    pytest.param(lambda: conv2d_matrix(torch.zeros(3, 3), 4),
                 r"weight of shape \(3, 3\) given; weight must have 4 dimensions \[C_out, C_in, kh, kw\]",
                 id="weight-2d"),
    pytest.param(lambda: conv2d_matrix(K3, 0), "input_size 0 given; input_size must be an integer >= 1",
                 id="input-size-0"),
    pytest.param(lambda: conv2d_matrix(K3, 4, stride=0), "stride 0 given; stride must be", id="stride-0"),
    pytest.param(lambda: conv2d_matrix(K3, 4, padding=-1), "padding -1 given", id="padding-negative"),
    pytest.param(lambda: conv2d_matrix(K3, 2), r"input 2x2 .* smaller than the kernel's span 3x3",
                 id="input-too-small"),
    pytest.param(lambda: conv2d_matrix(K3, 4, dilation=2), r"span 5x5 \(kernel 3x3, dilation \(2, 2\)\)",
                 id="dilated-kernel-too-big"),
    pytest.param(lambda: conv2d_via_matrix(np.zeros((1, 1, 4, 4)), K3),
                 "x of type ndarray given; x must be a torch.Tensor", id="x-numpy"),
    pytest.param(lambda: conv2d_via_matrix(torch.zeros(4, 4), K3),
                 r"x of shape \(4, 4\) given; x must have 4 dimensions \[N, C_in, H_in, W_in\]", id="x-2d"),
    pytest.param(lambda: conv2d_via_matrix(torch.zeros(1, 3, 4, 4), torch.zeros(8, 2, 3, 3)),
                 r"weight of shape \(8, 2, 3, 3\) given for x with 3 channels; .* weight.shape\[1\] must be 3",
                 id="channels"),
    pytest.param(lambda: conv2d_via_matrix(X4.double(), K3),
                 r"x is torch.float64 but weight is torch.float32; .* weight.to\(x.dtype\)", id="dtype"),
    pytest.param(lambda: conv2d_via_matrix(X4, torch.zeros(2, 1, 3, 3), torch.zeros(3)),
                 r"bias of shape \(3,\) given; bias must have shape \(C_out,\) = \(2,\)", id="bias"),
]


@pytest.mark.parametrize("call, message", BAD_INPUTS)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
