"""ASPP's field of view: each branch's taps on the feature map, on the image, and how many are real.

DeepLabV3's atrous spatial pyramid pooling (ASPP) looks at the backbone's features through
parallel branches: a 1×1 convolution (the feature itself), three 3×3 atrous convolutions with
rates ``(6, 12, 18)`` at output stride 16 (doubled to ``(12, 24, 36)`` at output stride 8, so
that the same input pixels are covered), and image pooling (the average of the whole map). The
figure shows, for one position of the feature map:

* (a) the ``⌈H/s⌉ × ⌈H/s⌉`` feature map (drawn as the image averaged over each stride cell) with
  every branch's nine taps; a tap outside the map reads the zero padding and is drawn hollow;
* (b) the same taps on the input image: feature ``(i, j)`` sits at pixel ``(i·s, j·s)``, so the
  outer taps of rate ``r`` are ``2·r·s + 1`` pixels apart from first to last
  (:func:`~segviz.arith.atrous.atrous_span`);
* (c) DeepLabV3's Fig. 4: the share of a 3×3 filter's weights that land on real features,
  averaged over all positions of a map this size, against the rate. Once the rate reaches the
  map's size only the centre weight is left: the 3×3 filter has become a 1×1 filter, and only
  image pooling still sees the whole image.

``compute_aspp`` is pure; ``figure_aspp`` draws a result once; ``update_aspp`` moves an existing
figure to a new result in place.

Reference:
    Chen, Papandreou, Schroff and Adam, "Rethinking Atrous Convolution for Semantic Image
    Segmentation", arXiv:1706.05587, 2017, §3.3 and Fig. 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..arith.atrous import (
    aspp_multiply_adds,
    atrous_span,
    atrous_taps,
    feature_map_size,
    valid_tap_counts,
    valid_tap_fraction,
)
from ..validation import check_choice, check_int
from ._state import apply_changes

__all__ = ["ASPPResult", "OUTPUT_STRIDES", "paper_rates", "compute_aspp", "figure_aspp", "update_aspp"]

OUTPUT_STRIDES = (8, 16, 32)
MIN_INPUT, MAX_INPUT = 64, 1024
MAX_RATE = 128  # the rate axis of panel (c), and the largest rate a slider offers
IN_CHANNELS, OUT_CHANNELS = 2048, 256  # ResNet-101's features and DeepLabV3's ASPP width
PHOTO = "astronaut"


def paper_rates(output_stride: int) -> tuple[int, int, int]:
    """DeepLabV3's ASPP rates: ``(6, 12, 18)`` at output stride 16, scaled by ``16 / output_stride``.

    At output stride 8 this is the paper's ``(12, 24, 36)`` (:data:`segviz.models.deeplab.PAPER_RATES`);
    at 32 the same rule gives ``(3, 6, 9)`` (the paper does not use ASPP at output stride 32).
    Scaling keeps every branch's field of view in input pixels: rate × stride stays the same.

    Example:
        >>> paper_rates(16), paper_rates(8), paper_rates(32)
        ((6, 12, 18), (12, 24, 36), (3, 6, 9))
    """
    s = check_choice("output_stride", output_stride, OUTPUT_STRIDES)
    return tuple(r * 16 // s for r in (6, 12, 18))  # type: ignore[return-value]


@dataclass(frozen=True)
class ASPPResult:
    """ASPP's branches around one feature, in feature cells and in input pixels.

    Attributes:
        input_size: side ``H`` of the (square) input image.
        output_stride: ``s``, the backbone's stride: neighbouring features are ``s`` pixels apart.
        feature_size: ``n = ⌈H / s⌉``, the feature map's side.
        rates: the 3×3 branches' atrous rates.
        position: ``(row, col)`` of the feature whose taps are shown.
        taps: per rate, int64 ``[9, 2]``: the ``(row, col)`` feature cells its taps read.
        inside: per rate, bool ``[9]``: whether each tap lands on the map (else: zero padding).
        valid_here: per rate, how many of the 9 taps land on the map at ``position``.
        spans: per rate, ``2·r·s + 1``: input pixels from the first to the last tap centre.
        fractions: per rate, the share of the 9 weights on real features, averaged over the
            whole map (:func:`~segviz.arith.atrous.valid_tap_fraction`).
        curve_rates: ``1 … MAX_RATE``, the rate axis of panel (c).
        curve_mean: ``[MAX_RATE]``, :func:`~segviz.arith.atrous.valid_tap_fraction` at each rate.
        curve_all: ``[MAX_RATE]``, the share of positions where all 9 taps are valid.
        curve_centre: ``[MAX_RATE]``, the share of positions where only the centre tap is.
        multiply_adds: output stride → multiply-adds of ASPP's convolutions at this input size
            (2048 → 256 channels, :func:`~segviz.arith.atrous.aspp_multiply_adds`).
        feature_sizes: output stride → feature map side at this input size.
        note: a teaching remark for the message line ("" when there is nothing to add).
    """

    input_size: int
    output_stride: int
    feature_size: int
    rates: tuple[int, ...]
    position: tuple[int, int]
    taps: tuple[np.ndarray, ...]
    inside: tuple[np.ndarray, ...]
    valid_here: tuple[int, ...]
    spans: tuple[int, ...]
    fractions: tuple[float, ...]
    curve_rates: np.ndarray
    curve_mean: np.ndarray
    curve_all: np.ndarray
    curve_centre: np.ndarray
    multiply_adds: dict[int, int]
    feature_sizes: dict[int, int]
    note: str


def compute_aspp(
    input_size: int = 513,
    output_stride: int = 16,
    rates: Sequence[int] | None = None,
    position: Sequence[int] | None = None,
) -> ASPPResult:
    """Where ASPP's branches look from one feature, and how many of their weights see features.

    Args:
        input_size: side ``H`` of the square input, 64 to 1024 (DeepLab crops: 513).
        output_stride: 8, 16 or 32.
        rates: the atrous rates of the 3×3 branches (1 to 128 each, one or more); ``None``:
            :func:`paper_rates` for this output stride.
        position: ``(row, col)`` on the feature map; ``None``: its centre.

    Returns:
        An :class:`ASPPResult`.

    Raises:
        ValueError: on a bad argument, or a position outside the ``n × n`` map.

    Shape:
        feature map ``n × n`` with ``n = ⌈H / s⌉``; taps ``[9, 2]`` per rate; curves ``[MAX_RATE]``.

    Example:
        >>> r = compute_aspp(513, 16)
        >>> r.feature_size, r.rates, r.spans, r.valid_here  # rate 18 from the centre: 16 ± 18 is off the map
        (33, (6, 12, 18), (193, 385, 577), (9, 9, 1))
        >>> [round(f, 3) for f in r.fractions]  # share of the weights on features, over the map
        [0.772, 0.574, 0.405]
        >>> compute_aspp(513, 8, position=(0, 0)).valid_here  # a corner: 4 taps of each on the map
        (4, 4, 4)
    """
    h = check_int("input_size", input_size, minimum=MIN_INPUT, maximum=MAX_INPUT)
    s = check_choice("output_stride", output_stride, OUTPUT_STRIDES)
    if rates is None:
        rates = paper_rates(s)
    if isinstance(rates, (str, bytes)) or not isinstance(rates, Sequence) or len(rates) == 0:
        raise ValueError(f"rates {rates!r} given; rates must be a sequence of atrous rates, e.g. (6, 12, 18)")
    rates = tuple(check_int("rate", r, minimum=1, maximum=MAX_RATE) for r in rates)
    n = feature_map_size(h, s)
    if position is None:
        position = (n // 2, n // 2)
    if isinstance(position, (str, bytes)) or not isinstance(position, Sequence) or len(position) != 2:
        raise ValueError(f"position {position!r} given; position must be a pair (row, col) on the {n}×{n} feature map")
    row = check_int("row", position[0], minimum=0, maximum=n - 1)
    col = check_int("col", position[1], minimum=0, maximum=n - 1)

    taps, inside = zip(*(atrous_taps(n, r, (row, col)) for r in rates))
    curve_rates = np.arange(1, MAX_RATE + 1)
    axis = np.stack([valid_tap_counts((1, n), r)[0] for r in curve_rates])  # [MAX_RATE, n]: taps per axis
    curve_all = (axis == 3).mean(axis=1) ** 2  # a position has 9 valid taps iff both axes have 3
    curve_centre = (axis == 1).mean(axis=1) ** 2
    curve_mean = np.array([valid_tap_fraction(n, int(r)) for r in curve_rates])
    sizes = {o: feature_map_size(h, o) for o in OUTPUT_STRIDES}

    notes = []
    degenerate = [r for r in rates if r >= n]
    if degenerate:
        which = ", ".join(str(r) for r in degenerate)
        notes.append(
            f"rate {which} ≥ the {n}×{n} map: at every position only the centre tap lands on a feature, "
            f"so the 3×3 filter works as a 1×1 filter (DeepLabV3 §3.3); image pooling is the branch "
            f"that still sees the whole image."
        )
    elif n <= 3:
        notes.append(f"a {n}×{n} feature map: every rate above 1 leaves most taps in the padding.")
    return ASPPResult(
        input_size=h,
        output_stride=s,
        feature_size=n,
        rates=rates,
        position=(row, col),
        taps=tuple(taps),
        inside=tuple(inside),
        valid_here=tuple(int(i.sum()) for i in inside),
        spans=tuple(atrous_span(r, s) for r in rates),
        fractions=tuple(valid_tap_fraction(n, r) for r in rates),
        curve_rates=curve_rates,
        curve_mean=curve_mean,
        curve_all=curve_all,
        curve_centre=curve_centre,
        multiply_adds={o: aspp_multiply_adds(sizes[o], len(rates), IN_CHANNELS, OUT_CHANNELS) for o in OUTPUT_STRIDES},
        feature_sizes=sizes,
        note=" ".join(notes),
    )


# --- drawing ---------------------------------------------------------------------------------
_WIDTH, _HEIGHT = 1250, 600
_PANEL_PX = 350  # about the side of the two square panels on screen
_COLOURS = ("#e8590c", "#1c7ed6", "#2f9e44", "#c2255c", "#7048e8", "#0c8599")  # one per 3×3 branch
_ONE, _POOL, _INK, _MUTED = "#111111", "#ae3ec9", "#212529", "#868e96"
_HATCH = dict(shape="/", fgcolor="#adb5bd", bgcolor="#f8f9fa", size=8, solidity=0.3)
MAX_BRANCHES = len(_COLOURS)


def _trace_names(branches: int) -> list[str]:
    names = ["a_padding", "a_map", "a_pool"]
    for panel in ("a", "b"):
        if panel == "b":
            names += ["b_padding", "b_image", "b_extent"]
        names += [f"{panel}_box{i}" for i in range(branches)]
        names += [f"{panel}_out{i}" for i in range(branches)]
        names += [f"{panel}_in{i}" for i in range(branches)]
        names += [f"{panel}_one"]
    return names + ["c_floor", "c_mapsize", "c_all", "c_centre", "c_mean", "c_chosen", "legend_padding"]


def _index(branches: int) -> dict[str, int]:
    return {name: i for i, name in enumerate(_trace_names(branches))}


def _f32(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def _rect(x0: float, x1: float, y0: float, y1: float) -> tuple[np.ndarray, np.ndarray]:
    return _f32([x0, x1, x1, x0, x0]), _f32([y0, y0, y1, y1, y0])


def _frame(lo: float, hi: float, inner_lo: float, inner_hi: float) -> tuple[list[Any], list[Any]]:
    """The square ``[lo, hi]²`` minus ``[inner_lo, inner_hi]²``, as up to four rectangles (``None`` between).

    Plotly draws images below every scatter trace, so the hatching must leave the image's square free.
    """
    top, bottom = max(lo, min(hi, inner_lo)), min(hi, max(lo, inner_hi))
    boxes = [(lo, hi, lo, top), (lo, hi, bottom, hi),  # above and below, full width
             (lo, max(lo, min(hi, inner_lo)), top, bottom), (min(hi, max(lo, inner_hi)), hi, top, bottom)]
    xs: list[Any] = []
    ys: list[Any] = []
    for x0, x1, y0, y1 in boxes:
        if x1 > x0 and y1 > y0:
            xs += [float(x0), float(x1), float(x1), float(x0), float(x0), None]
            ys += [float(y0), float(y0), float(y1), float(y1), float(y0), None]
    return xs, ys


@lru_cache(maxsize=32)
def _photo_uri(size: int) -> str:
    """The photograph at ``size × size`` (panel (b) at 256; panel (a): one pixel per feature)."""
    from .receptive_field import image_data_uri, square_image

    return image_data_uri(square_image(PHOTO, size))


def _view(r: ASPPResult) -> tuple[float, float]:
    """Panel (a)'s square window, in feature cells: the map and every tap, with a margin."""
    n, (i, j), reach = r.feature_size, r.position, max(r.rates)
    lo = min(0, i - reach, j - reach) - 0.5
    hi = max(n - 1, i + reach, j + reach) + 0.5
    margin = 0.04 * (hi - lo)
    return lo - margin, hi + margin


