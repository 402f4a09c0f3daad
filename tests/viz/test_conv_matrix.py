"""Convolution as W and Wᵀ: numbers against PyTorch, figure against the view, the shared grid helpers."""

from __future__ import annotations

import base64
import io
import itertools
import xml.etree.ElementTree as ET

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F

from segviz.ops import conv2d_matrix
from segviz.viz import conv_matrix as cm
from segviz.viz.conv_matrix import (
    compute_conv_matrix,
    conv_matrix_steps,
    describe_step,
    figure_conv_matrix,
    update_conv_matrix,
)

SVG = "{http://www.w3.org/2000/svg}"
SETTINGS = [
    (mode, n, k, s, p)
    for mode, n, k, s, p in itertools.product(cm.MODES, range(1, 9), range(1, 6), range(1, 4), range(3))
    if n + 2 * p >= k
]


def _conv2d(view) -> np.ndarray:
    x = torch.tensor(view.x, dtype=torch.float64)[None, None]
    w = torch.tensor(view.kernel, dtype=torch.float64)[None, None]
    return F.conv2d(x, w, stride=view.stride, padding=view.padding)[0, 0].numpy()


@pytest.mark.parametrize("mode, n, k, s, p", SETTINGS[::4])
def test_the_view_is_conv2d(mode, n, k, s, p):
    view = compute_conv_matrix(mode, n, k, s, p, step=0)
    np.testing.assert_array_equal(view.output, _conv2d(view))
    np.testing.assert_array_equal(view.matrix, conv2d_matrix(torch.tensor(view.kernel)[None, None], view.input_shape,
                                                             view.stride, view.padding).numpy())
    assert view.input_shape == ((1, n) if mode == "1D" else (n, n))
    assert view.kernel.reshape(-1).tolist() == list(range(1, view.kernel.size + 1))  # taps numbered row by row
    assert view.num_steps == view.output.size == conv_matrix_steps(mode, n, k, s, p)


@pytest.mark.parametrize("mode, n, k, s, p", [("2D", 4, 3, 1, 0), ("2D", 5, 3, 2, 1), ("1D", 7, 3, 2, 2), ("2D", 6, 2, 3, 2)])
def test_each_step_is_one_window_one_row_one_dot_product(mode, n, k, s, p):
    for step in range(conv_matrix_steps(mode, n, k, s, p)):
        view = compute_conv_matrix(mode, n, k, s, p, step=step)
        i, j = view.pixel
        assert step == i * view.output.shape[1] + j
        # the window: the padded input under the kernel, its dot product with the kernel is z
        ph, pw = view.padding
        top, left = view.window
        assert (top, left) == (i * view.stride[0] - ph, j * view.stride[1] - pw)
        padded = np.pad(view.x, ((ph, ph), (pw, pw)))
        window = padded[top + ph : top + ph + view.kernel.shape[0], left + pw : left + pw + view.kernel.shape[1]]
        assert int((window * view.kernel).sum()) == view.value == int(view.output[i, j])
        # the row of W: its nonzeros are the terms, and row · vec(x) is the pixel
        assert view.value == int(view.matrix[step] @ view.x.reshape(-1)) == sum(w * x for _, w, x in view.terms)
        assert [c for c, _, _ in view.terms] == np.flatnonzero(view.matrix[step]).tolist()


def test_the_lecture_matrix():
    view = compute_conv_matrix("2D", 4, 3, 1, 0, step=3)
    assert view.matrix[3].tolist() == [0, 0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9]
    assert view.matrix.T.shape == (16, 4) and view.name("z", 3, (2, 2)) == "z₂₂"
    assert describe_step(view).startswith("z₂₂ = W row z₂₂ · vec(x) = 1·x₂₂ + 2·x₂₃ + 3·x₂₄ + 4·x₃₂")
    assert view.name("x", 9, (10, 10)) == "x[1,10]"  # past 9, subscripts would be ambiguous


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(input_size=2, kernel_size=5), r"input 2x2 with padding \(0, 0\) is smaller than the kernel's span 5x5"),
        (dict(mode="3D"), r"mode '3D' given; mode must be one of '1D', '2D'"),
        (dict(step=4), r"step 4 given; step must be an integer between 0 and 3"),
        (dict(padding=-1), r"padding -1 given"),
    ],
)
def test_invalid_settings_raise_teaching_errors(args, message):
    with pytest.raises(ValueError, match=message):
        compute_conv_matrix(**(dict(mode="2D", input_size=4, kernel_size=3, stride=1, padding=0, step=0) | args))


