"""Dilated (atrous) convolutions: the kernel's footprint, the receptive field, and gridding.

A ``k×k`` kernel with dilation ``d`` keeps its ``k²`` taps but spreads them ``d`` apart, so it
covers ``d(k − 1) + 1`` pixels a side. Stacking ``L`` of them with rates ``r_1 … r_L`` gives a
receptive field of ``1 + Σ (k − 1)·r_i`` pixels a side: linear growth for a constant rate,
exponential growth for rates 1, 2, 4, 8 … (the context module of Yu and Koltun). But a pixel of
the receptive field only matters if some chain of taps reaches it: with rates that share a
factor (2, 2, 2) whole rows and columns are never read, the *gridding* artifact; mixing rates
(1, 2, 3: hybrid dilated convolution) fills the holes.

Which input pixels reach one output is measured, not drawn by hand: the footprint is the input
gradient of the centre output through ``F.conv2d`` with all-ones kernels, and each value counts
the chains of taps from that input pixel to the output.

``compute_dilation`` is pure; ``figure_dilation`` draws a result once; ``update_dilation`` moves
an existing figure to a new result in place.

References:
    Yu and Koltun, "Multi-Scale Context Aggregation by Dilated Convolutions", ICLR 2016;
    Chen et al., "DeepLab", TPAMI 2018; Wang et al., "Understanding Convolution for Semantic
    Segmentation", WACV 2018 (gridding, hybrid dilated convolution).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from plotly.subplots import make_subplots

from ..arith import conv_output_size
from ..ops import dilate_kernel
from ..validation import check_choice, check_int
from ._state import apply_changes

__all__ = [
    "SCHEDULES", "DilationResult", "rates_for", "compute_dilation", "figure_dilation", "update_dilation",
]

SCHEDULES = ("constant", "exponential", "hybrid")
"""``constant``: d, d, d …; ``exponential``: 1, d, d², … (Yu & Koltun); ``hybrid``: 1, 2, …, d, 1, 2, … (HDC)."""

MAX_KERNEL, MAX_DILATION, MAX_LAYERS = 7, 4, 6
MIN_INPUT, MAX_INPUT = 5, 129
TEXT_LIMIT = 16  # numbers are drawn on the footprint up to 16×16


def rates_for(schedule: str, dilation: int, layers: int) -> tuple[int, ...]:
    """The dilation rate of each layer.

    Example:
        >>> rates_for("constant", 2, 4), rates_for("exponential", 2, 4), rates_for("hybrid", 3, 5)
        ((2, 2, 2, 2), (1, 2, 4, 8), (1, 2, 3, 1, 2))
    """
    schedule = check_choice("schedule", schedule, SCHEDULES)
    d = check_int("dilation", dilation, minimum=1)
    n = check_int("layers", layers, minimum=1)
    if schedule == "constant":
        return (d,) * n
    if schedule == "exponential":
        return tuple(d**i for i in range(n))
    return tuple(i % d + 1 for i in range(n))


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


@dataclass(frozen=True)
class DilationResult:
    """One kernel's footprint and one output pixel's footprint through a stack.

    Attributes:
        kernel_size, dilation, layers, schedule, input_size: the configuration.
        rates: the dilation rate of each layer.
        kernel: ``[d(k−1)+1, d(k−1)+1]`` int, :func:`~segviz.ops.dilate_kernel` of a ``k×k``
            all-ones kernel: 1 on the taps, 0 in the holes.
        receptive_field: ``1 + Σ (k − 1)·r_i``, the side of the window one output sees.
        growth: receptive field after 1, 2, … ``MAX_LAYERS`` layers, for every schedule
            (``{schedule: (rf_1, …, rf_6)}``) at this kernel and dilation.
        footprint: ``[N, N]`` int, the gradient of the centre output pixel w.r.t. the input
            (autograd through ``F.conv2d``, all-ones kernels): how many chains of taps join
            each input pixel to it; 0 = never read.
        centre: ``(row, col)`` of the input pixel under the centre output.
        box: ``(first, last)`` rows (= columns) of the receptive field in the input.
        output_size: side of the output map (valid convolutions, no padding).
        contributing: how many input pixels have a non-zero gradient.
        note: a teaching note for the message line ("" when there is nothing to add).
    """

    kernel_size: int
    dilation: int
    layers: int
    schedule: str
    input_size: int
    rates: tuple[int, ...]
    kernel: np.ndarray
    receptive_field: int
    growth: dict[str, tuple[int, ...]]
    footprint: np.ndarray
    centre: tuple[int, int]
    box: tuple[int, int]
    output_size: int
    contributing: int
    note: str

    @property
    def coverage(self) -> float:
        """Share of the receptive field's pixels that reach the output (1.0: no holes)."""
        return self.contributing / self.receptive_field**2


