"""``SlidingWindowExplorer``: pick a pixel and a window size; see what a patch classifier sees."""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np

from ..validation import check_int
from ..viz.sliding_window import compute_sliding_window, figure_sliding_window, update_sliding_window
from .base import Explorer

__all__ = ["SlidingWindowExplorer"]


def _default_scene(size: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from ..data import SYNTHETIC_CLASSES, make_scenes

    scenes = make_scenes(1, size=size, seed=seed)
    image = (scenes.images[0].permute(1, 2, 0).clamp(0, 1) * 255).round().byte().numpy()  # [H, W, 3]
    return image, scenes.masks[0].numpy(), list(SYNTHETIC_CLASSES)


class SlidingWindowExplorer(Explorer):
    """Per-pixel classification by sliding window, made visible.

    Sliders choose the pixel (``row``, ``col``) and the ``window`` side. The figure outlines the
    window on the image and shows its contents at full size; the label counts what labelling
    every pixel this way costs. With a 1×1 window the classifier sees one colour and cannot tell
    classes apart; widen it and context appears, but so does the redundancy: each pixel is read
    ``window²`` times.

    Args:
        image: uint8 ``[H, W, 3]``; default: a synthetic scene from :func:`segviz.make_scenes`.
        mask: class ids ``[H, W]`` for ``image`` (required with ``image``).
        class_names: one name per class id (required with ``image``).
        window: initial odd window side.
        size, seed: size and seed of the default synthetic scene.
    """

    def __init__(
        self,
        image: np.ndarray | None = None,
        mask: np.ndarray | None = None,
        class_names: Sequence[str] | None = None,
        *,
        window: int = 15,
        size: int = 96,
        seed: int = 3,
    ):
        if image is None:
            image, mask, class_names = _default_scene(check_int("size", size, minimum=8), seed)
        elif mask is None or class_names is None:
            raise ValueError("image given without mask or class_names; pass all three, or none for a synthetic scene")
        self.image = np.asarray(image)
        self.mask = np.asarray(mask)
        self.class_names = list(class_names)
        height, width = self.mask.shape[:2]
        longest = 2 * max(height, width) + 1
        style = {"description_width": "initial"}
        controls = {
            "row": widgets.IntSlider(value=height // 2, min=0, max=height - 1, description="row", style=style),
            "col": widgets.IntSlider(value=width // 2, min=0, max=width - 1, description="col", style=style),
            "window": widgets.IntSlider(value=window, min=1, max=longest, step=2, description="window", style=style),
        }
        super().__init__(controls)

    def compute(self, row: int, col: int, window: int):
        return compute_sliding_window(self.image, self.mask, self.class_names, row, col, window)

    def draw(self, result):
        return figure_sliding_window(self.image, result)

    def redraw(self, figure, result, previous) -> None:
        update_sliding_window(figure, result)

    def describe(self, result) -> str:
        cost = result.cost
        seen = ", ".join(result.classes_seen) or "nothing labelled"
        return (
            f"window {result.window}×{result.window} sees {result.window ** 2:,} pixels "
            f"(classes inside: {seen}). Labelling all {cost.windows:,} pixels this way runs the "
            f"classifier {cost.windows:,} times and reads {cost.pixels_read:,} pixel values: "
            f"each pixel <b>{cost.redundancy:,}×</b>."
        )
