"""The stamping view of a transposed convolution: numbers against PyTorch, figure against the view."""

from __future__ import annotations

import base64
import itertools
import xml.etree.ElementTree as ET

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F

from segviz.viz import conv_matrix as grid
from segviz.viz import transposed_conv as tc
from segviz.viz.transposed_conv import (
    compute_transposed_conv,
    describe_stamp,
    evenness,
    figure_transposed_conv,
    update_transposed_conv,
)

SVG = "{http://www.w3.org/2000/svg}"


def _torch(view, x=None, padding=None):
    """``F.conv_transpose2d`` of the view's input (or ``x``) and kernel, in float64."""
    x = view.x if x is None else x
    out = F.conv_transpose2d(
        torch.tensor(np.asarray(x), dtype=torch.float64)[None, None],
        torch.tensor(view.kernel, dtype=torch.float64)[None, None],
        stride=view.stride,
        padding=view.padding if padding is None else padding,
        output_padding=view.output_padding,
        dilation=view.dilation,
    )
    return out[0, 0].numpy()


def _layers():
    """Every stride, padding, output_padding and dilation, with a spread of input and kernel sizes."""
    sizes = [(1, 1), (1, 3), (2, 3), (3, 2), (4, 4), (5, 1), (8, 7), (7, 4)]
    for (n, k), s, p, op, d in itertools.product(sizes, range(1, 5), range(4), range(4), range(1, 4)):
        yield n, k, s, p, op, d


LAYERS = list(_layers())


@pytest.mark.parametrize("n, k, s, p, op, d", LAYERS[::3])  # 512 of the 1536 layers: every value of each argument
def test_output_equals_conv_transpose2d_or_both_refuse(n, k, s, p, op, d):
    try:
        expected = F.conv_transpose2d(torch.ones(1, 1, n, n, dtype=torch.float64), torch.ones(1, 1, k, k, dtype=torch.float64),
                                      stride=s, padding=p, output_padding=op, dilation=d)
    except RuntimeError:
        with pytest.raises(ValueError, match="output_padding|padding"):
            compute_transposed_conv(n, k, s, p, op, d)
        return
    if expected.shape[-1] < 1:  # pragma: no cover - PyTorch refuses these itself
        return
    view = compute_transposed_conv(n, k, s, p, op, d)
    np.testing.assert_array_equal(view.output, _torch(view))
    assert view.output.dtype == np.int64 and view.output.shape == (view.output_size,) * 2
    # the output is the canvas with padding cropped from every side
    np.testing.assert_array_equal(view.canvas[p : p + view.output_size, p : p + view.output_size], view.output)
    np.testing.assert_array_equal(view.canvas, _torch(view, padding=0))
    assert view.canvas_size == (n - 1) * s + d * (k - 1) + 1 + op


@pytest.mark.parametrize("n, k, s, p, op, d", [(2, 3, 2, 1, 1, 1), (3, 3, 2, 0, 0, 2), (4, 4, 2, 1, 0, 1), (3, 2, 3, 0, 2, 1)])
def test_partial_sums_are_the_first_stamps(n, k, s, p, op, d):
    full = compute_transposed_conv(n, k, s, p, op, d)
    running = np.zeros_like(full.canvas)
    for step in range(n * n + 1):
        view = compute_transposed_conv(n, k, s, p, op, d, step=step)
        np.testing.assert_array_equal(view.partial, running)
        if step < n * n:  # stamp step + 1: the transposed convolution of that one pixel
            i, j = divmod(step, n)
            single = np.zeros_like(full.x)
            single[i, j] = full.x[i, j]
            stamp = _torch(full, single, padding=0)
            running = running + stamp.astype(np.int64)
            # the stamp is x[i, j] times the kernel, corner at (i·s, j·s), taps d apart
            np.testing.assert_array_equal(stamp[i * s : i * s + full.span : d, j * s : j * s + full.span : d],
                                          full.x[i, j] * full.kernel)
            assert stamp.sum() == full.x[i, j] * full.kernel.sum()
    np.testing.assert_array_equal(running, full.canvas)
    assert view.step == view.num_steps and view.pixel == (n - 1, n - 1)


