"""Checkerboard artifacts: why a transposed convolution paints some output pixels more than others.

A transposed convolution stamps one copy of its filter per input pixel, ``stride`` apart. When
the kernel size is not a multiple of the stride, neighbouring output pixels are covered by
different numbers of copies (1-D, kernel 3, stride 2: ``1 2 1 2 …``); in 2-D the count is the
product of a row and a column pattern, so the unevenness is squared, and stacking layers
compounds it. A constant input therefore comes out striped, and a learned filter has to fight
that pattern. The same pattern appears in the *gradient* of a strided convolution (its backward
pass is a transposed convolution). Resizing first and then convolving with stride 1 covers
every interior pixel with the same number of taps.

``compute_checkerboard`` is pure; ``figure_checkerboard`` draws a result once;
``update_checkerboard`` moves an existing figure to a new result in place.

Reference:
    Odena, Dumoulin and Olah, "Deconvolution and Checkerboard Artifacts", Distill, 2016.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from plotly.subplots import make_subplots

from ..metrics import checkerboard_energy
from ..ops import conv_transpose2d_scatter, overlap_count, resize_conv
from ..validation import check_int
from ._state import apply_changes

__all__ = [
    "CheckerboardResult", "compute_checkerboard", "figure_checkerboard", "update_checkerboard", "unevenness",
    "format_ratio",
]

MAX_SIDE = 160  # the largest output this explorer draws
TEXT_LIMIT = 16  # numbers are drawn on 2-D grids up to 16×16
BAR_TEXT_LIMIT = 48  # and on up to 48 bars


@dataclass(frozen=True)
class CheckerboardResult:
    """Coverage counts of a stack of upsampling layers fed a constant input.

    Attributes:
        kernel_size, stride, layers, input_size: the configuration (square kernels and strides).
        resize: ``False``: transposed convolutions; ``True``: nearest resize ×stride, then a
            stride-1 convolution (:func:`~segviz.ops.resize_conv`).
        sizes: output side after each layer.
        counts_1d: ``[L_out]`` int, the 1-D response of the stack to an all-ones input with
            all-ones kernels: for transposed convolutions, how many filter copies (weighted by
            what earlier layers produced) land on each output pixel.
        layer_counts_1d: the same after each layer.
        counts_2d: ``[L_out, L_out]`` int, the 2-D response (= ``outer(counts_1d, counts_1d)``).
        gradient_2d: ``[G, G]`` int, the input gradient (autograd) of ``layers`` stride-``s``
            convolutions with all-ones kernels and an all-ones upstream gradient; ``G`` is the
            transposed stack's output side, and the gradient equals its counts.
        copies: ``[n]`` int, start of each filter copy stamped by the last transposed layer
            (empty with ``resize``).
        interior: ``(first, last)`` output pixels far enough from the border to show the
            repeating pattern (``first > last`` when the output is all border).
        unevenness_1d, unevenness_2d: max/min of the interior counts (``inf`` when some interior
            pixel gets no copy; ``nan`` without an interior).
        variation_1d, variation_2d: std/mean of the interior counts.
        layer_unevenness: ``unevenness_1d`` after each layer.
        energy_2d: :func:`~segviz.metrics.checkerboard_energy` of the 2-D interior (cropped to an
            even size): the share of its variance in the period-2 patterns (``nan`` if smaller than 2×2).
        note: a teaching note for the message line ("" when there is nothing to add).
    """

    kernel_size: int
    stride: int
    layers: int
    input_size: int
    resize: bool
    sizes: tuple[int, ...]
    counts_1d: np.ndarray
    layer_counts_1d: tuple[np.ndarray, ...]
    counts_2d: np.ndarray
    gradient_2d: np.ndarray
    copies: np.ndarray
    interior: tuple[int, int]
    unevenness_1d: float
    unevenness_2d: float
    variation_1d: float
    variation_2d: float
    layer_unevenness: tuple[float, ...]
    energy_2d: float
    note: str


def unevenness(values: Any) -> tuple[float, float]:
    """``(max / min, std / mean)`` of coverage counts: 1 and 0 for perfectly even coverage.

    ``max / min`` is ``inf`` when some pixel gets nothing (gaps) and ``nan`` for no values.

    Example:
        >>> unevenness([1, 2, 1, 2])
        (2.0, 0.3333333333333333)
        >>> unevenness([1, 0, 1])[0]
        inf
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size == 0:
        return math.nan, math.nan
    low, high, mean = float(v.min()), float(v.max()), float(v.mean())
    ratio = math.inf if low == 0 else high / low
    return ratio, (float(v.std()) / mean if mean else math.nan)


