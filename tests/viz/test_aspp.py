from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segviz.arith.atrous import aspp_multiply_adds, feature_map_size, valid_tap_fraction
from segviz.models import DeepLabV3
from segviz.models.deeplab import PAPER_RATES
from segviz.viz.aspp import MAX_RATE, _index, compute_aspp, figure_aspp, paper_rates, update_aspp


def _conv_counts(n: int, rate: int) -> np.ndarray:
    """Oracle: valid taps per position, an all-ones 3×3 kernel with dilation r over an all-ones n×n map."""
    out = F.conv2d(torch.ones(1, 1, n, n, dtype=torch.float64), torch.ones(1, 1, 3, 3, dtype=torch.float64),
                   dilation=rate, padding=rate)
    return out[0, 0].round().to(torch.int64).numpy()


def test_paper_rates_are_the_models():
    assert paper_rates(16) == PAPER_RATES[16] == DeepLabV3(3, output_stride=16).decoder.aspp.rates == (6, 12, 18)
    assert paper_rates(8) == PAPER_RATES[8] == DeepLabV3(3, output_stride=8).decoder.aspp.rates == (12, 24, 36)
    assert paper_rates(32) == (3, 6, 9)
    with pytest.raises(ValueError, match="output_stride 4 given; output_stride must be one of 8, 16, 32"):
        paper_rates(4)


