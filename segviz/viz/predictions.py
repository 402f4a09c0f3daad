"""Looking at predictions: image | ground truth | prediction | where the prediction is wrong.

A mean IoU is one number for a whole data set; the errors behind it have shapes. Shown one image
at a time, a prediction's mistakes fall into a few kinds a learner can name: a whole object given
the wrong class, a small object missed, outlines eaten away or bleeding into the background.
The errors panel dims every correct pixel to a grey copy of the image, paints every wrong pixel
red and draws the unlabelled pixels (``ignore_index``, PASCAL VOC's "void" band) in the void
colour: they are not scored, whatever was predicted there.

``compute_prediction_view`` is pure; ``figure_prediction_view`` draws a view once;
``update_prediction_view`` moves an existing figure to another view in place.
:func:`predict_labels` turns a model into label maps (batched, ``torch.no_grad``, eval mode)
and :func:`demo_predictions` makes a deliberately imperfect prediction of a few synthetic scenes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from plotly.subplots import make_subplots

from ..data import SYNTHETIC_CLASSES, SYNTHETIC_PALETTE, make_scenes, to_uint8_image
from ..metrics import confusion_matrix, per_class_iou, segmentation_scores
from ..validation import check_int
from ._state import apply_changes

__all__ = [
    "PredictionView", "compute_prediction_view", "figure_prediction_view", "update_prediction_view",
    "predict_labels", "demo_predictions", "CORRECT",
    # shared with segviz.viz.fcn_skips
    "as_label_map", "check_mask_labels", "check_names_palette", "check_palette", "void_color", "label_names",
    "drawn_labels", "label_colorscale", "legend_traces", "format_percent", "format_score",
]

CORRECT = -1  # the error map's value at correctly predicted pixels
VOID_COLOR = (224, 224, 192)  # VOC's "void" cream, for palettes without a row for ignore_index
WRONG_COLOR = (228, 26, 28)  # red
_WRONG_HEX, _INK = "#e41a1c", "#222222"


@dataclass(frozen=True)
class PredictionView:
    """One image, its ground truth, a prediction, where they differ, and FCN's scores.

    Attributes:
        image: uint8 ``[H, W, 3]``.
        mask: int64 ``[H, W]``, the ground truth; ``ignore_index`` marks unlabelled pixels.
        prediction: int64 ``[H, W]``, predicted classes ``0 … num_classes − 1``.
        num_classes, ignore_index: as given.
        ignored: bool ``[H, W]``, the unlabelled pixels (not scored).
        wrong: bool ``[H, W]``, labelled pixels whose prediction is not the ground truth.
        error_map: int64 ``[H, W]``: :data:`CORRECT` (−1) where right, the predicted class where
            wrong, ``ignore_index`` where unlabelled.
        confusion: int64 ``[num_classes, num_classes]``, :func:`~segviz.metrics.confusion_matrix`.
        pixel_accuracy, mean_accuracy, mean_iou, fw_iou: :func:`~segviz.metrics.segmentation_scores`
            of this image alone (NaN when every pixel is unlabelled).
        iou: float64 ``[num_classes]``, per-class IoU (NaN for a class in neither map).
        num_wrong, num_ignored: pixel counts.
    """

    image: np.ndarray
    mask: np.ndarray
    prediction: np.ndarray
    num_classes: int
    ignore_index: int
    ignored: np.ndarray
    wrong: np.ndarray
    error_map: np.ndarray
    confusion: np.ndarray
    pixel_accuracy: float
    mean_accuracy: float
    mean_iou: float
    fw_iou: float
    iou: np.ndarray
    num_wrong: int
    num_ignored: int


def as_label_map(name: str, value: Any, layout: str = "[H, W]") -> np.ndarray:
    """An integer label map (tensor or array) as int64 numpy; floats and booleans are refused with the fix.

    Example:
        >>> as_label_map("mask", torch.tensor([[0, 1], [255, 2]])).dtype
        dtype('int64')
    """
    array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    if array.dtype.kind == "b":
        raise ValueError(f"{name} of dtype bool given; {name} must hold integer class labels {layout}: "
                         f"for a foreground mask pass {name}.long() (background 0, foreground 1)")
    if array.dtype.kind not in "iu":
        hint = (f"for scores [num_classes, H, W] pass {name}.argmax(0)" if array.ndim == len(layout.split(",")) + 1
                else f"for labels stored as floats pass {name}.long()")
        raise ValueError(f"{name} of dtype {array.dtype} and shape {array.shape} given; {name} must hold "
                         f"integer class labels {layout}: {hint}")
    if array.ndim != len(layout.split(",")):
        raise ValueError(f"{name} of shape {array.shape} given; {name} must have {len(layout.split(','))} "
                         f"dimensions {layout}")
    return array.astype(np.int64)


def check_mask_labels(
    mask: np.ndarray, num_classes: int, ignore_index: int, fix: str = "give one class name per class"
) -> None:
    """Refuse a ground-truth label that is neither a class nor ``ignore_index``, naming it and the fix."""
    bad = (mask != ignore_index) & ((mask < 0) | (mask >= num_classes))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        value = int(mask[where])
        raise ValueError(f"mask holds {value} (at {where}), outside the classes 0 to {num_classes - 1} of "
                         f"num_classes={num_classes}; every ground-truth label must be a class index or "
                         f"ignore_index={ignore_index} (if {value} is a class, {fix}; if it marks unlabelled pixels, "
                         f"pass ignore_index={value})")


def compute_prediction_view(
    image: Any, mask: Any, prediction: Any, num_classes: int, ignore_index: int = 255
) -> PredictionView:
    """Compare one prediction with its ground truth, pixel by pixel and with FCN's scores.

    Args:
        image: ``Tensor[3, H, W]`` floats in [0, 1] (model layout) or uint8 ``[H, W, 3]``.
        mask: ground-truth labels ``[H, W]`` (tensor or array): classes ``0 … num_classes − 1``,
            or ``ignore_index`` for unlabelled pixels.
        prediction: predicted labels ``[H, W]``, classes ``0 … num_classes − 1`` everywhere
            (``logits.argmax(0)``).
        num_classes: the number of classes.
        ignore_index: the ground-truth value of unlabelled pixels (255 in PASCAL VOC).

    Returns:
        A :class:`PredictionView`; its scores equal
        ``segmentation_scores(confusion_matrix(prediction, mask, num_classes, ignore_index))``.

    Raises:
        ValueError: for shapes that differ, labels out of range, or scores passed as labels.

    Example:
        >>> mask = np.array([[0, 0, 1], [1, 1, 255]])
        >>> view = compute_prediction_view(np.zeros((2, 3, 3), np.uint8), mask, np.array([[0, 1, 1], [1, 0, 0]]), 2)
        >>> view.error_map.tolist()
        [[-1, 1, -1], [-1, 0, 255]]
        >>> view.num_wrong, view.num_ignored, view.pixel_accuracy, round(view.mean_iou, 3)
        (2, 1, 0.6, 0.417)
    """
    num_classes = check_int("num_classes", num_classes, minimum=1)
    ignore_index = check_int("ignore_index", ignore_index)
    rgb = to_uint8_image(image)
    truth = as_label_map("mask", mask)
    pred = as_label_map("prediction", prediction)
    if not rgb.shape[:2] == truth.shape == pred.shape:
        raise ValueError(f"image {tuple(rgb.shape)}, mask {truth.shape} and prediction {pred.shape} given; "
                         "all three must share the same [H, W] (upsample the prediction to the image size first)")
    check_mask_labels(truth, num_classes, ignore_index)
    bad = (pred < 0) | (pred >= num_classes)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"prediction holds {int(pred[where])} (at {where}), outside the classes 0 to "
                         f"{num_classes - 1} of num_classes={num_classes}; every predicted label must be a class "
                         "index (a model's logits.argmax(0)), never the ignore label")
    confusion = confusion_matrix(torch.from_numpy(pred), torch.from_numpy(truth), num_classes, ignore_index)
    scores = segmentation_scores(confusion)
    ignored = truth == ignore_index
    wrong = ~ignored & (pred != truth)
    error_map = np.where(wrong, pred, np.where(ignored, ignore_index, CORRECT))
    return PredictionView(
        image=rgb, mask=truth, prediction=pred, num_classes=num_classes, ignore_index=ignore_index,
        ignored=ignored, wrong=wrong, error_map=error_map.astype(np.int64), confusion=confusion.numpy(),
        pixel_accuracy=scores["pixel_accuracy"], mean_accuracy=scores["mean_accuracy"],
        mean_iou=scores["mean_iou"], fw_iou=scores["fw_iou"], iou=per_class_iou(confusion).numpy(),
        num_wrong=int(wrong.sum()), num_ignored=int(ignored.sum()),
    )


def predict_labels(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 8) -> np.ndarray:
    """``model(images).argmax(1)``, in batches, under ``torch.no_grad`` and in eval mode.

    The model's train/eval mode is restored afterwards, and the images go to the model's device.

    Args:
        model: a segmentation model returning logits ``[N, num_classes, H, W]``.
        images: ``Tensor[N, C, H, W]``.
        batch_size: images per forward pass.

    Returns:
        int64 ``np.ndarray[N, H, W]``.

    Example:
        >>> from segviz.models import FCN8s
        >>> model = FCN8s(num_classes=3, channels=(4, 4, 8, 8, 8), num_convs=1, fc_channels=8)
        >>> predict_labels(model, torch.zeros(3, 3, 40, 40), batch_size=2).shape
        (3, 40, 40)
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model of type {type(model).__name__} given; model must be a torch.nn.Module "
                         "returning logits [N, num_classes, H, W], e.g. segviz.models.FCN8s")
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
        raise ValueError(f"images {shape} given; a model needs a torch.Tensor [N, 3, H, W] of float images")
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    dtype = parameter.dtype if parameter is not None and parameter.dtype.is_floating_point else torch.float32
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            labels = [model(images[i : i + batch_size].to(device, dtype)).argmax(1).cpu()  # [B, H, W]
                      for i in range(0, images.shape[0], batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(labels).numpy().astype(np.int64)


def _coarse_labels(masks: torch.Tensor, num_classes: int, stride: int) -> torch.Tensor:
    """What a perfect stride-``s`` scorer predicts: class shares per ``s × s`` block, upsampled, argmax."""
    onehot = F.one_hot(masks, num_classes).permute(0, 3, 1, 2).to(torch.float32)  # [N, K, H, W]
    shares = F.avg_pool2d(onehot, stride, ceil_mode=True)  # [N, K, ⌈H/s⌉, ⌈W/s⌉]
    upsampled = F.interpolate(shares, scale_factor=stride, mode="bilinear", align_corners=False)
    return upsampled[..., : masks.shape[-2], : masks.shape[-1]].argmax(1)  # [N, H, W]


def demo_predictions(
    num_images: int = 6, size: int = 96, seed: int = 0, ignore_index: int = 255
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A few synthetic scenes, a VOC-style ground truth and a deliberately imperfect prediction.

    The ground truth is :func:`~segviz.data.make_scenes`'s mask with its boundary pixels (an
    8-neighbour of another label) set to ``ignore_index``, like PASCAL VOC's void band. The
    "prediction" damages the clean mask the way real models fail: it is what a perfect
    stride-8 scorer would predict (the class shares of each 8×8 block, upsampled bilinearly,
    argmax: corners rounded, thin parts lost, outlines off by a pixel or two), then the
    largest object of each scene is given the next object class (a class confusion) and, in
    scenes with three objects or more, the smallest one is missed (predicted background).

    Args:
        num_images: how many scenes.
        size: their side in pixels.
        seed: which synthetic data set.
        ignore_index: the label of the void band.

    Returns:
        ``(images, masks, predictions)``: ``Tensor[N, 3, S, S]`` float, ``Tensor[N, S, S]`` int64
        (with ``ignore_index``), ``Tensor[N, S, S]`` int64 (classes only).

    Example:
        >>> images, masks, predictions = demo_predictions(2, size=32)
        >>> tuple(images.shape), bool((masks == 255).any()), int(predictions.max()) < 7
        ((2, 3, 32, 32), True, True)
    """
    scenes = make_scenes(check_int("num_images", num_images, minimum=1), size, seed=seed)
    masks, instances = scenes.masks, scenes.instances
    values = masks.to(torch.float32)[:, None]
    boundary = (F.max_pool2d(values, 3, 1, 1) != -F.max_pool2d(-values, 3, 1, 1))[:, 0]  # [N, S, S]
    truth = masks.masked_fill(boundary, ignore_index)
    num_classes = len(SYNTHETIC_CLASSES)
    predictions = _coarse_labels(masks, num_classes, 8)
    for i in range(masks.shape[0]):
        ids = sorted((int(k) for k in instances[i].unique() if k != 0), key=lambda k: -int((instances[i] == k).sum()))
        for rank, k in enumerate(ids):
            cls = int(masks[i][instances[i] == k][0])
            region = (instances[i] == k) & (predictions[i] == cls)
            if rank == 0:
                predictions[i][region] = cls % (num_classes - 1) + 1  # the next object class
            elif rank == len(ids) - 1 and len(ids) >= 3:
                predictions[i][region] = 0
    return scenes.images, truth, predictions


# --- drawing ---------------------------------------------------------------------------------
# Helpers shared with segviz.viz.fcn_skips: colours, hover names and a class legend.

def _rgb_string(color: Sequence[int]) -> str:
    r, g, b = (int(c) for c in color)
    return f"rgb({r},{g},{b})"


def void_color(palette: np.ndarray, ignore_index: int) -> tuple[int, int, int]:
    """The palette's colour for ``ignore_index`` if it has that row, else VOC's void cream.

    Example:
        >>> void_color(SYNTHETIC_PALETTE, 255), void_color(SYNTHETIC_PALETTE[:7], 255)
        ((224, 224, 192), (224, 224, 192))
    """
    palette = np.asarray(palette)
    if 0 <= ignore_index < len(palette):
        return tuple(int(c) for c in palette[ignore_index])  # type: ignore[return-value]
    return VOID_COLOR


def label_names(class_names: Sequence[str], ignore_index: int) -> np.ndarray:
    """Hover names indexed by *drawn* label: classes, then the void entry at ``num_classes``."""
    return np.asarray([*(f"{i} {name}" for i, name in enumerate(class_names)), f"{ignore_index} void (not scored)"])


def drawn_labels(labels: np.ndarray, num_classes: int, ignore_index: int) -> np.ndarray:
    """Labels with ``ignore_index`` moved to ``num_classes`` (the last colour of :func:`label_colorscale`)."""
    return np.where(labels == ignore_index, num_classes, labels).astype(np.int64)


def label_colorscale(palette: np.ndarray, num_classes: int, ignore_index: int) -> list[list[Any]]:
    """A stepped colour scale: value ``k`` gets ``palette[k]``, value ``num_classes`` the void colour.

    Use it with ``zmin=-0.5`` and ``zmax=num_classes + 0.5`` on :func:`drawn_labels`.

    Example:
        >>> label_colorscale(np.array([[0, 0, 0], [255, 0, 0]]), 2, 255)[:4]
        [[0.0, 'rgb(0,0,0)'], [0.333..., 'rgb(0,0,0)'], [0.333..., 'rgb(255,0,0)'], [0.666..., 'rgb(255,0,0)']]
    """
    colors = [_rgb_string(c) for c in np.asarray(palette)[:num_classes]]
    colors.append(_rgb_string(void_color(palette, ignore_index)))
    n = len(colors)
    scale: list[list[Any]] = []
    for k, color in enumerate(colors):
        scale += [[k / n, color], [(k + 1) / n, color]]
    scale[-1][0] = 1.0
    return scale


def legend_traces(
    class_names: Sequence[str], palette: np.ndarray, ignore_index: int, extra: Sequence[tuple[str, str]] = ()
) -> list[go.Scatter]:
    """One legend entry per class (its colour and ``"id name"``), the void label and ``extra`` (name, colour)."""
    entries = [(f"{i} {name}", _rgb_string(np.asarray(palette)[i])) for i, name in enumerate(class_names)]
    entries.append((f"{ignore_index} void (not scored)", _rgb_string(void_color(palette, ignore_index))))
    entries += list(extra)
    return [
        go.Scatter(x=[None], y=[None], mode="markers", name=name, hoverinfo="skip", showlegend=True,
                   marker=dict(symbol="square", size=13, color=color, line=dict(color="#666", width=1)))
        for name, color in entries
    ]


def check_palette(palette: Any, num_classes: int) -> np.ndarray:
    """A uint8-like ``[P, 3]`` palette with at least one row per class."""
    array = np.asarray(palette.detach().cpu() if isinstance(palette, torch.Tensor) else palette)
    if array.ndim != 2 or array.shape[1] != 3 or len(array) < num_classes:
        raise ValueError(f"palette of shape {array.shape} given for {num_classes} classes; palette must be an RGB "
                         f"table [P, 3] with a row per class (P >= {num_classes}), e.g. SYNTHETIC_PALETTE")
    return array.astype(np.int64)


def check_names_palette(class_names: Sequence[str], palette: Any, num_classes: int) -> np.ndarray:
    """A name and a palette row per class; returns the palette as int64 ``[P, 3]``."""
    if isinstance(class_names, str) or len(class_names) < num_classes:
        count = 1 if isinstance(class_names, str) else len(class_names)
        raise ValueError(f"{count} class names given for {num_classes} classes; give a sequence with one name per "
                         "class (e.g. SYNTHETIC_CLASSES for 7 classes, VOC_CLASSES for 21)")
    return check_palette(palette, num_classes)


def format_percent(value: float) -> str:
    """``0.9123`` → ``'91.2 %'``; NaN (nothing to score) → ``'–'``.

    Example:
        >>> format_percent(0.9123), format_percent(float("nan"))
        ('91.2 %', '–')
    """
    return "–" if math.isnan(value) else f"{100 * value:.1f} %"


def format_score(value: float) -> str:
    """``0.7123`` → ``'0.71'``; NaN → ``'–'``."""
    return "–" if math.isnan(value) else f"{value:.2f}"


def _error_rgb(v: PredictionView, void: tuple[int, int, int]) -> np.ndarray:
    """Correct pixels: the image in light grey; wrong: red; unlabelled: the void colour."""
    grey = v.image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)  # [H, W]
    dimmed = 120 + 0.45 * grey  # 120 … 235: the scene stays readable, nothing looks like an error
    out = np.repeat(dimmed[..., None], 3, axis=2)
    out[v.wrong] = WRONG_COLOR
    out[v.ignored] = void
    return np.round(out).astype(np.uint8)


def _panel_titles(v: PredictionView) -> tuple[str, str, str, str]:
    labelled = v.mask.size - v.num_ignored
    share = f" ({format_percent(v.num_wrong / labelled)})" if labelled else ""
    return (
        "image",
        "ground truth" + (f" ({v.num_ignored} void px)" if v.num_ignored else ""),
        "prediction",
        f"errors: <b>{v.num_wrong}</b> wrong px{share}",
    )


def _state(v: PredictionView, class_names: Sequence[str], palette: np.ndarray, title: str) -> dict[str, Any]:
    names = label_names(class_names[: v.num_classes], v.ignore_index)
    truth = drawn_labels(v.mask, v.num_classes, v.ignore_index)
    void = void_color(palette, v.ignore_index)
    colors = np.vstack([palette[: v.num_classes], void]).astype(np.uint8)
    truth_names, pred_names = names[truth], names[v.prediction]
    mistaken = np.char.add(np.char.add("✗ true ", truth_names), np.char.add(", predicted ", pred_names))
    error_text = np.where(v.wrong, mistaken,
                          np.where(v.ignored, "void: not scored", np.char.add("✓ ", truth_names)))
    height, width = v.mask.shape
    state: dict[str, Any] = {
        "0.z": v.image,
        "1.z": colors[truth], "1.hovertext": truth_names,
        "2.z": colors[v.prediction], "2.hovertext": pred_names,
        "3.z": _error_rgb(v, void), "3.hovertext": error_text,
        "layout.title.text": title,
        f"{4 + v.num_classes}.showlegend": bool(v.num_ignored),  # the void entry, when there is void
    }
    for k, text in enumerate(_panel_titles(v)):
        state[f"layout.annotations.{k}.text"] = text
    for k in range(1, 5):
        suffix = "" if k == 1 else str(k)
        state[f"layout.xaxis{suffix}.range"] = [-0.5, width - 0.5]
        state[f"layout.yaxis{suffix}.range"] = [height - 0.5, -0.5]
    return state


def _title(v: PredictionView, heading: str) -> str:
    return (f"{heading}pixel accuracy <b>{format_percent(v.pixel_accuracy)}</b> · mean IoU "
            f"<b>{format_score(v.mean_iou)}</b> (void pixels are not scored)")


def figure_prediction_view(
    v: PredictionView, class_names: Sequence[str] = SYNTHETIC_CLASSES, palette: Any = SYNTHETIC_PALETTE,
    heading: str = "",
) -> go.Figure:
    """Four panels: image, ground truth, prediction, errors; a class legend below.

    Traces: 0 image, 1 ground truth, 2 prediction, 3 errors (all ``go.Image``, hover names the
    class), then the legend entries. Layout annotations 0–3 are the panel titles; the figure
    title holds the image's pixel accuracy and mean IoU, after ``heading``.

    Args:
        v: the view to draw.
        class_names: name per class id.
        palette: RGB ``[P, 3]``, a row per class (and ideally one for ``ignore_index``).
        heading: text before the scores in the title, e.g. ``"scene 3 of 6: "``.
    """
    palette = check_names_palette(class_names, palette, v.num_classes)
    st = _state(v, class_names, palette, _title(v, heading))
    fig = make_subplots(rows=1, cols=4, subplot_titles=_panel_titles(v), horizontal_spacing=0.015)
    hover = "row %{y}, col %{x}<br>%{hovertext}<extra></extra>"
    fig.add_trace(go.Image(z=st["0.z"], hovertemplate="row %{y}, col %{x}<extra></extra>", name="image"), 1, 1)
    for k, name in ((1, "ground truth"), (2, "prediction"), (3, "errors")):
        fig.add_trace(go.Image(z=st[f"{k}.z"], hovertext=st[f"{k}.hovertext"], hovertemplate=hover, name=name),
                      1, k + 1)
    extra = [("wrong pixel", _WRONG_HEX), ("correct pixel (image dimmed)", "rgb(185,185,185)")]
    for trace in legend_traces(class_names[: v.num_classes], palette, v.ignore_index, extra=extra):
        fig.add_trace(trace, 1, 1)
    for k in range(1, 5):
        fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain",
                         range=st["layout.xaxis.range"], row=1, col=k)
        fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain",
                         range=st["layout.yaxis.range"], scaleanchor=f"x{'' if k == 1 else k}", row=1, col=k)
    fig.update_annotations(font_size=13)
    fig.update_layout(
        width=1100, height=400, margin=dict(l=10, r=10, t=75, b=10), plot_bgcolor="white",
        title=dict(text=st["layout.title.text"], x=0.5, xanchor="center", font_size=15),
        legend=dict(orientation="h", x=0.5, xanchor="center", y=-0.02, yanchor="top", font_size=12),
    )
    return fig


def update_prediction_view(
    fig: go.Figure, v: PredictionView, class_names: Sequence[str] = SYNTHETIC_CLASSES, palette: Any = SYNTHETIC_PALETTE,
    heading: str = "", previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Move ``fig`` (from :func:`figure_prediction_view`) to ``v`` in place.

    Args:
        fig: the figure to update.
        v, class_names, palette, heading: as for :func:`figure_prediction_view`.
        previous: the state this function returned for what ``fig`` shows now, if known (then
            nothing is read back from the figure).

    Returns:
        The state now shown (pass it as ``previous`` next time).
    """
    palette = check_names_palette(class_names, palette, v.num_classes)
    new = _state(v, class_names, palette, _title(v, heading))
    apply_changes(fig, new, previous)
    return new