def compute_dilation(
    kernel_size: int = 3, dilation: int = 2, layers: int = 3, schedule: str = "constant", input_size: int = 33
) -> DilationResult:
    """Footprint of one dilated kernel, and of one output pixel through ``layers`` of them.

    Args:
        kernel_size: ``k``, 1 to 7.
        dilation: ``d``, 1 to 4 (the rate, or the schedule's base).
        layers: ``L``, 1 to 6.
        schedule: ``"constant"``, ``"exponential"`` or ``"hybrid"`` (see :func:`rates_for`).
        input_size: side ``N`` of the input, 5 to 129.

    Returns:
        A :class:`DilationResult`.

    Raises:
        ValueError: on a bad argument, or when a layer's map is smaller than its dilated kernel
            (the message is :func:`segviz.arith.conv_output_size`'s).

    Shape:
        kernel: ``[d(k − 1) + 1]²``; footprint: ``[N, N]``; output: ``N − Σ (k − 1)·r_i`` a side.

    Example:
        >>> r = compute_dilation(3, 2, layers=2, schedule="constant", input_size=9)
        >>> r.rates, r.receptive_field, r.output_size, r.contributing  # 5 × 5 of the 9 × 9 reach it
        ((2, 2), 9, 1, 25)
        >>> r.footprint[0].tolist()  # top row: every other pixel; 2 and 3 chains reach the inner ones
        [1, 0, 2, 0, 3, 0, 2, 0, 1]
    """
    k = check_int("kernel_size", kernel_size, minimum=1, maximum=MAX_KERNEL)
    d = check_int("dilation", dilation, minimum=1, maximum=MAX_DILATION)
    n_layers = check_int("layers", layers, minimum=1, maximum=MAX_LAYERS)
    schedule = check_choice("schedule", schedule, SCHEDULES)
    n = check_int("input_size", input_size, minimum=MIN_INPUT, maximum=MAX_INPUT)
    rates = rates_for(schedule, d, n_layers)
    receptive_field = 1 + sum((k - 1) * r for r in rates)
    growth = {
        name: tuple(1 + sum((k - 1) * r for r in rates_for(name, d, i)) for i in range(1, MAX_LAYERS + 1))
        for name in SCHEDULES
    }

    size = n
    for i, rate in enumerate(rates, start=1):
        try:
            size = conv_output_size(size, k, 1, 0, rate)
        except ValueError as error:
            raise ValueError(
                f"layer {i} of {n_layers} (rate {rate}) gets a {size}×{size} map: {error}. The whole stack "
                f"sees {receptive_field}×{receptive_field} pixels, so the input must be at least "
                f"{receptive_field} a side (it is {n})"
            ) from None

    ones = torch.ones(1, 1, k, k, dtype=torch.float64)  # conv2d weight [C_out, C_in, k, k]
    image = torch.zeros(1, 1, n, n, dtype=torch.float64, requires_grad=True)  # [1, 1, N, N]
    y = image
    for rate in rates:
        y = F.conv2d(y, ones, dilation=rate)  # [1, 1, H − rate(k − 1), …]
    middle = size // 2
    y[0, 0, middle, middle].backward()
    footprint = image.grad[0, 0].round().to(torch.int64).numpy()  # [N, N]
    first = middle  # output (i, j) reads input rows i … i + RF − 1
    centre = first + (receptive_field - 1) // 2
    contributing = int((footprint > 0).sum())

    notes = []
    holes = receptive_field**2 - contributing
    if holes:
        common = int(np.gcd.reduce(np.array(rates))) if n_layers > 1 else rates[0]
        why = (f"every rate is a multiple of {common}, so the taps only ever land on every {_ordinal(common)} row and column"
               if common > 1 else "the rates grow faster than the kernel can fill the gaps between taps")
        fix = " Mix the rates (schedule 'hybrid') to fill them." if common > 1 else ""
        notes.append(
            f"gridding: {holes} of the {receptive_field ** 2} pixels in the receptive field never reach the "
            f"output ({contributing / receptive_field ** 2:.0%} do): {why}.{fix}"
        )
    if k == 1:
        notes.append("a 1×1 kernel has a single tap: dilation moves nothing and the receptive field stays 1.")

    return DilationResult(
        kernel_size=k,
        dilation=d,
        layers=n_layers,
        schedule=schedule,
        input_size=n,
        rates=rates,
        kernel=dilate_kernel(torch.ones(k, k, dtype=torch.int64), d).numpy(),
        receptive_field=receptive_field,
        growth=growth,
        footprint=footprint,
        centre=(centre, centre),
        box=(first, first + receptive_field - 1),
        output_size=size,
        contributing=contributing,
        note=" ".join(notes),
    )


