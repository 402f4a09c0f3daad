"""Atrous tap arithmetic, checked against F.conv2d, DeepLabV3's backbone and ASPP, and the paper's Fig. 4 claim."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segviz.arith import count_flops
from segviz.arith.atrous import (
    aspp_multiply_adds,
    atrous_span,
    atrous_taps,
    feature_map_size,
    valid_tap_counts,
    valid_tap_fraction,
)
from segviz.models import ASPP
from segviz.models.deeplab import AtrousResNet


def _conv_counts(h: int, w: int, rate: int, k: int = 3) -> np.ndarray:
    """Oracle: an all-ones k×k kernel with dilation r over an all-ones map, zero-padded by r·(k−1)/2."""
    ones = torch.ones(1, 1, h, w, dtype=torch.float64)
    kernel = torch.ones(1, 1, k, k, dtype=torch.float64)
    out = F.conv2d(ones, kernel, dilation=rate, padding=rate * (k - 1) // 2)  # [1, 1, H, W]
    return out[0, 0].round().to(torch.int64).numpy()


def _read_cells(h: int, w: int, rate: int, position: tuple[int, int], k: int = 3) -> set[tuple[int, int]]:
    """Oracle: which cells of the zero-padded map the output at ``position`` reads (autograd through F.conv2d)."""
    pad = rate * (k - 1) // 2
    padded = torch.zeros(1, 1, h + 2 * pad, w + 2 * pad, dtype=torch.float64, requires_grad=True)
    out = F.conv2d(padded, torch.ones(1, 1, k, k, dtype=torch.float64), dilation=rate)  # [1, 1, H, W]
    (grad,) = torch.autograd.grad(out[0, 0, position[0], position[1]], padded)
    return {(int(i) - pad, int(j) - pad) for i, j in grad[0, 0].nonzero().tolist()}


SIZES = [(1, 1), (2, 2), (5, 5), (7, 4), (33, 33), (65, 65), (3, 17)]
RATES = [1, 2, 3, 6, 12, 17, 18, 32, 64, 65, 100]


@pytest.mark.parametrize("h, w", SIZES)
def test_valid_tap_counts_and_fraction_equal_the_conv2d_count(h, w):
    for rate, k in itertools.product(RATES, (1, 3, 5)):
        expected = _conv_counts(h, w, rate, k)
        counts = valid_tap_counts((h, w), rate, k)
        np.testing.assert_array_equal(counts, expected, err_msg=f"rate {rate}, kernel {k}")
        assert valid_tap_fraction((h, w), rate, k) == int(expected.sum()) / (k * k * h * w)


def test_taps_equal_the_cells_conv2d_reads():
    for (h, w), rate in itertools.product([(5, 5), (9, 6), (33, 33)], (1, 2, 6, 12)):
        for position in [(0, 0), (h // 2, w // 2), (h - 1, 1), (2, w - 1)]:
            taps, inside = atrous_taps((h, w), rate, position)
            assert {tuple(t) for t in taps.tolist()} == _read_cells(h, w, rate, position)
            expected_inside = [0 <= i < h and 0 <= j < w for i, j in taps.tolist()]
            assert inside.tolist() == expected_inside
            assert inside.sum() == valid_tap_counts((h, w), rate)[position]


def test_taps_by_hand():
    taps, inside = atrous_taps(33, 12, (16, 4))
    assert taps[4].tolist() == [16, 4]  # the centre tap is the position itself
    assert sorted({int(r) for r in taps[:, 0]}) == [4, 16, 28] and sorted({int(c) for c in taps[:, 1]}) == [-8, 4, 16]
    assert inside.tolist() == [False, True, True] * 3  # the left column is in the padding
    taps, inside = atrous_taps(7, 1, (3, 3), kernel_size=1)
    assert taps.tolist() == [[3, 3]] and inside.tolist() == [True]


def test_deeplabv3_claim_on_a_65x65_map():
    # §3.3 / Fig. 4: as the rate approaches the map size, the 3×3 filter degenerates to its centre tap.
    counts = valid_tap_counts(65, 64)
    # Exactly: along an axis only positions 0 and 64 reach a second tap (64 apart), so the mean
    # count per axis is 1 + 2/65 and the fraction (67/65)² / 9, slightly above 1/9.
    assert Fraction(int(counts.sum()), 9 * 65 * 65) == Fraction(67, 65) ** 2 / 9
    assert valid_tap_fraction(65, 64) == 4489 / 38025 > 1 / 9
    assert (counts == 1).sum() == 63 * 63  # 94% of the positions use the centre tap only
    assert sorted(np.unique(counts).tolist()) == [1, 2, 4]  # never more than 4 (the corners)
    assert counts[0, 0] == 4 and counts[0, 32] == 2 and counts[32, 32] == 1
    for rate in (65, 66, 200):  # from the map's size on, every position: the centre tap alone
        assert (valid_tap_counts(65, rate) == 1).all() and valid_tap_fraction(65, rate) == 1 / 9
    # the paper's rates keep most weights valid: the same fractions at 33×33 (OS 16) and 65×65 (OS 8)
    os16 = [valid_tap_fraction(33, r) for r in (6, 12, 18)]
    os8 = [valid_tap_fraction(65, r) for r in (12, 24, 36)]
    assert os16 == sorted(os16, reverse=True) and os16[-1] < 0.5 < os16[0]
    np.testing.assert_allclose(os16, os8, atol=0.02)
    fractions = [valid_tap_fraction(65, r) for r in range(1, 70)]
    assert all(a >= b for a, b in zip(fractions, fractions[1:]))  # falls monotonically with the rate


@pytest.mark.parametrize("output_stride", [8, 16, 32])
def test_feature_map_size_is_the_backbones(output_stride):
    with torch.device("meta"):
        backbone = AtrousResNet(3, (4, 4, 4, 4), num_blocks=1, output_stride=output_stride).eval()
        for h, w in [(513, 513), (512, 384), (64, 100), (97, 33)]:
            features = backbone(torch.empty(1, 3, h, w))
            assert tuple(features.shape[-2:]) == feature_map_size((h, w), output_stride)
            assert features.shape[-1] == feature_map_size(w, output_stride)
    assert (feature_map_size(513, 16), feature_map_size(513, 8)) == (33, 65)


def test_atrous_span_is_the_distance_between_the_outer_taps():
    for rate, stride, k in itertools.product((1, 6, 12, 18, 36), (1, 8, 16, 32), (1, 3, 5)):
        taps, _ = atrous_taps(1000, rate, (500, 500), k)
        assert atrous_span(rate, stride, k) == (taps[:, 0].max() - taps[:, 0].min()) * stride + 1
    assert atrous_span(18, 16) == 577 > 513  # rate 18 at OS 16 reaches past a 513×513 crop
    assert atrous_span(6, 16) == atrous_span(12, 8)  # doubling the rates at OS 8 keeps the field of view


@pytest.mark.parametrize("size, rates, c_in, c", [(33, (6, 12, 18), 2048, 256), (65, (12, 24, 36), 2048, 256),
                                                 ((7, 5), (1, 2), 16, 8), (1, (), 4, 4)])
def test_aspp_multiply_adds_equal_pytorchs_count(size, rates, c_in, c):
    h, w = (size, size) if isinstance(size, int) else size
    with torch.device("meta"):
        aspp = ASPP(c_in, c, rates).eval() if rates else None
    if aspp is None:  # ASPP needs a rate; check the formula's terms by hand instead
        assert aspp_multiply_adds(size, 0, c_in, c) == h * w * (c_in * c + 2 * c * c) + c_in * c
        return
    assert 2 * aspp_multiply_adds(size, len(rates), c_in, c) == count_flops(aspp, (1, c_in, h, w))


def test_output_stride_8_costs_about_four_times_16():
    ratio = aspp_multiply_adds(feature_map_size(513, 8)) / aspp_multiply_adds(feature_map_size(513, 16))
    assert ratio == pytest.approx(65**2 / 33**2, rel=1e-3) and 3.8 < ratio < 4


@pytest.mark.parametrize("call, message", [
    (lambda: atrous_taps(5, 0, (0, 0)), "rate 0 given; rate must be an integer >= 1"),
    (lambda: atrous_taps(5, 2, (5, 0)), "position row 5 given; position row must be an integer between 0 and 4"),
    (lambda: atrous_taps(5, 2, 3), "position 3 given; position must be a pair"),
    (lambda: valid_tap_counts(5, 2, kernel_size=4), "kernel_size 4 given; kernel_size must be odd"),
    (lambda: valid_tap_fraction(0, 2), "size 0 given"),
    (lambda: feature_map_size(513, 0), "output_stride 0 given"),
    (lambda: atrous_span(2.5), "rate 2.5 given"),
])
def test_bad_input_says_what_would_work(call, message):
    with pytest.raises(ValueError, match=message):
        call()
