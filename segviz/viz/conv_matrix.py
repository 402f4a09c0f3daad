"""Convolution as a matrix ``W``, and the transposed convolution as ``Wᵀ``, one output pixel at a time.

``compute_conv_matrix`` is pure (control values in, :class:`ConvMatrixView` out);
``figure_conv_matrix`` draws a view once; ``update_conv_matrix`` moves an existing figure to a new
view in place. The figure shows the same output pixel three ways: its kernel window on the input
(the sliding view), its row of ``W`` (that row · vec(x) is the pixel's value) and its column of
``Wᵀ`` (where a transposed convolution would spread that pixel back: a shifted copy of the kernel).

The grid helpers at the top (:class:`Panel`, :class:`Overlay`, :func:`apply_state`) are shared
with :mod:`segviz.viz.transposed_conv`: a grid of integers is a heatmap (colours, hover) under an
SVG overlay image (title, labels, grid lines, numbers where they fit, outlines), and a figure
moves to a new view by one message holding only what changed. Stepping rewrites overlay images
only, which the browser redraws without redrawing the rest of the figure.
"""

from __future__ import annotations

import base64
import html
import re
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.basedatatypes import Undefined

from ..ops import conv2d_matrix
from ..validation import check_choice, check_int

__all__ = [
    "ConvMatrixView", "compute_conv_matrix", "conv_matrix_steps", "conv_matrix_state", "describe_step",
    "figure_conv_matrix", "update_conv_matrix",
]

MODES = ("1D", "2D")

# --- shared grid drawing ----------------------------------------------------------------------
#
# Measured in JupyterLab/Chromium (bench/widgets.py): an update of a FigureWidget from Python makes
# plotly.js redraw the *whole* figure, and the SVG text nodes of numbers, tick labels and titles
# are most of that time (≈ 0.2 ms per number: 150–250 ms for a 16×16 canvas with its neighbours).
# So a grid panel here is a heatmap (colours and hover; it changes only when the layer does) under
# an SVG overlay image that holds everything written: title, labels, grid lines, numbers,
# outlines. A change that touches only overlays (a step, a padding) swaps images without a redraw
# (:func:`_swap_overlays`).

TEXT_COLOR = "#1f2430"
HIGHLIGHT = "#d62728"  # the current pixel / window / row, in every panel
FONT = "Arial, Helvetica, sans-serif"
MAX_FONT_PX = 14
MIN_FONT_PX = 8  # below this a number is unreadable: it is not drawn at all
GRID_LINES = "#c8c8c8"
TITLE_SIZE, TITLE_LINE = 13, 17  # px: panel titles
TICK_SIZE, TICK_ROW = 11, 16  # px: row and column labels

# A figure's changing part as flat plotly paths: (trace index, "z") for a trace property,
# (None, "images[0].source") for a layout property. The rest is fixed when the figure is built.
State = dict[tuple[Optional[int], str], Any]


def apply_state(fig: go.Figure, state: State, previous: State | None = None) -> int:
    """Write the entries of ``state`` that differ from ``previous`` into ``fig``; return how many.

    One message carries them all (one redraw in the browser), and a trace's value travels only
    when that trace's value changed. The values are plain lists, numbers and strings made by this
    module, so plotly's per-property validation (most of the time of a property assignment in
    Python) is skipped; :func:`grid_figure` validates whole figures.

    When only overlay images change (stepping), they go as a zero-length ``Plotly.animate``
    frame with ``redraw: false`` (see :func:`_swap_overlays`); anything else goes as one
    ``plotly_update``, which the browser answers by redrawing the whole figure.
    """
    traces: dict[int, dict[str, Any]] = {}
    layout: dict[str, Any] = {}
    for (index, path), value in state.items():
        if previous is not None and (index, path) in previous and previous[(index, path)] == value:
            continue
        if index is None:
            layout[path] = value
        else:
            traces.setdefault(index, {})[path] = value
    if not traces and layout and all(_OVERLAY_SOURCE.fullmatch(path) for path in layout):
        _swap_overlays(fig, layout)
    elif traces or layout:
        indexes = sorted(traces)
        paths = sorted({path for props in traces.values() for path in props})
        restyle = {path: [traces[i].get(path, Undefined) for i in indexes] for path in paths}
        fig.plotly_update(restyle_data=restyle, relayout_data=layout, trace_indexes=indexes)
    return sum(len(props) for props in traces.values()) + len(layout)


_OVERLAY_SOURCE = re.compile(r"images\[\d+\]\.source")
# A zero-length animation frame that is not followed by a redraw of the whole figure.
_NO_REDRAW = {"mode": "immediate", "transition": {"duration": 0}, "frame": {"duration": 0, "redraw": False}}


