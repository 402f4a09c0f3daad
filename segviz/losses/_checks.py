"""Argument checks shared by the losses (private: the losses re-export what matters).

A loss receives the network's raw scores ``logits`` [N, C, H, W] and the label map ``target``
[N, H, W]. The slips a learner makes are predictable: an int or ``[N, 1, H, W]`` mask, one-hot
targets, logits at the feature map's resolution instead of the label's, a label the classifier
has no channel for. Each is refused here with the fix in the message.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from torch import Tensor

from ..metrics._labels import check_counts, check_label_map, check_label_range
from ..validation import check_int

__all__ = ["LossInputs", "check_logits_and_target", "check_weight"]


class LossInputs(NamedTuple):
    """Checked inputs: ``target`` as int64 and the mask of its labelled pixels."""

    logits: Tensor  # [N, C, H, W]
    target: Tensor  # [N, H, W], int64
    valid: Tensor  # [N, H, W], bool: target != ignore_index


def check_logits_and_target(logits: Any, target: Any, ignore_index: Any) -> LossInputs:
    """Check ``logits`` [N, C, H, W] (floating) against ``target`` [N, H, W] (class indices)."""
    ignore_index = check_int("ignore_index", ignore_index)
    if not isinstance(logits, Tensor):
        raise ValueError(f"logits of type {type(logits).__name__} given; logits must be a torch.Tensor [N, C, H, W]")
    if not logits.dtype.is_floating_point:
        raise ValueError(
            f"logits of dtype {logits.dtype} given; logits must be floating-point class scores "
            f"[N, C, H, W] (the network's output before softmax)"
        )
    if logits.ndim != 4:
        raise ValueError(
            f"logits of shape {tuple(logits.shape)} given; logits must have 4 dimensions [N, C, H, W] "
            f"(one score per class and pixel)"
        )
    if isinstance(target, Tensor) and target.dtype.is_floating_point and target.shape == logits.shape:
        raise ValueError(
            f"target of dtype {target.dtype} and shape {tuple(target.shape)} given; target must hold "
            f"class indices [N, H, W]: for one-hot targets [N, C, H, W] pass target.argmax(1)"
        )
    if isinstance(target, Tensor) and target.ndim == 4 and target.shape[1] == 1:
        raise ValueError(
            f"target of shape {tuple(target.shape)} given; target must be [N, H, W] (no channel "
            f"dimension): pass target.squeeze(1)"
        )
    target = check_label_map("target", target, 3, "[N, H, W]")
    n, c, h, w = logits.shape
    if target.shape[0] != n:
        raise ValueError(
            f"logits of shape {tuple(logits.shape)} and target of shape {tuple(target.shape)} given; "
            f"they must hold the same number of images N ({n} and {target.shape[0]})"
        )
    if target.shape[1:] != (h, w):
        raise ValueError(
            f"logits of size {h}x{w} given for target of size {target.shape[1]}x{target.shape[2]}; "
            f"score every labelled pixel: upsample the logits first, "
            f"F.interpolate(logits, size=target.shape[-2:], mode='bilinear', align_corners=False)"
        )
    target = target.long()
    valid = target != ignore_index
    check_label_range("target", target, valid, c, ignore_index)
    return LossInputs(logits, target, valid)


def check_weight(weight: Any, num_classes: int | None) -> Tensor | None:
    """``None`` or a non-negative ``Tensor[num_classes]`` (one weight per class; any length if ``None``)."""
    if weight is None:
        return None
    is_vector = isinstance(weight, Tensor) and weight.ndim == 1
    if not is_vector or (num_classes is not None and weight.shape[0] != num_classes):
        received = (
            f"of shape {tuple(weight.shape)}" if isinstance(weight, Tensor) else f"of type {type(weight).__name__}"
        )
        classes = "C" if num_classes is None else f"C = {num_classes}"
        raise ValueError(
            f"weight {received} given; weight must be a Tensor[C] with one weight per class "
            f"({classes}), e.g. class_weights(target, num_classes)"
        )
    return check_counts("weight", weight, "class weights must be finite and >= 0")
