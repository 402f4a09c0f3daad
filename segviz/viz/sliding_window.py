"""Per-pixel classification with a sliding window: what one pixel's classifier sees, and the cost.

``compute_sliding_window`` is pure (numpy in, dataclass out); ``figure_sliding_window`` draws a
result; ``update_sliding_window`` moves an existing figure to a new result in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..arith.cost import CostEstimate, sliding_window_cost
from ..validation import check_int, check_ndim

__all__ = ["SlidingWindowView", "compute_sliding_window", "figure_sliding_window", "update_sliding_window"]


@dataclass(frozen=True)
class SlidingWindowView:
    """One pixel's window.

    Attributes:
        row, col: the pixel being classified.
        window: side of the square window (odd, so the pixel is at its centre).
        crop: uint8 ``[window, window, 3]``, what the classifier sees (zero padding outside).
        box: ``(x0, y0, x1, y1)`` of the window in image coordinates (pixel edges, unclipped).
        label: the true class name of the pixel.
        classes_seen: names of the classes present inside the window, by pixel count.
        cost: the cost of doing this for every pixel of the image.
    """

    row: int
    col: int
    window: int
    crop: np.ndarray
    box: tuple[float, float, float, float]
    label: str
    classes_seen: tuple[str, ...]
    cost: CostEstimate


def compute_sliding_window(
    image: np.ndarray,
    mask: np.ndarray,
    class_names: Sequence[str],
    row: int,
    col: int,
    window: int,
) -> SlidingWindowView:
    """Cut the window a sliding-window classifier would use for pixel ``(row, col)``.

    Args:
        image: uint8 ``[H, W, 3]``.
        mask: integer class ids ``[H, W]`` (255 = ignore).
        class_names: name of each class id.
        row, col: the pixel, ``0 <= row < H``, ``0 <= col < W``.
        window: odd side length ``>= 1``.

    Returns:
        A :class:`SlidingWindowView`.

    Shape:
        crop: ``[window, window, 3]``; the image is zero-padded by ``window // 2`` on every side.

    Example:
        >>> img = np.arange(5 * 5 * 3, dtype=np.uint8).reshape(5, 5, 3)
        >>> view = compute_sliding_window(img, np.zeros((5, 5), int), ["background"], 0, 0, 3)
        >>> view.crop[:, :, 0].tolist()  # top-left pixel: a zero border above and to the left
        [[0, 0, 0], [0, 0, 3], [0, 15, 18]]
        >>> view.box, view.cost.redundancy
        ((-1.5, -1.5, 1.5, 1.5), 9)
    """
    check_ndim("image", image, 3, "[H, W, 3]")
    check_ndim("mask", mask, 2, "[H, W]")
    height, width = mask.shape
    if image.shape[:2] != (height, width):
        raise ValueError(
            f"image of shape {image.shape} and mask of shape {mask.shape} given; "
            "they must have the same height and width"
        )
    row = check_int("row", row, minimum=0, maximum=height - 1)
    col = check_int("col", col, minimum=0, maximum=width - 1)
    window = check_int("window", window, minimum=1)
    if window % 2 == 0:
        raise ValueError(f"window {window} given; window must be odd so the pixel sits at its centre (try {window + 1})")
    half = window // 2
    padded = np.pad(image, ((half, half), (half, half), (0, 0)))
    crop = padded[row : row + window, col : col + window]  # [window, window, 3]
    seen = mask[max(row - half, 0) : row + half + 1, max(col - half, 0) : col + half + 1]
    ids, counts = np.unique(seen[seen != 255], return_counts=True)
    order = np.argsort(-counts, kind="stable")
    name = lambda i: class_names[i] if 0 <= i < len(class_names) else f"class {i}"  # noqa: E731
    label_id = int(mask[row, col])
    return SlidingWindowView(
        row=row,
        col=col,
        window=window,
        crop=np.ascontiguousarray(crop),
        box=(col - half - 0.5, row - half - 0.5, col + half + 0.5, row + half + 0.5),
        label="ignore" if label_id == 255 else name(label_id),
        classes_seen=tuple(name(int(ids[i])) for i in order),
        cost=sliding_window_cost((height, width), window),
    )


def _titles(view: SlidingWindowView) -> tuple[str, str]:
    return (
        f"image: pixel ({view.row}, {view.col}) is <b>{view.label}</b>",
        f"what its classifier sees: {view.window}×{view.window}",
    )


def figure_sliding_window(image: np.ndarray, view: SlidingWindowView) -> go.Figure:
    """Image with the window outlined (left) and the window's contents enlarged (right).

    Traces: 0 the image, 1 the crop, 2 the centre pixel marker. Shapes: 0 the window box.
    """
    left, right = _titles(view)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], subplot_titles=(left, right),
                        horizontal_spacing=0.06)
    fig.add_trace(go.Image(z=image, hoverinfo="x+y", name="image"), row=1, col=1)
    fig.add_trace(go.Image(z=view.crop, hoverinfo="skip", name="window"), row=1, col=2)
    fig.add_trace(
        go.Scatter(x=[view.col], y=[view.row], mode="markers", name="pixel", hoverinfo="skip",
                   marker=dict(symbol="x-thin", size=12, line=dict(width=3, color="white"))),
        row=1, col=1,
    )
    x0, y0, x1, y1 = view.box
    fig.add_shape(type="rect", x0=x0, y0=y0, x1=x1, y1=y1, line=dict(color="#ffd400", width=3),
                  row=1, col=1)
    height, width = image.shape[:2]
    fig.update_xaxes(showticklabels=False, row=1, col=2)
    fig.update_yaxes(showticklabels=False, row=1, col=2)
    fig.update_xaxes(range=[-0.5, width - 0.5], row=1, col=1)
    fig.update_yaxes(range=[height - 0.5, -0.5], row=1, col=1)
    fig.update_layout(height=430, width=860, margin=dict(l=10, r=10, t=40, b=10), showlegend=False)
    return fig


def update_sliding_window(fig: go.Figure, view: SlidingWindowView) -> None:
    """Move ``fig`` (from :func:`figure_sliding_window`) to ``view`` in place."""
    x0, y0, x1, y1 = view.box
    fig.data[1].z = view.crop
    fig.data[2].x, fig.data[2].y = [view.col], [view.row]
    fig.layout.shapes[0].update(x0=x0, y0=y0, x1=x1, y1=y1)
    left, right = _titles(view)
    fig.layout.annotations[0].text = left
    fig.layout.annotations[1].text = right
