"""Receptive-field views: the tables against compose / receptive_field / real layers, the window
against back-propagation through a real stack, and the figure against the view it draws."""

from __future__ import annotations

import itertools
import json

import numpy as np
import plotly.graph_objects as go
import plotly.utils
import pytest
import torch
import torchvision
from torch import nn

from segviz.arith import compose, input_size_for, receptive_field
from segviz.viz.receptive_field import (
    CENTRES,
    IMAGE,
    MARK_TOP,
    MODELS,
    NEIGHBOUR,
    PADDING,
    SEEN,
    SIZE,
    STACK_PRESETS,
    UNIT,
    WINDOW,
    LayerStep,
    compute_receptive_field_view,
    describe_receptive_field,
    figure_receptive_field,
    model_steps,
    square_image,
    stack_steps,
    update_receptive_field,
)

STACKS = [
    [(5, 3, 0, 1), (3, 2, 0, 1)],
    [(3, 1, 1, 1)] * 3,
    [(3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)],
    [(7, 2, 3, 1), (3, 2, 1, 1), (3, 1, 1, 1)],
    [(2, 2, 0, 1), (4, 1, 5, 1), (3, 3, 2, 2)],
    [(1, 1, 3, 1), (3, 2, 0, 1)],  # padding larger than the kernel: unit 0 sees only padding
]


def _conv_stack(layers) -> nn.Sequential:
    """Real single-channel convolutions with all-ones weights (every input pixel counts)."""
    convs = [nn.Conv2d(1, 1, k, s, p, d, bias=False, dtype=torch.float64) for k, s, p, d in layers]
    for conv in convs:
        nn.init.ones_(conv.weight)
    return nn.Sequential(*convs)


def _gradient_window(net: nn.Module, size: int, unit: tuple[int, int]):
    """The input pixels one output unit depends on, by back-propagation: (row0, row1, col0, col1) or None."""
    x = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    net(x)[0, 0, unit[0], unit[1]].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero().flatten()
    cols = x.grad[0, 0].abs().sum(0).nonzero().flatten()
    if len(rows) == 0:
        return None
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


@pytest.mark.parametrize("layers", STACKS)
@pytest.mark.parametrize("size", [23, 40])
def test_stack_steps_equal_compose_and_real_output_sizes(layers, size):
    steps = stack_steps(layers, size)
    x = torch.zeros(1, 1, size, size, dtype=torch.float64)
    for i, (step, conv) in enumerate(zip(steps, _conv_stack(layers))):
        x = conv(x)
        field = compose(layers[: i + 1])
        assert step.output == tuple(x.shape[2:])
        assert step.size == (field.size, field.size)
        assert step.stride == (field.stride, field.stride)
        assert step.padding == (field.padding, field.padding)
        assert step.name == f"layer {i + 1}"


def test_the_seed_stack_is_one_11x11_convolution_with_stride_6():
    title, layers = STACK_PRESETS["seed"]
    assert "k5 s3 then k3 s2" in title
    last = stack_steps(layers, 64)[-1]
    assert last.size == (11, 11) and last.stride == (6, 6) and last.padding == (0, 0)
    assert last.size[0] == input_size_for([(5, 3), (3, 2)])  # the lecture's compound kernel


def _drops_pixels(layers, size: int) -> bool:
    """Whether the floor in some layer's output size leaves input pixels at the far edge unread."""
    for k, s, p, d in layers:
        span = size + 2 * p - d * (k - 1) - 1
        if span % s:
            return True
        size = span // s + 1
    return False