def _offset(k: int) -> tuple[int, int]:
    return k // 3 - 1, k % 3 - 1


def _titles(r: ASPPResult) -> tuple[str, str, str]:
    n, s, h = r.feature_size, r.output_stride, r.input_size
    i, j = r.position
    spans = " / ".join(f"{v}" for v in r.spans)
    return (
        f"<b>(a) feature map {n}×{n}</b> = ⌈{h} / {s}⌉<br>taps of each branch at feature ({i}, {j})",
        f"<b>(b) the same taps on the {h}×{h} image</b><br>feature (i, j) ↦ pixel (i·{s}, j·{s}); "
        f"tap spans 2·r·{s} + 1 = {spans} px",
        f"<b>(c) how many of the 9 weights see features</b><br>3×3 atrous filter on a {n}×{n} map "
        f"(DeepLabV3 Fig. 4)",
    )


def _state(r: ASPPResult) -> dict[str, Any]:
    """The value of every property the update touches, keyed ``trace_index.path`` / ``layout.path``."""
    n, s, h = r.feature_size, r.output_stride, r.input_size
    i, j = r.position
    idx = _index(len(r.rates))
    lo, hi = _view(r)
    # panel (b): the same window in input pixels, and at least the whole image
    b_lo, b_hi = min(lo * s, -0.5 - 0.04 * h), max(hi * s, h - 0.5 + 0.04 * h)
    a_cell = _PANEL_PX / (hi - lo)
    marker = float(round(min(15.0, max(8.0, 0.9 * a_cell)), 1))
    state: dict[str, Any] = {}
    state[f"{idx['a_padding']}.x"], state[f"{idx['a_padding']}.y"] = _frame(lo, hi, -0.5, n - 0.5)
    state.update({
        f"{idx['a_map']}.source": _photo_uri(n),
        f"{idx['a_pool']}.name": f"image pooling: the mean of all {n}×{n} features",
        f"{idx['b_image']}.dx": h / 256, f"{idx['b_image']}.dy": h / 256,
        f"{idx['b_image']}.x0": h / 512 - 0.5, f"{idx['b_image']}.y0": h / 512 - 0.5,
    })
    state[f"{idx['a_pool']}.x"], state[f"{idx['a_pool']}.y"] = _rect(-0.5, n - 0.5, -0.5, n - 0.5)
    state[f"{idx['b_padding']}.x"], state[f"{idx['b_padding']}.y"] = _frame(b_lo, b_hi, -0.5, h - 0.5)
    state[f"{idx['b_extent']}.x"], state[f"{idx['b_extent']}.y"] = _rect(-0.5, h - 0.5, -0.5, h - 0.5)
    for b, (rate, taps, inside) in enumerate(zip(r.rates, r.taps, r.inside)):
        colour = _COLOURS[b]
        for panel, scale in (("a", 1), ("b", s)):
            box = _rect((j - rate) * scale, (j + rate) * scale, (i - rate) * scale, (i + rate) * scale)
            state[f"{idx[f'{panel}_box{b}']}.x"], state[f"{idx[f'{panel}_box{b}']}.y"] = box
            for part, keep in (("in", inside), ("out", ~inside)):
                chosen = taps[keep]
                hover = []
                for k in np.flatnonzero(keep):
                    a, c = _offset(int(k))
                    row, col = (int(v) for v in taps[k])
                    where = ("on the map" if inside[k] else "in the zero padding: reads 0")
                    place = f"feature ({row}, {col})" if panel == "a" else f"pixel ({row * s}, {col * s})"
                    hover.append(f"rate {rate}, tap ({a * rate:+d}, {c * rate:+d})<br>{place}<br>{where}")
                key = idx[f"{panel}_{part}{b}"]
                state[f"{key}.x"] = _f32(chosen[:, 1] * scale)
                state[f"{key}.y"] = _f32(chosen[:, 0] * scale)
                state[f"{key}.hovertext"] = np.array(hover, dtype=object) if hover else np.zeros(0, dtype=object)
                state[f"{key}.marker.size"] = marker
            state[f"{idx[f'{panel}_in{b}']}.name"] = f"3×3, rate {rate}: {r.valid_here[b]} of 9 taps on the map here"
            state[f"{idx[f'{panel}_in{b}']}.marker.color"] = colour
        state[f"{idx[f'a_out{b}']}.marker.color"] = colour  # an open symbol is drawn in marker.color
        state[f"{idx[f'b_out{b}']}.marker.color"] = colour
    for panel, scale in (("a", 1), ("b", s)):
        state[f"{idx[f'{panel}_one']}.x"] = _f32([j * scale])
        state[f"{idx[f'{panel}_one']}.y"] = _f32([i * scale])
    state[f"{idx['a_one']}.hovertext"] = f"1×1 branch: feature ({i}, {j}) itself"
    state[f"{idx['b_one']}.hovertext"] = f"1×1 branch: pixel ({i * s}, {j * s})"
    # panel (c)
    state.update({
        f"{idx['c_mean']}.y": _f32(r.curve_mean),
        f"{idx['c_all']}.y": _f32(r.curve_all),
        f"{idx['c_centre']}.y": _f32(r.curve_centre),
        f"{idx['c_mapsize']}.x": _f32([n, n]),  # from 0 up to 90 %, the label at the top
        f"{idx['c_mapsize']}.text": np.array(["", f" rate {n} = map size"], dtype=object),
        f"{idx['c_mapsize']}.visible": bool(n <= MAX_RATE),
        f"{idx['c_mapsize']}.textposition": "middle right" if n < 40 else "middle left",
        f"{idx['c_chosen']}.x": _f32(r.rates),
        f"{idx['c_chosen']}.y": _f32(r.fractions),
        f"{idx['c_chosen']}.text": np.array([str(v) for v in r.rates], dtype=object),
        f"{idx['c_chosen']}.marker.color": np.array(_COLOURS[: len(r.rates)], dtype=object),
        f"{idx['c_chosen']}.hovertext": np.array(
            [f"rate {v}: {f:.1%} of the weights see features (mean over the map)" for v, f in zip(r.rates, r.fractions)],
            dtype=object),
        "layout.xaxis.range": [lo, hi], "layout.yaxis.range": [hi, lo],
        "layout.xaxis2.range": [b_lo, b_hi], "layout.yaxis2.range": [b_hi, b_lo],
    })
    for k, title in enumerate(_titles(r)):
        state[f"layout.annotations.{k}.text"] = title
    return state


