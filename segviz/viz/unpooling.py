"""Unpooling side by side: nearest neighbour, bed of nails and max unpooling of the same input.

``compute_unpooling`` is pure (it calls the from-scratch ops of :mod:`segviz.ops` and PyTorch's
``F.max_pool2d`` for the switches); ``figure_unpooling`` draws a result once;
``update_unpooling`` moves an existing figure to a new result in place, touching only the
properties whose values changed.

The ``"slides"`` preset is CS231n's example (lecture "Detection and Segmentation"): the 2×2 input
``[[1, 2], [3, 4]]`` unpooled to 4×4, and the 4×4 map ``[[1, 2, 6, 3], [3, 5, 2, 1],
[1, 2, 2, 1], [7, 3, 4, 8]]`` whose 2×2 max pooling remembers where 5, 6, 7 and 8 were.

All seven maps are drawn on one canvas with one cell size, so a 2×2 map looks half as wide as
the 4×4 map it becomes: one heatmap, one trace of numbers, one of window borders, one of switch
markers and one of titles. A control change therefore updates a handful of properties, not one
per panel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F

from ..ops import max_unpool, unpool_bed_of_nails, unpool_nearest
from ..validation import check_choice, check_int
from ._state import apply_changes

__all__ = ["PRESETS", "UnpoolingResult", "compute_unpooling", "figure_unpooling", "update_unpooling"]

PRESETS = ("slides", "random")
"""``"slides"``: CS231n's 2×2 → 4×4 example; ``"random"``: digits 0–9 drawn with ``seed``."""

SLIDES_BEFORE = ((1, 2, 6, 3), (3, 5, 2, 1), (1, 2, 2, 1), (7, 3, 4, 8))
SLIDES_INPUT = ((1, 2), (3, 4))
MAX_SIZE = 8  # side of the pooled map
MAX_SCALE = 4
TEXT_LIMIT = 16  # numbers (and row/column indices) are drawn on grids up to 16×16…
_MIN_TEXT_PX = 18  # …whose cells are large enough to read them


@dataclass(frozen=True)
class UnpoolingResult:
    """Everything the unpooling figure shows (all maps are ``int64`` numpy arrays).

    Attributes:
        preset: ``"slides"`` or ``"random"``.
        seed: the seed of the random map (unused by ``"slides"``).
        size: side of the pooled map, ``H``.
        scale: pooling window = stride = unpooling factor, ``s``.
        before: ``[H·s, H·s]``, the encoder's map that was max pooled.
        pooled: ``[H, H]``, ``F.max_pool2d(before, s)``.
        switches: ``[H, H]``, flat positions ``row · H·s + col`` in ``before`` of each maximum.
        unpool_input: ``[H, H]``, what the decoder unpools: the slides' ``[[1, 2], [3, 4]]``, or
            the pooled values themselves for ``"random"``.
        nearest: ``[H·s, H·s]``, :func:`~segviz.ops.unpool_nearest` of ``unpool_input``.
        bed_of_nails: ``[H·s, H·s]``, :func:`~segviz.ops.unpool_bed_of_nails` of ``unpool_input``.
        max_unpooled: ``[H·s, H·s]``, :func:`~segviz.ops.max_unpool` of ``unpool_input`` at ``switches``.
        ties: how many pooling windows hold their maximum more than once.
        corner_hits: windows whose maximum sits in the top-left corner (where bed of nails writes).
        note: a teaching note for the message line ("" when there is nothing to add).
    """

    preset: str
    seed: int
    size: int
    scale: int
    before: np.ndarray
    pooled: np.ndarray
    switches: np.ndarray
    unpool_input: np.ndarray
    nearest: np.ndarray
    bed_of_nails: np.ndarray
    max_unpooled: np.ndarray
    ties: int
    corner_hits: int
    note: str

    @property
    def switch_cells(self) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, cols)`` in ``before`` of every switch, in the pooled map's reading order."""
        return np.divmod(self.switches.reshape(-1), self.size * self.scale)


