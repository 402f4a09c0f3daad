"""TransposedConvExplorer without a browser: set a control, compare the figure with the pure function."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segviz.viz.transposed_conv import compute_transposed_conv, transposed_conv_state
from segviz.widgets.transposed_conv import TransposedConvExplorer
from tests.widgets.helpers import figure_state, set_controls

LAYER = ("input_size", "kernel_size", "stride", "padding", "output_padding", "dilation")


def assert_figure_shows(widget, view):
    assert figure_state(widget, transposed_conv_state) == transposed_conv_state(view)


def oracle(view) -> np.ndarray:
    out = F.conv_transpose2d(torch.tensor(view.x, dtype=torch.float64)[None, None],
                             torch.tensor(view.kernel, dtype=torch.float64)[None, None], stride=view.stride,
                             padding=view.padding, output_padding=view.output_padding, dilation=view.dilation)
    return out[0, 0].numpy()


@pytest.fixture
def explorer():
    return TransposedConvExplorer()


@pytest.mark.parametrize("values", [
    dict(input_size=3, kernel_size=3, stride=2, padding=0, output_padding=0, dilation=1, step=9),
    dict(input_size=7, kernel_size=4, stride=2, padding=1, output_padding=0, dilation=1, step=20),
    dict(input_size=4, kernel_size=2, stride=3, padding=2, output_padding=2, dilation=1, step=0),
    dict(input_size=5, kernel_size=3, stride=1, padding=1, output_padding=1, dilation=2, step=13),
    dict(input_size=8, kernel_size=7, stride=4, padding=3, output_padding=3, dilation=3, step=64),
])
def test_figure_follows_the_controls(explorer, values):
    set_controls(explorer, **values)
    layer = {name: values[name] for name in LAYER}
    expected = compute_transposed_conv(**layer, step=values["step"])
    assert explorer.message.value == ""
    assert explorer.result.step == values["step"]
    np.testing.assert_array_equal(explorer.result.partial, expected.partial)
    np.testing.assert_array_equal(explorer.result.output, oracle(expected))
    assert_figure_shows(explorer, expected)


def test_the_last_step_shows_conv_transpose2d(explorer):
    set_controls(explorer, input_size=5, kernel_size=4, stride=2, padding=1, output_padding=1)
    assert explorer.controls["step"].value == 25  # the slider stayed at the end
    view = explorer.result
    np.testing.assert_array_equal(view.partial[1:-1, 1:-1], oracle(view))
    z = np.array(explorer.figure.data[2].z)
    np.testing.assert_array_equal(z[1:-1, 1:-1], oracle(view))


def test_label_works_out_the_output_size(explorer):
    assert explorer.label.value.startswith(
        "stride 2: 2×2 input → 4×4 output; (H−1)·s − 2p + d(k−1) + op + 1 = (2−1)·2 − 2·1 + 1·(3−1) + 1 + 1 = 4<br>"
    )
    set_controls(explorer, input_size=3, padding=0, output_padding=0, step=4)
    assert "stride 2: 3×3 input → 7×7 output; (H−1)·s − 2p + d(k−1) + op + 1 = (3−1)·2 − 2·0 + 1·(3−1) + 0 + 1 = 7" in explorer.label.value
    assert "stamp 4 of 9: x[1,0] = " in explorer.label.value and "corner at (1·2, 0·2) = (2, 0)" in explorer.label.value


@pytest.mark.parametrize("values, message", [
    (dict(output_padding=2), "output_padding (2, 2) given with stride (2, 2) and dilation (1, 1); output_padding must be smaller"),
    (dict(stride=1), "must be smaller than max(stride, dilation) = (1, 1)"),
    (dict(padding=3), "padding (3, 3) crops away the whole output"),
])
def test_invalid_combination_shows_the_core_message_and_keeps_the_figure(explorer, values, message):
    set_controls(explorer, step=2)
    before_result, before_figure = explorer.result, figure_state(explorer, transposed_conv_state)
    set_controls(explorer, **values)
    assert message in explorer.message.value and "⚠" in explorer.message.value
    assert explorer.result is before_result and figure_state(explorer, transposed_conv_state) == before_figure
    explorer.controls["step"].value = 1  # still invalid: still the old figure
    assert explorer.result is before_result and figure_state(explorer, transposed_conv_state) == before_figure
    set_controls(explorer, output_padding=0, stride=2, padding=1)  # valid again
    assert explorer.message.value == "" and explorer.result.step == 1
    assert_figure_shows(explorer, compute_transposed_conv(2, 3, 2, 1, 0, 1, step=1))


def test_the_figure_is_built_once(explorer):
    figure = explorer.figure
    for value in (1, 2, 3, 4, 0):
        explorer.controls["step"].value = value
    set_controls(explorer, input_size=6, kernel_size=5, dilation=2)
    assert explorer.figure is figure and explorer.children[-1] is figure


def test_step_range_follows_the_input_and_play_drives_the_step(explorer):
    step, play = explorer.controls["step"], explorer.play
    assert (step.min, step.max, step.value, play.max) == (0, 4, 4, 4)
    explorer.controls["input_size"].value = 3  # at the end: stays at the end
    assert (step.max, step.value, play.max, explorer.result.step) == (9, 9, 9, 9)
    step.value = 5
    explorer.controls["input_size"].value = 2  # past the new end: clamped
    assert (step.max, step.value, explorer.result.step) == (4, 4, 4)
    step.value = 1
    explorer.controls["input_size"].value = 4  # inside: kept
    assert (step.max, step.value, explorer.result.step) == (16, 1, 1)
    play.value = 7  # what a tick of ▶ does
    assert step.value == 7 and explorer.result.step == 7 and explorer.result.pixel == (1, 2)
    assert_figure_shows(explorer, compute_transposed_conv(4, 3, 2, 1, 1, 1, step=7))


def test_one_message_per_change_and_stepping_does_not_redraw(explorer):
    sent = []
    explorer.figure._send_update_msg = lambda *args, **kwargs: sent.append("update")
    explorer.figure._send_animate_msg = lambda **kwargs: sent.append("animate")
    explorer.controls["step"].value = 2
    assert sent == ["animate"]
    explorer.controls["input_size"].value = 3  # a new layer: new heatmaps
    assert sent == ["animate", "update"]


def test_constructor_arguments_are_checked():
    widget = TransposedConvExplorer(7, 4, 2, 0, 0, step=24, seed=3)
    assert widget.result.output.shape == (16, 16) and widget.result.step == 24
    np.testing.assert_array_equal(widget.result.x, compute_transposed_conv(7, 4, 2, 0, 0, seed=3).x)
    with pytest.raises(ValueError, match="input_size 9 given; input_size must be an integer between 1 and 8"):
        TransposedConvExplorer(9)
    with pytest.raises(ValueError, match="step 5 given; step must be an integer between 0 and 4"):
        TransposedConvExplorer(step=5)
