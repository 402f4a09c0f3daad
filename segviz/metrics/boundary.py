"""Accuracy near object boundaries: the "trimap" evaluation.

Mean IU barely notices a blurry outline: the pixels near a boundary are few. Kohli, Ladický and
Torr (2009) therefore score only the pixels inside a narrow band around the label boundaries
(the *trimap*), and DeepLab (Chen et al., ICLR 2015, Fig. 5; TPAMI 2018, Fig. 9) plots that
accuracy against the band's width to show what the fully connected CRF recovers. A coarse
prediction (FCN-32s, DeepLab without CRF) is accurate far from boundaries and poor inside a thin
band; the gap closes as the band widens to the whole image.

Definitions used here:

* a **boundary pixel** is a pixel with an 8-neighbour (horizontal, vertical or diagonal, inside
  the image) whose label differs from its own. ``ignore_index`` counts as a label, so the edge of
  PASCAL VOC's "void" band around each object is a boundary: the band itself is unlabelled;
* the **trimap of width w** holds the labelled (not ignored) pixels within Chebyshev distance
  ``w`` of a boundary pixel, i.e. inside a ``(2w + 1) × (2w + 1)`` square centred on one. Width 0
  is the labelled boundary pixels themselves.

Both steps are max poolings, so a batch of full-size label maps takes milliseconds.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ..validation import check_int
from ._labels import check_label_map, check_same_shape

__all__ = ["trimap_mask", "boundary_accuracy"]


def _boundary(labels: Tensor) -> Tensor:
    """``labels`` [N, H, W] → bool [N, H, W]: some 8-neighbour holds another label."""
    values = labels.to(torch.float64)[:, None]  # [N, 1, H, W]; exact for labels below 2**53
    highest = F.max_pool2d(values, 3, stride=1, padding=1)  # padding is -inf: outside never counts
    lowest = -F.max_pool2d(-values, 3, stride=1, padding=1)
    return (highest != lowest)[:, 0]  # a 3×3 window holding two labels: one differs from the centre


def trimap_mask(target: Tensor, width: int, ignore_index: int = 255) -> Tensor:
    """The labelled pixels within ``width`` pixels of a label boundary.

    A pixel is a boundary pixel when one of its 8 neighbours has a different label (the ignore
    label included, so the edge of a void band counts); the band is every pixel at Chebyshev
    distance ``≤ width`` from a boundary pixel (a ``(2·width + 1)``-pixel square around each),
    and pixels whose target is ``ignore_index`` are never in it (they cannot be scored).

    Args:
        target: ground-truth labels, an integer ``Tensor[N, H, W]`` or ``Tensor[H, W]``.
        width: the band's half-width in pixels, ``≥ 0``; 0 keeps the boundary pixels only.
        ignore_index: the label of unlabelled pixels (255 in PASCAL VOC).

    Returns:
        A bool tensor of ``target``'s shape, True inside the band.

    Shape:
        ``[N, H, W] → [N, H, W]`` (or ``[H, W] → [H, W]``).

    Reference:
        Kohli, Ladický and Torr, "Robust Higher Order Potentials for Enforcing Label
        Consistency", IJCV 2009 (trimap); Chen et al., "Semantic Image Segmentation with Deep
        Convolutional Nets and Fully Connected CRFs", ICLR 2015, Fig. 5.

    Example:
        >>> target = torch.tensor([[0, 0, 0, 1, 1, 1]] * 2)
        >>> trimap_mask(target, width=0).int()
        tensor([[0, 0, 1, 1, 0, 0],
                [0, 0, 1, 1, 0, 0]], dtype=torch.int32)
        >>> trimap_mask(target, width=1).int()
        tensor([[0, 1, 1, 1, 1, 0],
                [0, 1, 1, 1, 1, 0]], dtype=torch.int32)
    """
    target = check_label_map("target", target, (2, 3), "[N, H, W] or [H, W]")
    width = check_int("width", width, minimum=0)
    ignore_index = check_int("ignore_index", ignore_index)
    single = target.ndim == 2
    labels = target[None] if single else target  # [N, H, W]
    boundary = _boundary(labels).to(torch.float32)[:, None]  # [N, 1, H, W]
    band = F.max_pool2d(boundary, 2 * width + 1, stride=1, padding=width)[:, 0] > 0  # [N, H, W]
    mask = band & (labels != ignore_index)
    return mask[0] if single else mask


def boundary_accuracy(pred: Tensor, target: Tensor, width: int, ignore_index: int = 255) -> float:
    """Pixel accuracy inside the trimap band of ``width`` pixels around the label boundaries.

    The share of the pixels in :func:`trimap_mask` (over the whole batch) whose predicted label
    is the true one. As ``width`` grows past the image size the band covers every labelled pixel
    of an image that has a boundary, and the score becomes the pixel accuracy.

    Args:
        pred: predicted labels, an integer tensor of ``target``'s shape (``logits.argmax(1)``).
        target: ground-truth labels, an integer ``Tensor[N, H, W]`` or ``Tensor[H, W]``.
        width: the band's half-width in pixels, ``≥ 0``.
        ignore_index: the label of unlabelled pixels (255 in PASCAL VOC).

    Returns:
        The accuracy in [0, 1] as a Python float; NaN when the band is empty (no image in the
        batch has two labels).

    Reference:
        Kohli, Ladický and Torr, IJCV 2009; Chen et al. (DeepLab), ICLR 2015, Fig. 5.

    Example:
        >>> target = torch.tensor([[0, 0, 0, 1, 1, 1]] * 2)
        >>> pred = torch.tensor([[1, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1]])  # wrong at (0, 0) and (0, 3)
        >>> boundary_accuracy(pred, target, width=0)  # 3 of the 4 boundary pixels are right
        0.75
        >>> boundary_accuracy(pred, target, width=1)  # 7 of 8: (0, 0) lies outside the band
        0.875
    """
    pred = check_label_map("pred", pred, (2, 3), "[N, H, W] or [H, W]")
    mask = trimap_mask(target, width, ignore_index)
    check_same_shape(pred, target)
    in_band = int(mask.sum())
    if in_band == 0:
        return math.nan
    return int((pred.long() == target.long())[mask].sum()) / in_band