def compute_unpooling(preset: str = "slides", seed: int = 0, size: int = 2, scale: int = 2) -> UnpoolingResult:
    """Max pool a map, then unpool the decoder's input three ways.

    Args:
        preset: ``"slides"`` (CS231n's example; needs ``size=2, scale=2``) or ``"random"``
            (digits 0–9 drawn with ``seed``; the decoder unpools the pooled values).
        seed: seed of the random map.
        size: side ``H`` of the pooled map, 1 to 8.
        scale: pooling window, stride and unpooling factor ``s``, 1 to 4.

    Returns:
        An :class:`UnpoolingResult`.

    Shape:
        before, nearest, bed_of_nails, max_unpooled: ``[H·s, H·s]``; pooled, switches,
        unpool_input: ``[H, H]``.

    Example:
        >>> r = compute_unpooling("slides")
        >>> r.pooled.tolist(), r.switches.tolist()
        ([[5, 6], [7, 8]], [[5, 2], [12, 15]])
        >>> r.max_unpooled.tolist()
        [[0, 0, 2, 0], [0, 1, 0, 0], [0, 0, 0, 0], [3, 0, 0, 4]]
        >>> r.bed_of_nails[0].tolist(), r.nearest[0].tolist()
        ([1, 0, 2, 0], [1, 1, 2, 2])
    """
    preset = check_choice("preset", preset, PRESETS)
    seed = check_int("seed", seed, minimum=0)
    size = check_int("size", size, minimum=1, maximum=MAX_SIZE)
    scale = check_int("scale", scale, minimum=1, maximum=MAX_SCALE)
    if preset == "slides":
        if (size, scale) != (2, 2):
            raise ValueError(
                f"size {size} and scale {scale} given with preset 'slides'; the slides' example is a "
                "2×2 input unpooled ×2 (size 2, scale 2): pick preset 'random' for other sizes"
            )
        before = torch.tensor(SLIDES_BEFORE, dtype=torch.float64)[None, None]  # [1, 1, 4, 4]
    else:
        generator = torch.Generator().manual_seed(seed)
        side = size * scale
        before = torch.randint(0, 10, (1, 1, side, side), generator=generator).double()  # [1, 1, H·s, H·s]
    pooled, switches = F.max_pool2d(before, scale, return_indices=True)  # [1, 1, H, H] each
    unpool_input = torch.tensor(SLIDES_INPUT, dtype=torch.float64)[None, None] if preset == "slides" else pooled

    windows = before.reshape(size, scale, size, scale).permute(0, 2, 1, 3).reshape(size, size, -1)  # [H, H, s²]
    ties = int(((windows == windows.amax(-1, keepdim=True)).sum(-1) > 1).sum())
    corner = torch.arange(size)[:, None] * scale * (size * scale) + torch.arange(size)[None, :] * scale  # [H, H]
    corner_hits = int((switches[0, 0] == corner).sum())

    notes = []
    if scale == 1:
        notes.append("scale 1: a 1×1 pooling window changes nothing, so every unpooling returns its input.")
    if ties:
        notes.append(
            f"{ties} of {size * size} windows hold their maximum twice or more; max pooling remembers "
            "only one position (PyTorch keeps the first in reading order), marked in orange."
        )

    as_int = lambda t: t[0, 0].round().to(torch.int64).numpy()  # noqa: E731  [1, 1, h, w] -> [h, w]
    return UnpoolingResult(
        preset=preset,
        seed=seed,
        size=size,
        scale=scale,
        before=as_int(before),
        pooled=as_int(pooled),
        switches=switches[0, 0].numpy(),
        unpool_input=as_int(unpool_input),
        nearest=as_int(unpool_nearest(unpool_input, scale)),
        bed_of_nails=as_int(unpool_bed_of_nails(unpool_input, scale)),
        max_unpooled=as_int(max_unpool(unpool_input, switches, scale)),
        ties=ties,
        corner_hits=corner_hits,
        note=" ".join(notes),
    )