@pytest.mark.parametrize("input_size, stride, rates, position", [
    (513, 16, (6, 12, 18), (16, 16)),
    (513, 8, (12, 24, 36), (0, 64)),
    (321, 16, (1, 7, 30), (3, 19)),
    (64, 32, (1, 2, 3), (1, 0)),
    (1024, 8, (100, 128, 5), (127, 60)),
])
def test_taps_and_counts_equal_conv2d(input_size, stride, rates, position):
    r = compute_aspp(input_size, stride, rates, position)
    n = r.feature_size
    assert n == feature_map_size(input_size, stride) == -(-input_size // stride)
    i, j = position
    for rate, taps, inside, here, fraction in zip(r.rates, r.taps, r.inside, r.valid_here, r.fractions):
        counts = _conv_counts(n, rate)
        assert here == counts[i, j] == inside.sum()
        assert fraction == counts.sum() / (9 * n * n)
        rows, cols = taps[:, 0], taps[:, 1]
        assert sorted(set(rows.tolist())) == [i - rate, i, i + rate] and sorted(set(cols.tolist())) == [j - rate, j, j + rate]
        np.testing.assert_array_equal(inside, (rows >= 0) & (rows < n) & (cols >= 0) & (cols < n))
    assert r.spans == tuple(2 * rate * stride + 1 for rate in rates)


@pytest.mark.parametrize("n_input, stride", [(513, 16), (513, 8), (100, 32), (1024, 8)])
def test_curves_equal_the_conv2d_count_at_every_rate(n_input, stride):
    r = compute_aspp(n_input, stride)
    n = r.feature_size
    assert r.curve_rates.tolist() == list(range(1, MAX_RATE + 1))
    for rate in (1, 2, 5, n // 2, n - 1, n, n + 1, MAX_RATE):
        if not 1 <= rate <= MAX_RATE:
            continue
        counts = _conv_counts(n, rate)
        assert r.curve_mean[rate - 1] == pytest.approx(counts.mean() / 9, abs=1e-15)
        assert r.curve_all[rate - 1] == pytest.approx((counts == 9).mean(), abs=1e-15)
        assert r.curve_centre[rate - 1] == pytest.approx((counts == 1).mean(), abs=1e-15)


def test_deeplabv3_fig4_on_the_65x65_map():
    r = compute_aspp(513, 8)  # 65×65 features: the map of the paper's Fig. 4
    assert r.feature_size == 65
    assert r.curve_mean[64 - 1] == valid_tap_fraction(65, 64) == 67**2 / (9 * 65**2)  # not yet exactly 1/9
    assert r.curve_centre[64 - 1] == pytest.approx(63**2 / 65**2)  # 94 % of the positions: centre tap only
    assert (r.curve_mean[65 - 1 :] == 1 / 9).all() and (r.curve_centre[65 - 1 :] == 1).all()
    assert r.curve_all[33 - 1] == 0 and r.curve_all[32 - 1] == pytest.approx(1 / 65**2)  # one position: the centre
    assert np.all(np.diff(r.curve_mean) <= 0)  # more rate, fewer valid weights
    assert r.note == ""


def test_note_when_a_rate_reaches_the_map_size():
    r = compute_aspp(129, 16, rates=(6, 12, 18))  # a 9×9 map
    assert r.feature_size == 9 and r.valid_here == (1, 1, 1)
    assert r.note.startswith("rate 12, 18 ≥ the 9×9 map") and "1×1 filter" in r.note and "image pooling" in r.note


def test_cost_follows_the_map_area():
    r = compute_aspp(513, 16)
    assert r.feature_sizes == {8: 65, 16: 33, 32: 17}
    assert r.multiply_adds[16] == aspp_multiply_adds(33) and r.multiply_adds[8] == aspp_multiply_adds(65)
    assert 3.8 < r.multiply_adds[8] / r.multiply_adds[16] < 4


@pytest.mark.parametrize("kwargs, message", [
    (dict(input_size=32), "input_size 32 given; input_size must be an integer between 64 and 1024"),
    (dict(output_stride=4), "output_stride 4 given"),
    (dict(rates=()), "rates () given; rates must be a sequence"),
    (dict(rates=(6, 0, 18)), "rate 0 given; rate must be an integer between 1 and 128"),
    (dict(position=(33, 0)), "row 33 given; row must be an integer between 0 and 32"),
    (dict(position=5), "position 5 given; position must be a pair"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compute_aspp(**kwargs)


def test_figure_shows_the_result():
    r = compute_aspp(513, 16, position=(2, 30))
    fig = figure_aspp(r)
    idx = _index(3)
    s = r.output_stride
    for b, (taps, inside) in enumerate(zip(r.taps, r.inside)):
        on, off = taps[inside], taps[~inside]
        a_in, a_out = fig.data[idx[f"a_in{b}"]], fig.data[idx[f"a_out{b}"]]
        np.testing.assert_array_equal(np.asarray(a_in.x), on[:, 1])
        np.testing.assert_array_equal(np.asarray(a_in.y), on[:, 0])
        np.testing.assert_array_equal(np.asarray(a_out.x), off[:, 1])
        np.testing.assert_array_equal(np.asarray(a_out.y), off[:, 0])
        b_in = fig.data[idx[f"b_in{b}"]]
        np.testing.assert_array_equal(np.asarray(b_in.x), on[:, 1] * s)  # tap × output stride
        assert a_out.marker.symbol == "square-open" and a_in.marker.symbol == "square"
        assert f"{inside.sum()} of 9 taps on the map here" in a_in.name
        box = fig.data[idx[f"b_box{b}"]]
        assert max(box.x) - min(box.x) + 1 == r.spans[b]  # the box joins the outer tap centres
    assert all("zero padding" in text for b in range(3) for text in fig.data[idx[f"a_out{b}"]].hovertext)
    chosen = fig.data[idx["c_chosen"]]
    assert list(chosen.x) == [6, 12, 18]
    np.testing.assert_allclose(chosen.y, r.fractions, rtol=1e-6)
    np.testing.assert_allclose(fig.data[idx["c_mean"]].y, r.curve_mean, rtol=1e-6)
    pool = fig.data[idx["a_pool"]]
    assert (min(pool.x), max(pool.x)) == (-0.5, 32.5)  # image pooling: the whole 33×33 map
    assert "feature map 33×33" in fig.layout.annotations[0].text
    assert "193 / 385 / 577 px" in fig.layout.annotations[1].text


def test_update_equals_fresh_figure_with_and_without_previous():
    first, second = compute_aspp(), compute_aspp(200, 8, rates=(1, 30, 64), position=(0, 24))
    fresh = figure_aspp(second).to_json()
    fig = figure_aspp(first)
    update_aspp(fig, second)  # compared with what the figure holds
    assert fig.to_json() == fresh
    update_aspp(fig, first, previous=second)  # compared with the previous result: nothing read back
    update_aspp(fig, second, previous=first)
    assert fig.to_json() == fresh
    with pytest.raises(ValueError, match="2 rates given for a figure drawn with 3"):
        update_aspp(fig, compute_aspp(rates=(6, 12)), previous=second)