@pytest.mark.parametrize("layers", STACKS)
@pytest.mark.parametrize("size", [29, 30, 31])
def test_window_equals_the_pixels_that_receive_gradient(layers, size):
    steps = stack_steps(layers, size)
    net = _conv_stack(layers)
    for index, step in enumerate(steps):
        h, w = step.output
        for unit in {(0, 0), (h - 1, w - 1), (h // 2, w // 3), (0, w - 1)}:
            view = compute_receptive_field_view(steps, index, *unit, size)
            measured = _gradient_window(net[: index + 1], size, unit)
            if _drops_pixels(layers[: index + 1], size):
                # a floor left the last pixels unread: the window (compose's convention) may
                # claim a few pixels at the far edge that no unit reads; it never misses one
                assert measured is None or (view.visible[0] <= measured[0] and measured[1] <= view.visible[1]
                                            and view.visible[2] <= measured[2] and measured[3] <= view.visible[3])
            else:
                assert view.visible == measured, (layers, index, unit)
            # the unclipped window: unit·stride − padding … + size − 1 (compose's convention)
            first = unit[0] * step.stride[0] - step.padding[0]
            assert view.rows == (first, first + step.size[0] - 1)


def test_vgg16_features30_unit_00_sees_rows_minus90_to_121():
    steps = model_steps("vgg16")
    names = [s.name for s in steps]
    index = names.index("features.30")
    step = steps[index]
    with torch.device("meta"):
        vgg = torchvision.models.vgg16(weights=None)
    field = compose(vgg.features)  # independent of the traced table: the textbook recurrence
    assert (step.size[0], step.stride[0], step.padding[0]) == (field.size, field.stride, field.padding) == (212, 32, 90)
    assert step.output == (7, 7) and step.kind == "MaxPool2d"
    view = compute_receptive_field_view(steps, index, 0, 0, 224)
    assert view.rows == (-90, 121) and view.cols == (-90, 121)
    assert view.visible == (0, 121, 0, 121)
    assert view.padding_fraction == pytest.approx(1 - 122 * 122 / 212**2)
    assert describe_receptive_field(view) == (
        "layer features.30 (MaxPool2d): output 7×7, receptive field 212×212, stride 32, padding 90 — "
        "unit (0, 0) sees rows −90…121, cols −90…121"
    )


@pytest.mark.parametrize("model", ["alexnet", "vgg16"])
def test_plain_networks_agree_with_compose_at_every_step(model):
    with torch.device("meta"):
        features = getattr(torchvision.models, model)(weights=None).features
    for step in model_steps(model):
        if not step.name.startswith("features."):
            continue
        field = compose(features[: int(step.name.split(".")[1]) + 1])
        assert (step.size[0], step.stride[0], step.padding[0]) == (field.size, field.stride, field.padding)


@pytest.mark.parametrize("model, layer", [("resnet18", "layer3.1"), ("resnet50", "layer2.0"),
                                          ("googlenet", "inception4a"), ("inception_v3", "Mixed_5b")])
def test_branching_networks_agree_with_receptive_field(model, layer):
    spec = MODELS[model]
    with torch.device("meta"):
        net = getattr(torchvision.models, model)(weights=None, **dict(spec.kwargs))
    step = {s.name: s for s in model_steps(model)}[layer]
    field = receptive_field(net, layer, (1, 3, spec.input_size, spec.input_size))
    assert (step.size, step.stride, step.padding) == ((field.size,) * 2, (field.stride,) * 2, (field.padding,) * 2)


@pytest.mark.parametrize("model", list(MODELS))
def test_model_steps_are_the_main_path_and_grow(model):
    steps = model_steps(model)
    assert 8 <= len(steps) <= 25
    assert not {s.kind for s in steps} & {"ReLU", "BatchNorm2d", "Dropout", "Linear"}
    sizes = [s.size[0] for s in steps]
    jumps = [s.stride[0] for s in steps]
    assert sizes == sorted(sizes) and jumps == sorted(jumps)  # the main path never sees less
    assert all(s.output != (1, 1) for s in steps)  # global pooling left out
    assert model_steps(model) is steps  # cached


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(unit_row=7), "unit row 7 given; layer features.30 outputs 7×7 units, so unit row must be between 0 "
                           "and 6"),
        (dict(unit_col=-1), "unit col -1 given; .* between 0 and 6"),
        (dict(index=99), "layer 99 given; layer must be an integer between 0 and 18"),
        (dict(unit_row=1.5), "unit row 1.5 given; unit row must be an integer"),
    ],
)
def test_bad_view_arguments(args, message):
    kwargs = dict(steps=model_steps("vgg16"), index=17, unit_row=0, unit_col=0, image_size=224) | args
    with pytest.raises(ValueError, match=message):
        compute_receptive_field_view(**kwargs)