# --- the canvas --------------------------------------------------------------------------------
_WIDTH, _HEIGHT = 1040, 600
_MARGIN = dict(l=10, r=10, t=10, b=10)
_PLOT_W, _PLOT_H = _WIDTH - 20, _HEIGHT - 20
_ORANGE = "#e8710a"
_INK, _GREY = "#111111", "#6b6b6b"
_SWITCH = 10  # z of the switch panel's cells: drawn in the last (light orange) step of the scale
# 0 is a pale grey "hole", 1–9 run from pale to mid blue (dark text reads on all of them)
_COLORSCALE = [
    [0.0, "#eeeeee"], [0.05, "#eeeeee"], [0.05, "#e4edf9"], [0.9, "#5b8fd0"], [0.95, "#5b8fd0"],
    [0.95, "#fff1dc"], [1.0, "#fff1dc"],
]
# the legend, top right of the canvas
_LEGEND = (
    "<b>How to read it</b><br>"
    "① the encoder's map, cut into pooling<br>windows (grey lines)<br>"
    "② max pooling keeps each window's<br>largest value…<br>"
    f"③ …and remembers where it was: the<br><span style='color:{_ORANGE}'><b>switch</b></span>"
    " (PyTorch's flat index, (row, col))<br><br>"
    "④ the decoder unpools one small map<br>three ways: copies, a corner, or the<br>switches."
)


@dataclass(frozen=True)
class _Layout:
    """Where each map sits on the canvas (cell units; x to the right, y downwards)."""

    origins: dict[str, tuple[int, int]]  # name -> (x, y) of its top-left cell's centre
    sides: dict[str, int]
    width: int  # canvas size, cells
    height: int
    cell_px: float  # on-screen side of one cell


_ORDER = ("before", "pooled", "switches", "unpool_input", "nearest", "bed_of_nails", "max_unpooled")


def _layout(size: int, scale: int) -> _Layout:
    big, small = size * scale, size
    gap = max(1, math.ceil(big / 4))
    slot = max(small, math.ceil(big / 2))  # a small map's column: wide enough for its title
    left = 1 if big <= TEXT_LIMIT else 0  # row indices left of ①
    width = left + slot + 3 * big + 3 * gap  # the decoder row is the widest
    title = 1
    for _ in range(8):  # the title band must hold two lines of 13 px text (about 36 px)
        height = 2 * title + 2 * big + 2 * gap
        cell_px = min(_PLOT_W / width, _PLOT_H / height)
        if title * cell_px >= 36:
            break
        title += 1
    y1, y2 = title, title + big + gap + title
    x = left
    origins = {
        "before": (x, y1), "pooled": (x + big + gap, y1), "switches": (x + big + slot + 2 * gap, y1),
        "unpool_input": (x, y2), "nearest": (x + slot + gap, y2), "bed_of_nails": (x + slot + big + 2 * gap, y2),
        "max_unpooled": (x + slot + 2 * big + 3 * gap, y2),
    }
    sides = {name: big if name in ("before", "nearest", "bed_of_nails", "max_unpooled") else small for name in _ORDER}
    return _Layout(origins, sides, width, height, cell_px)


def _titles(r: UnpoolingResult) -> list[str]:
    s, n, big = r.scale, r.size, r.size * r.scale
    given = "(the slides' values)" if r.preset == "slides" else "= ② (the pooled values)"
    return [
        f"<b>① before pooling</b><br>{big}×{big}",
        f"<b>② max pooled</b><br>{s}×{s}, stride {s} → {n}×{n}",
        "<b>③ switches</b><br>where each max was",
        f"<b>④ unpooling input</b><br>{given}",
        f"<b>nearest ×{s}</b><br>copy into every cell of the block",
        f"<b>bed of nails ×{s}</b><br>top-left corner, zeros elsewhere",
        "<b>max unpooling</b><br>back at the switches",
    ]


def _font(cell_px: float) -> int:
    return int(max(8, min(22, cell_px * 0.42)))


