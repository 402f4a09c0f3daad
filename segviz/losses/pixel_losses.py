"""Per-pixel loss maps: where in the image each loss puts its weight.

A loss is one number, but it is a sum over pixels, and *which* pixels carry it is the whole
difference between the losses of this package: plain cross-entropy spreads it over every
labelled pixel, class weighting moves it to rare classes, bootstrapping keeps only the hard
pixels. :func:`pixel_losses` returns the map ``[N, H, W]`` whose (normalised) sum is each loss,
for plotting side by side with the image and its labels.
"""

from __future__ import annotations

from torch import Tensor

from ..validation import check_choice
from ._checks import check_logits_and_target
from .bootstrapped import check_selection, hard_pixel_mask
from .class_weights import class_weights
from .cross_entropy import cross_entropy

__all__ = ["pixel_losses"]

KINDS = ("cross_entropy", "weighted", "bootstrapped")


def pixel_losses(
    logits: Tensor,
    target: Tensor,
    kind: str = "cross_entropy",
    *,
    weight: Tensor | None = None,
    top_k: int | float | None = None,
    threshold: float | None = None,
    min_k: int | float | None = None,
    ignore_index: int = 255,
) -> Tensor:
    """The loss of every pixel under one of the package's cross-entropy losses.

    * ``"cross_entropy"``: ``−ln p_true`` at every labelled pixel; the map's sum over the
      number of labelled pixels is :func:`~segviz.losses.cross_entropy`.
    * ``"weighted"``: ``w[true class] · (−ln p_true)``, with ``weight`` or, when it is ``None``,
      ENet's weights of this batch's own labels (:func:`~segviz.losses.class_weights`); the
      map's sum over the summed weights of the labelled pixels is
      ``cross_entropy(..., weight=w)``.
    * ``"bootstrapped"``: ``−ln p_true`` at the pixels bootstrapping keeps (``top_k``, or
      ``threshold`` and ``min_k``, as in :func:`~segviz.losses.bootstrapped_cross_entropy`) and
      0 elsewhere; the map's sum over the number of kept pixels is that loss.

    Ignored pixels are 0 in every map. Arguments that do not belong to ``kind`` are refused.

    Args:
        logits: the network's raw scores, floating ``Tensor[N, C, H, W]``.
        target: class indices, an integer ``Tensor[N, H, W]``.
        kind: ``"cross_entropy"``, ``"weighted"`` or ``"bootstrapped"``.
        weight: class weights ``Tensor[C]`` for ``"weighted"``.
        top_k: for ``"bootstrapped"``: pixels to keep (int) or fraction of the labelled (float).
        threshold: for ``"bootstrapped"``: the loss a pixel must exceed to be kept.
        min_k: for ``"bootstrapped"`` with ``threshold``: the least number (or fraction) kept.
        ignore_index: the target value of unlabelled pixels.

    Returns:
        The loss map, ``Tensor[N, H, W]`` of ``logits``' dtype (differentiable).

    Shape:
        logits ``[N, C, H, W]``, target ``[N, H, W]`` → ``[N, H, W]``.

    Example:
        >>> import torch
        >>> p_true = torch.tensor([0.9, 0.6, 0.3, 0.1])
        >>> logits = torch.stack([p_true, 1 - p_true]).log()[None, :, None, :]  # [1, 2, 1, 4]
        >>> target = torch.tensor([[[0, 0, 0, 255]]])
        >>> pixel_losses(logits, target)
        tensor([[[0.1054, 0.5108, 1.2040, 0.0000]]])
        >>> pixel_losses(logits, target, "bootstrapped", top_k=1)
        tensor([[[0.0000, 0.0000, 1.2040, 0.0000]]])
    """
    kind = check_choice("kind", kind, KINDS)
    if weight is not None and kind != "weighted":
        raise ValueError(f"weight given with kind={kind!r}; class weights belong to kind='weighted'")
    if kind != "bootstrapped" and (top_k, threshold, min_k) != (None, None, None):
        raise ValueError(
            f"top_k={top_k!r}, threshold={threshold!r}, min_k={min_k!r} given with kind={kind!r}; "
            f"they choose the pixels of kind='bootstrapped'"
        )
    if kind == "bootstrapped":
        selection = check_selection(top_k, threshold, min_k)
    logits, target, valid = check_logits_and_target(logits, target, ignore_index)
    if kind == "weighted" and weight is None:
        weight = class_weights(target, logits.shape[1], ignore_index=ignore_index).to(logits)
    losses = cross_entropy(logits, target, ignore_index, weight, reduction="none")  # [N, H, W], 0 at ignored
    if kind != "bootstrapped":
        return losses
    kept = hard_pixel_mask(losses, valid, selection)  # [N, H, W]
    return losses * kept
