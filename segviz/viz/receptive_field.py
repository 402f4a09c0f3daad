"""Receptive fields on a real photograph: which input pixels one output unit of a layer sees.

``stack_steps`` (a plain stack of convolutions, folded with :func:`segviz.arith.compose`) and
``model_steps`` (a torchvision network built without weights on the ``meta`` device and traced
once with :func:`segviz.arith.receptive_fields`) turn a network into a table of
:class:`LayerStep` rows; ``compute_receptive_field_view`` is pure (a table, a layer, a unit →
the window that unit sees, clipped to the image); ``figure_receptive_field`` draws a view once
and ``update_receptive_field`` moves the figure to a new view in place (the photograph is only
sent again when it changes).

Conventions are those of :mod:`segviz.arith.receptive_field`: unit ``i`` of a layer with
receptive field ``size``, ``stride`` (the jump) and ``padding`` sees input pixels
``i·stride − padding`` to ``i·stride − padding + size − 1``; negative indices, and indices past
the end, are zero padding.
"""

from __future__ import annotations

import base64
import functools
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..arith.receptive_field import compose, input_size_for, receptive_fields
from ..arith.sizes import conv_output_size
from ..validation import check_choice, check_int, check_ndim

__all__ = [
    "MODELS",
    "STACK_PRESETS",
    "LayerStep",
    "ReceptiveFieldView",
    "stack_steps",
    "model_steps",
    "square_image",
    "compute_receptive_field_view",
    "figure_receptive_field",
    "update_receptive_field",
    "update_receptive_field_image",
    "describe_receptive_field",
]


@dataclass(frozen=True)
class ModelSpec:
    """A torchvision classifier the explorer can trace: its title, input side and builder arguments."""

    title: str
    input_size: int
    kwargs: tuple[tuple[str, Any], ...] = ()


#: torchvision builder name → how to build it (always ``weights=None``: nothing is downloaded).
MODELS: dict[str, ModelSpec] = {
    "alexnet": ModelSpec("AlexNet", 224),
    "vgg16": ModelSpec("VGG16", 224),
    "resnet18": ModelSpec("ResNet-18", 224),
    "resnet50": ModelSpec("ResNet-50", 224),
    "googlenet": ModelSpec("GoogLeNet", 224, (("init_weights", False), ("aux_logits", False))),
    "inception_v3": ModelSpec("Inception-v3", 299, (("init_weights", False), ("aux_logits", False))),
}

#: Stacks of ``(kernel, stride, padding, dilation)`` layers, by name: (title, layers).
STACK_PRESETS: dict[str, tuple[str, tuple[tuple[int, int, int, int], ...]]] = {
    "seed": ("seed: k5 s3 then k3 s2", ((5, 3, 0, 1), (3, 2, 0, 1))),
    "3x3": ("3×3 convs (three of them)", ((3, 1, 1, 1),) * 3),
    "vgg_block": ("VGG block: conv3, conv3, pool2", ((3, 1, 1, 1), (3, 1, 1, 1), (2, 2, 0, 1))),
    "dilated": ("dilated 3×3, rates 1, 2, 4", ((3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4))),
    "alexnet_stem": ("AlexNet stem: k11 s4, pool3 s2, k5", ((11, 4, 2, 1), (3, 2, 0, 1), (5, 1, 2, 1), (3, 2, 0, 1))),
}

MAX_CENTRES = 4096  # unit centres are drawn as dots up to a 64×64 output grid


@dataclass(frozen=True)
class LayerStep:
    """One layer of a network as the explorer sees it (every value an ``(h, w)`` pair).

    Attributes:
        name: the layer's name (``"features.30"``, or ``"layer 2"`` in a stack).
        kind: its module type (``"MaxPool2d"``, ``"Bottleneck"``, …), or a stack layer's geometry (``"k3 s2 p0"``).
        output: ``(h, w)`` units in its output grid.
        size: receptive field side, in input pixels (padding included).
        stride: the jump: input pixels between neighbouring units.
        padding: how many pixels before pixel 0 the window of unit 0 starts.
        covers_input: every unit sees the whole input image.
    """

    name: str
    kind: str
    output: tuple[int, int]
    size: tuple[int, int]
    stride: tuple[Any, Any]
    padding: tuple[int, int]
    covers_input: bool = False


def _pair(value: Any) -> tuple[Any, Any]:
    if isinstance(value, Sequence):
        return tuple(value)  # type: ignore[return-value]
    return (value, value)


