"""Transposed convolution as stamping: each input pixel weights a copy of the kernel; overlaps add.

``compute_transposed_conv`` is pure (control values in, :class:`TransposedConvView` out);
``figure_transposed_conv`` draws a view once; ``update_transposed_conv`` moves an existing figure
to a new view in place. The figure has four panels: the input, the kernel, the output canvas with
the running sum of the first ``step`` stamps (the current stamp outlined) and the overlap count,
how many stamps touch each output pixel (the checkerboard when the kernel is not a multiple of the
stride).

Every number comes from the from-scratch ops: the stamps from
:func:`~segviz.ops.conv_transpose2d_scatter` (one batch sample per input pixel), the output from
:func:`~segviz.ops.conv_transpose2d_via_matrix`, the counts from :func:`~segviz.ops.overlap_count`;
the tests compare them with ``F.conv_transpose2d``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
import torch

from ..ops import conv_transpose2d_scatter, conv_transpose2d_via_matrix, overlap_count
from ..validation import check_int
from .conv_matrix import Box, Panel, State, apply_state, grid_figure, light_scale

__all__ = [
    "TransposedConvView", "compute_transposed_conv", "describe_stamp", "evenness", "transposed_conv_state",
    "figure_transposed_conv", "update_transposed_conv",
]


@dataclass(frozen=True, eq=False)  # compared by identity: a figure state is cached per view
class TransposedConvView:
    """A transposed convolution of one small integer input, after ``step`` of its stamps.

    The *canvas* is the output before ``padding`` is cropped: ``(H − 1)·s + d(k − 1) + 1 + op``
    pixels a side. Input pixel ``(i, j)`` stamps ``x[i, j] · kernel`` with its top-left tap at
    canvas ``(i·s, j·s)`` and its taps ``d`` apart; the output is the canvas without ``padding``
    rows and columns on every side.

    Attributes:
        input_size, kernel_size, stride, padding, output_padding, dilation: the layer (square).
        step: how many stamps are summed so far, ``0 … input_size²`` (row-major order).
        x: the input, int64 ``[H, H]``.
        kernel: int64 ``[k, k]``.
        canvas: the sum of all stamps, int64 ``[C, C]``.
        partial: the sum of the first ``step`` stamps, int64 ``[C, C]``.
        output: ``F.conv_transpose2d(x, kernel, …)``, int64 ``[H_out, H_out]``.
        counts: how many stamps touch each canvas pixel, int64 ``[C, C]``.
    """

    input_size: int
    kernel_size: int
    stride: int
    padding: int
    output_padding: int
    dilation: int
    step: int
    x: np.ndarray
    kernel: np.ndarray
    canvas: np.ndarray
    partial: np.ndarray
    output: np.ndarray
    counts: np.ndarray

    @property
    def output_size(self) -> int:
        return int(self.output.shape[0])

    @property
    def canvas_size(self) -> int:
        return int(self.canvas.shape[0])

    @property
    def num_steps(self) -> int:
        return self.input_size**2

    @property
    def span(self) -> int:
        """Extent of one (dilated) stamp: ``d(k − 1) + 1``."""
        return self.dilation * (self.kernel_size - 1) + 1

    @property
    def pixel(self) -> tuple[int, int] | None:
        """The input pixel of the latest stamp, ``None`` before the first."""
        return None if self.step == 0 else divmod(self.step - 1, self.input_size)

    @property
    def corner(self) -> tuple[int, int] | None:
        """Canvas ``(row, col)`` of the latest stamp's top-left tap: ``(i·s, j·s)``."""
        pixel = self.pixel
        return None if pixel is None else (pixel[0] * self.stride, pixel[1] * self.stride)

    def formula(self) -> str:
        """The output size, worked out: ``(H−1)·s − 2p + d(k−1) + op + 1 = (2−1)·2 − … = 4``."""
        h, k, s, p, op, d = (self.input_size, self.kernel_size, self.stride, self.padding,
                             self.output_padding, self.dilation)
        return (f"(H−1)·s − 2p + d(k−1) + op + 1 = ({h}−1)·{s} − 2·{p} + {d}·({k}−1) + {op} + 1 "
                f"= {self.output_size}")