def test_stack_too_deep_for_its_input_says_what_works():
    with pytest.raises(ValueError, match=r"layer 2 \(k3 s2 p0\) gets a 2×2 input: input size 2 is too small .* "
                                         r"The whole stack needs an input of at least 11×11"):
        stack_steps(STACK_PRESETS["seed"][1], 10)
    with pytest.raises(ValueError, match="stride 0 given"):
        stack_steps([(3, 0, 0, 1)], 10)
    with pytest.raises(ValueError, match="empty stack"):
        stack_steps([], 10)


def test_centres_and_extent():
    steps = stack_steps([(5, 3, 0, 1), (3, 2, 0, 1)], 96)
    view = compute_receptive_field_view(steps, 1, 7, 2, 96)
    assert view.centre == (7 * 6 + 5, 2 * 6 + 5)
    assert list(view.centres[0]) == [6 * i + 5 for i in range(15)]
    assert view.extent == (-0.5, 95.5, -0.5, 95.5)  # the last unit's window ends at 14·6 + 10 = 94
    big = compute_receptive_field_view(model_steps("vgg16"), 17, 3, 3, 224)
    assert big.extent == (-90.5, 6 * 32 - 90 + 211 + 0.5, -90.5, 313.5)
    dense = compute_receptive_field_view(stack_steps([(3, 1, 1, 1)], 96), 0, 0, 0, 96)
    assert dense.centres is None  # 96×96 units: too many dots


def _area(xs, ys) -> float:
    """Total area of closed polygons separated by None (shoelace)."""
    total, ring_x, ring_y = 0.0, [], []
    for x, y in [*zip(xs, ys), (None, None)]:
        if x is None:
            if ring_x:
                total += 0.5 * abs(np.dot(ring_x, np.roll(ring_y, -1)) - np.dot(ring_y, np.roll(ring_x, -1)))
            ring_x, ring_y = [], []
        else:
            ring_x.append(x)
            ring_y.append(y)
    return total


def _drawn_box(trace):
    return min(trace.x), max(trace.x), min(trace.y), max(trace.y)


@pytest.mark.parametrize("index, unit", [(17, (0, 0)), (17, (6, 6)), (17, (3, 0)), (5, (10, 40)), (0, (0, 0))])
def test_figure_draws_the_view(index, unit):
    view = compute_receptive_field_view(model_steps("vgg16"), index, *unit, 224)
    fig = figure_receptive_field(square_image("astronaut", 224), view)
    (r0, r1), (c0, c1) = view.rows, view.cols
    assert _drawn_box(fig.data[WINDOW]) == (c0 - 0.5, c1 + 0.5, r0 - 0.5, r1 + 0.5)
    v0, v1, u0, u1 = view.visible
    assert _drawn_box(fig.data[SEEN]) == (u0 - 0.5, u1 + 0.5, v0 - 0.5, v1 + 0.5)
    outside = view.step.size[0] * view.step.size[1] - (v1 - v0 + 1) * (u1 - u0 + 1)
    assert _area(fig.data[PADDING].x, fig.data[PADDING].y) == pytest.approx(outside)
    assert list(fig.data[UNIT].x) == [view.centre[1]] and list(fig.data[UNIT].y) == [view.centre[0]]
    assert list(fig.data[MARK_TOP].y) == [view.step.size[0], view.step.padding[0]]
    neighbour = _drawn_box(fig.data[NEIGHBOUR])
    assert abs(neighbour[0] - (c0 - 0.5)) == view.step.stride[1]
    assert f"unit ({unit[0]}, {unit[1]}) of <b>{view.step.name}</b>" in fig.layout.annotations[0].text
    assert fig.layout.shapes[0].x1 == 223.5  # the image border


def _json(trace) -> str:
    return json.dumps(trace.to_plotly_json(), cls=plotly.utils.PlotlyJSONEncoder, sort_keys=True)