def _interior_transposed(first: int, last: int, size_out: int, kernel: int, stride: int) -> tuple[int, int]:
    """Output pixels of a transposed convolution whose every contributing input is interior.

    Input ``j`` covers outputs ``j·s … j·s + k − 1``, so output ``i`` sums inputs
    ``floor((i − k)/s) + 1 … floor(i/s)``; all of them lie in ``first … last`` exactly for
    ``(first − 1)·s + k <= i <= last·s + s − 1``.
    """
    return max(0, (first - 1) * stride + kernel), min(size_out - 1, last * stride + stride - 1)


def _interior_resize(first: int, last: int, size_out: int, kernel: int, stride: int) -> tuple[int, int]:
    """Nearest ×s maps ``first … last`` to ``first·s … last·s + s − 1``; a stride-1 convolution
    padded by ``p = (k − 1) // 2`` reads ``i − p … i − p + k − 1``, so it keeps ``… + p`` to ``… + p − k + 1``."""
    pad = (kernel - 1) // 2
    return max(0, first * stride + pad), min(size_out - 1, last * stride + stride - 1 + pad - kernel + 1)


def compute_checkerboard(
    kernel_size: int = 3, stride: int = 2, layers: int = 1, input_size: int = 4, resize: bool = False
) -> CheckerboardResult:
    """Count how evenly a stack of upsampling layers covers its output.

    Args:
        kernel_size: ``k``, 1 to 7.
        stride: ``s``, the upsampling factor, 1 to 4.
        layers: how many identical layers are stacked, 1 to 3.
        input_size: side of the constant input, 1 to 8.
        resize: use nearest resize ×s + stride-1 convolution instead of transposed convolutions.

    Returns:
        A :class:`CheckerboardResult`.

    Raises:
        ValueError: on a bad argument, or when the output would exceed 160 pixels a side.

    Shape:
        Transposed: ``L_l = (L_{l−1} − 1)·s + k`` with ``L_0 = input_size``; resize:
        ``L_l = s·L_{l−1} + 2·((k − 1)//2) − k + 1``.

    Example:
        >>> r = compute_checkerboard(3, 2, layers=1, input_size=4)
        >>> r.counts_1d.tolist(), r.interior, r.unevenness_1d, r.unevenness_2d
        ([1, 1, 2, 1, 2, 1, 2, 1, 1], (1, 7), 2.0, 4.0)
        >>> round(r.energy_2d, 2)  # interior 1 2 1 2 1 2 (cropped to 6): all of the variance is period 2
        1.0
        >>> compute_checkerboard(3, 2, layers=2, input_size=4).layer_unevenness
        (2.0, 3.0)
        >>> compute_checkerboard(3, 2, input_size=4, resize=True).unevenness_2d
        1.0
    """
    k = check_int("kernel_size", kernel_size, minimum=1, maximum=7)
    s = check_int("stride", stride, minimum=1, maximum=4)
    n_layers = check_int("layers", layers, minimum=1, maximum=3)
    n = check_int("input_size", input_size, minimum=1, maximum=8)
    resize = bool(resize)

    # sizes first, so an oversized request fails before any work
    transposed_sizes, resized_sizes = [n], [n]
    for _ in range(n_layers):
        transposed_sizes.append((transposed_sizes[-1] - 1) * s + k)
        resized_sizes.append(s * resized_sizes[-1] + 2 * ((k - 1) // 2) - k + 1)
    sizes = resized_sizes[1:] if resize else transposed_sizes[1:]
    largest = max(transposed_sizes[-1], sizes[-1])
    if largest > MAX_SIDE:
        raise ValueError(
            f"{n_layers} layer(s) of kernel {k}, stride {s} on a {n}-pixel input give a {largest}×{largest} "
            f"output; this explorer draws at most {MAX_SIDE}×{MAX_SIDE}: use fewer layers, a smaller "
            "stride or kernel, or a smaller input"
        )
    if min(sizes) < 1:
        raise ValueError(
            f"resize ×{s} then a {k}-wide convolution on a {n}-pixel input leaves no output pixels "
            f"(sizes {sizes}); use a larger input or a smaller kernel"
        )

    ones_1d = torch.ones(1, 1, 1, k, dtype=torch.float64)  # [C_in=1, C_out=1, 1, k] (and conv2d's [1, 1, 1, k])
    ones_2d = torch.ones(1, 1, k, k, dtype=torch.float64)

    # 1-D transposed stack: layer 1 is segviz.ops.overlap_count, the rest stamp weighted copies
    transposed = [overlap_count((1, n), (1, k), (1, s)).double()[None, None]]  # [1, 1, 1, L_1]
    for _ in range(n_layers - 1):
        transposed.append(conv_transpose2d_scatter(transposed[-1], ones_1d, stride=(1, s)))  # [1, 1, 1, L_l]
    if resize:
        layer_maps = []
        x = torch.ones(1, 1, 1, n, dtype=torch.float64)
        for _ in range(n_layers):
            x = resize_conv(x, ones_1d, scale=(1, s), padding=(0, (k - 1) // 2))  # [1, 1, 1, L_l]
            layer_maps.append(x)
        interior_rule = _interior_resize
    else:
        layer_maps, interior_rule = transposed, _interior_transposed
    layer_counts = tuple(m[0, 0, 0].round().to(torch.int64).numpy() for m in layer_maps)

    first, last = 0, n - 1
    layer_unevenness = []
    for counts in layer_counts:
        first, last = interior_rule(first, last, counts.size, k, s)
        layer_unevenness.append(unevenness(counts[first : last + 1])[0])
    counts_1d = layer_counts[-1]
    inside = counts_1d[first : last + 1]
    counts_2d = np.outer(counts_1d, counts_1d)  # separable: the 2-D count is a row times a column
    uneven_1d, variation_1d = unevenness(inside)
    uneven_2d, variation_2d = unevenness(np.outer(inside, inside))
    even = inside[: inside.size // 2 * 2]
    energy_2d = float(checkerboard_energy(torch.from_numpy(np.outer(even, even)).double())) if even.size else math.nan

    # the gradient of `layers` strided convolutions, by autograd: the same pattern, transposed
    side = transposed_sizes[-1]
    image = torch.zeros(1, 1, side, side, dtype=torch.float64, requires_grad=True)  # [1, 1, G, G]
    y = image
    for _ in range(n_layers):
        y = F.conv2d(y, ones_2d, stride=s)  # [1, 1, (H − k)//s + 1, …]
    y.backward(torch.ones_like(y))
    gradient_2d = image.grad[0, 0].round().to(torch.int64).numpy()

    copies = np.zeros(0, dtype=np.int64) if resize else np.arange(transposed_sizes[-2]) * s

    notes = []
    if k < s and not resize:
        notes.append(
            f"kernel {k} < stride {s} leaves gaps: the filter copies do not touch, so "
            f"{int((counts_1d == 0).sum())} of {counts_1d.size} output pixels per row get no copy at all "
            "(not an error; it is what a kernel smaller than the stride does)."
        )
    if first > last:
        notes.append(
            "the output is all border at this input size, so there is no interior to measure; "
            "use a larger input."
        )
    if resize and k % 2 == 0:
        notes.append(
            f"an even kernel ({k}) cannot be centred: resize-conv shifts the output by half a pixel "
            f"and returns {sizes[-1]} pixels instead of {s ** n_layers * n}; odd kernels keep the size."
        )

    return CheckerboardResult(
        kernel_size=k,
        stride=s,
        layers=n_layers,
        input_size=n,
        resize=resize,
        sizes=tuple(sizes),
        counts_1d=counts_1d,
        layer_counts_1d=layer_counts,
        counts_2d=counts_2d,
        gradient_2d=gradient_2d,
        copies=copies,
        interior=(first, last),
        unevenness_1d=uneven_1d,
        unevenness_2d=uneven_2d,
        variation_1d=variation_1d,
        variation_2d=variation_2d,
        layer_unevenness=tuple(layer_unevenness),
        energy_2d=energy_2d,
        note=" ".join(notes),
    )


# --- drawing ---------------------------------------------------------------------------------
# The 2-D panels live on fixed [0, 1] axes: a grid of any size is placed with the heatmap's
# x0/dx/y0/dy (cheap trace properties), so a control change never relayouts those axes.
_WIDTH, _HEIGHT = 1000, 820
_MAP_PX = 400  # about the side of each 2-D panel on screen
_INK, _COPY, _INTERIOR = "#111111", "#7b3294", "#2b8a3e"
# 0 = white (a gap stands out); dark text stays readable on the darkest step
_COUNTS = [[0.0, "#ffffff"], [0.3, "#fdd49e"], [0.7, "#f59a4c"], [1.0, "#d9622b"]]
COPY_TEXT_LIMIT = 24  # input-pixel numbers beside the filter copies


def format_ratio(value: float) -> str:
    """``2.0`` → ``'2.00'``, ``inf`` → ``'∞'``, ``nan`` → ``'–'``.

    Example:
        >>> format_ratio(2.0), format_ratio(math.inf), format_ratio(math.nan)
        ('2.00', '∞', '–')
    """
    if math.isnan(value):
        return "–"
    return "∞" if math.isinf(value) else f"{value:.2f}"


def _titles(resize: bool) -> tuple[str, str, str]:
    if resize:
        return (
            "<b>1-D, resize then convolve</b>: how many kernel taps each output pixel sums (constant input)",
            "<b>2-D: resize, then convolve</b> (constant input)",
            "<b>2-D: input gradient of the strided conv</b> (autograd)",
        )
    return (
        "<b>1-D, transposed conv</b>: one filter copy (purple) per input pixel, and how many land on each output pixel",
        "<b>2-D: transposed conv of a constant input</b> = row × column",
        "<b>2-D: input gradient of the strided conv</b> (autograd)",
    )


def _caption(r: CheckerboardResult, which: str) -> str:
    k, s, n_layers = r.kernel_size, r.stride, r.layers
    times = f"{n_layers}× " if n_layers > 1 else ""
    if which == "gradient":
        return f"{times}conv {k}×{k}, stride {s}, ones kernel, ones upstream gradient"
    ratio = format_ratio(r.unevenness_2d)
    if r.resize:
        return f"{times}resize ×{s} + conv {k}×{k}: max/min inside the dotted interior <b>{ratio}</b>"
    return f"{times}transposed conv {k}×{k}, stride {s}: max/min inside the dotted interior <b>{ratio}</b>"


def _grid_text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell centres on the unit square and the numbers to write there (none above 16×16)."""
    side = values.shape[0]
    if side > TEXT_LIMIT:
        return np.zeros(0, np.float32), np.zeros(0, np.float32), np.zeros(0, str)
    rows, cols = np.divmod(np.arange(side * side), side)
    return ((cols + 0.5) / side).astype(np.float32), ((rows + 0.5) / side).astype(np.float32), values.reshape(-1).astype(str)


def _box(first: int, last: int, side: int) -> tuple[np.ndarray, np.ndarray]:
    """A closed square path around the interior ``first … last`` (both axes) on the unit square."""
    if first > last:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    a, b = first / side, (last + 1) / side
    return np.array([a, b, b, a, a], np.float32), np.array([a, a, b, b, a], np.float32)


def _gap(side: int) -> int:
    """White lines between cells while the cells are large enough to keep their colour."""
    return 1 if _MAP_PX / max(side, 1) >= 8 else 0


def _ticks(top: int) -> np.ndarray:
    step = 1 if top <= 10 else math.ceil(top / 5)
    return np.arange(0, top + 1, step, dtype=np.int32)


def _font(side: int) -> int:
    return int(max(8, min(16, _MAP_PX / max(side, 1) * 0.4)))


def _transposed_interior_of(r: CheckerboardResult) -> tuple[int, int]:
    """The interior of the transposed stack (the gradient panel), whatever ``r.resize`` says."""
    if not r.resize:
        return r.interior
    first, last, size = 0, r.input_size - 1, r.input_size
    for _ in range(r.layers):
        size = (size - 1) * r.stride + r.kernel_size
        first, last = _interior_transposed(first, last, size, r.kernel_size, r.stride)
    return first, last


def _state(r: CheckerboardResult) -> dict[str, Any]:
    """The value of every property the update touches, keyed ``trace_index.path`` / ``layout.path``."""
    counts = r.counts_1d
    length = counts.size
    top = max(1, int(counts.max()))
    first, last = r.interior
    # filter copies of the last transposed layer, stacked on a few levels so overlaps show
    levels = max(1, math.ceil(r.kernel_size / r.stride))
    copy_x: list[Any] = []
    copy_y: list[Any] = []
    copy_text: list[str] = []
    for j, start in enumerate(r.copies.tolist()):
        level = top + 0.9 + 0.55 * (j % levels)
        copy_x += [start - 0.4, start + r.kernel_size - 0.6, None]
        copy_y += [level, level, None]
        copy_text += [str(j) if r.copies.size <= COPY_TEXT_LIMIT else "", "", ""]
    ceiling = top + 0.9 + 0.55 * levels + 0.3 if r.copies.size else top * 1.12 + 0.5
    band_x = [first - 0.5, last + 0.5, last + 0.5, first - 0.5, first - 0.5] if first <= last else []
    band_y = [0, 0, top + 0.45, top + 0.45, 0] if first <= last else []
    f32 = lambda v: np.asarray(v, dtype=np.float32)  # noqa: E731
    state: dict[str, Any] = {
        "0.y": counts.astype(np.int32),
        "0.text": counts.astype(str) if length <= BAR_TEXT_LIMIT else np.zeros(0, str),
        "0.textfont.size": 12 if length <= 24 else 9,
        "1.x": f32(copy_x), "1.y": f32(copy_y), "1.text": np.asarray(copy_text, dtype=str),
        "2.x": f32(band_x), "2.y": f32(band_y),
    }
    grad_first, grad_last = _transposed_interior_of(r)
    panels = (("3", r.counts_2d, first, last, "counts"), ("7", r.gradient_2d, grad_first, grad_last, "gradient"))
    for base, values, lo, hi, which in panels:
        side = values.shape[0]
        heat, numbers, box, caption = base, str(int(base) + 1), str(int(base) + 2), str(int(base) + 3)
        text_x, text_y, text = _grid_text(values)
        box_x, box_y = _box(lo, hi, side)
        state.update({
            f"{heat}.z": values.astype(np.int32), f"{heat}.zmax": max(1, int(values.max())),
            f"{heat}.x0": 0.5 / side, f"{heat}.dx": 1 / side, f"{heat}.y0": 0.5 / side, f"{heat}.dy": 1 / side,
            f"{heat}.xgap": _gap(side), f"{heat}.ygap": _gap(side),
            f"{numbers}.x": text_x, f"{numbers}.y": text_y, f"{numbers}.text": text,
            f"{numbers}.textfont.size": _font(side),
            f"{box}.x": box_x, f"{box}.y": box_y,
            f"{caption}.text": np.asarray([_caption(r, which)], dtype=str),
        })
    top_title, left_title, right_title = _titles(r.resize)
    state.update({
        "layout.xaxis.range": [-0.5, length - 0.5],
        "layout.yaxis.range": [0, ceiling],
        "layout.yaxis.tickvals": _ticks(top),
        "layout.yaxis.title.text": "taps" if r.resize else "copies",
        "layout.annotations.0.text": top_title,
        "layout.annotations.1.text": left_title,
        "layout.annotations.2.text": right_title,
    })
    return state


def figure_checkerboard(r: CheckerboardResult) -> go.Figure:
    """A 1-D profile on top; the 2-D coverage and the strided convolution's gradient below.

    Traces: 0 the 1-D counts (bars), 1 the filter copies (purple segments, numbered by the input
    pixel that stamps them), 2 the interior band; then for the 2-D counts (3–6) and the gradient
    (7–10): heatmap, numbers, dotted interior box, caption under the map. Layout annotations 0–2
    are the panel titles. The 2-D maps fill the unit square of fixed axes (the caption sits
    just below it).
    """
    st = _state(r)
    fig = make_subplots(rows=2, cols=2, specs=[[{"colspan": 2}, None], [{}, {}]], row_heights=[0.3, 0.7],
                        vertical_spacing=0.1, horizontal_spacing=0.08, subplot_titles=_titles(r.resize))
    fig.add_trace(go.Bar(x0=0, dx=1, y=st["0.y"], text=st["0.text"], textposition="outside", cliponaxis=False,
                         textfont=dict(size=st["0.textfont.size"], color=_INK), marker=dict(color="#ef8a3c"),
                         hovertemplate="pixel %{x}: %{y}<extra></extra>", name="count"), row=1, col=1)
    fig.add_trace(go.Scatter(x=st["1.x"], y=st["1.y"], text=st["1.text"], mode="lines+text", textposition="middle left",
                             cliponaxis=False,
                             textfont=dict(size=10, color=_COPY), line=dict(color=_COPY, width=4),
                             hoverinfo="skip", name="filter copies"), row=1, col=1)
    fig.add_trace(go.Scatter(x=st["2.x"], y=st["2.y"], mode="lines", fill="toself", fillcolor="rgba(43,138,62,0.08)",
                             line=dict(color=_INTERIOR, width=1, dash="dot"), hoverinfo="skip", name="interior"),
                  row=1, col=1)
    for base, col in ((3, 1), (7, 2)):
        fig.add_trace(go.Heatmap(z=st[f"{base}.z"], zmin=0, zmax=st[f"{base}.zmax"], colorscale=_COUNTS,
                                 x0=st[f"{base}.x0"], dx=st[f"{base}.dx"], y0=st[f"{base}.y0"], dy=st[f"{base}.dy"],
                                 showscale=False, xgap=st[f"{base}.xgap"], ygap=st[f"{base}.ygap"],
                                 hovertemplate="%{z}<extra></extra>", name="counts"), row=2, col=col)
        fig.add_trace(go.Scatter(x=st[f"{base + 1}.x"], y=st[f"{base + 1}.y"], text=st[f"{base + 1}.text"], mode="text",
                                 hoverinfo="skip", textfont=dict(size=st[f"{base + 1}.textfont.size"], color=_INK),
                                 name="numbers"), row=2, col=col)
        fig.add_trace(go.Scatter(x=st[f"{base + 2}.x"], y=st[f"{base + 2}.y"], mode="lines", hoverinfo="skip",
                                 line=dict(color=_INTERIOR, width=2, dash="dot"), name="interior"), row=2, col=col)
        fig.add_trace(go.Scatter(x=[0.5], y=[1.045], text=st[f"{base + 3}.text"], mode="text",
                                 textposition="middle center", hoverinfo="skip", textfont=dict(size=12, color=_INK),
                                 name="caption"), row=2, col=col)
    fig.update_xaxes(range=st["layout.xaxis.range"], showgrid=False, zeroline=False, title_text="output pixel",
                     title_standoff=4, row=1, col=1)
    fig.update_yaxes(range=st["layout.yaxis.range"], showgrid=True, gridcolor="#eeeeee", zeroline=False,
                     tickmode="array", tickvals=st["layout.yaxis.tickvals"], title_text=st["layout.yaxis.title.text"],
                     row=1, col=1)
    for col in (1, 2):
        hidden = dict(showgrid=False, zeroline=False, showticklabels=False, ticks="", constrain="domain")
        fig.update_xaxes(range=[0, 1], **hidden, row=2, col=col)
        fig.update_yaxes(range=[1.08, 0], scaleanchor=f"x{col + 1}", **hidden, row=2, col=col)  # caption below
    fig.update_annotations(font_size=13, yshift=4)
    fig.update_layout(width=_WIDTH, height=_HEIGHT, margin=dict(l=50, r=20, t=40, b=40), showlegend=False,
                      plot_bgcolor="white", bargap=0.15)
    return fig


def update_checkerboard(fig: go.Figure, r: CheckerboardResult, previous: CheckerboardResult | None = None) -> None:
    """Move ``fig`` (from :func:`figure_checkerboard`) to ``r`` in place, touching only what changed.

    Args:
        fig: the figure to update.
        r: the new result.
        previous: the result ``fig`` shows now, if known; the comparison then needs no reads
            from the figure (which are slow). Without it the figure's own values are compared.
    """
    new = _state(r)
    apply_changes(fig, new, _state(previous) if previous is not None else None)
