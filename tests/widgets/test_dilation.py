"""DilationExplorer without a browser: set a control, compare the figure with the pure function and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segviz.ops import dilate_kernel
from segviz.viz.dilation import compute_dilation
from segviz.widgets.dilation import DilationExplorer


@pytest.fixture(scope="module")
def widget():
    return DilationExplorer()


def _set(widget, **values):
    for name, value in values.items():
        widget.controls[name].value = value


def _gradient_footprint(k: int, rates: tuple[int, ...], n: int) -> np.ndarray:
    """Which input pixels reach the centre output: autograd through F.conv2d with dilation."""
    image = torch.zeros(1, 1, n, n, dtype=torch.float64, requires_grad=True)
    y = image
    for rate in rates:
        y = F.conv2d(y, torch.ones(1, 1, k, k, dtype=torch.float64), dilation=rate)
    middle = y.shape[-1] // 2
    (grad,) = torch.autograd.grad(y[0, 0, middle, middle], image)
    return grad[0, 0].numpy()


@pytest.mark.parametrize(
    "k, d, layers, schedule, n, rates",
    [
        (3, 2, 3, "constant", 33, (2, 2, 2)),
        (3, 2, 4, "exponential", 33, (1, 2, 4, 8)),
        (3, 3, 3, "hybrid", 21, (1, 2, 3)),
        (5, 1, 2, "constant", 11, (1, 1)),
        (2, 3, 2, "exponential", 9, (1, 3)),
    ],
)
def test_figure_follows_controls_and_equals_autograd(widget, k, d, layers, schedule, n, rates):
    _set(widget, input_size=129, kernel_size=k, dilation=d, layers=layers, schedule=schedule)
    _set(widget, input_size=n)
    expected = compute_dilation(k, d, layers, schedule, n)
    assert widget.result.rates == rates == expected.rates
    fig = widget.figure
    footprint = np.asarray(fig.data[2].z)
    np.testing.assert_array_equal(footprint > 0, _gradient_footprint(k, rates, n) > 0)
    np.testing.assert_array_equal(footprint > 0, expected.footprint > 0)
    # the kernel panel: dilate_kernel's taps, centred on a canvas with room for dilation 4
    kernel = np.asarray(fig.data[0].z)
    span = d * (k - 1) + 1
    offset = (kernel.shape[0] - span) // 2
    np.testing.assert_array_equal(kernel[offset : offset + span, offset : offset + span],
                                  dilate_kernel(torch.ones(k, k, dtype=torch.int64), d).numpy())
    assert kernel.sum() == k * k
    rf = 1 + sum((k - 1) * r for r in rates)
    assert f"receptive field <b>{rf}×{rf}</b>" in widget.label.value
    assert f"<b>{expected.contributing}</b> of {rf * rf} pixels" in widget.label.value
    assert f"gives a {n - rf + 1}×{n - rf + 1} output" in widget.label.value
    assert list(fig.data[9].y) == [rf] and list(fig.data[9].x) == [layers]


def test_gridding_note_comes_and_goes(widget):
    _set(widget, input_size=33, kernel_size=3, dilation=2, layers=3, schedule="constant")
    assert "gridding: 120 of the 169 pixels" in widget.message.value and "⚠" not in widget.message.value
    _set(widget, schedule="hybrid")  # 1, 2, 1: no holes
    assert widget.message.value == "" and widget.result.coverage == 1.0


def test_input_smaller_than_the_receptive_field_shows_the_core_error():
    widget = DilationExplorer(3, 2, layers=3, schedule="exponential", input_size=33)
    before = widget.result
    z = np.asarray(widget.figure.data[2].z).copy()
    widget.controls["layers"].value = 5  # 1, 2, 4, 8, 16: a 63-pixel receptive field
    assert "⚠" in widget.message.value
    assert "conv_output_size: input size" in widget.message.value and "is too small for kernel_size 3" in widget.message.value
    assert "the input must be at least 63 a side (it is 33)" in widget.message.value
    assert widget.result is before
    np.testing.assert_array_equal(np.asarray(widget.figure.data[2].z), z)
    widget.controls["input_size"].value = 65
    assert "⚠" not in widget.message.value and widget.result.receptive_field == 63


def test_the_figure_is_built_once(widget):
    figure = widget.figure
    _set(widget, input_size=129, kernel_size=5, dilation=4, layers=2, schedule="constant")
    _set(widget, input_size=15)
    assert widget.figure is figure and widget.children[-1] is figure
