"""unpool_bed_of_nails: values at the top-left of each block; against F.max_unpool2d and F.conv_transpose2d."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from segviz.ops import UnpoolBedOfNails, unpool_bed_of_nails

pytestmark = pytest.mark.filterwarnings("ignore:max_unpooling2d_forward_out does not have a deterministic")
SHAPES_AND_SCALES = list(itertools.product([(1, 1, 1, 1), (2, 3, 4, 5), (1, 2, 3, 1)], [1, 2, 3, (1, 2), (3, 2)]))


def test_smoke():
    assert unpool_bed_of_nails(torch.zeros(2, 3, 4, 5), (2, 3)).shape == (2, 3, 8, 15)


def test_lecture_example():
    out = unpool_bed_of_nails(torch.tensor([[[[1, 2], [3, 4]]]]))
    assert out[0, 0].tolist() == [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]


@pytest.mark.parametrize("shape, scale", SHAPES_AND_SCALES)
def test_equals_max_unpool_with_top_left_switches(shape, scale):
    sh, sw = scale if isinstance(scale, tuple) else (scale, scale)
    n, c, h, w = shape
    x = torch.randn(*shape, dtype=torch.float64)
    rows, cols = torch.arange(h)[:, None] * sh, torch.arange(w)[None, :] * sw
    top_left = (rows * (w * sw) + cols).expand(n, c, h, w)  # flat index of each block's top-left pixel
    assert_close(unpool_bed_of_nails(x, scale), F.max_unpool2d(x, top_left, (sh, sw)))


@pytest.mark.parametrize("shape, scale", SHAPES_AND_SCALES)
def test_equals_transposed_conv_with_one_hot_kernel(shape, scale):
    sh, sw = scale if isinstance(scale, tuple) else (scale, scale)
    channels = shape[1]
    kernel = torch.zeros(channels, 1, sh, sw, dtype=torch.float64)
    kernel[:, :, 0, 0] = 1  # one nail per copy, at its top-left
    x = torch.randn(*shape, dtype=torch.float64)
    expected = F.conv_transpose2d(x, kernel, stride=(sh, sw), groups=channels)
    assert_close(unpool_bed_of_nails(x, scale), expected)


def test_gradient_reads_the_nails():
    x = torch.randn(1, 2, 2, 3, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(1, 2, 4, 6, dtype=torch.float64)
    (unpool_bed_of_nails(x) * upstream).sum().backward()
    assert torch.equal(x.grad, upstream[:, :, ::2, ::2])


def test_module_equals_function():
    x = torch.randn(2, 3, 4, 5)
    module = UnpoolBedOfNails(3)
    assert torch.equal(module(x), unpool_bed_of_nails(x, 3))
    assert repr(module) == "UnpoolBedOfNails(scale=(3, 3))"


@pytest.mark.parametrize(
    "call, message",
    [
        pytest.param(lambda: unpool_bed_of_nails(torch.zeros(1, 1, 2, 2), (2, 0)),
                     r"scale \(2, 0\) given; scale must be an integer >= 1 or a pair of them", id="scale-0"),
        pytest.param(lambda: unpool_bed_of_nails([[1, 2], [3, 4]]), "x of type list given; x must be a torch.Tensor",
                     id="x-list"),
    ],
)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
