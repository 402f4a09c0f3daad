"""conv_transpose2d_via_matrix: multiply by Wᵀ of the forward convolution, against F.conv_transpose2d."""

from __future__ import annotations

import pytest
import torch

from segviz.ops import conv2d_matrix, conv2d_via_matrix, conv_transpose2d_via_matrix
from tests.ops.cases import randn


def seed_kernel() -> torch.Tensor:
    """The lecture's 3x3 kernel with w_ab = 10a + b, so w11 = 11, w12 = 12, ..., w33 = 33."""
    return torch.tensor([[11.0, 12, 13], [21, 22, 23], [31, 32, 33]]).reshape(1, 1, 3, 3)


def test_smoke_shapes():
    y = conv_transpose2d_via_matrix(torch.zeros(2, 3, 4, 5), torch.zeros(3, 6, 3, 2), stride=2, padding=1)
    assert y.shape == (2, 6, 7, 8)  # (4 - 1)2 - 2 + 3 = 7, (5 - 1)2 - 2 + 2 = 8


def test_seed_x_ij_expressions():
    # z = (z11, z12, z21, z22) = (1, 10, 100, 1000); the lecture's formulas, evaluated by hand.
    z = torch.tensor([[[[1.0, 10.0], [100.0, 1000.0]]]])
    x = conv_transpose2d_via_matrix(z, seed_kernel())[0, 0]
    assert x.shape == (4, 4)
    assert x[0, 0] == 11  # x11 = w11 z11
    assert x[0, 1] == 12 + 110  # x12 = w12 z11 + w11 z12
    assert x[0, 2] == 13 + 120  # x13 = w13 z11 + w12 z12
    assert x[0, 3] == 130  # x14 = w13 z12
    assert x[1, 0] == 21 + 1100  # x21 = w21 z11 + w11 z21
    assert x[1, 1] == 22 + 210 + 1200 + 11000  # x22 = w22 z11 + w21 z12 + w12 z21 + w11 z22
    assert x[1, 2] == 23 + 220 + 1300 + 12000  # x23 = w23 z11 + w22 z12 + w13 z21 + w12 z22


def test_is_multiplication_by_the_transpose():
    # Column k of the 16x4 matrix the op applies is the op applied to the k-th basis vector;
    # together they are Wᵀ, the transpose of the lecture's 4x16 convolution matrix.
    basis = torch.eye(4).reshape(4, 1, 2, 2)  # four 2x2 inputs, one z_ij = 1 each
    applied = conv_transpose2d_via_matrix(basis, seed_kernel()).reshape(4, 16).T  # [16, 4]
    assert torch.equal(applied, conv2d_matrix(seed_kernel(), 4).T)


def test_seed_1d_kernel_3_stride_2():
    # (a, b) with kernel (x, y, z): (ax, ay, az + bx, by, bz); here x, y, z = 2, 3, 5 and a, b = 1, 10.
    y = conv_transpose2d_via_matrix(torch.tensor([[[[1.0, 10.0]]]]), torch.tensor([[[[2.0, 3.0, 5.0]]]]),
                                    stride=(1, 2))
    assert torch.equal(y, torch.tensor([[[[2.0, 3.0, 5.0 + 20.0, 30.0, 50.0]]]]))


def test_not_the_inverse_only_the_shape_is_reversed():
    weight = seed_kernel() / 100
    matrix = conv2d_matrix(weight, 4)  # [4, 16]
    # W Wᵀ is not the identity for this kernel ...
    assert not torch.allclose(matrix @ matrix.T, torch.eye(4))
    # ... and Wᵀ W (16x16) has rank 4: no kernel whatsoever makes it the identity.
    assert torch.linalg.matrix_rank(matrix.T @ matrix) == 4
    # Convolution then transposed convolution: the 4x4 shape comes back, the values do not.
    x = randn(1, 1, 4, 4, seed=0).float()
    back = conv_transpose2d_via_matrix(conv2d_via_matrix(x, weight), weight)
    assert back.shape == x.shape
    assert not torch.allclose(back, x, atol=1e-2)



X = torch.zeros(1, 3, 2, 2)
BAD_INPUTS = [
    pytest.param(lambda: conv_transpose2d_via_matrix(X, torch.zeros(8, 3, 3, 3)),
                 r"weight of shape \(8, 3, 3, 3\) given for x with 3 channels; a conv_transpose2d weight is "
                 r"\[C_in, C_out, kh, kw\] .* weight.shape\[0\] must be 3", id="conv2d-layout"),
    pytest.param(lambda: conv_transpose2d_via_matrix(X, torch.zeros(3, 1, 3, 3), stride=2, output_padding=2),
                 r"output_padding \(2, 2\) given with stride \(2, 2\) and dilation \(1, 1\); output_padding must be "
                 r"smaller than max\(stride, dilation\) = \(2, 2\)", id="output-padding"),
    pytest.param(lambda: conv_transpose2d_via_matrix(X, torch.zeros(3, 1, 3, 3), padding=2),
                 r"padding \(2, 2\) crops away the whole output .* canvas is 4x4 .* padding must be at most \(1, 1\)",
                 id="padding-crops-all"),
    pytest.param(lambda: conv_transpose2d_via_matrix(X, torch.zeros(3, 1, 3, 3), stride=(2, 0)),
                 r"stride \(2, 0\) given; stride must be an integer >= 1 or a pair of them", id="stride-0"),
    pytest.param(lambda: conv_transpose2d_via_matrix(X, torch.zeros(3, 2, 3, 3), torch.zeros(3)),
                 r"bias of shape \(3,\) given; bias must have shape \(C_out,\) = \(2,\)", id="bias"),
]


@pytest.mark.parametrize("call, message", BAD_INPUTS)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
