"""``PredictionViewer``: browse predictions next to their ground truth, errors in red."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import torch

from ..data import SYNTHETIC_CLASSES, SYNTHETIC_PALETTE
from ..metrics import segmentation_scores
from ..validation import check_int
from ..viz.predictions import (
    check_palette,
    compute_prediction_view,
    demo_predictions,
    figure_prediction_view,
    format_percent,
    format_score,
    predict_labels,
    update_prediction_view,
)
from .base import Explorer

__all__ = ["PredictionViewer"]


def _items(name: str, value: Any) -> list[Any]:
    """A batch ``[N, …]`` (tensor or array) or a sequence, as a list of per-image items."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return list(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    raise ValueError(f"{name} of type {type(value).__name__} given; {name} must be a batch [N, …] "
                     "(torch.Tensor or numpy array) or a list with one item per image")


class PredictionViewer(Explorer):
    """Image | ground truth | prediction | errors, one image at a time.

    The errors panel dims the correct pixels to a grey copy of the image, paints the wrong ones
    red and shows unlabelled pixels (``ignore_index``) in the void colour; hovering names the
    true and the predicted class. The title gives the image's own pixel accuracy and mean IoU
    (:func:`~segviz.metrics.segmentation_scores` of its confusion matrix); the label line gives
    the numbers of the whole set, from the summed confusion matrices (not the mean of per-image
    scores).

    Give either ``predictions`` or a ``model`` (then the predictions are computed once, in
    batches, as ``model(images).argmax(1)`` under ``torch.no_grad`` in eval mode). With no
    arguments, six synthetic scenes with a deliberately imperfect prediction
    (:func:`~segviz.viz.predictions.demo_predictions`: eroded outlines, one object per scene
    given the wrong class, small objects missed; the ground truth has VOC's void band).

    Args:
        images: ``Tensor[N, 3, H, W]`` floats in [0, 1], or a list of ``[3, H, W]`` tensors or
            uint8 ``[H, W, 3]`` arrays (sizes may differ, except with a ``model``).
        masks: ground truth, ``[N, H, W]`` or a list of ``[H, W]`` label maps.
        predictions: predicted labels, like ``masks``.
        model: a segmentation model returning logits ``[N, num_classes, H, W]``.
        class_names: name per class id (their number is ``num_classes``).
        palette: RGB ``[P, 3]``, one row per class (row ``ignore_index`` draws the void label).
        ignore_index: the ground-truth label of unlabelled pixels.
        batch_size: images per forward pass with a ``model``.
    """

    def __init__(
        self,
        images: Any = None,
        masks: Any = None,
        predictions: Any = None,
        model: torch.nn.Module | None = None,
        *,
        class_names: Sequence[str] = SYNTHETIC_CLASSES,
        palette: Any = SYNTHETIC_PALETTE,
        ignore_index: int = 255,
        batch_size: int = 8,
    ):
        self.class_names = tuple(str(name) for name in class_names)
        self.num_classes = len(self.class_names)
        self.palette = check_palette(palette, self.num_classes)
        self.ignore_index = check_int("ignore_index", ignore_index)
        if images is None and masks is None and predictions is None and model is None:
            images, masks, predictions = demo_predictions(ignore_index=self.ignore_index)
        if predictions is not None and model is not None:
            raise ValueError("both predictions and model given; pass one: predictions (label maps [N, H, W]) "
                             "or a model to compute them from the images")
        if images is None or masks is None:
            missing = "images" if images is None else "masks"
            raise ValueError(f"{missing} not given; PredictionViewer needs images, masks (the ground truth) and either "
                             "predictions or a model (or no arguments at all, for the synthetic demo)")
        if predictions is None and model is None:
            raise ValueError("neither predictions nor model given; pass predictions (label maps [N, H, W]) or a model "
                             "whose logits.argmax(1) are the predictions")
        if model is not None:
            if not isinstance(images, torch.Tensor):
                try:
                    images = torch.stack([torch.as_tensor(image) for image in _items("images", images)])
                except RuntimeError as error:
                    raise ValueError(f"images of different sizes given with a model ({error}); pass a "
                                     "Tensor[N, 3, H, W] of float images (or compute predictions yourself)") from None
            predictions = predict_labels(model, images, check_int("batch_size", batch_size, minimum=1))
        self.images = _items("images", images)
        self.masks = _items("masks", masks)
        self.predictions = _items("predictions", predictions)
        counts = (len(self.images), len(self.masks), len(self.predictions))
        if len(set(counts)) != 1 or counts[0] == 0:
            raise ValueError(f"{counts[0]} images, {counts[1]} masks and {counts[2]} predictions given; "
                             "give one mask and one prediction per image (at least one image)")
        self._check_all()
        self._shown: dict[str, Any] | None = None
        n = counts[0]
        controls = {
            "index": widgets.IntSlider(value=0, min=0, max=n - 1, description="image",
                                       style={"description_width": "initial"}),
        }
        super().__init__(controls)

    def _check_all(self) -> None:
        """Every image checked up front, so that browsing never meets a bad one."""
        total = np.zeros((self.num_classes, self.num_classes), np.int64)
        for i in range(len(self.images)):
            try:
                view = self._view(i)
            except ValueError as error:
                raise ValueError(f"image {i}: {error}") from None
            total += view.confusion
        self.confusion = total

    def _view(self, index: int):
        return compute_prediction_view(self.images[index], self.masks[index], self.predictions[index],
                                       self.num_classes, self.ignore_index)

    def _heading(self, index: int) -> str:
        return f"image #{index} of {len(self.images)}: "

    def compute(self, index: int):
        return self._view(index)

    def draw(self, result):
        heading = self._heading(self.controls["index"].value)
        figure = figure_prediction_view(result, self.class_names, self.palette, heading)
        self._shown = None
        return figure

    def redraw(self, figure, result, previous) -> None:
        self._shown = update_prediction_view(figure, result, self.class_names, self.palette,
                                             self._heading(self.controls["index"].value), previous=self._shown)

    def describe(self, result) -> str:
        overall = segmentation_scores(torch.from_numpy(self.confusion))
        scored = [self.class_names[k] for k in np.flatnonzero(np.isfinite(result.iou))]
        return (f"This image: pixel accuracy <b>{format_percent(result.pixel_accuracy)}</b>, mean IoU "
                f"<b>{format_score(result.mean_iou)}</b> over the {len(scored)} classes in its ground truth or "
                f"prediction ({html.escape(', '.join(scored))}); {result.num_wrong} wrong pixels. "
                f"All {len(self.images)} images (one confusion matrix): pixel accuracy "
                f"{format_percent(overall['pixel_accuracy'])}, mean IoU {format_score(overall['mean_iou'])}.")