@pytest.mark.parametrize("n, k, s, op, d", [(2, 3, 2, 1, 1), (4, 3, 2, 0, 1), (3, 4, 2, 1, 2), (5, 1, 3, 2, 1)])
def test_counts_are_the_transposed_conv_of_ones(n, k, s, op, d):
    view = compute_transposed_conv(n, k, s, 0, op, d)
    ones = F.conv_transpose2d(torch.ones(1, 1, n, n, dtype=torch.float64), torch.ones(1, 1, k, k, dtype=torch.float64),
                              stride=s, output_padding=op, dilation=d)[0, 0]
    np.testing.assert_array_equal(view.counts, ones.numpy())


def test_the_lecture_example_by_hand():
    # 2×2 input, 3×3 kernel, stride 2, padding 1, output padding 1: the 4×4 output of the slides
    view = compute_transposed_conv(2, 3, 2, 1, 1)
    (a, b), (c, e) = view.x.tolist()
    w = view.kernel
    # the centre of the canvas, (2, 2), gets one tap of every stamp: w[2,2]·a + w[2,0]·b + w[0,2]·c + w[0,0]·e
    assert view.canvas[2, 2] == w[2, 2] * a + w[2, 0] * b + w[0, 2] * c + w[0, 0] * e
    assert view.output[1, 1] == view.canvas[2, 2]
    # (1, 2) of the canvas is in the overlap of the first two stamps only
    assert view.canvas[1, 2] == w[1, 2] * a + w[1, 0] * b
    assert view.formula() == "(H−1)·s − 2p + d(k−1) + op + 1 = (2−1)·2 − 2·1 + 1·(3−1) + 1 + 1 = 4"


def test_values_are_small_integers_kept_when_a_size_changes():
    small, big = compute_transposed_conv(3, 2, 1, 0, 0), compute_transposed_conv(5, 4, 1, 0, 0)
    np.testing.assert_array_equal(big.x[:3, :3], small.x)
    np.testing.assert_array_equal(big.kernel[:2, :2], small.kernel)
    assert set(np.unique(big.x)) <= {1, 2, 3} and set(np.unique(big.kernel)) <= {1, 2, 3}
    other = compute_transposed_conv(5, 4, 1, 0, 0, seed=1)
    assert not np.array_equal(other.x, big.x)


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(stride=2, output_padding=2), r"output_padding \(2, 2\) given with stride \(2, 2\) and dilation \(1, 1\)"),
        (dict(stride=1, output_padding=1), r"must be smaller than max\(stride, dilation\) = \(1, 1\)"),
        (dict(input_size=1, kernel_size=1, padding=1), r"padding \(1, 1\) crops away the whole output"),
        (dict(step=5), r"step 5 given; step must be an integer between 0 and 4"),
        (dict(stride=0), r"stride 0 given; stride must be an integer >= 1"),
        (dict(input_size=2.5), r"input size 2.5 given"),
    ],
)
def test_invalid_layers_raise_teaching_errors(args, message):
    base = dict(input_size=2, kernel_size=3, stride=2, padding=1, output_padding=1, dilation=1)
    with pytest.raises(ValueError, match=message):
        compute_transposed_conv(**(base | args))


def test_evenness_and_stamp_text():
    assert evenness(compute_transposed_conv(6, 3, 2, 0, 0)) == "uneven inside: the checkerboard"
    assert evenness(compute_transposed_conv(6, 4, 2, 0, 0)) == "even inside"
    assert evenness(compute_transposed_conv(2, 3, 2, 0, 0)) is None  # no inside to speak of
    assert describe_stamp(compute_transposed_conv(2, 3, 2, 1, 1, step=0)).startswith("no stamp yet")
    assert describe_stamp(compute_transposed_conv(3, 3, 2, 1, 1)).endswith("the output of F.conv_transpose2d")


# --- the figure ------------------------------------------------------------------------------------


def _svg(fig, panel):
    source = fig.layout.images[tc._PANELS[panel].image].source
    assert source.startswith("data:image/svg+xml;base64,")
    return ET.fromstring(base64.b64decode(source.split(",", 1)[1]))