# --- drawing ---------------------------------------------------------------------------------
# The kernel and footprint panels live on fixed unit-square axes: a grid of any size is placed
# with the heatmap's x0/dx/y0/dy, so a control change restyles traces and never relayouts.
_WIDTH, _HEIGHT = 1100, 500
_FOOT_PX = 420  # about the side of the footprint panel on screen
_KERNEL_PX = 250
_INK, _BOX, _CENTRE = "#111111", "#d9480f", "#d9480f"
_TAPS = [[0.0, "#f1f3f5"], [0.5, "#f1f3f5"], [0.5, "#1c7ed6"], [1.0, "#1c7ed6"]]  # holes grey, taps blue
# grey: never read; then log10(chains) from pale to dark blue (lighter while numbers are written on it)
_PATHS = [[0.0, "#eef0f2"], [0.1, "#eef0f2"], [0.1, "#c5e1fb"], [0.6, "#4dabf7"], [1.0, "#0b3d91"]]
_PATHS_TEXT = [[0.0, "#eef0f2"], [0.1, "#eef0f2"], [0.1, "#dcecfb"], [1.0, "#74b9f5"]]
_SCHEDULE_COLOURS = {"constant": "#e8590c", "exponential": "#1971c2", "hybrid": "#2f9e44"}
_SCHEDULE_NAMES = {"constant": "constant d, d, d…", "exponential": "exponential 1, d, d²…", "hybrid": "hybrid 1, 2, …, d"}


def _kernel_canvas(k: int) -> int:
    """Side of the kernel panel's canvas: room for the largest dilation, so the taps visibly spread."""
    return MAX_DILATION * (k - 1) + 1


def _titles(r: DilationResult) -> tuple[str, str, str]:
    k, d = r.kernel_size, r.dilation
    span = d * (k - 1) + 1
    rates = ", ".join(str(v) for v in r.rates)
    return (
        f"<b>one {k}×{k} kernel, dilation {d}</b><br>{k * k} taps spread over {span}×{span}",
        f"<b>what one output sees</b> after {r.layers} layer{'s' if r.layers > 1 else ''} (rates {rates})<br>"
        f"receptive field {r.receptive_field}×{r.receptive_field}: {r.contributing} pixels reach it ({r.coverage:.0%})",
        f"<b>receptive field vs depth</b> (kernel {k}, d = {d})<br>1 + Σ (k − 1)·rᵢ",
    )


def _empty() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(0, np.float32), np.zeros(0, np.float32), np.zeros(0, str)


