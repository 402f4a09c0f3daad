"""Class names, colour palettes and ``colorize`` for label masks.

A segmentation mask is an integer image: one class id per pixel. To look at one we map each id
to a colour through a *palette*, a ``uint8`` table ``[P, 3]`` whose row ``k`` is the RGB colour of
label ``k``. The palettes here are the ones the benchmarks' own tools draw with, so a mask shown in
the course looks like the figures in the papers:

* PASCAL VOC (Everingham et al., IJCV 2010): 21 classes, colours from the VOC development kit's
  ``labelcolormap`` (bit-interleaving of the label id), label 255 = "void", drawn cream.
* Cityscapes (Cordts et al., CVPR 2016): the 19 classes used for training and evaluation, in
  ``trainId`` order, colours from ``cityscapesscripts/helpers/labels.py``; label 255 = ignore,
  drawn black.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..validation import check_int, check_ndim

__all__ = [
    "VOC_CLASSES",
    "VOC_PALETTE",
    "CITYSCAPES_CLASSES",
    "CITYSCAPES_PALETTE",
    "CITYSCAPES_CATEGORIES",
    "voc_colormap",
    "colorize",
]

VOC_CLASSES: tuple[str, ...] = (
    "background",
    "aeroplane", "bicycle", "bird", "boat", "bottle",
    "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person",
    "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip


def voc_colormap(num_colors: int = 256) -> np.ndarray:
    """The PASCAL VOC colour map: label ``k``'s colour spreads the bits of ``k`` over R, G, B.

    Bits 0, 1, 2 of the label go to the most significant bit of R, G, B; bits 3, 4, 5 to the
    next one, and so on (the development kit's ``labelcolormap.m``). Neighbouring labels thus get
    very different colours, and the map extends to any number of labels without a table.

    Args:
        num_colors: how many rows to build, 1 to 256.

    Returns:
        ``uint8`` array ``[num_colors, 3]``.

    Shape:
        Output ``[num_colors, 3]``.

    Example:
        >>> voc_colormap(4).tolist()
        [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0]]
    """
    num_colors = check_int("num_colors", num_colors, minimum=1, maximum=256)
    labels = np.arange(num_colors)
    colormap = np.zeros((num_colors, 3), dtype=np.int64)
    for bit in range(8):  # bit group j of the label -> bit (7 - j) of each channel
        for channel in range(3):
            colormap[:, channel] |= ((labels >> (3 * bit + channel)) & 1) << (7 - bit)
    return colormap.astype(np.uint8)


VOC_PALETTE: np.ndarray = voc_colormap(256)
VOC_PALETTE.setflags(write=False)

CITYSCAPES_CLASSES: tuple[str, ...] = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
    "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
    "motorcycle", "bicycle",
)  # fmt: skip

_CITYSCAPES_COLORS = (
    (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153),
    (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152),
    (70, 130, 180), (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70),
    (0, 60, 100), (0, 80, 100), (0, 0, 230), (119, 11, 32),
)  # fmt: skip

CITYSCAPES_PALETTE: np.ndarray = np.zeros((256, 3), dtype=np.uint8)
CITYSCAPES_PALETTE[: len(_CITYSCAPES_COLORS)] = _CITYSCAPES_COLORS  # 19..255 stay black (ignore)
CITYSCAPES_PALETTE.setflags(write=False)

#: Each training class's category. Cityscapes groups its labels into 8 categories; the eighth,
#: ``void``, holds only labels that are ignored in training (trainId 255), so the 19 classes
#: fall into the 7 below.
CITYSCAPES_CATEGORIES: dict[str, str] = {
    "road": "flat", "sidewalk": "flat",
    "building": "construction", "wall": "construction", "fence": "construction",
    "pole": "object", "traffic light": "object", "traffic sign": "object",
    "vegetation": "nature", "terrain": "nature",
    "sky": "sky",
    "person": "human", "rider": "human",
    "car": "vehicle", "truck": "vehicle", "bus": "vehicle", "train": "vehicle",
    "motorcycle": "vehicle", "bicycle": "vehicle",
}  # fmt: skip


def _as_numpy_labels(mask: Any) -> np.ndarray:
    """An integer ``np.ndarray`` view of ``mask`` (numpy or torch), or a teaching ValueError."""
    if isinstance(mask, torch.Tensor):
        if mask.is_floating_point() or mask.is_complex():
            raise ValueError(
                f"mask of dtype {mask.dtype} given; a mask holds class ids, so it must be an "
                "integer tensor (use mask.argmax(dim=0) on scores, or mask.long())"
            )
        array = mask.detach().cpu().numpy()
    elif isinstance(mask, np.ndarray):
        array = mask
    else:
        raise ValueError(
            f"mask of type {type(mask).__name__} given; mask must be a numpy array or torch "
            "tensor of integer class ids"
        )
    if array.dtype == np.bool_:
        return array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"mask of dtype {array.dtype} given; a mask holds class ids, so it must be an "
            "integer array (use .argmax(axis=0) on scores, or .astype(np.int64))"
        )
    return array


def colorize(mask: Any, palette: Any = VOC_PALETTE) -> np.ndarray:
    """Paint a label mask with a palette: pixel ``(i, j)`` gets ``palette[mask[i, j]]``.

    Args:
        mask: integer class ids, a numpy array or torch tensor, ``[H, W]`` or a batch
            ``[N, H, W]`` (boolean masks count as 0/1).
        palette: ``uint8`` RGB table ``[P, 3]``; row ``k`` is the colour of label ``k``.
            Defaults to :data:`VOC_PALETTE` (256 rows, so the void label 255 is drawn too).

    Returns:
        ``uint8`` RGB image(s), ready for ``PIL.Image.fromarray`` or ``plotly.express.imshow``.

    Raises:
        ValueError: for a float mask, a mask that is not 2-D or 3-D, or a label the palette
            has no row for (the message names the label and the palette's range).

    Shape:
        ``[H, W] -> [H, W, 3]`` and ``[N, H, W] -> [N, H, W, 3]``.

    Example:
        >>> colorize(np.array([[0, 1], [15, 255]])).tolist()
        [[[0, 0, 0], [128, 0, 0]], [[192, 128, 128], [224, 224, 192]]]
        >>> colorize(np.array([[0, 19]]), CITYSCAPES_PALETTE[:19])
        Traceback (most recent call last):
        ...
        ValueError: mask holds label 19 but the palette has 19 rows (labels 0 to 18); ...
    """
    labels = _as_numpy_labels(mask)
    check_ndim("mask", labels, (2, 3), "[H, W] or [N, H, W]")
    palette = np.asarray(palette.detach().cpu() if isinstance(palette, torch.Tensor) else palette)
    if palette.ndim != 2 or palette.shape[1] != 3 or palette.shape[0] == 0:
        raise ValueError(
            f"palette of shape {palette.shape} given; palette must be an RGB table [P, 3] "
            "(row k = colour of label k), like VOC_PALETTE"
        )
    if labels.size:
        low, high = int(labels.min()), int(labels.max())
        bad = low if low < 0 else high if high >= len(palette) else None
        if bad is not None:
            raise ValueError(
                f"mask holds label {bad} but the palette has {len(palette)} rows "
                f"(labels 0 to {len(palette) - 1}); use a palette with a row for every label, "
                "e.g. VOC_PALETTE (256 rows)"
            )
    return np.ascontiguousarray(palette.astype(np.uint8, copy=False)[labels])