def _number(value: Any) -> Any:
    """A ``Fraction`` stride (after upsampling) as an int when whole, else a float."""
    if hasattr(value, "denominator"):
        return int(value) if value.denominator == 1 else float(value)
    return value


def _layer_text(layer: Sequence[int]) -> str:
    k, s, p, d = layer
    return f"k{k} s{s} p{p}" + (f" d{d}" if d > 1 else "")


def stack_steps(layers: Sequence[Sequence[int]], input_size: int) -> tuple[LayerStep, ...]:
    """The receptive field after each layer of a plain stack of convolutions.

    Args:
        layers: ``(kernel, stride, padding, dilation)`` per layer, in forward order.
        input_size: side of the square input image.

    Returns:
        One :class:`LayerStep` per layer (named ``"layer 1"``, …, its ``kind`` the geometry,
        ``"k5 s3 p0"``); row ``i`` is :func:`~segviz.arith.compose` of the first
        ``i + 1`` layers, with the output size of :func:`~segviz.arith.conv_output_size`.

    Raises:
        ValueError: a layer's output would be empty at this input size (the message quotes the
            layer, the core's explanation and the smallest input the stack accepts).

    Example:
        >>> [(s.name, s.output, s.size, s.stride) for s in stack_steps([(5, 3, 0, 1), (3, 2, 0, 1)], 11)]
        [('layer 1', (3, 3), (5, 5), (3, 3)), ('layer 2', (1, 1), (11, 11), (6, 6))]
        >>> stack_steps([(5, 3, 0, 1), (3, 2, 0, 1)], 10)
        Traceback (most recent call last):
        ...
        ValueError: layer 2 (k3 s2 p0) gets a 2×2 input: input size 2 is too small for kernel_size 3 with dilation 1 and padding 0: the padded input (2) is smaller than the effective kernel d·(k−1)+1 = 3, so the output would be empty; use an input of at least 3 pixels, or more padding. The whole stack needs an input of at least 11×11
    """
    input_size = check_int("input size", input_size, minimum=1)
    layers = [tuple(check_int(name, v, minimum=low) for name, v, low in
                    zip(("kernel", "stride", "padding", "dilation"), layer, (1, 1, 0, 1))) for layer in layers]
    if not layers:
        raise ValueError("an empty stack given; a stack needs at least one layer")
    return _stack_steps(tuple(layers), input_size)


@functools.lru_cache(maxsize=512)
def _stack_steps(layers: tuple[tuple[int, int, int, int], ...], input_size: int) -> tuple[LayerStep, ...]:
    steps, n = [], input_size
    for i, layer in enumerate(layers):
        try:
            n = conv_output_size(n, *layer)
        except ValueError as error:
            need = input_size_for(layers)
            text = str(error).removeprefix("conv_output_size: ")
            raise ValueError(
                f"layer {i + 1} ({_layer_text(layer)}) gets a {n}×{n} input: {text}. "
                f"The whole stack needs an input of at least {need}×{need}"
            ) from None
        field = compose(layers[: i + 1])
        steps.append(LayerStep(f"layer {i + 1}", _layer_text(layer), (n, n), _pair(field.size),
                               _pair(field.stride), _pair(field.padding)))
    return tuple(steps)


_POINTWISE_KINDS = {"ReLU", "ReLU6", "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "Hardswish", "Dropout",
                    "Dropout2d", "BatchNorm2d", "GroupNorm", "LocalResponseNorm", "Identity", "Flatten"}


def _main_path(model: Any) -> list[tuple[str, str]]:
    """``(name, type)`` of the model's children, with ``nn.Sequential`` containers opened up."""
    from torch import nn

    names: list[tuple[str, str]] = []

    def walk(module: nn.Module, prefix: str) -> None:
        for name, child in module.named_children():
            if isinstance(child, (nn.Sequential, nn.ModuleList)):
                walk(child, f"{prefix}{name}.")
            else:
                names.append((f"{prefix}{name}", type(child).__name__))

    walk(model, "")
    return names


