"""overlap_count: filter copies per output pixel of a transposed convolution (the checkerboard)."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from segviz.ops import overlap_count


def test_smoke():
    counts = overlap_count((3, 4), (3, 2), (2, 1))
    assert counts.dtype == torch.int64 and counts.shape == (7, 5)  # (3 - 1)2 + 3, (4 - 1)1 + 2


def test_1d_kernel_3_stride_2_alternates():
    # Copies start every 2 pixels and are 3 long: 1 1 2 1 2 1 2 1 1.
    assert overlap_count((1, 4), (1, 3), (1, 2)).tolist() == [[1, 1, 2, 1, 2, 1, 2, 1, 1]]


def test_1d_kernel_divisible_by_stride_is_flat_inside():
    # Kernel 4, stride 2: every interior pixel is covered by exactly 4 / 2 = 2 copies, no checkerboard.
    assert overlap_count((1, 4), (1, 4), (1, 2)).tolist() == [[1, 1, 2, 2, 2, 2, 2, 2, 1, 1]]
    assert overlap_count((1, 4), (1, 4), (1, 2), padding=(0, 1)).tolist() == [[1, 2, 2, 2, 2, 2, 2, 1]]


def test_2d_checkerboard_is_product_of_1d_counts():
    counts = overlap_count(3, 3, 2)
    row = overlap_count((1, 3), (1, 3), (1, 2))[0]  # [1, 1, 2, 1, 2, 1, 1]
    assert torch.equal(counts, row[:, None] * row[None, :])
    assert counts[2, 2] == 4 and counts[2, 3] == 2 and counts[3, 3] == 1  # the checkerboard


def _output_is_empty(size, kernel, stride, padding, dilation):
    padding = padding if isinstance(padding, tuple) else (padding, padding)
    output_padding = (stride[0] - 1, 0)
    return any((n - 1) * s - 2 * p + d * (k - 1) + op + 1 < 1
               for n, k, s, p, op, d in zip(size, kernel, stride, padding, output_padding, dilation))


CASES = [
    case
    for case in itertools.product([(2, 3), (4, 1)], [(3, 3), (2, 4), (1, 2)], [(1, 1), (2, 3), (3, 2)],
                                  [0, (1, 2)], [(1, 1), (2, 1)])
    if not _output_is_empty(*case)
]


@pytest.mark.parametrize("size, kernel, stride, padding, dilation", CASES)
def test_equals_conv_transpose2d_of_ones(size, kernel, stride, padding, dilation):
    output_padding = (stride[0] - 1, 0)  # the largest allowed in the first direction
    expected = F.conv_transpose2d(torch.ones(1, 1, *size), torch.ones(1, 1, *kernel), stride=stride,
                                  padding=padding, output_padding=output_padding, dilation=dilation)
    counts = overlap_count(size, kernel, stride, padding, output_padding, dilation)
    assert torch.equal(counts, expected[0, 0].long())


@pytest.mark.parametrize(
    "call, message",
    [
        pytest.param(lambda: overlap_count(0, 3, 2), "input_size 0 given; input_size must be an integer >= 1",
                     id="size-0"),
        pytest.param(lambda: overlap_count(4, (3, 3, 3), 2), r"kernel_size \(3, 3, 3\) given; .* or a pair of them",
                     id="kernel-3-tuple"),
        pytest.param(lambda: overlap_count(4, 3, 2, output_padding=2), r"output_padding \(2, 2\) given",
                     id="output-padding"),
    ],
)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
