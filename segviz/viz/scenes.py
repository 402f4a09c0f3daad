"""Figures for lecture 00: the four recognition tasks, class palettes, image galleries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.colors import qualitative
from plotly.subplots import make_subplots
from torchvision.ops import masks_to_boxes

from ..data import colorize
from ..validation import check_int, check_ndim

__all__ = ["TaskViews", "compute_tasks", "figure_tasks", "figure_palette", "figure_images"]


@dataclass(frozen=True)
class TaskViews:
    """One scene as the answer to four tasks.

    Attributes:
        image: uint8 ``[H, W, 3]``.
        image_label: classification's answer: the class covering most object pixels.
        boxes: detection's answer: ``(class_name, x0, y0, x1, y1)`` per instance, pixel edges.
        semantic: uint8 ``[H, W, 3]``, the class mask in the palette's colours.
        instance: uint8 ``[H, W, 3]``, one colour per instance (same class, different colours).
    """

    image: np.ndarray
    image_label: str
    boxes: tuple[tuple[str, float, float, float, float], ...]
    semantic: np.ndarray
    instance: np.ndarray


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def compute_tasks(
    image: np.ndarray, mask: np.ndarray, instances: np.ndarray, class_names: Sequence[str], palette: np.ndarray
) -> TaskViews:
    """Derive classification, detection, semantic and instance answers from one labelled scene.

    Args:
        image: uint8 ``[H, W, 3]``.
        mask: class ids ``[H, W]``; 0 is background.
        instances: instance ids ``[H, W]``; 0 is background, each object one id.
        class_names: name per class id.
        palette: uint8 ``[num_colors, 3]`` for the semantic mask.

    Returns:
        A :class:`TaskViews`.

    Example:
        >>> mask = np.zeros((4, 6), int); mask[1:3, 0:2] = 1; mask[1:3, 3:6] = 1
        >>> inst = np.zeros((4, 6), int); inst[1:3, 0:2] = 1; inst[1:3, 3:6] = 2
        >>> views = compute_tasks(np.zeros((4, 6, 3), np.uint8), mask, inst, ["bg", "box"], np.eye(3, dtype=np.uint8) * 255)
        >>> views.image_label, views.boxes
        ('box', (('box', -0.5, 0.5, 1.5, 2.5), ('box', 2.5, 0.5, 5.5, 2.5)))
        >>> bool((views.instance[1, 0] != views.instance[1, 4]).any())  # same class, two colours
        True
    """
    check_ndim("image", image, 3, "[H, W, 3]")
    check_ndim("mask", mask, 2, "[H, W]")
    check_ndim("instances", instances, 2, "[H, W]")
    if not (image.shape[:2] == mask.shape == instances.shape):
        raise ValueError(
            f"image {image.shape}, mask {mask.shape} and instances {instances.shape} given; "
            "all three must share the same [H, W]"
        )
    mask = np.asarray(mask)
    objects = mask[(mask != 0) & (mask != 255)]
    image_label = class_names[int(np.bincount(objects).argmax())] if objects.size else class_names[0]
    ids = [int(i) for i in np.unique(instances) if i != 0]
    boxes = []
    instance_rgb = np.zeros(mask.shape + (3,), np.uint8)
    colors = qualitative.Dark24 + qualitative.Light24
    if ids:
        binary = torch.from_numpy(np.stack([instances == i for i in ids]))  # [K, H, W]
        for k, (instance_id, box) in enumerate(zip(ids, masks_to_boxes(binary).tolist())):
            class_id = int(np.bincount(mask[instances == instance_id]).argmax())
            x0, y0, x1, y1 = box
            boxes.append((class_names[class_id], x0 - 0.5, y0 - 0.5, x1 + 0.5, y1 + 0.5))
            instance_rgb[instances == instance_id] = _rgb(colors[k % len(colors)])
    return TaskViews(
        image=image,
        image_label=image_label,
        boxes=tuple(boxes),
        semantic=colorize(mask, palette),
        instance=instance_rgb,
    )


def figure_tasks(views: TaskViews) -> go.Figure:
    """Four panels: classification, object detection, semantic and instance segmentation."""
    titles = (
        f"classification: “{views.image_label}”",
        f"detection: {len(views.boxes)} boxes",
        "semantic segmentation",
        "instance segmentation",
    )
    fig = make_subplots(rows=1, cols=4, subplot_titles=titles, horizontal_spacing=0.02)
    for col, panel in enumerate([views.image, views.image, views.semantic, views.instance], start=1):
        fig.add_trace(go.Image(z=panel, hoverinfo="skip"), row=1, col=col)
    for name, x0, y0, x1, y1 in views.boxes:
        fig.add_shape(type="rect", x0=x0, y0=y0, x1=x1, y1=y1, line=dict(color="#ffd400", width=2), row=1, col=2)
        fig.add_annotation(x=max(x0, -0.5), y=max(y0, -0.5), text=name, showarrow=False, xanchor="left", yanchor="top",
                           font=dict(size=10, color="black"), bgcolor="#ffd400", row=1, col=2)
    height, width = views.image.shape[:2]
    fig.update_xaxes(showticklabels=False, range=[-0.5, width - 0.5])
    fig.update_yaxes(showticklabels=False, range=[height - 0.5, -0.5])
    fig.update_layout(height=300, width=1000, margin=dict(l=5, r=5, t=40, b=5))
    return fig


def figure_palette(class_names: Sequence[str], palette: np.ndarray, *, columns: int = 4, title: str = "") -> go.Figure:
    """A legend: one coloured square and name per class, in a grid of ``columns``.

    Example:
        >>> fig = figure_palette(["background", "cat"], np.array([[0, 0, 0], [64, 0, 0]]))
        >>> fig.data[0].marker.color
        ('rgb(0,0,0)', 'rgb(64,0,0)')
    """
    columns = check_int("columns", columns, minimum=1)
    n = len(class_names)
    if len(palette) < n:
        raise ValueError(f"palette with {len(palette)} colours given for {n} classes; it needs one colour per class")
    xs = [i % columns for i in range(n)]
    ys = [i // columns for i in range(n)]
    colors = [f"rgb({int(r)},{int(g)},{int(b)})" for r, g, b in np.asarray(palette)[:n]]
    fig = go.Figure(
        go.Scatter(
            x=xs, y=ys, mode="markers+text", text=[f"{i} {name}" for i, name in enumerate(class_names)],
            textposition="middle right", hoverinfo="text",
            marker=dict(symbol="square", size=18, color=colors, line=dict(color="#444", width=1)),
        )
    )
    rows = (n + columns - 1) // columns
    fig.update_xaxes(visible=False, range=[-0.2, columns])
    fig.update_yaxes(visible=False, range=[rows - 0.5, -0.5])
    fig.update_layout(height=40 + 28 * rows, width=220 * columns, margin=dict(l=5, r=5, t=30 if title else 5, b=5),
                      title=title or None, plot_bgcolor="white")
    return fig


def figure_images(images: Sequence[np.ndarray], titles: Sequence[str], *, height: int = 300) -> go.Figure:
    """A row of RGB images with titles (each panel keeps its own size and aspect)."""
    if len(images) != len(titles):
        raise ValueError(f"{len(images)} images and {len(titles)} titles given; give one title per image")
    fig = make_subplots(rows=1, cols=len(images), subplot_titles=list(titles), horizontal_spacing=0.02)
    for col, image in enumerate(images, start=1):
        check_ndim("images[i]", np.asarray(image), 3, "[H, W, 3]")
        fig.add_trace(go.Image(z=np.asarray(image), hoverinfo="skip"), row=1, col=col)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(height=height, width=min(1100, 300 * len(images)), margin=dict(l=5, r=5, t=40, b=5))
    return fig
