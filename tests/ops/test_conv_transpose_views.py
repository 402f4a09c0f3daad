"""The three views of the transposed convolution, each against F.conv_transpose2d on the same cases.

Wᵀ (conv_transpose2d_via_matrix), scatter-add (conv_transpose2d_scatter) and zero-insertion +
flipped kernel (conv_transpose2d_as_conv) must agree with PyTorch everywhere: random shapes,
strides, paddings, output paddings and dilations, the corner cases each view finds hardest, and
gradients. What is particular to one view (the seed's expressions, its teaching errors) stays in
its own test file.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from torch.testing import assert_close

from segviz.ops import conv_transpose2d_as_conv, conv_transpose2d_scatter, conv_transpose2d_via_matrix
from tests.ops.cases import conv_transpose_cases, randn

VIEWS = [conv_transpose2d_via_matrix, conv_transpose2d_scatter, conv_transpose2d_as_conv]
by_name = pytest.mark.parametrize("view", VIEWS, ids=lambda f: f.__name__)


def run(view, case: dict) -> torch.Tensor:
    case = dict(case)
    return view(case.pop("input"), **case)


@by_name
@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(case=conv_transpose_cases())
def test_equals_f_conv_transpose2d(view, case):
    assert_close(run(view, case), F.conv_transpose2d(**case))


@by_name
@pytest.mark.parametrize("stride, dilation, output_padding", [(1, 2, 1), ((1, 2), (3, 3), (2, 2)), (1, 3, 2)])
def test_output_padding_at_least_stride_when_dilated(view, stride, dilation, output_padding):
    # PyTorch allows stride <= output_padding < dilation; for Wᵀ the forward conv of the enlarged
    # output is then larger than x, and only x's rows of W are used.
    case = dict(input=randn(2, 2, 3, 4, seed=0), weight=randn(2, 3, 2, 3, seed=1), bias=None,
                stride=stride, padding=1, output_padding=output_padding, dilation=dilation)
    assert_close(run(view, case), F.conv_transpose2d(**case))


@by_name
@pytest.mark.parametrize("padding", [3, (4, 2), (5, 5)])
def test_padding_larger_than_kernel_span_crops(view, padding):
    # p > d(k - 1): for the zero-insertion view the padding of step 2 is negative and crops instead.
    case = dict(input=randn(1, 2, 5, 6, seed=0), weight=randn(2, 3, 2, 3, seed=1), bias=None,
                stride=3, padding=padding, output_padding=1, dilation=1)
    assert_close(run(view, case), F.conv_transpose2d(**case))


@by_name
@pytest.mark.parametrize("stride, padding", [((2, 1), 1), ((2, 3), (1, 3))])
def test_gradcheck(view, stride, padding):
    x = randn(1, 2, 2, 3, seed=0).requires_grad_()
    weight = randn(2, 2, 3, 2, seed=1).requires_grad_()
    bias = randn(2, seed=2).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x, w, b: view(x, w, b, stride=stride, padding=padding, output_padding=(1, 0), dilation=(1, 2)),
        (x, weight, bias),
    )