def figure_aspp(r: ASPPResult) -> go.Figure:
    """Panels (a) feature map, (b) input image, (c) valid weights vs rate (see the module docstring).

    Traces (named, in order; see ``_trace_names``): (a) hatched zero padding, the feature map
    (the photograph at one pixel per feature), image pooling's outline, then per 3×3 branch its
    footprint box, hollow taps in the padding, filled taps on the map, and the 1×1 branch; (b)
    the same on the image (hatched outside it, the image's outline); (c) the 1/9 floor, the
    map-size line, the shares of positions with all 9 and with only the centre tap valid, the
    mean share of valid weights, the chosen rates; last a legend-only entry for hollow taps.
    Layout annotations 0–2 are the panel titles.

    Example:
        >>> fig = figure_aspp(compute_aspp(513, 16))
        >>> len(fig.data), fig.layout.xaxis.range[0] < -0.5 < 32.5 < fig.layout.xaxis.range[1]
        (33, True)
    """
    branches = len(r.rates)
    if branches > MAX_BRANCHES:
        raise ValueError(f"{branches} rates given; the figure draws at most {MAX_BRANCHES} atrous branches")
    st = _state(r)
    idx = _index(branches)
    fig = make_subplots(rows=1, cols=3, column_widths=[0.34, 0.34, 0.32], horizontal_spacing=0.06,
                        subplot_titles=_titles(r))
    no_hover = dict(hoverinfo="skip", showlegend=False)

    def get(name: str, path: str) -> Any:
        return st[f"{idx[name]}.{path}"]

    for panel, col in (("a", 1), ("b", 2)):
        if panel == "a":
            fig.add_trace(go.Scatter(x=get("a_padding", "x"), y=get("a_padding", "y"), mode="lines", fill="toself",
                                     line=dict(width=0), fillpattern=_HATCH, name="zero padding",
                                     legendgroup="padding", showlegend=True, hoverinfo="skip"), row=1, col=1)
            fig.add_trace(go.Image(source=get("a_map", "source"), x0=0, y0=0, dx=1, dy=1, name="feature map",
                                   hovertemplate="feature (%{y}, %{x})<extra></extra>"), row=1, col=1)
            fig.add_trace(go.Scatter(x=get("a_pool", "x"), y=get("a_pool", "y"), mode="lines", name=get("a_pool", "name"),
                                     line=dict(color=_POOL, width=3, dash="dash"), hoverinfo="skip"), row=1, col=1)
        else:
            fig.add_trace(go.Scatter(x=get("b_padding", "x"), y=get("b_padding", "y"), mode="lines", fill="toself",
                                     line=dict(width=0), fillpattern=_HATCH, name="outside the image",
                                     legendgroup="padding", **no_hover), row=1, col=2)
            fig.add_trace(go.Image(source=_photo_uri(256), x0=get("b_image", "x0"), y0=get("b_image", "y0"),
                                   dx=get("b_image", "dx"), dy=get("b_image", "dy"), name="input image",
                                   hoverinfo="skip"), row=1, col=2)
            fig.add_trace(go.Scatter(x=get("b_extent", "x"), y=get("b_extent", "y"), mode="lines", name="image border",
                                     line=dict(color=_INK, width=1.5), **no_hover), row=1, col=2)
        for b in range(branches):
            fig.add_trace(go.Scatter(x=get(f"{panel}_box{b}", "x"), y=get(f"{panel}_box{b}", "y"), mode="lines",
                                     line=dict(color=_COLOURS[b], width=1.5, dash="dot"), legendgroup=f"branch{b}",
                                     name=f"3×3 branch {b + 1}: outer taps", **no_hover), row=1, col=col)
        for b in range(branches):
            fig.add_trace(go.Scatter(x=get(f"{panel}_out{b}", "x"), y=get(f"{panel}_out{b}", "y"), mode="markers",
                                     hovertext=get(f"{panel}_out{b}", "hovertext"), hoverinfo="text",
                                     legendgroup=f"branch{b}", showlegend=False, name="in the padding",
                                     marker=dict(symbol="square-open", size=get(f"{panel}_out{b}", "marker.size"),
                                                 color=get(f"{panel}_out{b}", "marker.color"), line=dict(width=2))),
                          row=1, col=col)
        for b in range(branches):
            fig.add_trace(go.Scatter(x=get(f"{panel}_in{b}", "x"), y=get(f"{panel}_in{b}", "y"), mode="markers",
                                     hovertext=get(f"{panel}_in{b}", "hovertext"), hoverinfo="text",
                                     legendgroup=f"branch{b}", showlegend=panel == "a", name=get(f"{panel}_in{b}", "name"),
                                     marker=dict(symbol="square", size=get(f"{panel}_in{b}", "marker.size"),
                                                 color=get(f"{panel}_in{b}", "marker.color"),
                                                 line=dict(width=1, color="white"))), row=1, col=col)
        fig.add_trace(go.Scatter(x=get(f"{panel}_one", "x"), y=get(f"{panel}_one", "y"), mode="markers",
                                 hovertext=get(f"{panel}_one", "hovertext"), hoverinfo="text", legendgroup="one",
                                 showlegend=panel == "a", name="1×1 branch: the feature itself",
                                 marker=dict(symbol="diamond", size=9, color=_ONE, line=dict(width=1.5, color="white"))),
                      row=1, col=col)
    rates = r.curve_rates.astype(np.float32)
    fig.add_trace(go.Scatter(x=_f32([1, MAX_RATE]), y=_f32([1 / 9, 1 / 9]), mode="lines+text", text=["1/9: centre tap only", ""],
                             textposition="top right", textfont=dict(size=11, color=_MUTED), name="1/9",
                             line=dict(color=_MUTED, width=1, dash="dash"), **no_hover), row=1, col=3)
    fig.add_trace(go.Scatter(x=get("c_mapsize", "x"), y=_f32([0, 0.9]), mode="lines+text", text=get("c_mapsize", "text"),
                             textposition=get("c_mapsize", "textposition"), textfont=dict(size=11, color=_MUTED),
                             name="map size",
                             visible=get("c_mapsize", "visible"), line=dict(color=_MUTED, width=1, dash="dot"), **no_hover),
                  row=1, col=3)
    fig.add_trace(go.Scatter(x=rates, y=get("c_all", "y"), mode="lines", name="positions with all 9 taps on the map",
                             legendgroup="curves", line=dict(color="#74c0fc", width=2, dash="dash"),
                             hovertemplate="rate %{x}: all 9 taps on the map at %{y:.1%} of the positions<extra></extra>"),
                  row=1, col=3)
    fig.add_trace(go.Scatter(x=rates, y=get("c_centre", "y"), mode="lines", name="positions with only the centre tap",
                             legendgroup="curves", line=dict(color="#fa5252", width=2, dash="dashdot"),
                             hovertemplate="rate %{x}: only the centre tap at %{y:.1%} of the positions<extra></extra>"),
                  row=1, col=3)
    fig.add_trace(go.Scatter(x=rates, y=get("c_mean", "y"), mode="lines", name="share of the 9 weights on features",
                             legendgroup="curves", line=dict(color=_INK, width=3),
                             hovertemplate="rate %{x}: %{y:.1%} of the weights see features<extra></extra>"),
                  row=1, col=3)
    fig.add_trace(go.Scatter(x=get("c_chosen", "x"), y=get("c_chosen", "y"), text=get("c_chosen", "text"),
                             hovertext=get("c_chosen", "hovertext"), hoverinfo="text", mode="markers+text",
                             textposition="top right", textfont=dict(size=12, color=_INK), showlegend=False,
                             name="chosen rates", marker=dict(size=13, color=get("c_chosen", "marker.color"),
                                                              line=dict(width=2, color="white"))), row=1, col=3)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="hollow: tap in the zero padding (reads 0)",
                             marker=dict(symbol="square-open", size=10, color=_MUTED, line=dict(width=2, color=_MUTED)),
                             legendgroup="padding", hoverinfo="skip"), row=1, col=1)
    hidden = dict(showgrid=False, zeroline=False, constrain="domain", ticks="outside")
    fig.update_xaxes(range=st["layout.xaxis.range"], title_text="feature column", **hidden, row=1, col=1)
    fig.update_yaxes(range=st["layout.yaxis.range"], title_text="feature row", scaleanchor="x", **hidden, row=1, col=1)
    fig.update_xaxes(range=st["layout.xaxis2.range"], title_text="input pixel column", **hidden, row=1, col=2)
    fig.update_yaxes(range=st["layout.yaxis2.range"], title_text="input pixel row", scaleanchor="x2", **hidden, row=1, col=2)
    fig.update_xaxes(type="log", range=[-0.05, np.log10(MAX_RATE) + 0.05], tickvals=[1, 2, 4, 8, 16, 32, 64, 128],
                     title_text="atrous rate (log scale)", gridcolor="#eeeeee", row=1, col=3)
    fig.update_yaxes(range=[0, 1.04], title_text="share", tickformat=".0%", gridcolor="#eeeeee", row=1, col=3)
    fig.update_annotations(font_size=13, yshift=8)
    fig.update_layout(width=_WIDTH, height=_HEIGHT, margin=dict(l=60, r=20, t=90, b=150), plot_bgcolor="white",
                      legend=dict(orientation="h", x=0.0, y=-0.16, xanchor="left", yanchor="top",
                                  font=dict(size=11), traceorder="normal", entrywidth=0.25, entrywidthmode="fraction"))
    for k, title in enumerate(_titles(r)):
        fig.layout.annotations[k].text = title
    return fig


def update_aspp(fig: go.Figure, r: ASPPResult, previous: ASPPResult | None = None) -> None:
    """Move ``fig`` (from :func:`figure_aspp`, with as many rates) to ``r`` in place, touching only what changed.

    Args:
        fig: the figure to update.
        r: the new result.
        previous: the result ``fig`` shows now, if known (then nothing is read back from the figure).
    """
    if previous is not None and len(previous.rates) != len(r.rates):
        raise ValueError(
            f"{len(r.rates)} rates given for a figure drawn with {len(previous.rates)}; build a new figure "
            f"with figure_aspp for another number of branches"
        )
    apply_changes(fig, _state(r), _state(previous) if previous is not None else None)