@functools.lru_cache(maxsize=None)
def model_steps(model: str) -> tuple[LayerStep, ...]:
    """The receptive field after each stage of a torchvision classifier (cached per model).

    The network is built without weights, on PyTorch's ``meta`` device (no memory, no download,
    milliseconds), and traced once by :func:`~segviz.arith.receptive_fields` at the model's own
    input size. The rows kept are the *main path*: the model's children, with ``nn.Sequential``
    containers opened up (VGG's ``features.0`` … ``features.30``, ResNet's ``layer1.0`` …
    ``layer4.1`` blocks), leaving out layers that act pixel by pixel (ReLU, batch norm, dropout),
    global pooling (its single unit sees the whole image) and what follows the flattening.

    Args:
        model: a key of :data:`MODELS` (``"vgg16"``, ``"resnet50"``, …).

    Returns:
        One :class:`LayerStep` per stage, in forward order.

    Example:
        >>> step = model_steps("vgg16")[-2]
        >>> step.name, step.kind, step.output, step.size, step.stride, step.padding
        ('features.30', 'MaxPool2d', (7, 7), (212, 212), (32, 32), (90, 90))
    """
    import torch
    import torchvision

    model = check_choice("model", model, list(MODELS))
    spec = MODELS[model]
    with torch.device("meta"):
        network = getattr(torchvision.models, model)(weights=None, **dict(spec.kwargs))
    rows = {row.name: row for row in receptive_fields(network, (1, 3, spec.input_size, spec.input_size))}
    steps = []
    for name, kind in _main_path(network):
        row = rows.get(name)
        if row is None or kind in _POINTWISE_KINDS or len(row.output_shape) != 4:
            continue
        if row.covers_input and tuple(row.output_shape[2:]) == (1, 1):  # global pooling: one unit sees all
            continue
        steps.append(LayerStep(name, kind, tuple(row.output_shape[2:]), _pair(row.size),
                               tuple(_number(s) for s in _pair(row.stride)), _pair(row.padding),
                               row.covers_input))
    return tuple(steps)


@functools.lru_cache(maxsize=8)
def _square_photo(name: str) -> Any:
    """The photograph, centre-cropped to a square, as a PIL image (read from disk once)."""
    from PIL import Image

    from ..data.real import real_images

    image = real_images(name)[name]  # [H, W, 3]
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return Image.fromarray(image[top: top + side, left: left + side])


@functools.lru_cache(maxsize=64)
def _square_image(name: str, size: int) -> np.ndarray:
    from PIL import Image

    photo = _square_photo(name)
    resized = np.asarray(photo.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0))  # [size, size, 3]
    resized.setflags(write=False)
    return resized


def square_image(name: str, size: int) -> np.ndarray:
    """A bundled photograph (:func:`segviz.real_images`), centre-cropped to a square and resized.

    Args:
        name: ``"astronaut"``, ``"chelsea"``, … (see :data:`segviz.data.REAL_IMAGE_FILES`).
        size: side of the result.

    Returns:
        uint8 ``[size, size, 3]`` (read-only; cached).

    Example:
        >>> square_image("chelsea", 96).shape
        (96, 96, 3)
    """
    return _square_image(name, check_int("size", size, minimum=1))


@dataclass(frozen=True)
class ReceptiveFieldView:
    """What one output unit of one layer sees.

    Attributes:
        title: the network (``"VGG16"``, ``"2-layer stack"``).
        steps: every layer of the network (drawn as the growth chart).
        index: the selected layer, an index into ``steps``.
        unit: ``(row, col)`` of the unit in the layer's output grid.
        image_size: ``(H, W)`` of the input.
        rows, cols: first and last input row / column of the unit's window (may lie outside the
            image: that part is zero padding).
        visible: ``(row0, row1, col0, col1)``, the part of the window inside the image
            (inclusive), or ``None`` when the window lies entirely in the padding.
        centre: ``(y, x)``, the centre of the window in input pixels.
        centres: ``(ys, xs)``, the window centres of every row and every column of units, or
            ``None`` when the grid has more than ``max_centres`` units.
        extent: ``(y0, y1, x0, x1)`` that holds the image and the windows of every unit of the
            layer (pixel edges): the view the image panel shows.
        padding_fraction: share of the window that lies outside the image.
    """

    title: str
    steps: tuple[LayerStep, ...]
    index: int
    unit: tuple[int, int]
    image_size: tuple[int, int]
    rows: tuple[Any, Any]
    cols: tuple[Any, Any]
    visible: tuple[Any, Any, Any, Any] | None
    centre: tuple[float, float]
    centres: tuple[np.ndarray, np.ndarray] | None
    extent: tuple[float, float, float, float]
    padding_fraction: float

    @property
    def step(self) -> LayerStep:
        """The selected layer."""
        return self.steps[self.index]