def _state(r: UnpoolingResult) -> dict[str, Any]:
    """The value of every property the update touches, keyed ``trace_index.path`` / ``layout.path``."""
    lay = _layout(r.size, r.scale)
    z = np.full((lay.height, lay.width), np.nan, dtype=np.float32)
    num_x: list[int] = []
    num_y: list[int] = []
    num_text: list[str] = []
    show_text = r.size * r.scale <= TEXT_LIMIT and lay.cell_px >= _MIN_TEXT_PX
    maps = {name: getattr(r, name) for name in _ORDER}
    for name in _ORDER:
        x0, y0 = lay.origins[name]
        values = maps[name]
        side = values.shape[0]
        z[y0 : y0 + side, x0 : x0 + side] = _SWITCH if name == "switches" else values
        if show_text:
            rows, cols = np.divmod(np.arange(side * side), side)
            num_x += (cols + x0).tolist()
            num_y += (rows + y0).tolist()
            num_text += _switch_text(r, lay.cell_px) if name == "switches" else [str(v) for v in values.reshape(-1).tolist()]

    # pooling-window borders on the four large maps
    line_x: list[Any] = []
    line_y: list[Any] = []
    big = r.size * r.scale
    for name in ("before", "nearest", "bed_of_nails", "max_unpooled"):
        x0, y0 = lay.origins[name]
        for k in range(r.scale, big, r.scale):
            line_x += [x0 + k - 0.5, x0 + k - 0.5, None, x0 - 0.5, x0 + big - 0.5, None]
            line_y += [y0 - 0.5, y0 + big - 0.5, None, y0 + k - 0.5, y0 + k - 0.5, None]

    # switch markers on ① and on the max unpooling
    rows, cols = r.switch_cells
    mark_x, mark_y = [], []
    for name in ("before", "max_unpooled"):
        x0, y0 = lay.origins[name]
        mark_x += (cols + x0).tolist()
        mark_y += (rows + y0).tolist()

    # row and column indices around ① and the max unpooling
    idx_x: list[float] = []
    idx_y: list[float] = []
    idx_text: list[str] = []
    if show_text:
        for name in ("before", "max_unpooled"):
            x0, y0 = lay.origins[name]
            for k in range(big):
                idx_x += [x0 - 0.62, x0 + k]
                idx_y += [y0 + k, y0 + big - 0.35]
                idx_text += [str(k), str(k)]

    # small cells: a dot in each switch cell shows where in its window the maximum was
    dot_x: list[float] = []
    dot_y: list[float] = []
    if lay.cell_px < 22:
        x0, y0 = lay.origins["switches"]
        offset_r, offset_c = rows % r.scale, cols % r.scale
        window_r, window_c = rows // r.scale, cols // r.scale
        dot_x = (x0 + window_c + (offset_c + 0.5) / r.scale - 0.5).tolist()
        dot_y = (y0 + window_r + (offset_r + 0.5) / r.scale - 0.5).tolist()

    title_x = [lay.origins[name][0] - 0.5 for name in _ORDER]
    title_y = [lay.origins[name][1] - 0.55 for name in _ORDER]
    legend_x, legend_y = lay.origins["switches"][0] + max(r.size, math.ceil(big / 2)) + 0.5, lay.origins["before"][1] - 0.5
    # Gaps stay None: plotly's widget serializer turns NaN into a JSON-invalid token (jupyter-client
    # warns and future versions drop the message); None becomes null, which plotly.js reads as a gap.
    xy = lambda values: [None if v is None else float(v) for v in values]  # noqa: E731
    text = lambda values: np.asarray(values, dtype=str)  # noqa: E731
    return {
        "0.z": [[None if v != v else v for v in row] for row in z.tolist()],
        "1.x": xy(num_x), "1.y": xy(num_y), "1.text": text(num_text), "1.textfont.size": _font(lay.cell_px),
        "2.x": xy(line_x), "2.y": xy(line_y),
        "3.x": xy(mark_x), "3.y": xy(mark_y), "3.marker.size": max(4.0, round(lay.cell_px * 0.9, 1)),
        "4.x": xy(idx_x), "4.y": xy(idx_y), "4.text": text(idx_text),
        "4.textfont.size": int(min(10, lay.cell_px * 0.6)),
        "6.x": xy(dot_x), "6.y": xy(dot_y), "6.marker.size": max(3.0, round(lay.cell_px / r.scale * 0.8, 1)),
        "5.x": xy(title_x), "5.y": xy(title_y), "5.text": text(_titles(r)),
        "layout.xaxis.range": [-0.5, lay.width - 0.5],
        "layout.yaxis.range": [lay.height - 0.5, -0.5],
        "layout.annotations.0.x": legend_x, "layout.annotations.0.y": legend_y,
    }


