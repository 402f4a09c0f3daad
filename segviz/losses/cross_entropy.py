"""Pixel-wise cross-entropy: an image classifier's loss, once per pixel.

A segmentation network outputs one score vector per pixel, ``logits[n, :, i, j]``; softmax
turns it into class probabilities ``p``, and the pixel's loss is ``−ln p[true class]``: 0 when
the network is certain and right, large when it is confident and wrong. The image's loss
averages it over the labelled pixels (pixels labelled ``ignore_index`` contribute nothing).

With class weights ``w`` (for rare classes, e.g. :func:`~segviz.losses.class_weights`) each
pixel's loss is multiplied by the weight of its true class and the mean divides by the summed
weights, exactly as ``torch.nn.functional.cross_entropy`` does.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..validation import check_choice, check_int
from ._checks import check_logits_and_target, check_weight

__all__ = ["cross_entropy", "CrossEntropy"]

REDUCTIONS = ("mean", "sum", "none")


def cross_entropy(
    logits: Tensor,
    target: Tensor,
    ignore_index: int = 255,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Cross-entropy between per-pixel class scores and a label map.

    The per-pixel loss is ``w[y] · (−log softmax(logits)[y])`` with ``y = target[n, i, j]``,
    computed stably as ``logsumexp(logits) − logits[y]``; ``w`` is all ones unless ``weight``
    is given. The result equals ``F.cross_entropy(logits, target, weight, ignore_index=...,
    reduction=...)``, target dtype aside: any integer label map works (a ``uint8`` PNG mask
    too).

    Args:
        logits: the network's raw scores, floating ``Tensor[N, C, H, W]`` (before softmax).
        target: class indices, an integer ``Tensor[N, H, W]`` with values in ``[0, C)`` or
            ``ignore_index``.
        ignore_index: the target value of unlabelled pixels (255 in PASCAL VOC); they add
            nothing to the loss, the sum of weights or the gradient.
        weight: optional class weights, ``Tensor[C]`` (≥ 0), e.g. ``class_weights(target, C)``.
        reduction: ``"mean"`` (sum of the pixel losses over the sum of their weights, the
            number of labelled pixels when unweighted), ``"sum"`` or ``"none"``.

    Returns:
        A scalar for ``"mean"`` and ``"sum"``; for ``"none"`` the loss map ``[N, H, W]`` with 0
        at ignored pixels. A ``"mean"`` over a batch with no labelled pixel is NaN (0/0), as in
        PyTorch.

    Shape:
        - logits: ``[N, C, H, W]``; target: ``[N, H, W]``
        - output: ``[]``, or ``[N, H, W]`` for ``reduction="none"``

    Reference:
        Long, Shelhamer and Darrell, "Fully Convolutional Networks for Semantic Segmentation",
        CVPR 2015 (per-pixel multinomial logistic loss).

    Example:
        >>> p = torch.tensor([0.7, 0.2, 0.1])  # softmax(log p) = p
        >>> logits = p.log()[None, :, None, None]  # one pixel, three classes: [1, 3, 1, 1]
        >>> cross_entropy(logits, torch.tensor([[[0]]]))  # −ln 0.7
        tensor(0.3567)
        >>> cross_entropy(logits, torch.tensor([[[255]]]), reduction="sum")  # ignored
        tensor(0.)
    """
    logits, target, valid = check_logits_and_target(logits, target, ignore_index)
    weight = check_weight(weight, logits.shape[1])
    reduction = check_choice("reduction", reduction, REDUCTIONS)

    safe = torch.where(valid, target, torch.zeros_like(target))  # [N, H, W]: any class at ignored pixels
    log_normalizer = torch.logsumexp(logits, dim=1)  # [N, H, W]: ln Σ_c exp(logits_c)
    true_score = logits.gather(1, safe[:, None])[:, 0]  # [N, H, W]: logits_y
    nll = log_normalizer - true_score  # [N, H, W]: −ln p_y
    if weight is None:
        pixel_weight = valid.to(logits.dtype)  # [N, H, W]: 1 labelled, 0 ignored
    else:
        pixel_weight = weight.to(logits)[safe] * valid  # [N, H, W]: w[y] labelled, 0 ignored
    losses = torch.where(valid, pixel_weight * nll, torch.zeros_like(nll))  # [N, H, W]; where: no gradient at ignored
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / pixel_weight.sum()


class CrossEntropy(nn.Module):
    """Module form of :func:`cross_entropy` (stores ``ignore_index``, ``weight``, ``reduction``).

    ``weight`` is a buffer, so ``.to(device)`` moves it with the model.

    Example:
        >>> CrossEntropy()
        CrossEntropy(ignore_index=255, reduction='mean')
        >>> CrossEntropy(weight=torch.tensor([1.0, 5.0]), reduction="sum")
        CrossEntropy(ignore_index=255, reduction='sum', weight=Tensor[2])
    """

    weight: Tensor | None

    def __init__(self, ignore_index: int = 255, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__()
        self.ignore_index = check_int("ignore_index", ignore_index)
        self.reduction = check_choice("reduction", reduction, REDUCTIONS)
        self.register_buffer("weight", check_weight(weight, None))

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(logits, target, self.ignore_index, self.weight, self.reduction)

    def extra_repr(self) -> str:
        text = f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"
        if self.weight is not None:
            text += f", weight=Tensor[{self.weight.shape[0]}]"
        return text
