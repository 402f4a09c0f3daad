from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from segviz.arith import receptive_field
from segviz.ops import dilate_kernel
from segviz.viz.dilation import compute_dilation, figure_dilation, rates_for, update_dilation


def _composed_kernel(k: int, rates: tuple[int, ...]) -> np.ndarray:
    """The stack's footprint built from dilate_kernel: the full convolution of every dilated kernel."""
    x = torch.ones(1, 1, 1, 1, dtype=torch.float64)
    for rate in rates:
        x = F.conv_transpose2d(x, dilate_kernel(torch.ones(1, 1, k, k, dtype=torch.float64), rate))
    return x[0, 0].round().to(torch.int64).numpy()


def test_rates_for_every_schedule():
    assert rates_for("constant", 3, 3) == (3, 3, 3)
    assert rates_for("exponential", 2, 5) == (1, 2, 4, 8, 16)  # the context module of Yu & Koltun
    assert rates_for("hybrid", 3, 6) == (1, 2, 3, 1, 2, 3)  # HDC
    assert rates_for("hybrid", 1, 3) == rates_for("exponential", 1, 3) == (1, 1, 1)
    with pytest.raises(ValueError, match="schedule 'linear' given"):
        rates_for("linear", 2, 2)


CASES = [
    (k, d, layers, schedule)
    for k, d, layers, schedule in itertools.product((1, 2, 3, 5), (1, 2, 3), (1, 2, 4), ("constant", "exponential", "hybrid"))
    if 1 + sum((k - 1) * r for r in rates_for(schedule, d, layers)) <= 121  # leaves room in a 129-pixel input
]


@pytest.mark.parametrize("k, d, layers, schedule", CASES)
def test_footprint_is_pytorchs_and_matches_the_formula(k, d, layers, schedule):
    rates = rates_for(schedule, d, layers)
    rf = 1 + sum((k - 1) * r for r in rates)
    n = rf + 6 if rf % 2 == 1 else rf + 7
    r = compute_dilation(k, d, layers, schedule, n)
    assert r.rates == rates and r.receptive_field == rf
    np.testing.assert_array_equal(r.kernel, dilate_kernel(torch.ones(k, k, dtype=torch.int64), d).numpy())
    first, last = r.box
    assert last - first + 1 == rf and r.output_size == n - rf + 1
    composed = _composed_kernel(k, rates)  # [RF, RF]
    np.testing.assert_array_equal(r.footprint[first : last + 1, first : last + 1], composed)
    outside = r.footprint.copy()
    outside[first : last + 1, first : last + 1] = 0
    assert not outside.any()  # nothing outside the receptive field reaches the output
    assert r.contributing == int((composed > 0).sum())
    # the receptive field traced through a real nn.Sequential of dilated convolutions
    net = nn.Sequential(*[nn.Conv2d(1, 1, k, dilation=rate) for rate in rates])
    assert receptive_field(net, str(layers - 1), input_size=(1, 1, n, n)).size == rf


def test_gridding_by_hand():
    r = compute_dilation(3, 2, 2, "constant", 9)
    assert r.footprint[0].tolist() == [1, 0, 2, 0, 3, 0, 2, 0, 1]
    assert r.contributing == 25 and r.coverage == pytest.approx(25 / 81)
    assert "gridding: 56 of the 81 pixels" in r.note and "every 2nd row and column" in r.note
    assert "hybrid" in r.note
    dense = compute_dilation(3, 2, 4, "exponential", 33)  # 1, 2, 4, 8: no holes
    assert dense.receptive_field == 31 and dense.coverage == 1.0 and dense.note == ""
    assert compute_dilation(3, 3, 3, "hybrid", 33).coverage == 1.0  # 1, 2, 3
    sparse = compute_dilation(3, 4, 3, "exponential", 129)  # 1, 4, 16: the rates outgrow the kernel
    assert sparse.coverage < 1 and "grow faster than the kernel" in sparse.note


def test_growth_curves():
    r = compute_dilation(3, 2, 1, "constant", 9)
    assert r.growth["constant"] == (5, 9, 13, 17, 21, 25)  # linear
    assert r.growth["exponential"] == (3, 7, 15, 31, 63, 127)  # exponential
    assert r.growth["hybrid"] == (3, 7, 9, 13, 15, 19)


def test_too_small_input_quotes_the_core_error():
    with pytest.raises(ValueError) as info:
        compute_dilation(3, 2, 4, "exponential", 25)  # needs 31
    text = str(info.value)
    assert text.startswith("layer 4 of 4 (rate 8) gets a 11×11 map: conv_output_size: input size 11 is too small")
    assert "the input must be at least 31 a side (it is 25)" in text


@pytest.mark.parametrize(
    "args, message",
    [
        ((0, 2, 1, "constant", 9), "kernel_size 0 given"),
        ((3, 5, 1, "constant", 9), "dilation 5 given; dilation must be an integer between 1 and 4"),
        ((3, 2, 7, "constant", 99), "layers 7 given"),
        ((3, 2, 1, "constant", 3), "input_size 3 given"),
    ],
)
def test_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        compute_dilation(*args)


def test_figure_shows_the_result():
    r = compute_dilation(3, 2, 2, "constant", 9)
    fig = figure_dilation(r)
    canvas = 4 * 2 + 1  # room for dilation 4
    kernel = np.asarray(fig.data[0].z)
    assert kernel.shape == (canvas, canvas)
    np.testing.assert_array_equal(kernel[2:7, 2:7], r.kernel)
    assert kernel.sum() == 9
    footprint = np.asarray(fig.data[2].z)
    np.testing.assert_array_equal(footprint > 0, r.footprint > 0)
    assert fig.data[2].dx == pytest.approx(1 / 9)
    assert list(fig.data[3].text[:9]) == ["1", "", "2", "", "3", "", "2", "", "1"]
    assert list(fig.data[9].y) == [9] and "receptive field 9×9: 25 pixels reach it (31%)" in fig.layout.annotations[1].text


def test_update_equals_fresh_figure_with_and_without_previous():
    first, second = compute_dilation(), compute_dilation(5, 3, 4, "hybrid", 65)
    fresh = figure_dilation(second).to_json()
    fig = figure_dilation(first)
    update_dilation(fig, second)
    assert fig.to_json() == fresh
    fig = figure_dilation(first)
    update_dilation(fig, second, previous=first)
    assert fig.to_json() == fresh