# --- the figure ------------------------------------------------------------------------------------


def _svg(fig, panel):
    source = fig.layout.images[cm._PANELS[panel].image].source
    return ET.fromstring(base64.b64decode(source.split(",", 1)[1]))


def _frame(view, panel, shape):
    """The frame the figure used (same labels as the figure's)."""
    state_frames = {
        "W": dict(first=1, row_names=[view.name("z", r, view.output_shape) for r in range(view.matrix.shape[0])],
                  col_names=[view.name("x", c, view.input_shape) for c in range(view.matrix.shape[1])]),
    }
    state_frames["WT"] = dict(first=1, row_names=state_frames["W"]["col_names"], col_names=state_frames["W"]["row_names"])
    ph, pw = view.padding
    h, w = view.input_shape
    state_frames["input"] = dict(row_names=[""] * ph + [str(k + 1) for k in range(h)] + [""] * ph,
                                 col_names=[""] * pw + [str(k + 1) for k in range(w)] + [""] * pw)
    return cm._PANELS[panel].frame(*shape, **state_frames.get(panel, dict(first=1)))


def numbers_drawn(fig, view, panel, shape):
    frame = _frame(view, panel, shape)
    found = {}
    for group in _svg(fig, panel).iter(f"{SVG}g"):
        if group.get("fill") == cm.TEXT_COLOR:
            for text in group.iter(f"{SVG}text"):
                j = round((float(text.get("x")) - frame.gutter) / frame.cell - 0.5)
                i = round((float(text.get("y")) - frame.header) / frame.cell - 0.5)
                found[(i, j)] = int(text.text)
    return found


def outlines_drawn(fig, view, panel, shape):
    frame = _frame(view, panel, shape)
    boxes = []
    for rect in _svg(fig, panel).iter(f"{SVG}rect"):
        if rect.get("stroke") == cm.HIGHLIGHT:
            inset = float(rect.get("stroke-width")) / 2
            x0 = (float(rect.get("x")) - inset - frame.gutter) / frame.cell
            y0 = (float(rect.get("y")) - inset - frame.header) / frame.cell
            boxes.append(tuple(round(v) for v in (y0, x0, y0 + (float(rect.get("height")) + 2 * inset) / frame.cell,
                                                  x0 + (float(rect.get("width")) + 2 * inset) / frame.cell)))
    return boxes


def check_figure_shows(fig, view):
    ph, pw = view.padding
    padded = np.pad(view.x, ((ph, ph), (pw, pw)))
    rows, cols = view.matrix.shape
    r = view.step
    expected = {"input": padded, "kernel": view.kernel, "output": view.output, "W": view.matrix, "WT": view.matrix.T}
    for k, (panel, values) in enumerate(expected.items()):
        assert [list(row) for row in fig.data[k].z] == values.tolist(), panel
        numbers = numbers_drawn(fig, view, panel, values.shape)
        cell = _frame(view, panel, values.shape).cell
        if cm.font_size(cell, len(str(values.max()))):
            keep = values != 0 if panel in ("W", "WT") else np.ones(values.shape, bool)
            assert numbers == {(i, j): int(v) for (i, j), v in np.ndenumerate(values) if keep[i, j]}, panel
        else:
            assert numbers == {}, panel
    top, left = view.window[0] + ph, view.window[1] + pw
    (kh, kw), (i, j) = view.kernel_shape, view.pixel
    assert outlines_drawn(fig, view, "input", padded.shape) == [(top, left, top + kh, left + kw)]
    assert outlines_drawn(fig, view, "output", view.output.shape) == [(i, j, i + 1, j + 1)]
    assert outlines_drawn(fig, view, "W", view.matrix.shape) == [(r, 0, r + 1, cols)]
    assert outlines_drawn(fig, view, "WT", view.matrix.T.shape) == [(0, r, cols, r + 1)]
    assert rows == view.num_steps


