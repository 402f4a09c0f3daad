"""The four scores of FCN: pixel accuracy, mean accuracy, mean IU and frequency-weighted IU.

Everything starts from one confusion matrix ``n`` over the whole evaluation set: ``n[i, j]`` is
the number of pixels of ground-truth class ``i`` predicted as class ``j``. Accumulate it over the
batches (``confusion += confusion_matrix(pred, target, num_classes)``) and score once at the
end; averaging per-batch scores gives a different (and wrong) number, because the means are
over classes, not over images.

With ``t_i = Σ_j n_ij`` (pixels of class ``i``) and ``n_cl`` classes, Long, Shelhamer and
Darrell (CVPR 2015, §5) define:

* pixel accuracy ``Σ_i n_ii / Σ_i t_i``;
* mean accuracy ``(1/n_cl) Σ_i n_ii / t_i``;
* mean IU ``(1/n_cl) Σ_i n_ii / (t_i + Σ_j n_ji − n_ii)``;
* frequency weighted IU ``(Σ_k t_k)⁻¹ Σ_i t_i n_ii / (t_i + Σ_j n_ji − n_ii)``.

**Absent classes.** A per-class ratio whose denominator is 0 is undefined (NaN) and left out of
the mean, as the FCN reference code does with ``np.nanmean``: a class's accuracy is undefined
when it has no ground-truth pixels (``t_i = 0``); its IU is undefined only when it is absent from
*both* the ground truth and the prediction (``t_i + Σ_j n_ji = 0``). So ``n_cl`` counts the classes
whose ratio is defined, and a class that is predicted but never present scores IU 0 and *does*
pull the mean IU down (it is a false alarm). Frequency-weighted IU gives such a class weight
``t_i = 0``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from ..validation import check_int
from ._labels import check_counts, check_label_map, check_label_range, check_same_shape

__all__ = ["confusion_matrix", "per_class_accuracy", "per_class_iou", "segmentation_scores"]


def confusion_matrix(pred: Tensor, target: Tensor, num_classes: int, ignore_index: int = 255) -> Tensor:
    """Count the pixels of each ground-truth class predicted as each class.

    One ``torch.bincount`` over ``target · num_classes + pred`` (one bin per (true, predicted)
    pair), so it is as fast on a batch of 512×512 maps as on one pixel. Pixels whose target is
    ``ignore_index`` are skipped, whatever was predicted there.

    Args:
        pred: predicted labels, an integer tensor of any shape, e.g. ``logits.argmax(1)`` of
            shape ``[N, H, W]`` (not the logits themselves).
        target: ground-truth labels, an integer tensor of ``pred``'s shape.
        num_classes: the number of classes; labels are ``0 … num_classes − 1``.
        ignore_index: the target value of unlabelled pixels (255 in PASCAL VOC).

    Returns:
        An int64 ``Tensor[num_classes, num_classes]``: rows are the ground truth, columns the
        prediction; ``confusion[i, j]`` pixels of class ``i`` were predicted as ``j``.

    Shape:
        - pred, target: ``[*]`` (the same shape; typically ``[N, H, W]``)
        - output: ``[num_classes, num_classes]``

    Reference:
        Long, Shelhamer and Darrell, "Fully Convolutional Networks for Semantic Segmentation",
        CVPR 2015, §5 (``n_ij``).

    Example:
        >>> target = torch.tensor([[0, 0, 1], [1, 2, 255]])
        >>> pred = torch.tensor([[0, 1, 1], [1, 2, 0]])
        >>> confusion_matrix(pred, target, num_classes=3)
        tensor([[1, 1, 0],
                [0, 2, 0],
                [0, 0, 1]])
    """
    num_classes = check_int("num_classes", num_classes, minimum=1)
    ignore_index = check_int("ignore_index", ignore_index)
    pred = check_label_map("pred", pred, tuple(range(0, 9)), "[N, H, W]")
    target = check_label_map("target", target, tuple(range(0, 9)), "[N, H, W]")
    check_same_shape(pred, target)
    target, pred = target.long(), pred.long()
    valid = target != ignore_index
    check_label_range("target", target, valid, num_classes, ignore_index)
    check_label_range("pred", pred, valid, num_classes, ignore_index, is_target=False)
    pairs = target[valid] * num_classes + pred[valid]  # [P] one bin per (true, predicted) pair
    return torch.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)


def _check_confusion(confusion: Any) -> Tensor:
    """A square, non-negative, finite ``Tensor[num_classes, num_classes]``, as float64."""
    if not isinstance(confusion, Tensor):
        raise ValueError(
            f"confusion of type {type(confusion).__name__} given; confusion must be the "
            f"Tensor[num_classes, num_classes] returned by confusion_matrix"
        )
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1] or confusion.shape[0] == 0:
        raise ValueError(
            f"confusion of shape {tuple(confusion.shape)} given; confusion must be a square "
            f"Tensor[num_classes, num_classes] (rows ground truth, columns prediction) from confusion_matrix"
        )
    check_counts("confusion", confusion, "confusion must hold pixel counts >= 0")
    return confusion.to(torch.float64)


def _intersection_union(counts: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``n_ii``, ``t_i`` and the union ``t_i + Σ_j n_ji − n_ii``, each ``[num_classes]``."""
    correct = counts.diagonal()  # n_ii
    true = counts.sum(1)  # t_i: pixels of class i in the ground truth
    predicted = counts.sum(0)  # Σ_j n_ji: pixels predicted as class i
    return correct, true, true + predicted - correct