def _switch_text(r: UnpoolingResult, cell_px: float) -> list[str]:
    """PyTorch's flat index in bold, and (row, col) under it, as far as the cell has room."""
    rows, cols = r.switch_cells
    flat = r.switches.reshape(-1).tolist()
    if cell_px < 22:
        return [""] * len(flat)
    big = int(min(18, cell_px * 0.34))
    if cell_px < 40:
        return [f"<span style='font-size:{big}px'><b>{i}</b></span>" for i in flat]
    small = int(min(13, cell_px * 0.26))
    return [
        f"<span style='font-size:{big}px'><b>{i}</b></span><br><span style='font-size:{small}px'>({a},{b})</span>"
        for i, a, b in zip(flat, rows.tolist(), cols.tolist())
    ]


def figure_unpooling(r: UnpoolingResult) -> go.Figure:
    """Seven maps on one canvas: the encoder (max pooling and its switches) above, three unpoolings below.

    Traces: 0 the heatmap of every map, 1 their numbers, 2 the pooling-window borders, 3 the
    orange switch markers, 4 row and column indices, 5 the titles, 6 (when cells are too small
    for numbers) a dot in each switch cell where its window's maximum was. Layout annotation 0
    is the legend. Numbers and indices are drawn only while the large maps are at most 16×16
    and their cells at least 18 px wide.
    """
    st = _state(r)
    fig = go.Figure()
    fig.add_trace(go.Heatmap(z=st["0.z"], zmin=0, zmax=_SWITCH, colorscale=_COLORSCALE, showscale=False,
                             xgap=1, ygap=1, hoverinfo="skip", name="maps"))
    fig.add_trace(go.Scatter(x=st["1.x"], y=st["1.y"], text=st["1.text"], mode="text", hoverinfo="skip",
                             textfont=dict(size=st["1.textfont.size"], color=_INK), name="numbers"))
    fig.add_trace(go.Scatter(x=st["2.x"], y=st["2.y"], mode="lines", hoverinfo="skip", name="pooling windows",
                             line=dict(color="#4d4d4d", width=2)))
    fig.add_trace(go.Scatter(x=st["3.x"], y=st["3.y"], mode="markers", hoverinfo="skip", name="switches",
                             marker=dict(symbol="square-open", size=st["3.marker.size"], color=_ORANGE,
                                         line=dict(width=3, color=_ORANGE))))
    fig.add_trace(go.Scatter(x=st["4.x"], y=st["4.y"], text=st["4.text"], mode="text", hoverinfo="skip",
                             textfont=dict(size=st["4.textfont.size"], color=_GREY), name="indices"))
    fig.add_trace(go.Scatter(x=st["5.x"], y=st["5.y"], text=st["5.text"], mode="text", textposition="top right",
                             hoverinfo="skip", textfont=dict(size=13, color=_INK), name="titles"))
    fig.add_trace(go.Scatter(x=st["6.x"], y=st["6.y"], mode="markers", hoverinfo="skip", name="switch dots",
                             marker=dict(symbol="square", size=st["6.marker.size"], color=_ORANGE)))
    fig.add_annotation(x=st["layout.annotations.0.x"], y=st["layout.annotations.0.y"], xref="x", yref="y",
                       xanchor="left", yanchor="top", align="left", showarrow=False, text=_LEGEND,
                       font=dict(size=12, color="#333333"))
    hidden = dict(showgrid=False, zeroline=False, showticklabels=False, ticks="", constrain="domain")
    fig.update_xaxes(range=st["layout.xaxis.range"], **hidden)
    fig.update_yaxes(range=st["layout.yaxis.range"], scaleanchor="x", **hidden)
    fig.update_layout(width=_WIDTH, height=_HEIGHT, margin=_MARGIN, showlegend=False, plot_bgcolor="white",
                      paper_bgcolor="white")
    return fig


def update_unpooling(fig: go.Figure, r: UnpoolingResult, previous: UnpoolingResult | None = None) -> None:
    """Move ``fig`` (from :func:`figure_unpooling`) to ``r`` in place, touching only what changed.

    Args:
        fig: the figure to update.
        r: the new result.
        previous: the result ``fig`` shows now, if known; the comparison then needs no reads
            from the figure (which are slow). Without it the figure's own values are compared.
    """
    new = _state(r)
    apply_changes(fig, new, _state(previous) if previous is not None else None)
