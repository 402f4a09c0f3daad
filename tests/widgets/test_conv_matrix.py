"""ConvMatrixExplorer without a browser: set a control, compare the figure with the pure function."""

from __future__ import annotations

import html

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segviz.viz.conv_matrix import compute_conv_matrix, conv_matrix_state
from segviz.widgets.conv_matrix import ConvMatrixExplorer
from tests.widgets.helpers import figure_state, set_controls


@pytest.fixture
def explorer():
    return ConvMatrixExplorer()


@pytest.mark.parametrize("values", [
    dict(mode="2D", input_size=4, kernel_size=3, stride=1, padding=0, step=3),
    dict(mode="2D", input_size=6, kernel_size=3, stride=2, padding=1, step=7),
    dict(mode="1D", input_size=8, kernel_size=3, stride=2, padding=2, step=4),
    dict(mode="1D", input_size=5, kernel_size=5, stride=1, padding=0, step=0),
    dict(mode="2D", input_size=8, kernel_size=1, stride=3, padding=2, step=15),
])
def test_figure_follows_the_controls(explorer, values):
    set_controls(explorer, **values)
    expected = compute_conv_matrix(**values)
    assert explorer.message.value == "" and explorer.result.step == values["step"]
    assert figure_state(explorer, conv_matrix_state) == conv_matrix_state(expected)
    # the numbers equal F.conv2d's, and the highlighted row of W times vec(x) is the highlighted pixel
    x = torch.tensor(expected.x, dtype=torch.float64)[None, None]
    w = torch.tensor(expected.kernel, dtype=torch.float64)[None, None]
    z = F.conv2d(x, w, stride=expected.stride, padding=expected.padding)[0, 0].numpy()
    np.testing.assert_array_equal(np.array(explorer.figure.data[2].z), z)
    W = np.array(explorer.figure.data[3].z)
    np.testing.assert_array_equal(np.array(explorer.figure.data[4].z), W.T)
    assert W[values["step"]] @ expected.x.reshape(-1) == z.reshape(-1)[values["step"]]


def test_step_range_follows_the_output(explorer):
    step = explorer.controls["step"]
    assert (step.max, explorer.play.max) == (3, 3)  # 2×2 output
    step.value = 3
    explorer.controls["mode"].value = "1D"  # 1×4 input, 1×3 kernel: 2 outputs
    assert (step.max, step.value, explorer.result.step) == (1, 1, 1)
    set_controls(explorer, input_size=8, padding=2)
    assert step.max == 9 and step.value == 1
    explorer.play.value = 6
    assert explorer.result.step == 6 and explorer.result.pixel == (0, 6)


def test_label_names_the_shapes_and_the_dot_product(explorer):
    set_controls(explorer, step=1)
    label = explorer.label.value
    assert label.startswith("2D: 4×4 input, 3×3 kernel, stride 1, padding 0 → 2×2 output. W is 4×16")
    assert "Wᵀ is 16×4 and maps 2×2 back to 4×4" in label
    view = explorer.result
    products = " + ".join(f"{w}·{x}" for _, w, x in view.terms)
    assert f"z₁₂ = W row z₁₂ · vec(x) = 1·x₁₂ + 2·x₁₃ + 3·x₁₄ + 4·x₂₂" in label
    assert f"{products} = <b>{view.value}</b>" in label


def test_invalid_combination_shows_the_core_message_and_keeps_the_figure(explorer):
    set_controls(explorer, step=2)
    before, figure = explorer.result, figure_state(explorer, conv_matrix_state)
    set_controls(explorer, input_size=2)  # a 3×3 kernel does not fit a 2×2 input
    assert "input 2x2 with padding (0, 0) is smaller than the kernel's span 3x3" in html.unescape(explorer.message.value)
    assert explorer.result is before and figure_state(explorer, conv_matrix_state) == figure
    set_controls(explorer, padding=1)
    assert explorer.message.value == "" and explorer.result.input_shape == (2, 2)
    assert explorer.controls["step"].max == 3


def test_the_figure_is_built_once_and_steps_send_overlays_only(explorer):
    figure = explorer.figure
    sent = []
    figure._send_update_msg = lambda *args, **kwargs: sent.append("update")
    figure._send_animate_msg = lambda **kwargs: sent.append("animate")
    for value in (1, 2, 3):
        explorer.controls["step"].value = value
    set_controls(explorer, mode="1D", input_size=7)
    assert sent == ["animate"] * 3 + ["update"] * 2
    assert explorer.figure is figure and explorer.children[-1] is figure


def test_constructor_arguments_are_checked():
    widget = ConvMatrixExplorer("1D", 6, 3, 2, 1, step=2, seed=1)
    assert widget.result.input_shape == (1, 6) and widget.result.step == 2
    with pytest.raises(ValueError, match="mode '3D' given"):
        ConvMatrixExplorer("3D")
    with pytest.raises(ValueError, match="step 4 given; step must be an integer between 0 and 3"):
        ConvMatrixExplorer(step=4)
