"""max_unpool: put values back at the max-pooling switches; against F.max_unpool2d."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from segviz.ops import MaxUnpool, max_unpool
from tests.ops.cases import randn

# The oracle is non-deterministic on CUDA only; PyTorch warns about it once deterministic mode is on.
pytestmark = pytest.mark.filterwarnings("ignore:max_unpooling2d_forward_out does not have a deterministic")


@st.composite
def pooling_cases(draw):
    """An input and a valid max pooling of it (overlapping windows, non-square, padded)."""
    pair = lambda lo, hi: (draw(st.integers(lo, hi)), draw(st.integers(lo, hi)))  # noqa: E731
    kernel, stride = pair(1, 4), pair(1, 4)
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)  # max_pool2d allows at most k // 2
    size = tuple(max(1, k - 2 * p) + draw(st.integers(0, 5)) for k, p in zip(kernel, padding))
    x = randn(draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size, seed=draw(st.integers(0, 2**16)))
    return x, kernel, stride, padding


def test_smoke():
    pooled, switches = F.max_pool2d(torch.randn(2, 3, 6, 8), 2, return_indices=True)
    assert max_unpool(pooled, switches, 2).shape == (2, 3, 6, 8)


def test_hand_computed():
    x = torch.tensor([[[[1.0, 6.0, 3.0, 0.0],
                        [5.0, 2.0, 8.0, 4.0],
                        [0.0, 0.0, 1.0, 2.0],
                        [9.0, 7.0, 3.0, 4.0]]]])
    pooled, switches = F.max_pool2d(x, 2, return_indices=True)  # maxima 6, 8, 9, 4 at 1, 6, 12, 15
    assert switches.flatten().tolist() == [1, 6, 12, 15]
    expected = torch.tensor([[0.0, 6.0, 0.0, 0.0],
                             [0.0, 0.0, 8.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0],
                             [9.0, 0.0, 0.0, 4.0]])
    assert torch.equal(max_unpool(pooled, switches, 2)[0, 0], expected)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(pooling_cases())
def test_equals_f_max_unpool2d(case):
    x, kernel, stride, padding = case
    pooled, switches = F.max_pool2d(x, kernel, stride, padding, return_indices=True)
    # the pooled-from size is always accepted; the default (H - 1)s - 2p + k may be smaller
    for output_size in (x.shape[2:], x.shape):
        expected = F.max_unpool2d(pooled, switches, kernel, stride, padding, output_size=output_size)
        assert_close(max_unpool(pooled, switches, kernel, stride, padding, output_size), expected)
    # the maxima come back where they were
    restored = max_unpool(pooled, switches, kernel, stride, padding, x.shape[2:])
    assert torch.equal(restored[restored != 0], x[restored != 0])


@pytest.mark.parametrize("kernel, stride", [(2, None), ((2, 3), (2, 3)), (3, 3), ((1, 2), None)])
def test_default_output_size_equals_f_max_unpool2d(kernel, stride):
    pooled, switches = F.max_pool2d(randn(2, 3, 6, 6, seed=0), kernel, stride, return_indices=True)
    assert_close(max_unpool(pooled, switches, kernel, stride), F.max_unpool2d(pooled, switches, kernel, stride))


def test_gradcheck():
    # Non-overlapping windows: every switch is distinct, so the scatter is a plain permutation.
    pooled, switches = F.max_pool2d(randn(1, 2, 4, 6, seed=0), (2, 3), return_indices=True)
    assert torch.autograd.gradcheck(lambda p: max_unpool(p, switches, (2, 3)), (pooled.requires_grad_(),))


def test_module_equals_function():
    x = randn(2, 3, 7, 5, seed=0)
    pooled, switches = F.max_pool2d(x, 3, 2, 1, return_indices=True)
    module = MaxUnpool(3, 2, 1)
    assert torch.equal(module(pooled, switches, x.shape), max_unpool(pooled, switches, 3, 2, 1, x.shape))
    assert repr(module) == "MaxUnpool(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))"


POOLED, SWITCHES = F.max_pool2d(torch.arange(25.0).reshape(1, 1, 5, 5), 2, return_indices=True)  # 2x2 from 5x5
BAD_INPUTS = [
    pytest.param(lambda: max_unpool(POOLED, SWITCHES.float(), 2),
                 r"indices of dtype torch.float32 given; indices must be the int64 tensor returned by F.max_pool2d",
                 id="indices-dtype"),
    pytest.param(lambda: max_unpool(POOLED, SWITCHES[:, :, :1], 2),
                 r"indices of shape \(1, 1, 1, 2\) given for x of shape \(1, 1, 2, 2\)", id="indices-shape"),
    pytest.param(lambda: max_unpool(POOLED, SWITCHES, 2),
                 r"indices holds 18, outside a 4x4 output .* pass output_size", id="index-out-of-range"),
    pytest.param(lambda: max_unpool(POOLED, SWITCHES, 2, output_size=(7, 5)),
                 r"output_size \(7, 5\) given; .* strictly between \(2, 2\) and \(6, 6\)", id="output-size"),
    pytest.param(lambda: max_unpool(POOLED, SWITCHES, 0), "kernel_size 0 given", id="kernel-0"),
    pytest.param(lambda: max_unpool(POOLED, SWITCHES, 2, padding=2),
                 r"padding \(2, 2\) with kernel_size \(2, 2\) .* \(H - 1\) s - 2p \+ k is \(0, 0\); pass output_size",
                 id="padding"),
]


@pytest.mark.parametrize("call, message", BAD_INPUTS)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
