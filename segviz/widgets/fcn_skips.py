"""``FCNSkipExplorer``: FCN-32s, 16s and 8s on one image, stride by stride."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import torch

from ..data import SYNTHETIC_CLASSES, SYNTHETIC_PALETTE, make_scenes
from ..models import FCN8s
from ..validation import check_int
from ..viz.fcn_skips import (
    STRIDES,
    check_fcn_model,
    compute_fcn_skips,
    figure_fcn_skips,
    fit_score_layers,
    update_fcn_skips,
)
from ..viz.predictions import check_names_palette, format_percent, format_score
from .base import Explorer

__all__ = ["FCNSkipExplorer"]

MAX_WIDTH = 8  # the trimap band slider: 1 … 8 pixels
DEFAULT_SCENES, DEFAULT_SIZE = 6, 128


def default_fcn(images: torch.Tensor, masks: torch.Tensor, num_classes: int, seed: int = 0) -> FCN8s:
    """A small FCN-8s (random VGG encoder, seeded) whose score layers are fitted to ``images``.

    Not a trained network: :func:`~segviz.viz.fcn_skips.fit_score_layers` solves for the 1×1
    score layers by least squares on these very images, which takes a fraction of a second and
    is enough to show what each skip adds. The global random state is left untouched.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = FCN8s(num_classes)
    return fit_score_layers(model, images, masks).eval()