def _swap_overlays(fig: go.Figure, sources: dict[str, str]) -> None:
    """Replace overlay images without making the browser redraw the rest of the figure.

    Every update a ``FigureWidget`` sends from Python (``plotly_update``, ``plotly_relayout``,
    ``batch_update``) reaches plotly.js with an extra ``_doNotReportToPy`` key, which plotly.js
    takes for an unknown attribute and answers with a full replot, even when only an image
    changed (≈ 1 ms as a plain ``Plotly.relayout``, ≈ 50 ms as the widget sends it, in a bare
    page). ``FigureWidget.batch_animate`` is the one path without that key, but it always asks
    for a redraw after the frame; so this does what ``plotly_relayout`` does (update the figure's
    layout, tell the browser, run the change callbacks) with the browser told by an animation
    frame with ``redraw: false``, which plotly.js applies to axis-referenced images. Keypress to
    figure in JupyterLab: 41 ms against 60 ms with a replot (bench/widgets.py, ``overlay`` and
    ``replot``). It uses three private methods of plotly's ``BaseFigure``; if they are missing
    (another plotly), it falls back to ``plotly_relayout``.
    """
    parts = ("_perform_plotly_relayout", "_send_animate_msg", "_dispatch_layout_change_callbacks")
    if not all(hasattr(fig, part) for part in parts):  # pragma: no cover - other plotly versions
        fig.plotly_relayout(sources)
        return
    changes = fig._perform_plotly_relayout(sources)
    if changes:
        fig._send_animate_msg(styles_data=[], relayout_data=changes, trace_indexes=[], animation_opts=_NO_REDRAW)
        fig._dispatch_layout_change_callbacks(changes)


def font_size(cell_px: float, chars: int) -> int:
    """Largest font size (≤ 14 px) at which ``chars`` characters fit in a ``cell_px`` square.

    Returns 0 when even an 8 px font would not fit: the numbers are then not drawn.

    Example:
        >>> font_size(40, 2), font_size(12, 3), font_size(4, 1)
        (14, 0, 0)
    """
    chars = max(int(chars), 1)
    size = min(MAX_FONT_PX, 0.62 * cell_px, 0.85 * cell_px / (0.58 * chars))
    return int(size) if size >= MIN_FONT_PX else 0


def light_scale(color: str) -> list[list]:
    """White → ``color``: light enough everywhere for dark numbers on top."""
    return [[0.0, "#ffffff"], [1.0, color]]


def _rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def cell_colors(values: np.ndarray, zmax: float, colorscale: list[list]) -> list[str]:
    """Row-major fill colours of a grid, as plotly's heatmap draws them (0 → first, zmax → last).

    Example:
        >>> cell_colors(np.array([[0, 2, 4]]), 4, light_scale("#000000"))
        ['#ffffff', '#808080', '#000000']
    """
    low, high = _rgb(colorscale[0][1]), _rgb(colorscale[-1][1])
    t = np.clip(values.reshape(-1, 1) / max(float(zmax), 1e-9), 0.0, 1.0)
    rgb = np.floor(low + t * (high - low) + 0.5).astype(int)  # rounds half up, as plotly.js does
    return ["#%02x%02x%02x" % tuple(c) for c in rgb.tolist()]