def layer_values(input_size: int, kernel_size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Small integers (1 … 3) for the input and the kernel, easy to multiply and add by hand.

    Both are the top-left corners of fixed 8×8 and 7×7 draws, so changing a size keeps the
    values already on screen.

    Example:
        >>> x, w = layer_values(2, 3, seed=0)
        >>> x.tolist(), w.tolist()
        ([[3, 2], [1, 3]], [[3, 1, 2], [1, 2, 2], [2, 2, 3]])
    """
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 4, size=(8, 8))
    kernel = rng.integers(1, 4, size=(7, 7))
    n, k = max(input_size, 8), max(kernel_size, 7)
    if n > 8 or k > 7:  # larger than the fixed draws: extend them, keeping the corners
        x = np.pad(x, ((0, n - 8), (0, n - 8)), mode="wrap")
        kernel = np.pad(kernel, ((0, k - 7), (0, k - 7)), mode="wrap")
    return x[:input_size, :input_size].astype(np.int64), kernel[:kernel_size, :kernel_size].astype(np.int64)


@lru_cache(maxsize=256)
def _layer(input_size: int, kernel_size: int, stride: int, padding: int, output_padding: int, dilation: int,
           seed: int):
    """Everything that does not depend on ``step`` (cached: stepping is a look-up)."""
    x, kernel = layer_values(input_size, kernel_size, seed)
    x_t = torch.from_numpy(x).double()[None, None]  # [1, 1, H, H]
    w_t = torch.from_numpy(kernel).double()[None, None]  # [C_in=1, C_out=1, k, k]
    # the output (this also checks output_padding and padding, with the core's teaching errors)
    output = conv_transpose2d_via_matrix(x_t, w_t, None, stride, padding, output_padding, dilation)[0, 0]
    # one batch sample per input pixel, holding only that pixel: sample t is stamp t on the canvas
    n2 = input_size * input_size
    single = torch.diag_embed(x_t.reshape(n2)).reshape(n2, 1, input_size, input_size)  # [H², 1, H, H]
    stamps = conv_transpose2d_scatter(single, w_t, None, stride, 0, output_padding, dilation)[:, 0]  # [H², C, C]
    cumulative = torch.cat([torch.zeros_like(stamps[:1]), stamps.cumsum(0)])  # [H² + 1, C, C]
    counts = overlap_count(input_size, kernel_size, stride, 0, output_padding, dilation)  # [C, C]
    arrays = (x, kernel, output.round().long().numpy(), cumulative.round().long().numpy(), counts.numpy())
    for array in arrays:
        array.setflags(write=False)
    return arrays


def compute_transposed_conv(
    input_size: int = 2,
    kernel_size: int = 3,
    stride: int = 2,
    padding: int = 1,
    output_padding: int = 1,
    dilation: int = 1,
    step: int | None = None,
    *,
    seed: int = 0,
) -> TransposedConvView:
    """Stamp the kernel once per input pixel, up to ``step`` stamps, for a single-channel layer.

    Args:
        input_size: ``H`` (the input is ``H × H`` small integers drawn with ``seed``).
        kernel_size: ``k`` (a ``k × k`` kernel of small integers).
        stride: ``s``, the distance between neighbouring stamps on the canvas.
        padding: ``p``, rows and columns cropped from every side of the canvas.
        output_padding: ``op``, extra rows and columns at the bottom and right; ``op <
            max(s, d)``.
        dilation: ``d``, the spacing between the taps of a stamp.
        step: how many stamps to sum, ``0 … H²`` (``None``: all of them).
        seed: draws the small integers.

    Returns:
        A :class:`TransposedConvView`.

    Raises:
        ValueError: from the core, quoting the arguments, for an ``output_padding`` PyTorch
            refuses or a ``padding`` that crops the whole output away.

    Shape:
        output: ``[H_out, H_out]``, ``H_out = (H − 1)·s − 2p + d(k − 1) + op + 1``.

    Example:
        The lecture's picture: a 2×2 input, a 3×3 kernel, stride 2, padding 1, output padding 1
        gives a 4×4 output, cropped from a 6×6 canvas:

        >>> view = compute_transposed_conv(2, 3, 2, 1, 1)
        >>> view.canvas_size, view.output_size, view.num_steps
        (6, 4, 4)
        >>> view.x.tolist(), view.kernel.tolist()
        ([[3, 2], [1, 3]], [[3, 1, 2], [1, 2, 2], [2, 2, 3]])
        >>> compute_transposed_conv(2, 3, 2, 1, 1, step=1).partial[:3, :3].tolist()  # x[0,0] = 3 times the kernel
        [[9, 3, 6], [3, 6, 6], [6, 6, 9]]
        >>> view.output.tolist()  # the centre sums all four stamps: 9 + 4 + 2 + 9
        [[6, 8, 4, 4], [7, 24, 7, 12], [2, 5, 6, 6], [2, 9, 6, 9]]
    """
    input_size = check_int("input size", input_size, minimum=1)
    kernel_size = check_int("kernel", kernel_size, minimum=1)
    stride = check_int("stride", stride, minimum=1)
    padding = check_int("padding", padding, minimum=0)
    output_padding = check_int("output_padding", output_padding, minimum=0)
    dilation = check_int("dilation", dilation, minimum=1)
    x, kernel, output, cumulative, counts = _layer(
        input_size, kernel_size, stride, padding, output_padding, dilation, int(seed)
    )
    n2 = input_size * input_size
    step = n2 if step is None else check_int("step", step, minimum=0, maximum=n2)
    return TransposedConvView(
        input_size=input_size, kernel_size=kernel_size, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation, step=step, x=x, kernel=kernel,
        canvas=cumulative[-1], partial=cumulative[step], output=output, counts=counts,
    )


# --- figure ------------------------------------------------------------------------------------

WIDTH, HEIGHT = 940, 560
MARGIN = dict(l=8, r=8, t=8, b=8)
_PLOT = (WIDTH - MARGIN["l"] - MARGIN["r"], HEIGHT - MARGIN["t"] - MARGIN["b"])
_PANELS = {  # the kernel and the counts need no row and column labels
    "input": Panel("input", 2, 0, 0, Box(0, 0, 196, 236), _PLOT, light_scale("#9e9ac8"), max_cell=36),
    "kernel": Panel("kernel", 3, 1, 1, Box(0, 290, 196, 236), _PLOT, light_scale("#74c476"), max_cell=36,
                    ticks=False),
    "canvas": Panel("canvas", 4, 2, 2, Box(214, 0, 482, 544), _PLOT, light_scale("#5a9fd4"), max_cell=60,
                    hover="canvas row %{y}, col %{x}<br>after all stamps: %{z}"),
    "counts": Panel("counts", 5, 3, 3, Box(712, 0, 212, 290), _PLOT, light_scale("#fd8d3c"), max_cell=36,
                    hover="row %{y}, col %{x}: %{z} stamps", ticks=False, title_lines=3),
}


def evenness(view: TransposedConvView) -> str | None:
    """Are the overlap counts the same everywhere away from the border? (``None``: no inside.)

    Inside means canvas rows and columns ``d(k−1) … (H−1)·s``, which every stamp could reach from
    some input pixel; there, uneven counts are the checkerboard of Odena et al. (2016).

    Example:
        >>> evenness(compute_transposed_conv(6, 3, 2, 0, 0)), evenness(compute_transposed_conv(6, 4, 2, 0, 0))
        ('uneven inside: the checkerboard', 'even inside')
    """
    lo, hi = view.span - 1, (view.input_size - 1) * view.stride
    if hi - lo < 1:
        return None
    inside = view.counts[lo : hi + 1, lo : hi + 1]
    return "even inside" if int(inside.min()) == int(inside.max()) else "uneven inside: the checkerboard"


def describe_stamp(view: TransposedConvView) -> str:
    """The latest stamp in words, for a label next to the figure.

    Example:
        >>> describe_stamp(compute_transposed_conv(2, 3, 2, 1, 1, step=3))
        'stamp 3 of 4: x[1,0] = 1 times the kernel, its corner at (1·2, 0·2) = (2, 0) on the canvas'
    """
    if view.pixel is None:
        return f"no stamp yet: press ▶ or move <i>step</i> to add the {view.num_steps} stamps one by one"
    (i, j), (r, q) = view.pixel, view.corner
    text = (f"stamp {view.step} of {view.num_steps}: x[{i},{j}] = {int(view.x[i, j])} times the kernel, "
            f"its corner at ({i}·{view.stride}, {j}·{view.stride}) = ({r}, {q}) on the canvas")
    if view.step == view.num_steps:
        text += "; all stamps summed: the output of F.conv_transpose2d"
    return text


def _titles(view: TransposedConvView) -> dict[str, str]:
    """Panel titles."""
    n, k, c, h_out = view.input_size, view.kernel_size, view.canvas_size, view.output_size
    if view.step == 0:
        running = f"no stamp yet (of {view.num_steps})"
    elif view.step == view.num_steps:
        running = f"all {view.num_steps} stamps summed"
    else:
        running = f"the first {view.step} of {view.num_steps} stamps"
    crop = (f"dashed: the {h_out}×{h_out} output (padding {view.padding} cropped)"
            if view.padding else f"all of it is the {h_out}×{h_out} output")
    if view.pixel is None:
        pixel = "each weights one stamp"
    else:
        pixel = f"x[{view.pixel[0]},{view.pixel[1]}] = {int(view.x[view.pixel])} weights stamp {view.step}"
    taps = f"<br>dilation {view.dilation}: taps {view.dilation} apart" if view.dilation > 1 else ""
    even = evenness(view)
    return {
        "input": f"<b>input x</b> {n}×{n}<br>{pixel}",
        "kernel": f"<b>kernel</b> {k}×{k}{taps}",
        "canvas": f"<b>output canvas</b> {c}×{c}: {running}<br>{crop}",
        "counts": f"<b>overlap count</b><br>stamps per pixel, max {int(view.counts.max())}"
                  + (f"<br>{even}" if even else ""),
    }


@lru_cache(maxsize=4)
def transposed_conv_state(view: TransposedConvView) -> State:
    """Everything of the figure that depends on ``view``, as flat plotly paths (see :func:`apply_state`).

    Only the overlays of the input and the canvas depend on ``step``.
    """
    c, p, h_out = view.canvas_size, view.padding, view.output_size
    titles = _titles(view)
    state: State = {}
    overlays = {}
    for name, values, zmax in (("input", view.x, 3), ("kernel", view.kernel, 3),
                               ("canvas", view.canvas, int(view.canvas.max())),
                               ("counts", view.counts, int(view.counts.max()))):
        panel = _PANELS[name]
        frame = panel.frame(*values.shape)
        state.update(panel.colors(values, zmax))
        state.update(panel.axes(frame))
        overlays[name] = panel.overlay(frame, titles[name])

    pixel = view.pixel
    overlays["input"].grid().numbers(view.x)
    if pixel is not None:
        overlays["input"].box(pixel[0], pixel[1], pixel[0] + 1, pixel[1] + 1)
    overlays["kernel"].grid().numbers(view.kernel)

    # the canvas: the running sum's colours and numbers (numbers where a stamp has landed, and the
    # 0s no stamp reaches), the cropped border faded, the output outlined, the latest stamp outlined
    zmax = int(view.canvas.max())
    canvas = overlays["canvas"].cells(view.partial, zmax, _PANELS["canvas"].colorscale)
    canvas.numbers(view.partial, (view.partial != 0) | (view.counts == 0), chars=len(str(zmax)))
    counts = overlays["counts"].grid().numbers(view.counts)
    if p:
        for overlay in (canvas, counts):
            overlay.veil(p, p, p + h_out, p + h_out)
            overlay.box(p, p, p + h_out, p + h_out, color="#333", width=1.5, dash="5 3")
    if pixel is not None:
        (r, q), span = view.corner, view.span
        canvas.box(r, q, r + span, q + span)
        if view.dilation > 1:  # the footprint has holes: mark the taps
            taps = range(0, span, view.dilation)
            canvas.squares([(r + a, q + b) for a in taps for b in taps])
    for name, overlay in overlays.items():
        state.update(_PANELS[name].draw(overlay))
    return state


def figure_transposed_conv(view: TransposedConvView) -> go.Figure:
    """Input, kernel, output canvas (running sum, latest stamp outlined) and overlap counts.

    Panels, in this order (heatmap trace ``k``, overlay ``layout.images[k]``): input, kernel,
    canvas, counts. The canvas's heatmap holds the final sums (for hover); its overlay draws the
    running sum over it.
    """
    traces = [panel.heatmap() for panel in _PANELS.values()]
    return grid_figure(traces, _PANELS.values(), WIDTH, HEIGHT, MARGIN, transposed_conv_state(view))


def update_transposed_conv(
    fig: go.Figure, view: TransposedConvView, previous: TransposedConvView | None = None
) -> None:
    """Move ``fig`` (from :func:`figure_transposed_conv`) to ``view`` in place.

    Args:
        fig: the figure.
        view: what to show.
        previous: what ``fig`` shows now, if known; then only what differs is sent (a ``step``
            or ``padding`` change sends overlay images only, which the browser redraws without
            the rest).
    """
    apply_state(fig, transposed_conv_state(view), None if previous is None else transposed_conv_state(previous))
