"""Widget tests without a browser: set a control, compare the figure with the pure function."""

from __future__ import annotations

import numpy as np
import pytest

from segviz.viz.sliding_window import compute_sliding_window
from segviz.widgets import SlidingWindowExplorer


@pytest.fixture(scope="module")
def explorer():
    return SlidingWindowExplorer(size=48, seed=1)


def _crop_on_figure(widget):
    return np.asarray(widget.figure.data[1].z)


@pytest.mark.parametrize("row, col, window", [(0, 0, 1), (10, 30, 7), (47, 47, 31), (24, 5, 97)])
def test_figure_follows_controls(explorer, row, col, window):
    explorer.controls["row"].value = row
    explorer.controls["col"].value = col
    explorer.controls["window"].value = window
    expected = compute_sliding_window(explorer.image, explorer.mask, explorer.class_names, row, col, window)
    np.testing.assert_array_equal(_crop_on_figure(explorer), expected.crop)
    shape = explorer.figure.layout.shapes[0]
    assert (shape.x0, shape.y0, shape.x1, shape.y1) == expected.box
    assert list(explorer.figure.data[2].x) == [col] and list(explorer.figure.data[2].y) == [row]
    assert f"window {window}×{window}" in explorer.label.value
    assert f"{expected.cost.pixels_read:,}" in explorer.label.value
    assert expected.label in explorer.figure.layout.annotations[0].text
    assert explorer.result.box == expected.box and np.array_equal(explorer.result.crop, expected.crop)
    assert explorer.message.value == ""


def test_the_figure_is_built_once(explorer):
    figure = explorer.figure
    explorer.controls["window"].value = 5
    explorer.controls["window"].value = 9
    assert explorer.figure is figure and explorer.children[-1] is figure


def test_invalid_combination_shows_message_and_keeps_last_result():
    widget = SlidingWindowExplorer(size=16, seed=0)
    before = widget.result
    widget.controls["window"].step = 1  # a learner (or a test) can make an even window reachable
    widget.controls["window"].value = 4
    assert "window 4 given; window must be odd" in widget.message.value
    assert widget.result is before
    widget.controls["window"].value = 5
    assert widget.message.value == "" and widget.result.window == 5


def test_custom_image_needs_mask_and_names():
    with pytest.raises(ValueError, match="image given without mask or class_names"):
        SlidingWindowExplorer(image=np.zeros((4, 4, 3), np.uint8))
    widget = SlidingWindowExplorer(np.zeros((4, 5, 3), np.uint8), np.ones((4, 5), int), ["bg", "thing"], window=3)
    assert widget.result.label == "thing" and widget.controls["row"].max == 3 and widget.controls["col"].max == 4