class Overlay:
    """An SVG image over a panel, 1 px per screen pixel: its title, row and column labels, cells,
    grid lines, numbers and outlines.

    Grid coordinates are cell edges: cell ``(i, j)`` spans ``x ∈ [j, j + 1]``, ``y ∈ [i, i + 1]``;
    the grid's top-left corner is at ``(frame.gutter, frame.header)`` pixels in the image.

    Example:
        >>> svg = Overlay(Frame(2, 3, 20.0, 0, 0, [], []), 60, 40).grid().numbers(np.arange(6).reshape(2, 3))
        >>> svg.box(0, 0, 1, 1).markup().count("<text"), svg.markup().startswith("<svg")
        (6, True)
    """

    def __init__(self, frame: Frame, width: float, height: float):
        self.frame, self.width, self.height = frame, width, height
        self.rows, self.cols, self.cell = frame.rows, frame.cols, frame.cell
        self.ox, self.oy = frame.gutter, frame.header
        self.parts: list[str] = []

    def _x(self, j: float) -> str:
        return _n(self.ox + j * self.cell)

    def _y(self, i: float) -> str:
        return _n(self.oy + i * self.cell)

    def title(self, text: str) -> Overlay:
        """Lines (``<br>``) of text with ``<b>``/``<i>`` runs, from the top left."""
        for k, line in enumerate(text.split("<br>")):
            runs = []
            for piece in re.split(r"(<b>.*?</b>|<i>.*?</i>)", line):
                if piece.startswith("<b>"):
                    runs.append(f'<tspan font-weight="bold">{html.escape(piece[3:-4])}</tspan>')
                elif piece.startswith("<i>"):
                    runs.append(f'<tspan font-style="italic">{html.escape(piece[3:-4])}</tspan>')
                elif piece:
                    runs.append(html.escape(piece))
            self.parts.append(f'<text x="0" y="{_n(TITLE_SIZE + k * TITLE_LINE)}" font-family="{FONT}" '
                              f'font-size="{TITLE_SIZE}" fill="#222">{"".join(runs)}</text>')
        return self

    def ticks(self) -> Overlay:
        """Column labels above the grid, row labels left of it (from the frame)."""
        attrs = f'font-family="{FONT}" font-size="{TICK_SIZE}" fill="#777"'
        cols = "".join(f'<text x="{self._x(j + 0.5)}" y="{_n(self.oy - 4)}">{html.escape(t)}</text>'
                       for j, t in self.frame.col_ticks)
        rows = "".join(f'<text x="{_n(self.ox - 4)}" y="{self._y(i + 0.5)}">{html.escape(t)}</text>'
                       for i, t in self.frame.row_ticks)
        if cols:
            self.parts.append(f'<g {attrs} text-anchor="middle">{cols}</g>')
        if rows:
            self.parts.append(f'<g {attrs} text-anchor="end" dominant-baseline="central">{rows}</g>')
        return self

    def cells(self, values: np.ndarray, zmax: float, colorscale: list[list]) -> Overlay:
        """Opaque coloured cells (for a panel whose colours change while stepping) and grid lines.

        The colours travel as a PNG with one pixel per cell, drawn enlarged without smoothing:
        a few hundred bytes instead of one ``<rect>`` per cell.
        """
        rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in cell_colors(values, zmax, colorscale)],
                       dtype=np.uint8).reshape(self.rows, self.cols, 3)
        png = base64.b64encode(_png(rgb)).decode("ascii")
        self.parts.append(f'<image href="data:image/png;base64,{png}" x="{self._x(0)}" y="{self._y(0)}" '
                          f'width="{_n(self.cols * self.cell)}" height="{_n(self.rows * self.cell)}" '
                          f'preserveAspectRatio="none" style="image-rendering:pixelated"/>')
        return self.grid()

    def grid(self) -> Overlay:
        """1 px lines around and between the cells (only the outline when cells are under 8 px)."""
        left, top, right, bottom = self._x(0), self._y(0), self._x(self.cols), self._y(self.rows)
        if self.cell < 8:
            lines = f"M{left} {top}H{right}V{bottom}H{left}Z"
        else:
            lines = "".join(f"M{self._x(j)} {top}V{bottom}" for j in range(self.cols + 1))
            lines += "".join(f"M{left} {self._y(i)}H{right}" for i in range(self.rows + 1))
        self.parts.append(f'<path d="{lines}" stroke="{GRID_LINES}" stroke-width="1" fill="none"/>')
        return self

    def numbers(self, values: np.ndarray, show: np.ndarray | None = None, *, chars: int | None = None,
                color: str = TEXT_COLOR) -> Overlay:
        """The integers, centred in their cells where they fit (see :func:`font_size`)."""
        if chars is None:
            chars = len(str(int(np.abs(values).max(initial=0)))) + int(bool((values < 0).any()))
        size = font_size(self.cell, chars)
        if not size:
            return self
        flat = values.reshape(-1).tolist()
        keep = range(len(flat)) if show is None else np.flatnonzero(show.reshape(-1)).tolist()
        texts = "".join(f'<text x="{self._x(k % self.cols + 0.5)}" y="{self._y(k // self.cols + 0.5)}">{flat[k]}</text>'
                        for k in keep)
        self.parts.append(f'<g font-family="{FONT}" font-size="{size}" fill="{color}" text-anchor="middle" '
                          f'dominant-baseline="central">{texts}</g>')
        return self

    def box(self, y0: float, x0: float, y1: float, x1: float, *, color: str = HIGHLIGHT, width: float = 3,
            dash: str = "") -> Overlay:
        """A rectangle outline along cell edges (drawn just inside them)."""
        inset = width / 2
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<rect x="{_n(self.ox + x0 * self.cell + inset)}" y="{_n(self.oy + y0 * self.cell + inset)}" '
            f'width="{_n(max((x1 - x0) * self.cell - width, 1))}" height="{_n(max((y1 - y0) * self.cell - width, 1))}" '
            f'fill="none" stroke="{color}" stroke-width="{width}"{dashes}/>')
        return self

    def veil(self, y0: float, x0: float, y1: float, x1: float, *, color: str = "#ffffff",
             opacity: float = 0.7) -> Overlay:
        """Fade the grid outside the cells ``[y0, y1) × [x0, x1)``."""
        outer = f"M{self._x(0)} {self._y(0)}H{self._x(self.cols)}V{self._y(self.rows)}H{self._x(0)}Z"
        inner = f"M{self._x(x0)} {self._y(y0)}H{self._x(x1)}V{self._y(y1)}H{self._x(x0)}Z"
        self.parts.append(f'<path d="{outer}{inner}" fill="{color}" fill-opacity="{opacity}" fill-rule="evenodd"/>')
        return self

    def squares(self, cells: Iterable[tuple[int, int]], *, color: str = HIGHLIGHT, width: float = 2) -> Overlay:
        """Small open squares inside the given cells (e.g. the taps of a dilated kernel)."""
        inset = max(self.cell * 0.12, width)
        side = _n(max(self.cell - 2 * inset, 1))
        self.parts.append("".join(
            f'<rect x="{_n(self.ox + j * self.cell + inset)}" y="{_n(self.oy + i * self.cell + inset)}" width="{side}" '
            f'height="{side}" fill="none" stroke="{color}" stroke-width="{width}"/>' for i, j in cells))
        return self

    def markup(self) -> str:
        w, h = _n(self.width), _n(self.height)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
                + "".join(self.parts) + "</svg>")

    def source(self) -> str:
        """The SVG as a ``data:`` URI for ``layout.images[k].source``."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.markup().encode()).decode("ascii")


def _n(value: float) -> str:
    """A pixel coordinate, short: ``12.0`` → ``'12'``, ``12.25`` → ``'12.2'``."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _png(rgb: np.ndarray) -> bytes:
    """A minimal PNG (8-bit RGB, no filtering) of ``rgb`` (uint8 ``[H, W, 3]``).

    Example:
        >>> _png(np.zeros((1, 1, 3), np.uint8))[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
    """
    height, width, _ = rgb.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, width * 3)], axis=1)  # filter 0 per row
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))