def _state(r: DilationResult) -> dict[str, Any]:
    """The value of every property the update touches, keyed ``trace_index.path`` / ``layout.path``."""
    k, n = r.kernel_size, r.input_size
    canvas = _kernel_canvas(k)
    kernel = np.zeros((canvas, canvas), np.int32)
    span = r.kernel.shape[0]
    offset = (canvas - span) // 2
    kernel[offset : offset + span, offset : offset + span] = r.kernel
    # footprint: 0 (grey) where no chain reaches the output; else 0.2 … 1 by log10 of the chain count
    foot = r.footprint.astype(np.float64)
    top = np.log10(max(1.0, foot.max()))
    scaled = 0.2 + 0.8 * np.log10(np.maximum(foot, 1)) / top if top > 0 else np.ones_like(foot)
    z = np.where(foot > 0, scaled, 0.0).astype(np.float32)
    if n <= TEXT_LIMIT:
        rows, cols = np.divmod(np.arange(n * n), n)
        text_x, text_y = ((cols + 0.5) / n).astype(np.float32), ((rows + 0.5) / n).astype(np.float32)
        text = np.where(r.footprint.reshape(-1) > 0, r.footprint.reshape(-1).astype(str), "")
    else:
        text_x, text_y, text = _empty()
    a, b = r.box[0] / n, (r.box[1] + 1) / n
    centre = (r.centre[1] + 0.5) / n
    titles = _titles(r)
    state: dict[str, Any] = {
        "0.z": kernel, "0.x0": 0.5 / canvas, "0.dx": 1 / canvas, "0.y0": 0.5 / canvas, "0.dy": 1 / canvas,
        "0.xgap": 1 if _KERNEL_PX / canvas >= 6 else 0, "0.ygap": 1 if _KERNEL_PX / canvas >= 6 else 0,
        "1.x": np.array([(canvas // 2 + 0.5) / canvas], np.float32), "1.y": np.array([(canvas // 2 + 0.5) / canvas], np.float32),
        "2.z": z, "2.colorscale": _PATHS_TEXT if n <= TEXT_LIMIT else _PATHS, "2.x0": 0.5 / n, "2.dx": 1 / n, "2.y0": 0.5 / n, "2.dy": 1 / n,
        "2.xgap": 1 if _FOOT_PX / n >= 8 else 0, "2.ygap": 1 if _FOOT_PX / n >= 8 else 0,
        "3.x": text_x, "3.y": text_y, "3.text": text, "3.textfont.size": int(max(8, min(14, _FOOT_PX / n * 0.4))),
        "4.x": np.array([a, b, b, a, a], np.float32), "4.y": np.array([a, a, b, b, a], np.float32),
        "5.x": np.array([centre], np.float32), "5.y": np.array([centre], np.float32),
        "5.marker.size": round(max(9.0, _FOOT_PX / n * 0.95), 1),
    }
    for i, name in enumerate(SCHEDULES):
        chosen = name == r.schedule
        state[f"{6 + i}.y"] = np.asarray(r.growth[name], dtype=np.float32)
        state[f"{6 + i}.line.width"] = 4 if chosen else 1.5
        state[f"{6 + i}.opacity"] = 1.0 if chosen else 0.45
    state.update({
        "9.x": np.array([r.layers], np.float32), "9.y": np.array([r.receptive_field], np.float32),
        "9.text": np.array([f"RF {r.receptive_field}"], dtype=str),
        "9.marker.color": _SCHEDULE_COLOURS[r.schedule],
        "10.y": np.array([n, n], np.float32),
        "10.text": np.array(["", f"input {n}"], dtype=str),
        "layout.annotations.0.text": titles[0],
        "layout.annotations.1.text": titles[1],
        "layout.annotations.2.text": titles[2],
    })
    return state


def figure_dilation(r: DilationResult) -> go.Figure:
    """The kernel's taps (left), one output pixel's footprint on the input (middle), growth (right).

    Traces: 0 the dilated kernel on a canvas sized for dilation 4, 1 its centre, 2 the footprint
    (grey: never read; blue: read, darker for more chains of taps, on a log scale), 3 its numbers (inputs up to 16×16), 4 the
    receptive-field box, 5 the input pixel under the output (orange square), 6–8 receptive field vs depth for
    the constant, exponential and hybrid schedules, 9 the current stack, 10 the input size.
    Layout annotations 0–2 are the panel titles.
    """
    st = _state(r)
    fig = make_subplots(rows=1, cols=3, column_widths=[0.25, 0.42, 0.33], horizontal_spacing=0.06,
                        subplot_titles=_titles(r))
    fig.add_trace(go.Heatmap(z=st["0.z"], x0=st["0.x0"], dx=st["0.dx"], y0=st["0.y0"], dy=st["0.dy"], zmin=0, zmax=1,
                             colorscale=_TAPS, showscale=False, xgap=st["0.xgap"], ygap=st["0.ygap"], hoverinfo="skip",
                             name="kernel"), row=1, col=1)
    fig.add_trace(go.Scatter(x=st["1.x"], y=st["1.y"], mode="markers", hoverinfo="skip", name="kernel centre",
                             marker=dict(symbol="circle", size=7, color="white")), row=1, col=1)
    fig.add_trace(go.Heatmap(z=st["2.z"], zmin=0, zmax=1, x0=st["2.x0"], dx=st["2.dx"], y0=st["2.y0"],
                             dy=st["2.dy"], colorscale=st["2.colorscale"], showscale=False, xgap=st["2.xgap"], ygap=st["2.ygap"],
                             hoverinfo="skip", name="footprint"), row=1, col=2)
    fig.add_trace(go.Scatter(x=st["3.x"], y=st["3.y"], text=st["3.text"], mode="text", hoverinfo="skip",
                             textfont=dict(size=st["3.textfont.size"], color=_INK), name="chains"), row=1, col=2)
    fig.add_trace(go.Scatter(x=st["4.x"], y=st["4.y"], mode="lines", hoverinfo="skip", name="receptive field",
                             line=dict(color=_BOX, width=2, dash="dot")), row=1, col=2)
    fig.add_trace(go.Scatter(x=st["5.x"], y=st["5.y"], mode="markers", hoverinfo="skip", name="under the output",
                             marker=dict(symbol="square-open", size=st["5.marker.size"], color=_CENTRE,
                                         line=dict(width=2.5, color=_CENTRE))), row=1, col=2)
    layers = np.arange(1, MAX_LAYERS + 1, dtype=np.float32)
    for i, name in enumerate(SCHEDULES):
        fig.add_trace(go.Scatter(x=layers, y=st[f"{6 + i}.y"], mode="lines+markers", name=_SCHEDULE_NAMES[name],
                                 opacity=st[f"{6 + i}.opacity"],
                                 line=dict(color=_SCHEDULE_COLOURS[name], width=st[f"{6 + i}.line.width"]),
                                 hovertemplate=f"{_SCHEDULE_NAMES[name]}<br>%{{x}} layers: RF %{{y}}<extra></extra>"),
                      row=1, col=3)
    fig.add_trace(go.Scatter(x=st["9.x"], y=st["9.y"], text=st["9.text"], mode="markers+text", textposition="middle left",
                             hoverinfo="skip", name="this stack", showlegend=False, textfont=dict(size=12, color=_INK),
                             marker=dict(size=16, color=st["9.marker.color"], line=dict(width=2, color="white"))),
                  row=1, col=3)
    fig.add_trace(go.Scatter(x=[0.7, MAX_LAYERS + 0.3], y=st["10.y"], text=st["10.text"], mode="lines+text",
                             textposition="top left", hoverinfo="skip", name="input size", showlegend=False,
                             line=dict(color="#868e96", width=1.5, dash="dash"), textfont=dict(size=11, color="#868e96")),
                  row=1, col=3)
    for col in (1, 2):
        hidden = dict(showgrid=False, zeroline=False, showticklabels=False, ticks="", constrain="domain")
        fig.update_xaxes(range=[0, 1], **hidden, row=1, col=col)
        fig.update_yaxes(range=[1, 0], scaleanchor=f"x{'' if col == 1 else col}", **hidden, row=1, col=col)
    fig.update_xaxes(range=[0.5, MAX_LAYERS + 0.5], dtick=1, title_text="layers", showgrid=False, row=1, col=3)
    fig.update_yaxes(type="log", range=[0, 4], title_text="receptive field (pixels a side)",
                     tickvals=[1, 3, 10, 30, 100, 300, 1000, 3000, 10000], gridcolor="#eeeeee", row=1, col=3)
    for trace in fig.data[:6]:
        trace.showlegend = False
    fig.update_annotations(font_size=13, yshift=6)
    fig.update_layout(width=_WIDTH, height=_HEIGHT, margin=dict(l=20, r=20, t=80, b=40), plot_bgcolor="white",
                      legend=dict(x=0.745, y=0.99, xanchor="left", yanchor="top", bgcolor="rgba(255,255,255,0.85)",
                                  font=dict(size=11)))
    return fig


def update_dilation(fig: go.Figure, r: DilationResult, previous: DilationResult | None = None) -> None:
    """Move ``fig`` (from :func:`figure_dilation`) to ``r`` in place, touching only what changed.

    Args:
        fig: the figure to update.
        r: the new result.
        previous: the result ``fig`` shows now, if known; the comparison then needs no reads
            from the figure (which are slow). Without it the figure's own values are compared.
    """
    new = _state(r)
    apply_changes(fig, new, _state(previous) if previous is not None else None)