def compute_receptive_field_view(
    steps: Sequence[LayerStep],
    index: int,
    unit_row: int,
    unit_col: int,
    image_size: int | Sequence[int],
    *,
    title: str = "",
    max_centres: int = MAX_CENTRES,
) -> ReceptiveFieldView:
    """The window of input pixels that unit ``(unit_row, unit_col)`` of layer ``index`` sees.

    Args:
        steps: the network's layers, from :func:`stack_steps` or :func:`model_steps`.
        index: which layer, ``0 <= index < len(steps)``.
        unit_row, unit_col: the unit, inside the layer's output grid.
        image_size: ``H`` or ``(H, W)`` of the input image.
        title: the network's name, for the figure.
        max_centres: the grid of unit centres is returned up to this many units.

    Returns:
        A :class:`ReceptiveFieldView`.

    Shape:
        Per axis: ``first = unit·stride − padding``, ``last = first + size − 1``; the centre is
        ``first + (size − 1)/2``.

    Example:
        >>> view = compute_receptive_field_view(model_steps("vgg16"), 17, 0, 0, 224)
        >>> view.step.name, view.rows, view.visible, round(view.padding_fraction, 3)
        ('features.30', (-90, 121), (0, 121, 0, 121), 0.669)
    """
    steps = tuple(steps)
    if not steps:
        raise ValueError("no layers given; steps must hold at least one layer")
    index = check_int("layer", index, minimum=0, maximum=len(steps) - 1)
    step = steps[index]
    height, width = _pair(image_size)
    height = check_int("image height", height, minimum=1)
    width = check_int("image width", width, minimum=1)
    unit = []
    for axis, value, n in (("unit row", unit_row, step.output[0]), ("unit col", unit_col, step.output[1])):
        value = check_int(axis, value)
        if not 0 <= value < n:
            raise ValueError(
                f"{axis} {value} given; layer {step.name} outputs {step.output[0]}×{step.output[1]} units, "
                f"so {axis} must be between 0 and {n - 1}"
            )
        unit.append(value)
    spans, clipped, centre, extent, centres = [], [], [], [], []
    for a, n in enumerate((height, width)):
        size, stride, padding, out = step.size[a], step.stride[a], step.padding[a], step.output[a]
        first = _number(unit[a] * stride - padding)
        last = _number(first + size - 1)
        spans.append((first, last))
        lo, hi = max(first, 0), min(last, n - 1)
        clipped.append((lo, hi) if lo <= hi else None)
        centre.append(first + (size - 1) / 2)
        far = (out - 1) * stride - padding + size - 1
        extent.append((min(-0.5, -padding - 0.5), max(n - 0.5, far + 0.5)))
        centres.append(np.arange(out) * stride - padding + (size - 1) / 2)
    visible = None if None in clipped else (*clipped[0], *clipped[1])
    inside = 0 if visible is None else (visible[1] - visible[0] + 1) * (visible[3] - visible[2] + 1)
    window = step.size[0] * step.size[1]
    return ReceptiveFieldView(
        title=title,
        steps=steps,
        index=index,
        unit=(unit[0], unit[1]),
        image_size=(height, width),
        rows=spans[0],
        cols=spans[1],
        visible=visible,
        centre=(centre[0], centre[1]),
        centres=(centres[0], centres[1]) if step.output[0] * step.output[1] <= max_centres else None,
        extent=(*extent[0], *extent[1]),
        padding_fraction=1 - inside / window,
    )


# --------------------------------------------------------------------------------------------
# the figure
# --------------------------------------------------------------------------------------------

_YELLOW = "#ffd400"
_HATCH = "#c99a00"
_SIZE_COLOUR = "#1f77b4"
_PAD_COLOUR = "#d62728"
_STRIDE_COLOUR = "#2ca02c"
_GREY = "#5f6368"
_NEIGHBOUR = "#00bcd4"

# Trace indexes. Everything that moves is a trace: plotly updates a trace several times faster
# than a layout shape or annotation, which keeps a slider step well under a frame.
(IMAGE, PADDING, CENTRES, NEIGHBOUR, WINDOW, SEEN, UNIT,
 BAND_TOP, BAND_BOTTOM, SIZE, PAD, STRIDE, MARK_TOP, MARK_BOTTOM) = range(14)