class FCNSkipExplorer(Explorer):
    """One image through an FCN: the coarse scores at strides 32, 16, 8 and their upsampled predictions.

    Top row: the image, then the score maps at their native resolution (one block per unit, the
    grid visible), labelled by their argmax; bottom row: the ground truth (the pale band is the
    trimap scored by the boundary accuracy) and each stride's scores upsampled to the image
    size, with pixel accuracy, mean IoU and boundary accuracy in the titles. ``show`` switches
    every map from labels to the score (logit) of one class, on one diverging scale.

    The finest stride goes through the model's own head, so its panel is exactly
    ``model(image).argmax(1)``; coarser strides use the fixed bilinear head of an FCN-32s /
    FCN-16s. An FCN-32s or FCN-16s leaves the columns it does not have empty, with a note.

    With no arguments: six 128×128 synthetic scenes and a small FCN-8s with a random encoder
    whose score layers were fitted to those scenes by least squares
    (:func:`~segviz.viz.fcn_skips.fit_score_layers`), not a trained network. With ``images``
    and ``masks`` but no model, that model is fitted to the images given.

    Args:
        model: a segviz FCN (``FCN32s``, ``FCN16s``, ``FCN8s``), or ``None``.
        images: ``Tensor[N, 3, H, W]`` floats in [0, 1] (or a list of ``[3, H, W]``).
        masks: ground truth ``[N, H, W]`` (or a list), or ``None``.
        class_names: name per class id, one per model class.
        palette: RGB ``[P, 3]``, a row per class.
        width: initial half-width of the trimap band, 1 to 8 pixels.
        ignore_index: the ground-truth label of unlabelled pixels.
    """

    def __init__(
        self,
        model: torch.nn.Module | None = None,
        images: Any = None,
        masks: Any = None,
        *,
        class_names: Sequence[str] = SYNTHETIC_CLASSES,
        palette: Any = SYNTHETIC_PALETTE,
        width: int = 3,
        ignore_index: int = 255,
    ):
        self.class_names = tuple(str(name) for name in class_names)
        if images is None:
            if masks is not None:
                raise ValueError("masks given without images; pass images too (Tensor[N, 3, H, W])")
            scenes = make_scenes(DEFAULT_SCENES, DEFAULT_SIZE, seed=0)
            images, masks = scenes.images, scenes.masks
        self.images = list(images)
        self.masks = None if masks is None else list(masks)
        if not self.images:
            raise ValueError("no images given; pass a Tensor[N, 3, H, W] with N >= 1")
        if self.masks is not None and len(self.masks) != len(self.images):
            raise ValueError(f"{len(self.images)} images and {len(self.masks)} masks given; give one mask per image")
        if model is None:
            if self.masks is None:
                raise ValueError("neither a model nor masks given; pass a segviz FCN, or masks so that the demo "
                                 "FCN-8s can fit its score layers to the images")
            try:
                stacked_images, stacked_masks = torch.stack(self.images), torch.stack(
                    [torch.as_tensor(m) for m in self.masks])
            except (RuntimeError, TypeError) as error:
                raise ValueError(f"images or masks of different sizes or types ({error}); to fit the demo model pass "
                                 "images Tensor[N, 3, H, W] and masks Tensor[N, H, W], or pass a model") from None
            model = default_fcn(stacked_images, stacked_masks.long(), len(self.class_names))
        self.model = check_fcn_model(model)
        self.ignore_index = check_int("ignore_index", ignore_index)
        width = check_int("width", width, minimum=1, maximum=MAX_WIDTH)
        self._shown: dict[str, Any] | None = None
        first = compute_fcn_skips(self.model, self.images[0], None if self.masks is None else self.masks[0],
                                  width=width, ignore_index=self.ignore_index)  # checks the data, gives num_classes
        self._cache: dict[tuple[int, int], Any] = {(0, width): first}
        self.palette = check_names_palette(self.class_names, palette, first.num_classes)
        style = {"description_width": "initial"}
        options = [("labels (argmax)", -1)] + [(f"score of {k} {name}", k)
                                               for k, name in enumerate(self.class_names[: first.num_classes])]
        controls = {
            "index": widgets.IntSlider(value=0, min=0, max=len(self.images) - 1, description="image", style=style),
            "width": widgets.IntSlider(value=width, min=1, max=MAX_WIDTH, description="boundary band (px)",
                                       style=style),
            "show": widgets.Dropdown(options=options, value=-1, description="show", style=style),
        }
        super().__init__(controls)

    def compute(self, index: int, width: int, show: int):
        key = (index, width)
        if key not in self._cache:
            if len(self._cache) > 32:
                self._cache.clear()
            mask = None if self.masks is None else self.masks[index]
            self._cache[key] = compute_fcn_skips(self.model, self.images[index], mask, width=width,
                                                 ignore_index=self.ignore_index)
        result = self._cache[key]
        return dataclasses.replace(result, show=None if show < 0 else show)

    def draw(self, result):
        self._shown = None
        return figure_fcn_skips(result, self.class_names, self.palette)

    def redraw(self, figure, result, previous) -> None:
        self._shown = update_fcn_skips(figure, result, self.class_names, self.palette, previous=self._shown)

    def describe(self, result) -> str:
        strides = result.strides
        arrow = " → "
        head = f"{result.variant}, image {self.controls['index'].value}"
        if result.mask is None:
            return f"{head}: no ground truth given, so no scores; compare the maps by eye."
        iou = arrow.join(f"{format_score(result.mean_iou[s])}" for s in strides)
        boundary = arrow.join(f"{format_percent(result.boundary_accuracy[s])}" for s in strides)
        path = arrow.join(str(s) for s in strides)
        text = (f"{head}, strides {path}: mean IoU <b>{iou}</b>; boundary accuracy within {result.width} px "
                f"<b>{boundary}</b>.")
        if len(strides) > 1:
            gain = result.boundary_accuracy[strides[-1]] - result.boundary_accuracy[strides[0]]
            if np.isfinite(gain) and gain > 0:
                text += (f" The skips gain {100 * gain:.1f} points of boundary accuracy: the finer pool layers "
                         "put the outlines where they belong.")
            elif np.isfinite(gain):
                text += f" Here the skips do not help near the boundaries ({100 * gain:+.1f} points)."
        missing = [s for s in STRIDES if s not in strides]
        if missing:
            text += f" (No stride {', '.join(map(str, missing))} in this model.)"
        return text
