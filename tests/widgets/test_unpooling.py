"""UnpoolingExplorer without a browser: set a control, compare the figure with compute_unpooling and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segviz.viz.unpooling import compute_unpooling
from segviz.widgets.unpooling import UnpoolingExplorer

pytestmark = pytest.mark.filterwarnings("ignore:max_unpooling2d_forward_out does not have a deterministic")

NAMES = ("before", "pooled", "switches", "unpool_input", "nearest", "bed_of_nails", "max_unpooled")


def _maps_on_figure(widget) -> dict[str, np.ndarray]:
    """Cut each map out of the figure's single heatmap, at the corner its title marks."""
    fig = widget.figure
    z = np.asarray(fig.data[0].z)
    r = widget.result
    out = {}
    for name, x, y in zip(NAMES, fig.data[5].x, fig.data[5].y):
        side = getattr(r, name).shape[0]
        x0, y0 = round(x + 0.5), round(y + 0.55)
        out[name] = z[y0 : y0 + side, x0 : x0 + side].astype(np.int64)
    return out


@pytest.fixture(scope="module")
def widget():
    return UnpoolingExplorer()


def test_opens_on_the_slides_example(widget):
    maps = _maps_on_figure(widget)
    assert maps["max_unpooled"].tolist() == [[0, 0, 2, 0], [0, 1, 0, 0], [0, 0, 0, 0], [3, 0, 0, 4]]
    assert maps["bed_of_nails"].tolist() == [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]
    assert maps["nearest"].tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    assert "<b>1 of 4</b> windows" in widget.label.value and "<b>12</b> of 16 pixels" in widget.label.value
    assert widget.message.value == ""


@pytest.mark.parametrize("seed, size, scale", [(3, 3, 2), (0, 2, 4), (9, 5, 3), (1, 1, 1)])
def test_figure_follows_controls_and_equals_the_oracle(widget, seed, size, scale):
    widget.controls["seed"].value = seed
    widget.controls["size"].value = size
    widget.controls["scale"].value = scale
    assert widget.controls["preset"].value == "random"
    expected = compute_unpooling("random", seed, size, scale)
    maps = _maps_on_figure(widget)
    for name in ("before", "pooled", "unpool_input", "nearest", "bed_of_nails", "max_unpooled"):
        np.testing.assert_array_equal(maps[name], getattr(expected, name), err_msg=name)
    # PyTorch's own numbers: max pooling with indices, then max unpooling and nearest interpolation
    before = torch.from_numpy(maps["before"]).double()[None, None]
    pooled, indices = F.max_pool2d(before, scale, return_indices=True)
    np.testing.assert_array_equal(maps["max_unpooled"], F.max_unpool2d(pooled, indices, scale)[0, 0].numpy())
    np.testing.assert_array_equal(maps["nearest"], F.interpolate(pooled, scale_factor=scale, mode="nearest")[0, 0].numpy())
    np.testing.assert_array_equal(widget.result.switches, indices[0, 0].numpy())
    big = size * scale
    assert f"{size}×{size} → {big}×{big} (×{scale})" in widget.label.value
    assert f"<b>{expected.corner_hits} of {size * size}</b>" in widget.label.value
    assert ("twice or more" in widget.message.value) == (expected.ties > 0)


def test_slides_preset_and_sliders_stay_consistent():
    widget = UnpoolingExplorer()
    widget.controls["scale"].value = 3  # leaving the slides' 2×2 ×2 switches to random digits
    assert widget.controls["preset"].value == "random" and widget.result.preset == "random"
    assert widget.result.scale == 3 and widget.message.value.find("⚠") == -1
    widget.controls["size"].value = 5
    widget.controls["preset"].value = "slides"  # …and back: size and scale return to 2
    assert (widget.controls["size"].value, widget.controls["scale"].value) == (2, 2)
    assert widget.result.preset == "slides" and widget.result.pooled.tolist() == [[5, 6], [7, 8]]
    widget.controls["seed"].value = 4
    assert widget.controls["preset"].value == "random" and widget.result.seed == 4


def test_invalid_value_shows_message_and_keeps_last_result():
    widget = UnpoolingExplorer("random", size=3, scale=2)
    before = widget.result
    z = np.asarray(widget.figure.data[0].z).copy()
    widget.controls["size"].max = 9  # a learner (or a test) widens the slider past what is drawn
    widget.controls["size"].value = 9
    assert "size 9 given; size must be an integer between 1 and 8" in widget.message.value
    assert widget.result is before
    np.testing.assert_array_equal(np.asarray(widget.figure.data[0].z), z)
    widget.controls["size"].value = 4
    assert "⚠" not in widget.message.value and widget.result.size == 4


def test_the_figure_is_built_once():
    widget = UnpoolingExplorer()
    figure = widget.figure
    widget.controls["scale"].value = 4
    widget.controls["size"].value = 6
    widget.controls["preset"].value = "slides"
    assert widget.figure is figure and widget.children[-1] is figure