def test_update_reaches_the_same_figure_as_a_fresh_build():
    image = square_image("chelsea", 96)
    steps_a = stack_steps(STACK_PRESETS["seed"][1], 96)
    steps_b = stack_steps(STACK_PRESETS["dilated"][1], 96)
    views = [compute_receptive_field_view(steps_a, 1, 7, 7, 96), compute_receptive_field_view(steps_a, 1, 0, 14, 96),
             compute_receptive_field_view(steps_a, 0, 3, 30, 96), compute_receptive_field_view(steps_b, 2, 0, 95, 96)]
    fig = figure_receptive_field(image, views[0])
    for previous, view in itertools.pairwise(views):
        update_receptive_field(fig, view, previous)
        fresh = figure_receptive_field(image, view)
        for i, (moved, built) in enumerate(zip(fig.data, fresh.data)):
            if i != IMAGE:
                assert _json(moved) == _json(built), i
        assert fig.layout.annotations[0].text == fresh.layout.annotations[0].text
        assert list(fig.layout.xaxis.range) == list(fresh.layout.xaxis.range)
        assert list(fig.layout.xaxis3.ticktext) == list(fresh.layout.xaxis3.ticktext)


def _sent_while(fig, action) -> tuple[str, set[int]]:
    """What a FigureWidget sends to the browser during ``action()``: the messages as one JSON
    string, and the indexes of the traces they restyle."""
    sent, traces = [], set()
    original = fig._send_update_msg

    def record(restyle_data, relayout_data, trace_indexes=None, source_view_id=None):
        sent.append(str([restyle_data, relayout_data]))
        if restyle_data:
            traces.update(trace_indexes)
        return original(restyle_data, relayout_data, trace_indexes, source_view_id)

    fig._send_update_msg = record
    try:
        with fig.batch_update():
            action()
    finally:
        del fig._send_update_msg
    return " ".join(sent), traces


def test_a_unit_change_sends_neither_the_image_nor_the_layer_traces():
    steps = model_steps("resnet18")
    a = compute_receptive_field_view(steps, 3, 10, 10, 224)
    b = compute_receptive_field_view(steps, 3, 0, 40, 224)  # from inside the image to its top edge
    c = compute_receptive_field_view(steps, 6, 2, 3, 224)
    fig = go.FigureWidget(figure_receptive_field(square_image("astronaut", 224), a))
    sent, traces = _sent_while(fig, lambda: update_receptive_field(fig, b, a))
    assert traces == {WINDOW, SEEN, NEIGHBOUR, PADDING, UNIT}
    assert "data:image" not in sent
    assert _drawn_box(fig.data[WINDOW])[0] == b.cols[0] - 0.5
    sent, traces = _sent_while(fig, lambda: update_receptive_field(fig, c, b))  # a new layer: dots move
    assert CENTRES in traces and IMAGE not in traces and SIZE not in traces and "data:image" not in sent
    assert len(fig.data[CENTRES].x) == c.step.output[0] * c.step.output[1]


def test_square_image_is_a_centre_crop():
    cat = square_image("chelsea", 50)
    assert cat.shape == (50, 50, 3) and cat.dtype == np.uint8 and not cat.flags.writeable
    assert square_image("chelsea", 50) is cat


def test_layer_step_is_plain_data():
    step = LayerStep("x", "Conv2d", (3, 3), (5, 5), (1, 1), (0, 0))
    assert step.covers_input is False and step == LayerStep("x", "Conv2d", (3, 3), (5, 5), (1, 1), (0, 0))


def test_non_square_layers_are_drawn_per_axis():
    step = LayerStep("tall", "Conv2d", output=(3, 5), size=(3, 5), stride=(2, 4), padding=(0, 1))
    view = compute_receptive_field_view([step], 0, 2, 1, (8, 20))
    assert view.rows == (4, 6) and view.cols == (3, 7)  # rows: 2·2 − 0 … +2; cols: 1·4 − 1 … +4
    assert view.centre == (5.0, 5.0)
    fig = figure_receptive_field(np.zeros((8, 20, 3), np.uint8), view)
    assert _drawn_box(fig.data[WINDOW]) == (2.5, 7.5, 3.5, 6.5)
    assert sorted(set(fig.data[CENTRES].x)) == [-1 + 2 + 4 * i for i in range(5)]  # column centres
    assert sorted(set(fig.data[CENTRES].y)) == [1 + 2 * i for i in range(3)]  # row centres
    assert "5×3 pixels" not in fig.layout.annotations[0].text and "3×5 pixels" in fig.layout.annotations[0].text
