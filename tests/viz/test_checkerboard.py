from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segviz.metrics import checkerboard_energy
from segviz.ops import overlap_count
from segviz.viz.checkerboard import compute_checkerboard, figure_checkerboard, unevenness, update_checkerboard

CONFIGS = [
    (k, s, layers, n)
    for k, s, layers, n in itertools.product((1, 2, 3, 4, 5, 7), (1, 2, 3), (1, 2, 3), (1, 3, 6))
    if ((n - 1) * s + k - 1) * s ** (layers - 1) + k <= 160  # a generous bound; the rest is refused
]


def _transposed_oracle(k: int, s: int, layers: int, n: int) -> torch.Tensor:
    x = torch.ones(1, 1, n, n, dtype=torch.float64)
    for _ in range(layers):
        x = F.conv_transpose2d(x, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s)
    return x[0, 0]


def _resize_oracle(k: int, s: int, layers: int, n: int) -> torch.Tensor:
    x = torch.ones(1, 1, n, n, dtype=torch.float64)
    for _ in range(layers):
        x = F.interpolate(x, scale_factor=s, mode="nearest")
        x = F.conv2d(x, torch.ones(1, 1, k, k, dtype=torch.float64), padding=(k - 1) // 2)
    return x[0, 0]


def _gradient_oracle(k: int, s: int, layers: int, side: int) -> torch.Tensor:
    image = torch.ones(1, 1, side, side, dtype=torch.float64, requires_grad=True)
    y = image
    for _ in range(layers):
        y = F.conv2d(y, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s)
    (grad,) = torch.autograd.grad(y.sum(), image)
    return grad[0, 0]


@pytest.mark.parametrize("k, s, layers, n", CONFIGS)
def test_counts_and_gradient_equal_pytorch(k, s, layers, n):
    try:
        r = compute_checkerboard(k, s, layers, n)
    except ValueError as error:
        assert "draws at most 160" in str(error)
        return
    oracle = _transposed_oracle(k, s, layers, n)
    np.testing.assert_array_equal(r.counts_2d, oracle.numpy())
    row = torch.ones(1, 1, 1, n, dtype=torch.float64)
    for _ in range(layers):
        row = F.conv_transpose2d(row, torch.ones(1, 1, 1, k, dtype=torch.float64), stride=(1, s))
    np.testing.assert_array_equal(r.counts_1d, row[0, 0, 0].numpy())
    np.testing.assert_array_equal(np.outer(r.counts_1d, r.counts_1d), r.counts_2d)  # 2-D = row × column
    np.testing.assert_array_equal(r.gradient_2d, _gradient_oracle(k, s, layers, oracle.shape[0]).numpy())
    np.testing.assert_array_equal(r.gradient_2d, r.counts_2d)  # the backward of a strided conv is a transposed conv
    if layers == 1:
        np.testing.assert_array_equal(r.counts_2d, overlap_count(n, k, s).numpy())
    assert r.sizes[-1] == oracle.shape[0]


@pytest.mark.parametrize("k, s, layers, n", [c for c in CONFIGS if c[0] % 2 == 1])
def test_resize_then_convolve_equals_interpolate_and_conv2d(k, s, layers, n):
    try:
        r = compute_checkerboard(k, s, layers, n, resize=True)
    except ValueError as error:
        assert "draws at most 160" in str(error)
        return
    np.testing.assert_array_equal(r.counts_2d, _resize_oracle(k, s, layers, n).numpy())
    first, last = r.interior
    if first <= last:  # every interior pixel sums the same (k²)^layers taps: no checkerboard
        assert r.unevenness_2d == 1.0 and set(r.counts_1d[first : last + 1].tolist()) == {k**layers}


@pytest.mark.parametrize("resize", [False, True])
@pytest.mark.parametrize("k, s, layers", [(3, 2, 1), (3, 2, 2), (5, 3, 2), (4, 2, 3), (2, 3, 2), (3, 1, 3), (5, 2, 1)])
def test_interior_is_unaffected_by_the_border(k, s, layers, resize):
    """Interior counts equal those of a much larger input, at the same place relative to it."""
    n, extra = 8, 3
    small = compute_checkerboard(k, s, layers, n, resize)
    shift = extra * s**layers  # `extra` more input pixels on the left shift the output this far
    x = torch.ones(1, 1, 1, n + 2 * extra, dtype=torch.float64)
    for _ in range(layers):
        if resize:
            x = F.conv2d(F.interpolate(x, scale_factor=(1, s), mode="nearest"), torch.ones(1, 1, 1, k, dtype=torch.float64),
                         padding=(0, (k - 1) // 2))
        else:
            x = F.conv_transpose2d(x, torch.ones(1, 1, 1, k, dtype=torch.float64), stride=(1, s))
    big = x[0, 0, 0].numpy()
    first, last = small.interior
    assert first <= last
    np.testing.assert_array_equal(small.counts_1d[first : last + 1], big[first + shift : last + 1 + shift])


def test_hand_computed_values():
    r = compute_checkerboard(3, 2, 1, 4)
    assert r.counts_1d.tolist() == [1, 1, 2, 1, 2, 1, 2, 1, 1]
    assert (r.unevenness_1d, r.unevenness_2d) == (2.0, 4.0)  # squared in 2-D
    assert compute_checkerboard(3, 2, 2, 4).layer_unevenness == (2.0, 3.0)  # interior 3 1 3 2 3 1 …
    assert compute_checkerboard(4, 2, 1, 4).unevenness_2d == 1.0  # divisible: even
    assert compute_checkerboard(6, 3, 2, 3).unevenness_2d == 1.0
    gaps = compute_checkerboard(1, 2, 1, 4)
    assert gaps.counts_1d.tolist() == [1, 0, 1, 0, 1, 0, 1] and math.isinf(gaps.unevenness_1d)
    assert "kernel 1 < stride 2 leaves gaps" in gaps.note and "3 of 7 output pixels" in gaps.note


@pytest.mark.parametrize("k, s, layers", [(3, 2, 1), (5, 2, 2), (5, 3, 1), (7, 3, 2), (3, 2, 3)])
def test_two_d_unevenness_is_the_square_of_one_d(k, s, layers):
    r = compute_checkerboard(k, s, layers, 5)
    assert r.unevenness_2d == pytest.approx(r.unevenness_1d**2)
    assert r.unevenness_1d > 1


def test_energy_is_the_metric_of_the_interior():
    r = compute_checkerboard(5, 2, 1, 6)
    first, last = r.interior
    inside = r.counts_1d[first : last + 1]
    inside = inside[: inside.size // 2 * 2]
    expected = checkerboard_energy(torch.from_numpy(np.outer(inside, inside)).double()).item()
    assert r.energy_2d == pytest.approx(expected) and r.energy_2d > 0.5
    assert compute_checkerboard(4, 2, 1, 6).energy_2d == pytest.approx(0.0, abs=1e-12)


def test_unevenness_helper():
    assert unevenness([2, 2, 2]) == (1.0, 0.0)
    ratio, variation = unevenness([1, 3])
    assert ratio == 3.0 and variation == pytest.approx(0.5)
    assert all(math.isnan(v) for v in unevenness([]))


def test_no_interior_and_even_kernel_notes():
    assert "no interior" in compute_checkerboard(3, 1, 1, 2).note  # counts 1 2 2 1: all border
    assert math.isnan(compute_checkerboard(3, 1, 1, 2).unevenness_1d)
    assert "even kernel (4) cannot be centred" in compute_checkerboard(4, 2, 1, 4, resize=True).note
    assert compute_checkerboard(3, 2, 1, 4).note == ""


@pytest.mark.parametrize(
    "args, message",
    [
        ((7, 4, 3, 8), "3 layer\\(s\\) of kernel 7, stride 4 on a 8-pixel input give a 575×575 output; this explorer draws at most 160×160"),
        ((0, 2, 1, 4), "kernel_size 0 given; kernel_size must be an integer between 1 and 7"),
        ((3, 5, 1, 4), "stride 5 given"),
        ((3, 2, 4, 4), "layers 4 given"),
    ],
)
def test_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        compute_checkerboard(*args)


def test_figure_shows_the_result():
    r = compute_checkerboard(3, 2, 2, 3)
    fig = figure_checkerboard(r)
    np.testing.assert_array_equal(np.asarray(fig.data[0].y), r.counts_1d)
    np.testing.assert_array_equal(np.asarray(fig.data[3].z), r.counts_2d)
    np.testing.assert_array_equal(np.asarray(fig.data[7].z), r.gradient_2d)
    side = r.counts_2d.shape[0]
    assert fig.data[3].dx == pytest.approx(1 / side) and fig.layout.xaxis2.range == (0, 1)
    assert list(fig.data[4].text) == [str(v) for v in r.counts_2d.reshape(-1)]
    assert "max/min inside the dotted interior <b>9.00</b>" in fig.data[6].text[0]
    assert len([x for x in fig.data[1].x if not np.isnan(x)]) == 2 * 7  # 7 copies by the last layer's 7 inputs


def test_update_equals_fresh_figure_with_and_without_previous():
    first, second = compute_checkerboard(3, 2, 1, 4), compute_checkerboard(5, 3, 2, 3, resize=True)
    fresh = figure_checkerboard(second).to_json()
    fig = figure_checkerboard(first)
    update_checkerboard(fig, second)
    assert fig.to_json() == fresh
    fig = figure_checkerboard(first)
    update_checkerboard(fig, second, previous=first)
    assert fig.to_json() == fresh
