"""Class weights for imbalanced label maps: ENet's ``1 / ln(c + p)``.

In a street scene most pixels are road, sky and building; a pole or a traffic sign covers a
fraction of a percent. An unweighted cross-entropy can ignore the rare classes and still look
good, so ENet (Paszke et al., 2016) weights each class by

    w_class = 1 / ln(c + p_class),

where ``p_class`` is the class's share of the labelled pixels and ``c = 1.02``. Unlike inverse
frequency ``1 / p`` the weight stays bounded: it goes from ``1 / ln(1 + c) ≈ 1.42`` for a class
covering everything to ``1 / ln c ≈ 50.5`` for a class that is (almost) never seen.

Compute the frequencies over the whole training set: accumulate :func:`class_counts` over the
label maps, then pass the counts to :func:`class_weights`, and the weights to
:func:`~segviz.losses.cross_entropy` (``weight=``).
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
from torch import Tensor

from ..metrics._labels import check_counts, check_label_map, check_label_range
from ..validation import check_int

__all__ = ["class_counts", "class_weights"]


def class_counts(target: Tensor, num_classes: int, ignore_index: int = 255) -> Tensor:
    """Count the labelled pixels of each class.

    Args:
        target: class labels, an integer tensor of any shape (``[N, H, W]``, ``[H, W]``, …).
        num_classes: the number of classes.
        ignore_index: the label of unlabelled pixels (not counted).

    Returns:
        An int64 ``Tensor[num_classes]``; sum it over batches to count a whole dataset.

    Shape:
        ``[*] → [num_classes]``.

    Example:
        >>> class_counts(torch.tensor([[0, 0, 1], [0, 255, 1]]), num_classes=3)
        tensor([3, 2, 0])
    """
    num_classes = check_int("num_classes", num_classes, minimum=1)
    ignore_index = check_int("ignore_index", ignore_index)
    target = check_label_map("target", target, tuple(range(0, 9)), "[N, H, W]").long()
    valid = target != ignore_index
    check_label_range("target", target, valid, num_classes, ignore_index)
    return torch.bincount(target[valid], minlength=num_classes)


def class_weights(
    target_or_counts: Tensor, num_classes: int, c: float = 1.02, ignore_index: int = 255
) -> Tensor:
    """ENet's class weights ``w_class = 1 / ln(c + p_class)`` from labels or from pixel counts.

    ``p_class`` is the class's share of all labelled pixels. A class that is never seen gets the
    largest weight, ``1 / ln c``; it has no pixels, so it changes no loss.

    Args:
        target_or_counts: either label maps, an integer tensor with 2 or more dimensions
            (``[N, H, W]`` or ``[H, W]``; ``ignore_index`` pixels are not counted), or the pixel
            count of every class, a 1-D ``Tensor[num_classes]`` of counts ``≥ 0`` (e.g. summed
            :func:`class_counts` over a dataset). A 1-D tensor is always read as counts.
        num_classes: the number of classes.
        c: the constant ``c > 1`` (ENet: 1.02); a smaller ``c`` widens the range of weights.
        ignore_index: the label of unlabelled pixels (used only with label maps).

    Returns:
        A ``Tensor[num_classes]`` of weights in ``(1 / ln(1 + c), 1 / ln c]``, in the default
        floating dtype, on the input's device.

    Shape:
        ``[N, H, W]`` or ``[num_classes] → [num_classes]``.

    Reference:
        Paszke, Chaurasia, Kim and Culurciello, "ENet: A Deep Neural Network Architecture for
        Real-Time Semantic Segmentation", arXiv:1606.02147, 2016 (class weighting).

    Example:
        >>> class_weights(torch.tensor([50, 30, 20, 0]), num_classes=4)  # p = 0.5, 0.3, 0.2, 0
        tensor([ 2.3883,  3.6019,  5.0289, 50.4983])
    """
    num_classes = check_int("num_classes", num_classes, minimum=1)
    if isinstance(c, bool) or not isinstance(c, numbers.Real) or not c > 1:
        raise ValueError(
            f"c {c!r} given; c must be a number > 1 so that ln(c + p) > 0 for every class frequency "
            f"p (ENet uses c = 1.02)"
        )
    counts = _counts(target_or_counts, num_classes, ignore_index).to(torch.float64)
    total = counts.sum()
    if total == 0:
        raise ValueError(
            "target_or_counts holds no labelled pixel (every count is 0 or every label is "
            "ignore_index); class frequencies need at least one labelled pixel"
        )
    frequency = counts / total  # [num_classes]: p_class
    return (1 / torch.log(c + frequency)).to(torch.get_default_dtype())


def _counts(target_or_counts: Any, num_classes: int, ignore_index: int) -> Tensor:
    """Per-class pixel counts from label maps (ndim ≥ 2) or a counts vector (ndim 1)."""
    if not isinstance(target_or_counts, Tensor):
        raise ValueError(
            f"target_or_counts of type {type(target_or_counts).__name__} given; pass label maps "
            f"Tensor[N, H, W] or per-class pixel counts Tensor[num_classes]"
        )
    if target_or_counts.ndim >= 2:
        return class_counts(target_or_counts, num_classes, ignore_index)
    counts = target_or_counts
    if counts.ndim != 1 or counts.shape[0] != num_classes:
        raise ValueError(
            f"target_or_counts of shape {tuple(counts.shape)} given for num_classes={num_classes}; "
            f"a 1-D tensor is read as per-class pixel counts and must have num_classes = "
            f"{num_classes} entries (pass label maps with their [N, H, W] or [H, W] shape)"
        )
    return check_counts("counts", counts, "counts must be numbers of pixels >= 0")