@dataclass(frozen=True)
class Box:
    """A panel's box in pixels of the plot area: left, top, width, height (top-left origin)."""

    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class Frame:
    """Where a ``rows × cols`` grid sits in its panel: cell side, label gutter and header (pixels),
    and the row and column labels as ``(index, text)``."""

    rows: int
    cols: int
    cell: float
    gutter: float
    header: float
    row_ticks: list[tuple[int, str]]
    col_ticks: list[tuple[int, str]]


class Panel:
    """One grid of integers: a heatmap (colours, hover) under an :class:`Overlay` image.

    The panel's :class:`Box` (pixels of a plot area of ``plot = (width, height)``) holds, from
    the top: the title (``title_lines`` lines), the column labels, then the grid of square cells
    (at most ``max_cell`` pixels), with the row labels in a gutter on its left. The heatmap's axes
    are invisible; everything written is in the overlay.

    Args:
        name: shown on hover.
        axis: 2 for ``xaxis2``/``yaxis2``, … (``xaxis``/``yaxis`` are the page's).
        trace: index of the heatmap in the figure.
        image: index of the overlay in ``layout.images``.
        box, plot: where the panel goes.
        colorscale: of the heatmap (0 is drawn white).
        hover: hover template of the heatmap.
        max_cell: largest cell side in pixels.
        ticks: label the rows and columns.
        title_lines: lines of title above the grid.
    """

    def __init__(self, name: str, axis: int, trace: int, image: int, box: Box, plot: tuple[float, float],
                 colorscale: list, *, hover: str = "row %{y}, col %{x}: %{z}", max_cell: float = 44,
                 ticks: bool = True, title_lines: int = 2):
        self.name, self.trace, self.image, self.box, self.plot = name, trace, image, box, plot
        self.colorscale, self.hover, self.max_cell, self.ticks = colorscale, hover, max_cell, ticks
        self.title_lines = title_lines
        if axis < 2:
            raise ValueError(f"axis {axis} given; axis must be >= 2 (xaxis/yaxis are the page's)")
        self.xaxis, self.yaxis, self.xref, self.yref = f"xaxis{axis}", f"yaxis{axis}", f"x{axis}", f"y{axis}"

    def frame(self, rows: int, cols: int, *, first: int = 0,
              row_names: list[str] | None = None, col_names: list[str] | None = None) -> Frame:
        """Fit a ``rows × cols`` grid: labels count from ``first`` (every n-th where they would
        collide); ``row_names``/``col_names`` replace the numbers where they all fit."""
        header = self.title_lines * TITLE_LINE + (TICK_ROW if self.ticks else 6)
        row_ticks: list[tuple[int, str]] = []
        col_ticks: list[tuple[int, str]] = []
        gutter = 0.0
        if self.ticks:
            for _ in range(2):  # the gutter depends on the labels, which depend on the cell size
                cell = min((self.box.width - gutter) / cols, (self.box.height - header) / rows, self.max_cell)
                row_ticks = _ticks(rows, cell, first, row_names, across=False)
                col_ticks = _ticks(cols, cell, first, col_names, across=True)
                gutter = 6 + 0.62 * TICK_SIZE * max((len(t) for _, t in row_ticks), default=0)
            cell = min((self.box.width - gutter) / cols, (self.box.height - header) / rows, self.max_cell)
        else:
            cell = min(self.box.width / cols, (self.box.height - header) / rows, self.max_cell)
        return Frame(rows, cols, cell, gutter, header, row_ticks, col_ticks)

    def overlay(self, frame: Frame, title: str) -> Overlay:
        """An overlay with the title and the labels drawn; add cells, numbers and outlines."""
        overlay = Overlay(frame, self.box.width, frame.header + frame.rows * frame.cell)
        return overlay.title(title).ticks()

    # figure parts -------------------------------------------------------------------------------
    def heatmap(self) -> go.Heatmap:
        """The heatmap, empty until a state fills it."""
        return go.Heatmap(
            z=[[0]], xaxis=self.xref, yaxis=self.yref, colorscale=self.colorscale, zmin=0, zmax=1,
            showscale=False, name=self.name, hovertemplate=self.hover + "<extra></extra>",
        )

    def image_frame(self) -> dict:
        """The overlay's fixed part (a ``layout.images`` entry): its top-left corner on the page.

        Overlays are placed on the *page axes* (``x``/``y``: the whole plot area, in pixels; see
        :func:`grid_figure`), not on paper: plotly.js redraws an axis-referenced image on a
        ``Plotly.animate`` frame, which is how :func:`_swap_overlays` sends it, but not a
        paper-referenced one; and not on the panel's own axes, which would clip the title.
        """
        return dict(xref="x", yref="y", x=self.box.left, y=self.box.top, sizex=self.box.width, sizey=1,
                    xanchor="left", yanchor="top", sizing="stretch", layer="above", source="")

    def axes(self, frame: Frame) -> State:
        """The two (invisible) axes, whole, with the grid's domain and fixed ranges (y downwards).

        A whole axis is one key in a plotly update, which Python-side plotly handles much faster
        than one key per property.
        """
        plot_w, plot_h = self.plot
        left, top = self.box.left + frame.gutter, self.box.top + frame.header
        hidden = dict(visible=False, fixedrange=True, showgrid=False, zeroline=False)
        right, bottom = left + frame.cols * frame.cell, top + frame.rows * frame.cell
        return {
            (None, self.xaxis): dict(anchor=self.yref, domain=[_r(left / plot_w), _r(right / plot_w)],
                                     range=[-0.5, frame.cols - 0.5], **hidden),
            (None, self.yaxis): dict(anchor=self.xref, domain=[_r(1 - bottom / plot_h), _r(1 - top / plot_h)],
                                     range=[frame.rows - 0.5, -0.5], **hidden),
        }

    def colors(self, values: np.ndarray, zmax: float) -> State:
        """The heatmap's values (``[rows, cols]`` integers) and the value of its darkest colour."""
        return {(self.trace, "z"): values.tolist(), (self.trace, "zmax"): max(float(zmax), 1.0)}

    def draw(self, overlay: Overlay) -> State:
        """The overlay image and its height."""
        return {(None, f"images[{self.image}].source"): overlay.source(),
                (None, f"images[{self.image}].sizey"): _r(overlay.height)}