BORDER = 0  # the only shape: the image's border
IMAGE_TITLE, CHART_TITLE = 0, 1  # annotations 0–2 are the subplot titles


def image_data_uri(image: np.ndarray) -> str:
    """A PNG data URI: the browser gets the photograph once, compressed, not as a list of lists."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG", compress_level=1)  # speed over size
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _padding_polygons(view: ReceptiveFieldView) -> tuple[list[Any], list[Any]]:
    """The part of the window outside the image, as up to four rectangles (pixel edges)."""
    (r0, r1), (c0, c1) = view.rows, view.cols
    top, bottom, left, right = r0 - 0.5, r1 + 0.5, c0 - 0.5, c1 + 0.5
    h, w = view.image_size
    boxes = []
    if top < -0.5:  # above the image, full width of the window
        boxes.append((left, right, top, min(bottom, -0.5)))
    if bottom > h - 0.5:
        boxes.append((left, right, max(top, h - 0.5), bottom))
    mid_top, mid_bottom = max(top, -0.5), min(bottom, h - 0.5)
    if mid_top < mid_bottom:
        if left < -0.5:
            boxes.append((left, min(right, -0.5), mid_top, mid_bottom))
        if right > w - 0.5:
            boxes.append((max(left, w - 0.5), right, mid_top, mid_bottom))
    xs: list[Any] = []
    ys: list[Any] = []
    for x0, x1, y0, y1 in boxes:
        xs += [x0, x1, x1, x0, x0, None]
        ys += [y0, y0, y1, y1, y0, None]
    return xs, ys


def _names(view: ReceptiveFieldView) -> list[str]:
    if len(view.steps) <= 8:  # room for the module type (or the stack's geometry) under the name
        return ["input", *[f"{step.name}<br>{step.kind}" for step in view.steps]]
    return ["input", *[step.name for step in view.steps]]


def _layer_name(step: LayerStep) -> str:
    """``"layer 2 (k3 s2 p0)"``, ``"layer features.30 (MaxPool2d)"``."""
    return f"{step.name} ({step.kind})" if step.name.startswith("layer") else f"layer {step.name} ({step.kind})"


def _image_title(view: ReceptiveFieldView) -> str:
    step = view.step
    r, c = view.unit
    padding = f" ({view.padding_fraction:.0%} padding)" if view.padding_fraction >= 0.005 else ""
    return f"unit ({r}, {c}) of <b>{step.name}</b> sees {step.size[0]}×{step.size[1]} pixels{padding}"


def _chart_title(view: ReceptiveFieldView) -> str:
    name = f"{view.title}: r" if view.title else "R"
    return f"{name}eceptive field and padding (input pixels)"


def _chart_hover(view: ReceptiveFieldView) -> list[str]:
    h, w = view.image_size
    texts = [f"<b>input</b> {h}×{w}<br>each unit is one pixel"]
    for step in view.steps:
        texts.append(
            f"<b>{step.name}</b> ({step.kind})<br>output {step.output[0]}×{step.output[1]}"
            f"<br>receptive field {_fmt(step.size)}<br>jump {_fmt(step.stride)}<br>padding {_fmt(step.padding)}"
        )
    return texts


def _fmt(pair: tuple[Any, Any]) -> str:
    return f"{pair[0]}" if pair[0] == pair[1] else f"{pair[0]}×{pair[1]}"


def _series(view: ReceptiveFieldView) -> tuple[list[Any], list[Any], list[Any]]:
    """Rows-axis size, padding and jump per layer, with the input (1, 0, 1) first."""
    sizes = [1, *[s.size[0] for s in view.steps]]
    pads = [0, *[s.padding[0] for s in view.steps]]
    jumps = [1, *[s.stride[0] for s in view.steps]]
    return sizes, pads, jumps


def _top(sizes: Sequence[Any]) -> float:
    """Top of the size chart: room above the highest point for its label."""
    return 1.18 * max(sizes)


_JUMP_LOW = 0.7  # bottom of the (logarithmic) jump chart


def _jump_top(jumps: Sequence[Any]) -> float:
    return 2.4 * max(jumps)


def _ranges(view: ReceptiveFieldView) -> tuple[list[float], list[float]]:
    y0, y1, x0, x1 = view.extent
    margin = 0.03 * max(y1 - y0, x1 - x0)
    return [x0 - margin, x1 + margin], [y1 + margin, y0 - margin]


def _rect(rows: tuple[Any, Any], cols: tuple[Any, Any]) -> tuple[list[float], list[float]]:
    """Closed outline of the pixels ``rows[0]…rows[1]`` × ``cols[0]…cols[1]`` (on pixel edges)."""
    y0, y1, x0, x1 = rows[0] - 0.5, rows[1] + 0.5, cols[0] - 0.5, cols[1] + 0.5
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def _neighbour(view: ReceptiveFieldView) -> tuple[list[float], list[float]]:
    """The window of the next unit along the row (the previous one at the last column)."""
    step = view.step
    if step.output[1] < 2:
        return [], []
    direction = -1 if view.unit[1] + 1 == step.output[1] else 1
    jump = direction * step.stride[1]
    return _rect(view.rows, (view.cols[0] + jump, view.cols[1] + jump))


def figure_receptive_field(image: np.ndarray, view: ReceptiveFieldView) -> go.Figure:
    """The unit's window on the photograph (left) and how the receptive field grows (right).

    Left: the image with the window of the selected unit (solid where it covers pixels, dashed
    and hatched where it hangs over the zero padding), the next unit's window one jump further
    (dotted), and the centres of all units of the layer as faint dots (up to ``MAX_CENTRES``).
    Right: receptive field size and padding (top) and the jump (bottom) after every layer, the
    selected layer highlighted with its numbers.

    Traces: 0 image, 1 hatched padding, 2 unit centres, 3 next unit's window, 4 whole window
    (dashed), 5 its part inside the image, 6 the unit's centre, 7 and 8 the selected layer's
    bands, 9 size, 10 padding, 11 jump (log scale: it multiplies), 12 and 13 the selected layer's
    values. Shape 0: the image border.
    Annotation 0: the image panel's title.

    Example:
        >>> view = compute_receptive_field_view(stack_steps([(5, 3, 0, 1), (3, 2, 0, 1)], 32), 1, 0, 0, 32)
        >>> fig = figure_receptive_field(np.zeros((32, 32, 3), np.uint8), view)
        >>> list(fig.data[WINDOW].x), list(fig.data[WINDOW].y)  # pixels 0…10: edges -0.5 and 10.5
        ([-0.5, 10.5, 10.5, -0.5, -0.5], [-0.5, -0.5, 10.5, 10.5, -0.5])
    """
    check_ndim("image", image, 3, "[H, W, 3]")
    fig = make_subplots(
        rows=2, cols=2, column_widths=[0.52, 0.48], row_heights=[0.62, 0.38],
        specs=[[{"rowspan": 2}, {}], [None, {}]], horizontal_spacing=0.09, vertical_spacing=0.12,
        subplot_titles=(_image_title(view), _chart_title(view),
                        "jump: input pixels between neighbouring units (log scale)"),
    )
    left = dict(row=1, col=1)
    fig.add_trace(go.Image(source=image_data_uri(image), hoverinfo="x+y", name="image"), **left)
    fig.add_trace(go.Scatter(
        mode="lines", fill="toself", line=dict(width=0), hoverinfo="skip", name="zero padding in the window",
        fillpattern=dict(shape="/", fgcolor=_HATCH, bgcolor="rgba(255,212,0,0.10)", size=7, solidity=0.25)),
        **left)
    fig.add_trace(go.Scatter(
        mode="markers", hoverinfo="skip", name="centres of the layer's units",
        marker=dict(size=4, color="rgba(255,255,255,0.8)", line=dict(width=0.6, color="rgba(0,0,0,0.6)"))),
        **left)
    fig.add_trace(go.Scatter(mode="lines", hoverinfo="skip", name="next unit's window (one jump away)",
                             line=dict(color=_NEIGHBOUR, width=1.5, dash="dot")), **left)
    fig.add_trace(go.Scatter(mode="lines", hoverinfo="skip", showlegend=False,
                             line=dict(color=_YELLOW, width=2, dash="dash")), **left)
    fig.add_trace(go.Scatter(mode="lines", hoverinfo="skip", name="the unit's window", fill="toself",
                             fillcolor="rgba(255,212,0,0.12)", line=dict(color=_YELLOW, width=3)), **left)
    fig.add_trace(go.Scatter(mode="markers", hoverinfo="skip", showlegend=False,
                             marker=dict(size=11, color=_YELLOW, line=dict(width=2, color="black"))), **left)
    band = dict(mode="lines", fill="toself", fillcolor="rgba(255,212,0,0.30)", line=dict(width=0), hoverinfo="skip",
                showlegend=False)
    fig.add_trace(go.Scatter(**band), row=1, col=2)
    fig.add_trace(go.Scatter(**band), row=2, col=2)
    common = dict(mode="lines+markers", hovertemplate="%{text}<extra></extra>", marker=dict(size=6), legend="legend2")
    fig.add_trace(go.Scatter(name="receptive field", line=dict(color=_SIZE_COLOUR, width=2.5),
                             marker_color=_SIZE_COLOUR, **common), row=1, col=2)
    fig.add_trace(go.Scatter(name="padding", line=dict(color=_PAD_COLOUR, width=2, dash="dot"),
                             marker_color=_PAD_COLOUR, **common), row=1, col=2)
    fig.add_trace(go.Scatter(name="jump", line=dict(color=_STRIDE_COLOUR, width=2.5, shape="hv"),
                             marker_color=_STRIDE_COLOUR, **common), row=2, col=2)
    mark = dict(mode="markers+text", hoverinfo="skip", showlegend=False, cliponaxis=False)
    fig.add_trace(go.Scatter(marker=dict(size=13, color=[_SIZE_COLOUR, _PAD_COLOUR], line=dict(width=2, color="white")),
                             textfont=dict(size=13, color=[_SIZE_COLOUR, _PAD_COLOUR]), **mark), row=1, col=2)
    fig.add_trace(go.Scatter(marker=dict(size=13, color=_STRIDE_COLOUR, line=dict(width=2, color="white")),
                             textfont=dict(size=13, color=_STRIDE_COLOUR), textposition="top center", **mark),
                  row=2, col=2)
    fig.add_shape(type="rect", x0=-0.5, y0=-0.5, x1=0, y1=0, line=dict(color=_GREY, width=1), layer="above",
                  **left)
    fig.update_xaxes(showgrid=False, zeroline=False, title_text="input column", constrain="domain", **left)
    fig.update_yaxes(showgrid=False, zeroline=False, title_text="input row", scaleanchor="x", scaleratio=1,
                     constrain="domain", **left)
    fig.update_xaxes(showticklabels=False, row=1, col=2, gridcolor="#ececec", matches="x3")
    fig.update_xaxes(row=2, col=2, gridcolor="#ececec", tickfont=dict(size=10), ticklabeloverflow="allow")
    fig.update_yaxes(row=1, col=2, gridcolor="#ececec", zeroline=False)
    fig.update_yaxes(row=2, col=2, type="log", gridcolor="#ececec", zeroline=False, tickmode="array")
    fig.update_layout(
        width=1040, height=620, margin=dict(l=60, r=30, t=60, b=80), plot_bgcolor="white", barmode="overlay",
        legend=dict(orientation="h", yanchor="top", y=-0.16, xanchor="left", x=0, font=dict(size=12)),
        legend2=dict(yanchor="top", y=1.0, xanchor="left", x=fig.layout.xaxis2.domain[0] + 0.01,
                     font=dict(size=12), bgcolor="rgba(255,255,255,0.85)"),
        hovermode="closest", font=dict(size=12),
    )
    for annotation in fig.layout.annotations:
        annotation.update(font=dict(size=14), yshift=6)
    update_receptive_field(fig, view)
    _set_image_geometry(fig, view.image_size)
    return fig


def _set_image_geometry(fig: go.Figure, image_size: tuple[int, int]) -> None:
    h, w = image_size
    fig.layout.shapes[BORDER].update(x0=-0.5, y0=-0.5, x1=w - 0.5, y1=h - 0.5)


def update_receptive_field_image(fig: go.Figure, image: np.ndarray) -> None:
    """Replace the photograph (a new image or a new input size): the only update that sends it."""
    check_ndim("image", image, 3, "[H, W, 3]")
    fig.data[IMAGE].source = image_data_uri(image)
    _set_image_geometry(fig, image.shape[:2])


def update_receptive_field(
    fig: go.Figure, view: ReceptiveFieldView, previous: ReceptiveFieldView | None = None
) -> None:
    """Move ``fig`` (from :func:`figure_receptive_field`) to ``view`` in place.

    With ``previous`` (the view the figure shows now), only what differs is sent: a new unit
    touches the windows, the hatched padding, the unit marker and the title; a new layer also the
    centre dots, the image panel's range and the highlighted layer; a new network also the
    growth chart. The photograph is never sent here (see :func:`update_receptive_field_image`).
    """
    data = fig.data
    data[WINDOW].update(dict(zip(("x", "y"), _rect(view.rows, view.cols))))
    if view.visible is None:
        data[SEEN].update(x=[], y=[])
    else:
        v0, v1, u0, u1 = view.visible
        data[SEEN].update(dict(zip(("x", "y"), _rect((v0, v1), (u0, u1)))))
    data[NEIGHBOUR].update(dict(zip(("x", "y"), _neighbour(view))))
    data[PADDING].update(dict(zip(("x", "y"), _padding_polygons(view))))
    data[UNIT].update(x=[view.centre[1]], y=[view.centre[0]])
    title = _image_title(view)
    if previous is None or title != _image_title(previous):
        fig.layout.annotations[IMAGE_TITLE].text = title

    same_steps = previous is not None and previous.steps == view.steps
    if same_steps and previous.index == view.index and previous.image_size == view.image_size:
        return
    # a new layer: the centre dots, the panel's range, the highlighted layer
    if view.centres is None:
        data[CENTRES].update(x=[], y=[])
    else:
        ys, xs = np.meshgrid(view.centres[0], view.centres[1], indexing="ij")
        data[CENTRES].update(x=xs.ravel(), y=ys.ravel())
    xr, yr = _ranges(view)
    fig.layout.xaxis.range = xr
    fig.layout.yaxis.range = yr
    sizes, pads, jumps = _series(view)
    if not same_steps:  # a new network: the growth chart
        x = list(range(len(sizes)))
        hover = _chart_hover(view)
        data[SIZE].update(x=x, y=sizes, text=hover)
        data[PAD].update(x=x, y=pads, text=hover)
        data[STRIDE].update(x=x, y=jumps, text=hover)
        fig.layout.xaxis3.update(tickmode="array", tickvals=x, ticktext=_names(view), range=[-0.5, len(x) - 0.5],
                                 tickangle=0 if len(x) <= 9 else -50)
        fig.layout.yaxis2.range = [0, _top(sizes)]
        fig.layout.annotations[CHART_TITLE].text = _chart_title(view)
        ticks = sorted(set(jumps))
        fig.layout.yaxis3.update(range=[math.log10(_JUMP_LOW), math.log10(_jump_top(jumps))], tickvals=ticks,
                                 ticktext=[f"{t:g}" for t in ticks])
    step = view.step
    i = view.index + 1
    band = [i - 0.4, i + 0.4, i + 0.4, i - 0.4, i - 0.4]
    data[BAND_TOP].update(x=band, y=[0, 0, _top(sizes), _top(sizes), 0])
    data[BAND_BOTTOM].update(x=band, y=[_JUMP_LOW, _JUMP_LOW, _jump_top(jumps), _jump_top(jumps), _JUMP_LOW])
    if step.padding[0] >= 0.12 * max(sizes):
        side = "bottom center"
    else:
        side = "middle left" if i == len(sizes) - 1 else "middle right"
    data[MARK_TOP].update(x=[i, i], y=[step.size[0], step.padding[0]], textposition=["top center", side],
                          text=[f"<b>{_fmt(step.size)}</b>", f"  <b>{_fmt(step.padding)}</b>  "])
    data[MARK_BOTTOM].update(x=[i], y=[step.stride[0]], text=[f"<b>{_fmt(step.stride)}</b>"])


def _describe_span(first: Any, last: Any) -> str:
    return f"{first}…{last}".replace("-", "−")


def describe_receptive_field(view: ReceptiveFieldView) -> str:
    """One line of text: the layer, its output, its receptive field and what the unit sees.

    Example:
        >>> view = compute_receptive_field_view(model_steps("vgg16"), 17, 3, 3, 224)
        >>> describe_receptive_field(view)
        'layer features.30 (MaxPool2d): output 7×7, receptive field 212×212, stride 32, padding 90 — unit (3, 3) sees rows 6…217, cols 6…217'
    """
    step = view.step
    r, c = view.unit
    text = (f"{_layer_name(step)}: output {step.output[0]}×{step.output[1]}, receptive field "
            f"{step.size[0]}×{step.size[1]}, stride {_fmt(step.stride)}, padding {_fmt(step.padding)} — "
            f"unit ({r}, {c}) sees rows {_describe_span(*view.rows)}, cols {_describe_span(*view.cols)}")
    return text
