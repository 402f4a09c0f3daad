"""Checks for label maps shared by the metrics and the losses (private: nothing here is exported).

A label map holds one integer class index per pixel; ``ignore_index`` (255 in PASCAL VOC, where it
marks the "void" band around objects) means "not labelled, do not score". The commonest slips are
passing logits instead of labels, a ``[N, 1, H, W]`` mask, and a dataset whose ignore value is not
the one the function was told about; each gets a message that names the fix.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..validation import check_ndim

__all__ = ["check_label_map", "check_same_shape", "check_label_range", "check_counts"]


def check_label_map(name: str, value: Any, ndims: int | tuple[int, ...], layout: str) -> Tensor:
    """Return ``value`` if it is an integer ``torch.Tensor`` with one of ``ndims`` dimensions."""
    if not isinstance(value, Tensor):
        raise ValueError(
            f"{name} of type {type(value).__name__} given; {name} must be a torch.Tensor {layout} of class labels"
        )
    if value.dtype.is_floating_point or value.dtype.is_complex:
        raise ValueError(
            f"{name} of dtype {value.dtype} and shape {tuple(value.shape)} given; {name} must hold "
            f"integer class labels {layout}: for logits or scores [N, num_classes, H, W] pass "
            f"{name}.argmax(1); for labels stored as floats pass {name}.long()"
        )
    if value.dtype == torch.bool:
        raise ValueError(
            f"{name} of dtype torch.bool given; {name} must hold integer class labels {layout}: "
            f"for a foreground mask pass {name}.long() (background 0, foreground 1)"
        )
    return check_ndim(name, value, ndims, layout)


def check_same_shape(pred: Tensor, target: Tensor) -> None:
    """Refuse a prediction whose shape is not the label map's, with the likely fix."""
    if pred.shape == target.shape:
        return
    hint = "pred and target must have the same shape, one label per pixel"
    if pred.ndim == target.ndim + 1:
        hint += "; pred looks like per-class scores: pass pred.argmax(1)"
    elif pred.shape[-2:] != target.shape[-2:]:
        hint += "; upsample the prediction to the label size first"
    raise ValueError(f"pred of shape {tuple(pred.shape)} given for target of shape {tuple(target.shape)}; {hint}")


def check_label_range(
    name: str, labels: Tensor, valid: Tensor, num_classes: int, ignore_index: int, *, is_target: bool = True
) -> None:
    """Refuse any label outside ``[0, num_classes)`` among the ``valid`` (not ignored) pixels.

    The message names the first bad value and where it is, and says what the labels may be: a
    target may also hold ``ignore_index``, a prediction may not (there is no "void" prediction).
    """
    bad = valid & ((labels < 0) | (labels >= num_classes))
    if not bool(bad.any()):
        return
    where = tuple(int(i) for i in bad.nonzero()[0])
    value = int(labels[where])
    head = (
        f"{name} holds {value} (at index {where}), outside the classes 0 to {num_classes - 1} of "
        f"num_classes={num_classes}"
    )
    if is_target:
        rule = (
            f"every label must be a class index in [0, num_classes) or equal ignore_index={ignore_index} "
            f"(if {value} is a class, raise num_classes; if it marks unlabelled pixels, pass ignore_index={value})"
        )
    else:
        rule = "every predicted label must be a class index in [0, num_classes) wherever the target is labelled"
    raise ValueError(f"{head}; {rule}")


def check_counts(name: str, values: Tensor, rule: str) -> Tensor:
    """Refuse a negative or non-finite entry (counts, weights), naming the first one and where it is."""
    if values.dtype == torch.bool or values.dtype.is_complex:
        raise ValueError(f"{name} of dtype {values.dtype} given; {rule}")
    bad = ~torch.isfinite(values) | (values < 0)
    if bool(bad.any()):
        where = tuple(int(i) for i in bad.nonzero()[0])
        raise ValueError(f"{name} holds {values[where].item()} (at index {where}); {rule}")
    return values
