from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segviz.viz.sliding_window import compute_sliding_window, figure_sliding_window, update_sliding_window

CLASSES = ["background", "disk", "square"]


@pytest.fixture
def scene():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(11, 9, 3), dtype=np.uint8)
    mask = np.zeros((11, 9), dtype=np.int64)
    mask[2:5, 1:4] = 1
    mask[7:, 6:] = 2
    mask[0, 8] = 255
    return image, mask


@pytest.mark.parametrize("row, col, window", [(0, 0, 1), (5, 4, 3), (10, 8, 5), (3, 2, 7), (0, 8, 23)])
def test_crop_equals_unfold_with_zero_padding(scene, row, col, window):
    image, mask = scene
    view = compute_sliding_window(image, mask, CLASSES, row, col, window)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].double()  # [1, 3, H, W]
    patches = F.unfold(x, kernel_size=window, padding=window // 2)  # [1, 3*w*w, H*W]
    expected = patches[0, :, row * image.shape[1] + col].reshape(3, window, window).permute(1, 2, 0)
    np.testing.assert_array_equal(view.crop, expected.numpy().astype(np.uint8))
    assert view.cost.windows == 11 * 9 and view.cost.redundancy == window * window


def test_labels_and_classes_seen(scene):
    image, mask = scene
    view = compute_sliding_window(image, mask, CLASSES, 3, 2, 5)  # 9 disk pixels, 16 background
    assert view.label == "disk" and view.classes_seen == ("background", "disk")
    assert compute_sliding_window(image, mask, CLASSES, 0, 8, 1).label == "ignore"
    assert compute_sliding_window(image, mask, CLASSES, 3, 2, 1).classes_seen == ("disk",)
    assert compute_sliding_window(image, mask, CLASSES, 3, 2, 3).box == (0.5, 1.5, 3.5, 4.5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(row=11), "row 11 given; row must be an integer between 0 and 10"),
        (dict(col=-1), "col -1 given; col must be an integer between 0 and 8"),
        (dict(window=4), "window 4 given; window must be odd .*try 5"),
        (dict(window=0), "window 0 given; window must be an integer >= 1"),
    ],
)
def test_bad_input(scene, kwargs, message):
    image, mask = scene
    args = dict(row=1, col=1, window=3) | kwargs
    with pytest.raises(ValueError, match=message):
        compute_sliding_window(image, mask, CLASSES, **args)


def test_mismatched_shapes(scene):
    image, mask = scene
    with pytest.raises(ValueError, match="must have the same height and width"):
        compute_sliding_window(image[:5], mask, CLASSES, 1, 1, 3)


def test_update_equals_fresh_figure(scene):
    image, mask = scene
    first = compute_sliding_window(image, mask, CLASSES, 1, 1, 3)
    second = compute_sliding_window(image, mask, CLASSES, 8, 7, 9)
    fig = figure_sliding_window(image, first)
    update_sliding_window(fig, second)
    fresh = figure_sliding_window(image, second)
    assert fig.to_plotly_json() == fresh.to_plotly_json()
