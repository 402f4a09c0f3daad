"""CheckerboardExplorer without a browser: set a control, compare the figure with the pure function and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segviz.viz.checkerboard import compute_checkerboard
from segviz.widgets.checkerboard import CheckerboardExplorer


@pytest.fixture(scope="module")
def widget():
    return CheckerboardExplorer()


def _set(widget, **values):
    for name, value in values.items():
        widget.controls[name].value = value


@pytest.mark.parametrize(
    "k, s, layers, n",
    [(3, 2, 1, 4), (4, 2, 1, 4), (5, 3, 2, 3), (3, 2, 3, 2), (2, 3, 1, 5), (7, 2, 2, 4), (1, 1, 1, 1)],
)
def test_figure_follows_controls_and_equals_conv_transpose2d(widget, k, s, layers, n):
    _set(widget, resize=False, kernel_size=k, stride=s, layers=layers, input_size=n)
    expected = compute_checkerboard(k, s, layers, n)
    fig = widget.figure
    counts = np.asarray(fig.data[3].z)
    np.testing.assert_array_equal(counts, expected.counts_2d)
    np.testing.assert_array_equal(np.asarray(fig.data[0].y), expected.counts_1d)
    oracle = torch.ones(1, 1, n, n, dtype=torch.float64)
    for _ in range(layers):
        oracle = F.conv_transpose2d(oracle, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s)
    np.testing.assert_array_equal(counts, oracle[0, 0].numpy())
    # the gradient panel: autograd through `layers` strided F.conv2d with ones kernels
    image = torch.zeros(1, 1, *oracle.shape[2:], dtype=torch.float64, requires_grad=True)
    y = image
    for _ in range(layers):
        y = F.conv2d(y, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s)
    (grad,) = torch.autograd.grad(y.sum(), image)
    np.testing.assert_array_equal(np.asarray(fig.data[7].z), grad[0, 0].numpy())
    side = counts.shape[0]
    assert fig.data[3].dx == pytest.approx(1 / side)
    if side <= 16:
        assert list(fig.data[4].text) == [str(v) for v in counts.reshape(-1)]
    else:
        assert len(fig.data[4].text) == 0


def test_label_reads_the_unevenness(widget):
    _set(widget, resize=False, kernel_size=3, stride=2, layers=1, input_size=4)
    assert "3 is not a multiple of 2" in widget.label.value
    assert "1-D <b>2.00</b>, 2-D <b>4.00</b> (= 2.00²)" in widget.label.value
    assert "checkerboard energy 1.00" in widget.label.value
    _set(widget, layers=2)
    assert "Layer by layer (1-D): <b>2.00 → 3.00</b>" in widget.label.value
    _set(widget, layers=1, kernel_size=4)
    assert "4 is a multiple of 2: even overlap" in widget.label.value and "2-D <b>1.00</b>" in widget.label.value


def test_resize_toggle_gives_uniform_interior(widget):
    _set(widget, kernel_size=3, stride=2, layers=2, input_size=4, resize=True)
    expected = torch.ones(1, 1, 4, 4, dtype=torch.float64)
    for _ in range(2):
        expected = F.conv2d(F.interpolate(expected, scale_factor=2, mode="nearest"),
                            torch.ones(1, 1, 3, 3, dtype=torch.float64), padding=1)
    np.testing.assert_array_equal(np.asarray(widget.figure.data[3].z), expected[0, 0].numpy())
    assert "interior max/min <b>1.00</b>" in widget.label.value and "no checkerboard" in widget.label.value
    assert "resize, then convolve" in widget.figure.layout.annotations[1].text
    _set(widget, resize=False)
    assert "transposed conv" in widget.figure.layout.annotations[1].text


def test_kernel_smaller_than_stride_is_a_note_not_an_error(widget):
    _set(widget, resize=False, kernel_size=1, stride=3, layers=1, input_size=4)
    assert "kernel 1 &lt; stride 3 leaves gaps" in widget.message.value  # HTML-escaped and "⚠" not in widget.message.value
    assert widget.result.kernel_size == 1 and 0 in np.asarray(widget.figure.data[3].z)
    _set(widget, kernel_size=3, stride=2)
    assert widget.message.value == ""


def test_too_large_shows_the_error_and_keeps_last_result():
    widget = CheckerboardExplorer(3, 2, layers=2, input_size=4)
    before = widget.result
    z = np.asarray(widget.figure.data[3].z).copy()
    _set(widget, stride=4, kernel_size=7, input_size=8, layers=3)
    assert "⚠" in widget.message.value and "draws at most 160×160" in widget.message.value
    assert widget.result.layers != 3 and widget.result.sizes[-1] <= 160
    _set(widget, layers=2, stride=2, kernel_size=3, input_size=4)
    assert widget.message.value == "" and widget.result.counts_2d.shape == before.counts_2d.shape
    np.testing.assert_array_equal(np.asarray(widget.figure.data[3].z), z)


def test_the_figure_is_built_once(widget):
    figure = widget.figure
    _set(widget, kernel_size=5, stride=3, layers=2, resize=True)
    _set(widget, kernel_size=2, resize=False)
    assert widget.figure is figure and widget.children[-1] is figure
