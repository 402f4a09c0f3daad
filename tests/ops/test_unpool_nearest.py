"""unpool_nearest: copy each value into a block; against F.interpolate(mode="nearest")."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from segviz.ops import UnpoolNearest, unpool_nearest


def test_smoke():
    assert unpool_nearest(torch.zeros(2, 3, 4, 5), (2, 3)).shape == (2, 3, 8, 15)


def test_lecture_example():
    out = unpool_nearest(torch.tensor([[[[1, 2], [3, 4]]]]))
    assert out[0, 0].tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]


@pytest.mark.parametrize("shape, scale", list(itertools.product([(1, 1, 1, 1), (2, 3, 4, 5), (1, 2, 3, 1)],
                                                                [1, 2, 3, (1, 2), (3, 2)])))
def test_equals_f_interpolate_nearest(shape, scale):
    x = torch.randn(*shape, dtype=torch.float64)
    factor = scale if isinstance(scale, tuple) else (scale, scale)
    assert_close(unpool_nearest(x, scale), F.interpolate(x, scale_factor=factor, mode="nearest"))


def test_gradient_sums_each_block():
    x = torch.randn(1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    unpool_nearest(x, (2, 3)).sum().backward()
    assert torch.equal(x.grad, torch.full_like(x, 6.0))  # every input value is copied 2·3 times


def test_module_equals_function():
    x = torch.randn(2, 3, 4, 5)
    module = UnpoolNearest((2, 3))
    assert torch.equal(module(x), unpool_nearest(x, (2, 3)))
    assert repr(module) == "UnpoolNearest(scale=(2, 3))"


@pytest.mark.parametrize(
    "call, message",
    [
        pytest.param(lambda: unpool_nearest(torch.zeros(1, 1, 2, 2), 0), "scale 0 given; scale must be an integer >= 1",
                     id="scale-0"),
        pytest.param(lambda: unpool_nearest(torch.zeros(1, 1, 2, 2), 1.5), "scale 1.5 given", id="scale-float"),
        pytest.param(lambda: unpool_nearest(torch.zeros(2, 2)), r"x of shape \(2, 2\) given; x must have 4 dimensions",
                     id="x-2d"),
        pytest.param(lambda: UnpoolNearest(-1), "scale -1 given", id="module-scale"),
    ],
)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