def _ratio(numerator: Tensor, denominator: Tensor) -> Tensor:
    """``numerator / denominator`` with NaN (undefined) where the denominator is 0."""
    defined = denominator > 0
    safe = torch.where(defined, denominator, torch.ones_like(denominator))  # no 0/0 warnings or NaN gradients
    return torch.where(defined, numerator / safe, torch.full_like(numerator, math.nan))


def per_class_accuracy(confusion: Tensor) -> Tensor:
    """The share of each class's pixels that were predicted as that class, ``n_ii / t_i``.

    Also called per-class recall. NaN for a class with no ground-truth pixels (``t_i = 0``).

    Args:
        confusion: ``Tensor[num_classes, num_classes]`` from :func:`confusion_matrix`.

    Returns:
        A float64 ``Tensor[num_classes]``.

    Shape:
        ``[num_classes, num_classes] → [num_classes]``.

    Example:
        >>> per_class_accuracy(torch.tensor([[1, 1, 0], [0, 2, 0], [0, 0, 0]]))
        tensor([0.5000, 1.0000,    nan], dtype=torch.float64)
    """
    correct, true, _ = _intersection_union(_check_confusion(confusion))
    return _ratio(correct, true)


def per_class_iou(confusion: Tensor) -> Tensor:
    """Intersection over union of each class, ``n_ii / (t_i + Σ_j n_ji − n_ii)``.

    NaN for a class absent from both the ground truth and the prediction (its union is empty);
    0 for a class that is predicted but never present.

    Args:
        confusion: ``Tensor[num_classes, num_classes]`` from :func:`confusion_matrix`.

    Returns:
        A float64 ``Tensor[num_classes]``.

    Shape:
        ``[num_classes, num_classes] → [num_classes]``.

    Example:
        >>> per_class_iou(torch.tensor([[1, 1, 0, 0], [0, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 3]]))
        tensor([0.5000, 0.6667,    nan, 1.0000], dtype=torch.float64)
    """
    correct, _, union = _intersection_union(_check_confusion(confusion))
    return _ratio(correct, union)


def segmentation_scores(confusion: Tensor) -> dict[str, float]:
    """FCN's four scores from a confusion matrix accumulated over the evaluation set.

    Per-class ratios that are undefined (a class with no ground-truth pixels for accuracy, a
    class absent from both ground truth and prediction for IU) are left out of the means, as in
    the FCN reference code (``np.nanmean``); see the module docstring. If the matrix holds no
    pixels at all, every score is NaN.

    Args:
        confusion: ``Tensor[num_classes, num_classes]`` from :func:`confusion_matrix` (rows ground
            truth, columns prediction).

    Returns:
        ``{"pixel_accuracy", "mean_accuracy", "mean_iou", "fw_iou"}`` as Python floats in [0, 1]:

        - ``pixel_accuracy = Σ_i n_ii / Σ_i t_i``
        - ``mean_accuracy = (1/n_cl) Σ_i n_ii / t_i``
        - ``mean_iou = (1/n_cl) Σ_i n_ii / (t_i + Σ_j n_ji − n_ii)``
        - ``fw_iou = (Σ_k t_k)⁻¹ Σ_i t_i n_ii / (t_i + Σ_j n_ji − n_ii)``

    Reference:
        Long, Shelhamer and Darrell, "Fully Convolutional Networks for Semantic Segmentation",
        CVPR 2015, §5.

    Example:
        >>> target = torch.tensor([[0, 0, 1], [1, 2, 255]])
        >>> pred = torch.tensor([[0, 1, 1], [1, 2, 0]])
        >>> segmentation_scores(confusion_matrix(pred, target, num_classes=3))
        {'pixel_accuracy': 0.8, 'mean_accuracy': 0.833, 'mean_iou': 0.722, 'fw_iou': 0.667}
    """
    counts = _check_confusion(confusion)
    correct, true, union = _intersection_union(counts)
    total = true.sum()
    if total == 0:
        return dict.fromkeys(("pixel_accuracy", "mean_accuracy", "mean_iou", "fw_iou"), math.nan)
    accuracy = _ratio(correct, true)  # [num_classes], NaN where t_i = 0
    iou = _ratio(correct, union)  # [num_classes], NaN where the union is empty
    present = true > 0  # iou is defined wherever t_i > 0, and weighted by t_i
    return {
        "pixel_accuracy": float(correct.sum() / total),
        "mean_accuracy": float(accuracy.nanmean()),
        "mean_iou": float(iou.nanmean()),
        "fw_iou": float((true[present] * iou[present]).sum() / total),
    }