def _r(value: float) -> float:
    return round(float(value), 5)


def _ticks(n: int, cell_px: float, first: int, names: list[str] | None, *, across: bool) -> list[tuple[int, str]]:
    """Row or column labels ``(index, text)``: names where they all fit, else numbers from
    ``first``: all of them, or the first and the multiples of 2, 5, 10, … so that they do not collide.

    Example:
        >>> _ticks(12, 6, 1, None, across=True)
        [(0, '1'), (4, '5'), (9, '10')]
    """
    if names is not None:
        widest = max(len(name) for name in names)
        if (cell_px >= 0.62 * TICK_SIZE * widest + 3) if across else (cell_px >= TICK_SIZE + 2):
            return [(k, name) for k, name in enumerate(names) if name]
    step = max(1, int(np.ceil(18 / max(cell_px, 1e-6))))
    step = next((nice for nice in (1, 2, 5, 10, 20, 50) if nice >= step), 100)
    labelled = [k for k in range(n) if (k + first) % step == 0]
    if not labelled or labelled[0] >= max(2, step - 1):
        labelled.insert(0, 0)  # the first row or column too, unless it would touch the next label
    return [(k, str(k + first)) for k in labelled]


def grid_figure(
    traces: list, panels: Iterable[Panel], width: int, height: int, margin: dict, state: State
) -> go.Figure:
    """A figure of grid panels: the fixed part, then ``state``; validated by plotly.

    Besides the panels' axes there are the invisible *page axes* ``xaxis``/``yaxis``: the whole
    plot area, in pixels from its top-left corner, on which the overlays are placed.
    """
    panels = list(panels)
    plot_w, plot_h = width - margin["l"] - margin["r"], height - margin["t"] - margin["b"]
    hidden = dict(visible=False, fixedrange=True, showgrid=False, zeroline=False)
    layout = dict(
        width=width, height=height, margin=margin, showlegend=False, dragmode=False, hovermode="closest",
        plot_bgcolor="white", paper_bgcolor="white", font=dict(family=FONT),
        xaxis=dict(domain=[0, 1], range=[0, plot_w], anchor="y", **hidden),
        yaxis=dict(domain=[0, 1], range=[plot_h, 0], anchor="x", **hidden),
        images=[panel.image_frame() for panel in panels],
    )
    for panel in panels:  # the axes must exist before a plotly update can replace them
        layout[panel.xaxis], layout[panel.yaxis] = dict(anchor=panel.yref), dict(anchor=panel.xref)
    fig = go.Figure(traces, layout)
    apply_state(fig, state)
    return go.Figure(fig.to_dict())  # validates everything the state wrote