def _frame(panel, rows):
    return tc._PANELS[panel].frame(rows, rows)


def numbers_drawn(fig, panel, rows) -> dict[tuple[int, int], int]:
    """The numbers in a panel's overlay, by cell."""
    frame = _frame(panel, rows)
    found = {}
    for group in _svg(fig, panel).iter(f"{SVG}g"):
        if group.get("fill") != grid.TEXT_COLOR:
            continue
        for text in group.iter(f"{SVG}text"):
            j = (float(text.get("x")) - frame.gutter) / frame.cell - 0.5
            i = (float(text.get("y")) - frame.header) / frame.cell - 0.5
            assert abs(i - round(i)) < 0.01 and abs(j - round(j)) < 0.01, "a number off its cell's centre"
            found[(round(i), round(j))] = int(text.text)
    return found


def outlines_drawn(fig, panel, rows, color=grid.HIGHLIGHT, width="3") -> list[tuple[int, int, int, int]]:
    """Rectangles of one colour and line width in a panel's overlay, as cell edges (row0, col0, row1, col1)."""
    frame = _frame(panel, rows)
    boxes = []
    for rect in _svg(fig, panel).iter(f"{SVG}rect"):
        if rect.get("stroke") != color or rect.get("stroke-width") != width:
            continue
        inset = float(rect.get("stroke-width")) / 2
        x0 = (float(rect.get("x")) - inset - frame.gutter) / frame.cell
        y0 = (float(rect.get("y")) - inset - frame.header) / frame.cell
        x1 = x0 + (float(rect.get("width")) + 2 * inset) / frame.cell
        y1 = y0 + (float(rect.get("height")) + 2 * inset) / frame.cell
        boxes.append(tuple(round(v) for v in (y0, x0, y1, x1)))
    return boxes


