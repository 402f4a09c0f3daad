from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segviz.viz.unpooling import compute_unpooling, figure_unpooling, update_unpooling

# The oracle is non-deterministic on CUDA only; PyTorch warns about it once deterministic mode is on.
pytestmark = pytest.mark.filterwarnings("ignore:max_unpooling2d_forward_out does not have a deterministic")

CASES = [("random", seed, size, scale) for seed, size, scale in itertools.product((0, 7), (1, 2, 3, 8), (1, 2, 3, 4))]


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a).double()[None, None]  # [1, 1, h, w]


@pytest.mark.parametrize("preset, seed, size, scale", [("slides", 0, 2, 2), *CASES])
def test_every_map_equals_its_pytorch_oracle(preset, seed, size, scale):
    r = compute_unpooling(preset, seed, size, scale)
    before = _t(r.before)
    pooled, indices = F.max_pool2d(before, scale, return_indices=True)
    x = _t(r.unpool_input)
    assert r.before.shape == (size * scale, size * scale)
    np.testing.assert_array_equal(r.pooled, pooled[0, 0].numpy())
    np.testing.assert_array_equal(r.switches, indices[0, 0].numpy())
    np.testing.assert_array_equal(r.nearest, F.interpolate(x, scale_factor=scale, mode="nearest")[0, 0].numpy())
    np.testing.assert_array_equal(r.max_unpooled, F.max_unpool2d(x, indices, scale)[0, 0].numpy())
    # bed of nails = a transposed convolution with a one-hot kernel = max unpooling at the corners
    one_hot = torch.zeros(1, 1, scale, scale, dtype=torch.float64)
    one_hot[0, 0, 0, 0] = 1
    np.testing.assert_array_equal(r.bed_of_nails, F.conv_transpose2d(x, one_hot, stride=scale)[0, 0].numpy())
    corners = (torch.arange(size)[:, None] * scale * size * scale + torch.arange(size)[None, :] * scale)[None, None]
    np.testing.assert_array_equal(r.bed_of_nails, F.max_unpool2d(x, corners, scale)[0, 0].numpy())
    if preset == "random":
        np.testing.assert_array_equal(r.unpool_input, r.pooled)


def test_the_slides_example_by_hand():
    r = compute_unpooling("slides")
    assert r.before.tolist() == [[1, 2, 6, 3], [3, 5, 2, 1], [1, 2, 2, 1], [7, 3, 4, 8]]
    assert r.pooled.tolist() == [[5, 6], [7, 8]]
    assert r.unpool_input.tolist() == [[1, 2], [3, 4]]
    assert r.nearest.tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    assert r.bed_of_nails.tolist() == [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]
    assert r.max_unpooled.tolist() == [[0, 0, 2, 0], [0, 1, 0, 0], [0, 0, 0, 0], [3, 0, 0, 4]]
    rows, cols = r.switch_cells
    assert list(zip(rows.tolist(), cols.tolist())) == [(1, 1), (0, 2), (3, 0), (3, 3)]
    assert (r.ties, r.corner_hits, r.note) == (0, 1, "")  # only 7 sat in its window's top-left corner


@pytest.mark.parametrize("seed, size, scale", [(0, 4, 2), (3, 3, 3), (5, 2, 4), (1, 8, 2)])
def test_ties_and_corner_hits_by_loop(seed, size, scale):
    r = compute_unpooling("random", seed, size, scale)
    ties = corners = 0
    for i in range(size):
        for j in range(size):
            window = r.before[i * scale : (i + 1) * scale, j * scale : (j + 1) * scale]
            ties += int((window == window.max()).sum() > 1)
            corners += int(r.switches[i, j] == (i * scale) * size * scale + j * scale)
    assert (r.ties, r.corner_hits) == (ties, corners)
    assert ("twice or more" in r.note) == (ties > 0)


def test_scale_one_is_a_no_op_with_a_note():
    r = compute_unpooling("random", 2, 3, 1)
    for name in ("pooled", "nearest", "bed_of_nails", "max_unpooled"):
        np.testing.assert_array_equal(getattr(r, name), r.before)
    assert "scale 1" in r.note


@pytest.mark.parametrize(
    "args, message",
    [
        (("slides", 0, 3, 2), "size 3 and scale 2 given with preset 'slides'.*pick preset 'random'"),
        (("nope", 0, 2, 2), "preset 'nope' given; preset must be one of 'slides', 'random'"),
        (("random", 0, 9, 2), "size 9 given; size must be an integer between 1 and 8"),
        (("random", 0, 2, 0), "scale 0 given; scale must be an integer between 1 and 4"),
        (("random", -1, 2, 2), "seed -1 given"),
    ],
)
def test_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        compute_unpooling(*args)


def _panels(fig) -> dict[str, tuple[int, int]]:
    """Each map's top-left cell, read back from where the figure put its title."""
    names = ("before", "pooled", "switches", "unpool_input", "nearest", "bed_of_nails", "max_unpooled")
    titles = fig.data[5]
    return {name: (round(x + 0.5), round(y + 0.55)) for name, x, y in zip(names, titles.x, titles.y)}


@pytest.mark.parametrize("preset, seed, size, scale", [("slides", 0, 2, 2), ("random", 4, 3, 2), ("random", 1, 2, 4)])
def test_the_figure_draws_every_map_where_its_title_says(preset, seed, size, scale):
    r = compute_unpooling(preset, seed, size, scale)
    fig = figure_unpooling(r)
    z = np.asarray(fig.data[0].z)
    for name, (x0, y0) in _panels(fig).items():
        if name == "switches":
            continue
        values = getattr(r, name)
        side = values.shape[0]
        np.testing.assert_array_equal(z[y0 : y0 + side, x0 : x0 + side], values, err_msg=name)
        numbers = {(int(x), int(y)): t for x, y, t in zip(fig.data[1].x, fig.data[1].y, fig.data[1].text)}
        assert [numbers[(x0 + c, y0 + i)] for i in range(side) for c in range(side)] == [str(v) for v in values.reshape(-1)]
    # the orange squares sit on the switches, in ① and in the max unpooling
    rows, cols = r.switch_cells
    x_before, y_before = _panels(fig)["before"]
    marks = set(zip(np.asarray(fig.data[3].x).astype(int).tolist(), np.asarray(fig.data[3].y).astype(int).tolist()))
    assert {(x_before + c, y_before + i) for i, c in zip(rows.tolist(), cols.tolist())} <= marks
    assert "max unpooling" in fig.data[5].text[6]


def test_update_equals_fresh_figure_with_and_without_previous():
    first, second = compute_unpooling("slides"), compute_unpooling("random", 3, 4, 3)
    fresh = figure_unpooling(second).to_json()
    fig = figure_unpooling(first)
    update_unpooling(fig, second)
    assert fig.to_json() == fresh
    fig = figure_unpooling(first)
    update_unpooling(fig, second, previous=first)
    assert fig.to_json() == fresh
    update_unpooling(fig, first, previous=second)
    assert fig.to_json() == figure_unpooling(first).to_json()


def test_large_maps_drop_numbers_but_keep_the_switches_visible():
    r = compute_unpooling("random", 0, 8, 4)  # 32×32
    fig = figure_unpooling(r)
    assert len(fig.data[1].text) == 0 and len(fig.data[4].text) == 0
    assert len(fig.data[6].x) == 64  # one dot per switch cell instead of its index
