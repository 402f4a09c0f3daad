"""ASPPExplorer without a browser: set a control, compare the figure with the pure function and F.conv2d."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segviz.viz.aspp import _index, _state, compute_aspp
from segviz.widgets.aspp import ASPPExplorer
from tests.widgets.helpers import set_controls


@pytest.fixture(scope="module")
def explorer():
    return ASPPExplorer()


def _shown(explorer) -> dict:
    """What the figure holds for every property the update writes (``previous=None`` reads it back)."""
    from segviz.viz._state import get_value

    return {key: get_value(explorer.figure, key) for key in _state(explorer.result)}


def _same(figure_values: dict, expected: dict) -> None:
    for key, value in expected.items():
        shown = figure_values[key]
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(np.asarray(shown), value, err_msg=key)
        else:
            assert (list(shown) if isinstance(value, list) else shown) == value, key


def _valid_taps(n: int, rate: int, row: int, col: int) -> int:
    out = F.conv2d(torch.ones(1, 1, n, n), torch.ones(1, 1, 3, 3), dilation=rate, padding=rate)
    return int(out[0, 0, row, col])


@pytest.mark.parametrize("values, rates", [
    (dict(input_size=513, output_stride=16, preset="paper", row=3, col=30), (6, 12, 18)),
    (dict(input_size=513, output_stride=8, preset="paper", row=64, col=0), (12, 24, 36)),
    (dict(input_size=200, output_stride=32, preset="paper", row=6, col=2), (3, 6, 9)),
    (dict(input_size=1024, output_stride=8, preset="custom", rate_1=1, rate_2=64, rate_3=128, row=127, col=127),
     (1, 64, 128)),
])
def test_figure_follows_the_controls_and_counts_like_conv2d(explorer, values, rates):
    set_controls(explorer, **values)
    r = explorer.result
    assert r.rates == rates and r.position == (values["row"], values["col"])
    assert (r.note in explorer.message.value) if r.note else explorer.message.value == ""
    expected = compute_aspp(values["input_size"], values["output_stride"], rates, (values["row"], values["col"]))
    _same(_shown(explorer), _state(expected))
    n = expected.feature_size
    assert explorer.controls["row"].max == explorer.controls["col"].max == n - 1
    for b, rate in enumerate(rates):
        shown = explorer.figure.data[_index(3)[f"a_in{b}"]]
        assert len(shown.x) == _valid_taps(n, rate, values["row"], values["col"])
    assert f"→ <b>{n}×{n}</b> features" in explorer.label.value


def test_paper_rates_follow_the_stride_and_the_feature_stays_over_the_same_pixel(explorer):
    set_controls(explorer, input_size=513, output_stride=16, preset="paper", row=4, col=28)
    pixels = explorer.figure.data[_index(3)["b_in0"]].x
    explorer.controls["output_stride"].value = 8
    r = explorer.result
    assert r.rates == (12, 24, 36) and r.position == (8, 56) and r.feature_size == 65
    assert [explorer.controls[f"rate_{k}"].value for k in (1, 2, 3)] == [12, 24, 36]
    # doubling the rates at half the stride: the same taps, in input pixels
    np.testing.assert_array_equal(explorer.figure.data[_index(3)["b_in0"]].x, pixels)
    assert r.spans == (193, 385, 577)
    assert "<b>output stride 8 (65×65): 63.4 G</b>" in explorer.label.value
    assert "output stride 16 (33×33): 16.3 G" in explorer.label.value
    assert "output stride 8 costs 3.9× as much as 16" in explorer.label.value


def test_moving_a_rate_switches_to_custom_and_keeps_the_rates(explorer):
    set_controls(explorer, input_size=513, output_stride=16, preset="paper")
    explorer.controls["rate_3"].value = 40
    assert explorer.controls["preset"].value == "custom" and explorer.result.rates == (6, 12, 40)
    explorer.controls["output_stride"].value = 8  # custom rates are the learner's: they stay
    assert explorer.result.rates == (6, 12, 40)
    explorer.controls["preset"].value = "paper"
    assert explorer.result.rates == (12, 24, 36)


def test_a_small_map_says_the_filters_degenerate(explorer):
    set_controls(explorer, preset="paper", output_stride=16, input_size=513)
    set_controls(explorer, input_size=129)  # 9×9 features; rates 12 and 18 reach past it
    assert explorer.controls["row"].max == 8 and explorer.result.feature_size == 9
    assert "rate 12, 18 ≥ the 9×9 map" in explorer.message.value
    set_controls(explorer, input_size=513)
    assert explorer.message.value == ""


def test_the_figure_is_built_once(explorer):
    figure = explorer.figure
    set_controls(explorer, input_size=64, output_stride=32, preset="custom", rate_1=128, row=0, col=1)
    assert explorer.figure is figure and explorer.children[-1] is figure


def test_constructor_arguments():
    widget = ASPPExplorer(321, 8, rates=(2, 4, 8), position=(0, 40))
    assert widget.result.rates == (2, 4, 8) and widget.controls["preset"].value == "custom"
    assert widget.result.position == (0, 40) and widget.result.feature_size == 41
    with pytest.raises(ValueError, match="give three rates"):
        ASPPExplorer(rates=(6, 12))
    with pytest.raises(ValueError, match="row 33 given; row must be an integer between 0 and 32"):
        ASPPExplorer(position=(33, 0))
    with pytest.raises(ValueError, match="output_stride 4 given"):
        ASPPExplorer(output_stride=4)