def taps_drawn(fig, rows) -> set[tuple[int, int]]:
    """The cells marked with small squares on the canvas (the taps of a dilated stamp)."""
    frame = _frame("canvas", rows)
    cells = set()
    for rect in _svg(fig, "canvas").iter(f"{SVG}rect"):
        if rect.get("stroke") == grid.HIGHLIGHT and rect.get("stroke-width") == "2":
            x = float(rect.get("x")) + float(rect.get("width")) / 2
            y = float(rect.get("y")) + float(rect.get("height")) / 2
            cells.add((int((y - frame.header) // frame.cell), int((x - frame.gutter) // frame.cell)))
    return cells


def check_figure_shows(fig, view):
    """Every number and outline of the figure against the view."""
    n, c = view.input_size, view.canvas_size
    assert [list(r) for r in fig.data[0].z] == view.x.tolist()
    assert [list(r) for r in fig.data[1].z] == view.kernel.tolist()
    assert [list(r) for r in fig.data[2].z] == view.canvas.tolist()  # hover: the final sums
    assert [list(r) for r in fig.data[3].z] == view.counts.tolist()
    assert numbers_drawn(fig, "input", n) == {(i, j): int(v) for (i, j), v in np.ndenumerate(view.x)}
    counts = {(i, j): int(v) for (i, j), v in np.ndenumerate(view.counts)}
    fits = grid.font_size(_frame("counts", c).cell, len(str(view.counts.max()))) > 0
    assert numbers_drawn(fig, "counts", c) == (counts if fits else {})
    shown = {(i, j): int(v) for (i, j), v in np.ndenumerate(view.partial) if v or view.counts[i, j] == 0}
    fits = grid.font_size(_frame("canvas", c).cell, len(str(view.canvas.max()))) > 0
    assert numbers_drawn(fig, "canvas", c) == (shown if fits else {})
    if view.pixel is None:
        assert outlines_drawn(fig, "canvas", c) == [] and outlines_drawn(fig, "input", n) == []
    else:
        (i, j), (r, q) = view.pixel, view.corner
        assert outlines_drawn(fig, "input", n) == [(i, j, i + 1, j + 1)]
        assert outlines_drawn(fig, "canvas", c) == [(r, q, r + view.span, q + view.span)]
        d, k = view.dilation, view.kernel_size
        assert taps_drawn(fig, c) == ({(r + a * d, q + b * d) for a in range(k) for b in range(k)} if d > 1 else set())
    p, h = view.padding, view.output_size
    assert outlines_drawn(fig, "canvas", c, "#333", "1.5") == ([(p, p, p + h, p + h)] if p else [])
    assert outlines_drawn(fig, "counts", c, "#333", "1.5") == ([(p, p, p + h, p + h)] if p else [])


@pytest.mark.parametrize("args", [(2, 3, 2, 1, 1, 1, 3), (7, 4, 2, 0, 0, 1, 20), (3, 3, 2, 0, 0, 2, 0), (4, 2, 3, 1, 2, 1, 16),
                                  (3, 3, 2, 1, 0, 2, 5)])
def test_figure_draws_the_view(args):
    view = compute_transposed_conv(*args[:6], step=args[6])
    fig = figure_transposed_conv(view)
    check_figure_shows(fig, view)
    assert "output canvas" in _svg(fig, "canvas").find(f"{SVG}text").find(f"{SVG}tspan").text


def test_update_equals_a_fresh_figure_whatever_came_before():
    views = [compute_transposed_conv(*a) for a in
             [(2, 3, 2, 1, 1, 1, 0), (2, 3, 2, 1, 1, 1, 3), (5, 3, 1, 0, 0, 2, 7), (5, 3, 1, 2, 0, 2, 7), (8, 7, 4, 3, 3, 1, 64)]]
    fig = figure_transposed_conv(views[0])
    for previous, view in zip(views, views[1:]):
        update_transposed_conv(fig, view, previous=previous)
        assert fig.to_plotly_json() == figure_transposed_conv(view).to_plotly_json()
        check_figure_shows(fig, view)
        go.Figure(fig.to_dict())  # what the update wrote without validation is valid
    update_transposed_conv(fig, views[1])  # no previous: everything is written
    assert fig.to_plotly_json() == figure_transposed_conv(views[1]).to_plotly_json()


def test_a_step_sends_only_the_two_changed_overlays_without_a_redraw():
    before, after = compute_transposed_conv(7, 4, 2, 0, 0, step=24), compute_transposed_conv(7, 4, 2, 0, 0, step=25)
    fig = go.FigureWidget(figure_transposed_conv(before))
    sent = []
    fig._send_update_msg = lambda *args, **kwargs: sent.append(("update", args, kwargs))
    fig._send_animate_msg = lambda **kwargs: sent.append(("animate", kwargs))
    update_transposed_conv(fig, after, previous=before)
    assert len(sent) == 1 and sent[0][0] == "animate"
    message = sent[0][1]
    assert set(message["relayout_data"]) == {"images[0].source", "images[2].source"}
    assert message["styles_data"] == [] and message["animation_opts"]["frame"]["redraw"] is False
    check_figure_shows(fig, after)  # the Python side holds the new overlays too
    # a new layer changes the heatmaps: one ordinary update, which the browser redraws in full
    sent.clear()
    update_transposed_conv(fig, compute_transposed_conv(6, 4, 2, 0, 0), previous=after)
    assert [kind for kind, *_ in sent] == ["update"]
    # nothing changed: nothing sent
    sent.clear()
    same = compute_transposed_conv(6, 4, 2, 0, 0)
    update_transposed_conv(fig, same, previous=same)
    assert sent == []


def test_numbers_are_drawn_where_they_fit():
    view = compute_transposed_conv(8, 7, 4, 0, 3)  # a 50×50 canvas
    fig = figure_transposed_conv(view)
    assert numbers_drawn(fig, "canvas", view.canvas_size) == {} and numbers_drawn(fig, "counts", view.canvas_size) == {}
    assert len(numbers_drawn(fig, "input", 8)) == 64
    view = compute_transposed_conv(7, 4, 2, 0, 0)  # 16×16: every number of the canvas and of the counts
    fig = figure_transposed_conv(view)
    assert len(numbers_drawn(fig, "canvas", 16)) == len(numbers_drawn(fig, "counts", 16)) == 256