@pytest.mark.parametrize("args", [("2D", 4, 3, 1, 0, 1), ("1D", 6, 3, 2, 1, 2), ("2D", 6, 3, 2, 1, 5), ("2D", 8, 1, 1, 0, 63)])
def test_figure_draws_the_view(args):
    view = compute_conv_matrix(*args[:5], step=args[5])
    check_figure_shows(figure_conv_matrix(view), view)


def test_w_names_its_rows_and_columns_as_in_the_lecture():
    fig = figure_conv_matrix(compute_conv_matrix("2D", 4, 3, 1, 0, step=0))
    labels = [t.text for g in _svg(fig, "W").iter(f"{SVG}g") if g.get("fill") == "#777" for t in g.iter(f"{SVG}text")]
    assert labels[:3] == ["x₁₁", "x₁₂", "x₁₃"] and labels[-4:] == ["z₁₁", "z₁₂", "z₂₁", "z₂₂"]


def test_update_equals_a_fresh_figure_whatever_came_before():
    views = [compute_conv_matrix(*a[:5], step=a[5]) for a in
             [("2D", 4, 3, 1, 0, 0), ("2D", 4, 3, 1, 0, 3), ("1D", 4, 3, 1, 0, 1), ("1D", 8, 2, 3, 2, 3), ("2D", 5, 5, 1, 2, 24)]]
    fig = figure_conv_matrix(views[0])
    for previous, view in zip(views, views[1:]):
        update_conv_matrix(fig, view, previous=previous)
        assert fig.to_plotly_json() == figure_conv_matrix(view).to_plotly_json()
        check_figure_shows(fig, view)
        go.Figure(fig.to_dict())  # what the update wrote without validation is valid


def test_a_step_sends_overlays_only():
    before, after = compute_conv_matrix("2D", 4, 3, 1, 0, step=0), compute_conv_matrix("2D", 4, 3, 1, 0, step=3)
    fig = go.FigureWidget(figure_conv_matrix(before))
    sent = []
    fig._send_update_msg = lambda *args, **kwargs: sent.append("update")
    fig._send_animate_msg = lambda **kwargs: sent.append(sorted(kwargs["relayout_data"]))
    update_conv_matrix(fig, after, previous=before)
    assert sent == [[f"images[{k}].source" for k in (0, 2, 3, 4)]]  # the kernel does not change


# --- the shared grid helpers --------------------------------------------------------------------


def test_png_round_trips():
    from PIL import Image

    rgb = np.random.default_rng(0).integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(cm._png(rgb))).convert("RGB")), rgb)


def test_colours_match_the_heatmaps_colorscale():
    colors = cm.cell_colors(np.array([[0, 5, 10, 20]]), 10, cm.light_scale("#5a9fd4"))
    assert colors == ["#ffffff", "#adcfea", "#5a9fd4", "#5a9fd4"]  # clipped at zmax like plotly


def test_font_sizes_and_labels():
    assert cm.font_size(60, 1) == cm.MAX_FONT_PX and cm.font_size(13, 1) == 8 and cm.font_size(12, 1) == 0
    assert cm.font_size(20, 3) < cm.font_size(20, 1)
    assert cm._ticks(10, 30, 0, None, across=True) == [(k, str(k)) for k in range(10)]
    assert cm._ticks(40, 8, 1, None, across=True) == [(0, "1")] + [(k - 1, str(k)) for k in range(5, 41, 5)]
    assert cm._ticks(40, 8, 0, None, across=True) == [(k, str(k)) for k in range(0, 40, 5)]
    assert cm._ticks(3, 30, 1, ["x₁", "", "x₃"], across=True) == [(0, "x₁"), (2, "x₃")]
    assert cm._ticks(3, 10, 1, ["x₁₁", "x₁₂", "x₁₃"], across=True) == [(1, "2")]  # names too wide: the even ones


def test_titles_escape_text_and_keep_bold_runs():
    overlay = cm.Overlay(cm.Frame(1, 1, 20.0, 0, 40, [], []), 200, 60).title("<b>W</b> a < b & c<br>second")
    root = ET.fromstring(overlay.markup())
    first, second = root.findall(f"{SVG}text")
    assert first.find(f"{SVG}tspan").text == "W" and "".join(first.itertext()) == "W a < b & c"
    assert second.text == "second"