def subscript(*indices: int) -> str:
    """1-based subscript as in the lecture: ``subscript(0, 1) == '₁₂'`` (``[10,2]`` past 9)."""
    if max(indices) >= 9:
        return "[" + ",".join(str(i + 1) for i in indices) + "]"
    return "".join(str(i + 1) for i in indices).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


# --- the conv-matrix view --------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # compared by identity: a figure state is cached per view
class ConvMatrixView:
    """One output pixel of a convolution, seen as a window, a row of ``W`` and a column of ``Wᵀ``.

    Attributes:
        mode: ``"1D"`` (an input of shape ``(1, n)``) or ``"2D"`` (``(n, n)``).
        input_shape, kernel_shape, stride, padding: the convolution, as ``(h, w)`` pairs.
        step: the output pixel, as a row index of ``W`` (row-major over the output).
        x: the input, int64 ``[H_in, W_in]`` (small integers).
        kernel: int64 ``[kh, kw]``, numbered ``1 … kh·kw`` row by row, so each number in ``W``
            names its kernel tap (``w₁₁ = 1``, ``w₁₂ = 2``, …).
        matrix: ``W``, int64 ``[H_out·W_out, H_in·W_in]`` (:func:`segviz.ops.conv2d_matrix`).
        output: ``W @ vec(x)`` as int64 ``[H_out, W_out]`` (equals ``F.conv2d``).
        pixel: ``(i, j)`` of the output pixel ``step``.
        window: ``(top, left)`` of its kernel window in input coordinates (negative in the padding).
        terms: ``(column, weight, x value)`` for each nonzero of row ``step``: the dot product.
    """

    mode: str
    input_shape: tuple[int, int]
    kernel_shape: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    step: int
    x: np.ndarray
    kernel: np.ndarray
    matrix: np.ndarray
    output: np.ndarray
    pixel: tuple[int, int]
    window: tuple[int, int]
    terms: tuple[tuple[int, int, int], ...]

    @property
    def output_shape(self) -> tuple[int, int]:
        return self.output.shape  # type: ignore[return-value]

    @property
    def num_steps(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def value(self) -> int:
        """The output pixel's value: row ``step`` of ``W`` times vec(x)."""
        return int(self.output.reshape(-1)[self.step])

    def name(self, kind: str, flat: int, shape: tuple[int, int]) -> str:
        """``x₁₂``-style name of a pixel (1-based, row-major; one index in 1-D mode)."""
        i, j = divmod(flat, shape[1])
        return kind + (subscript(j) if self.mode == "1D" else subscript(i, j))


def _pairs(mode: str, input_size: int, kernel_size: int, stride: int, padding: int) -> tuple:
    if mode == "1D":
        return (1, input_size), (1, kernel_size), (1, stride), (0, padding)
    return (input_size,) * 2, (kernel_size,) * 2, (stride,) * 2, (padding,) * 2


def input_values(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Small integers 1…3 for an input of ``shape`` (the top-left corner of a fixed 8×8 draw).

    The draw does not depend on the size, so growing the input keeps the values already seen.

    Example:
        >>> input_values((2, 3), seed=0).tolist()
        [[3, 2, 2], [1, 3, 2]]
    """
    h, w = shape
    grid = np.random.default_rng(seed).integers(1, 4, size=(max(8, h), max(8, w)))  # [8, 8]
    return np.ascontiguousarray(grid[:h, :w]).astype(np.int64)


@lru_cache(maxsize=128)
def _matrix(mode: str, input_size: int, kernel_size: int, stride: int, padding: int, seed: int):
    """W, the kernel and the input for one setting (cached: stepping reuses them)."""
    input_shape, kernel_shape, stride2, padding2 = _pairs(mode, input_size, kernel_size, stride, padding)
    kernel = torch.arange(1, kernel_shape[0] * kernel_shape[1] + 1, dtype=torch.int64).reshape(1, 1, *kernel_shape)
    matrix = conv2d_matrix(kernel, input_shape, stride2, padding2).numpy()  # [H_out·W_out, H_in·W_in]
    x = input_values(input_shape, seed)
    rows_out = matrix.shape[0]
    out_w = (input_shape[1] + 2 * padding2[1] - kernel_shape[1]) // stride2[1] + 1
    output = (matrix @ x.reshape(-1)).reshape(rows_out // out_w, out_w)  # [H_out, W_out]
    for array in (matrix, x, output):
        array.setflags(write=False)
    return input_shape, kernel_shape, stride2, padding2, kernel[0, 0].numpy(), matrix, x, output


def conv_matrix_steps(mode: str, input_size: int, kernel_size: int, stride: int, padding: int, seed: int = 0) -> int:
    """Number of output pixels (rows of ``W``): the range of the ``step`` control.

    Raises the core's ``ValueError`` when the kernel does not fit the padded input.

    Example:
        >>> conv_matrix_steps("2D", 4, 3, 1, 0), conv_matrix_steps("1D", 5, 3, 2, 1)
        (4, 3)
    """
    mode = check_choice("mode", mode, MODES)
    return int(_matrix(mode, input_size, kernel_size, stride, padding, seed)[5].shape[0])


def compute_conv_matrix(
    mode: str = "2D",
    input_size: int = 4,
    kernel_size: int = 3,
    stride: int = 1,
    padding: int = 0,
    step: int = 0,
    *,
    seed: int = 0,
) -> ConvMatrixView:
    """Build ``W`` for a small convolution and pick output pixel ``step``.

    Args:
        mode: ``"1D"`` (input ``(1, n)``, kernel ``(1, k)``) or ``"2D"`` (square input and kernel).
        input_size: ``n``.
        kernel_size: ``k``; the kernel is numbered ``1 … k²`` (``1 … k`` in 1-D).
        stride, padding: of the convolution (no dilation).
        step: which output pixel (row of ``W``), ``0 <= step < H_out·W_out``.
        seed: draws the input's small integers.

    Returns:
        A :class:`ConvMatrixView`.

    Shape:
        ``W``: ``[H_out·W_out, H_in·W_in]`` with ``H_out = floor((H_in + 2p − k) / s) + 1``.

    Example:
        The lecture's 4×4 input and 3×3 kernel: ``W`` is 4×16 and row 0 is
        ``w11 w12 w13 0 w21 w22 w23 0 w31 w32 w33 0 0 0 0 0``:

        >>> view = compute_conv_matrix("2D", 4, 3, 1, 0, step=0)
        >>> view.matrix.shape, view.matrix[0].tolist()
        ((4, 16), [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0])
        >>> view.pixel, view.window, view.value == sum(w * x for _, w, x in view.terms)
        ((0, 0), (0, 0), True)
    """
    mode = check_choice("mode", mode, MODES)
    input_size = check_int("input size", input_size, minimum=1)
    kernel_size = check_int("kernel", kernel_size, minimum=1)
    stride = check_int("stride", stride, minimum=1)
    padding = check_int("padding", padding, minimum=0)
    input_shape, kernel_shape, stride2, padding2, kernel, matrix, x, output = _matrix(
        mode, input_size, kernel_size, stride, padding, seed
    )
    step = check_int("step", step, minimum=0, maximum=matrix.shape[0] - 1)
    i, j = divmod(step, output.shape[1])
    columns = np.flatnonzero(matrix[step])
    flat_x = x.reshape(-1)
    terms = tuple((int(c), int(matrix[step, c]), int(flat_x[c])) for c in columns)
    return ConvMatrixView(
        mode=mode, input_shape=input_shape, kernel_shape=kernel_shape, stride=stride2, padding=padding2,
        step=step, x=x, kernel=kernel, matrix=matrix, output=output, pixel=(i, j),
        window=(i * stride2[0] - padding2[0], j * stride2[1] - padding2[1]), terms=terms,
    )


# --- figure ------------------------------------------------------------------------------------

WIDTH, HEIGHT = 940, 620
MARGIN = dict(l=8, r=8, t=8, b=8)
_PLOT = (WIDTH - MARGIN["l"] - MARGIN["r"], HEIGHT - MARGIN["t"] - MARGIN["b"])
_GREEN = light_scale("#74c476")
_PANELS = {
    "input": Panel("input", 2, 0, 0, Box(0, 0, 250, 240), _PLOT, light_scale("#9e9ac8")),
    "kernel": Panel("kernel", 3, 1, 1, Box(270, 0, 150, 170), _PLOT, _GREEN, hover="tap (%{y}, %{x}) = %{z}"),
    "output": Panel("output", 4, 2, 2, Box(440, 0, 200, 240), _PLOT, light_scale("#6baed6")),
    "W": Panel("W", 5, 3, 3, Box(0, 262, 664, 342), _PLOT, _GREEN, hover="W[%{y}, %{x}] = %{z}"),
    "WT": Panel("WT", 6, 4, 4, Box(684, 0, 240, 604), _PLOT, _GREEN, hover="Wᵀ[%{y}, %{x}] = %{z}"),
}


def _titles(view: ConvMatrixView) -> dict[str, str]:
    """Panel titles."""
    h_in, w_in = view.input_shape
    h_out, w_out = view.output_shape
    rows, cols = view.matrix.shape
    kh, kw = view.kernel_shape
    size = (lambda h, w: f"1×{w}") if view.mode == "1D" else (lambda h, w: f"{h}×{w}")
    z = view.name("z", view.step, view.output_shape)
    pad = f", padding {view.padding[1]}" if view.padding[1] else ""
    first = "w" + (subscript(0) if view.mode == "1D" else subscript(0, 0))
    last = "w" + (subscript(kw - 1) if view.mode == "1D" else subscript(kh - 1, kw - 1))
    return {
        "input": f"<b>input x</b> {size(h_in, w_in)}{pad}<br>the window of {z}",
        "kernel": f"<b>kernel w</b> {size(kh, kw)}<br>{first} = 1, …, {last} = {kh * kw}",
        "output": f"<b>z = conv(x)</b> {size(h_out, w_out)}<br>{z} = {view.value}",
        "W": f"<b>W</b> {rows}×{cols}: a row per output pixel, a column per input pixel (blank: 0)<br>"
             f"row {z}: the kernel, shifted to {z}'s window; row · vec(x) = {z} = {view.value}",
        "WT": f"<b>Wᵀ</b> {cols}×{rows}, a transposed conv<br>column {z}: where {z} goes back",
    }


def describe_step(view: ConvMatrixView) -> str:
    """The outlined output pixel as a dot product, in symbols and in numbers.

    Example:
        >>> describe_step(compute_conv_matrix("1D", 4, 2, 1, 0, step=1))
        'z₂ = W row z₂ · vec(x) = 1·x₂ + 2·x₃ = 1·2 + 2·2 = <b>6</b>'
    """
    z = view.name("z", view.step, view.output_shape)
    shown = view.terms if len(view.terms) <= 9 else view.terms[:8]
    more = " + …" if len(shown) < len(view.terms) else ""
    symbols = " + ".join(f"{w}·{view.name('x', c, view.input_shape)}" for c, w, _ in shown) + more
    numbers = " + ".join(f"{w}·{x}" for _, w, x in shown) + more
    return f"{z} = W row {z} · vec(x) = {symbols or '0'} = {numbers or '0'} = <b>{view.value}</b>"


@lru_cache(maxsize=4)
def conv_matrix_state(view: ConvMatrixView) -> State:
    """Everything of the figure that depends on ``view``, as flat plotly paths (see :func:`apply_state`)."""
    matrix = view.matrix
    ph, pw = view.padding
    (h_in, w_in), out_shape = view.input_shape, view.output_shape
    padded = np.pad(view.x, ((ph, ph), (pw, pw)))  # the zero padding is drawn
    x_names = [view.name("x", c, view.input_shape) for c in range(matrix.shape[1])]
    z_names = [view.name("z", r, out_shape) for r in range(matrix.shape[0])]
    kmax = int(view.kernel.max())
    top, left = view.window[0] + ph, view.window[1] + pw
    kh, kw = view.kernel_shape
    i, j = view.pixel
    rows, cols = matrix.shape
    r = view.step
    real = [(ph, pw, ph + h_in, pw + w_in, "3 3")] if ph or pw else []
    panels = {  # values, colour maximum, where to draw the numbers, outlines, labels
        "input": (padded, 3, None, [(top, left, top + kh, left + kw, "")] + real,
                  dict(row_names=[""] * ph + [str(k + 1) for k in range(h_in)] + [""] * ph,
                       col_names=[""] * pw + [str(k + 1) for k in range(w_in)] + [""] * pw)),
        "kernel": (view.kernel, kmax, None, [], dict(first=1)),
        "output": (view.output, view.output.max(), None, [(i, j, i + 1, j + 1, "")], dict(first=1)),
        "W": (matrix, kmax, matrix != 0, [(r, 0, r + 1, cols, "")],
              dict(first=1, row_names=z_names, col_names=x_names)),
        "WT": (matrix.T, kmax, matrix.T != 0, [(0, r, cols, r + 1, "")],
               dict(first=1, row_names=x_names, col_names=z_names)),
    }
    titles = _titles(view)
    state: State = {}
    for name, panel in _PANELS.items():
        values, zmax, show, boxes, labels = panels[name]
        frame = panel.frame(*values.shape, **labels)
        overlay = panel.overlay(frame, titles[name]).grid().numbers(values, show)
        for y0, x0, y1, x1, dash in boxes:
            if dash:
                overlay.box(y0, x0, y1, x1, color="#555", width=1.5, dash=dash)
            else:
                overlay.box(y0, x0, y1, x1)
        state.update(panel.colors(values, zmax))
        state.update(panel.axes(frame))
        state.update(panel.draw(overlay))
    return state


def figure_conv_matrix(view: ConvMatrixView) -> go.Figure:
    """The sliding view, the output, ``W`` with row ``step`` outlined and ``Wᵀ`` with column ``step``.

    Panels, in this order (heatmap trace ``k``, overlay ``layout.images[k]``): input (with its
    padding), kernel, output, ``W``, ``Wᵀ``.
    """
    traces = [panel.heatmap() for panel in _PANELS.values()]
    return grid_figure(traces, _PANELS.values(), WIDTH, HEIGHT, MARGIN, conv_matrix_state(view))


def update_conv_matrix(fig: go.Figure, view: ConvMatrixView, previous: ConvMatrixView | None = None) -> None:
    """Move ``fig`` (from :func:`figure_conv_matrix`) to ``view`` in place.

    Args:
        fig: the figure.
        view: what to show.
        previous: what ``fig`` shows now, if known; then only what differs is sent (a ``step``
            change sends overlay images only, which the browser redraws without the rest).
    """
    apply_state(fig, conv_matrix_state(view), None if previous is None else conv_matrix_state(previous))
