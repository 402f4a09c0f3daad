"""Bootstrapped cross-entropy: learn from the hard pixels only.

Late in training most pixels are easy (sky, road, the inside of large objects): their loss is
near 0 but, being many, they still dominate the mean and its gradient. Online bootstrapping
(Wu, Shen and van den Hengel, 2016) averages the cross-entropy over the hardest pixels of the
mini-batch only, in one of two forms:

* **top-k**: the ``k`` pixels with the largest loss (``k`` a count, or a fraction of the
  labelled pixels);
* **threshold**: the pixels whose loss exceeds ``threshold``, but no fewer than ``min_k`` (the
  ``min_k`` largest when too few exceed it). A loss above ``−ln t`` means the true class got a
  probability below ``t``: ``threshold=-math.log(0.7)`` keeps the pixels predicted with less
  than 70 % confidence in the right class (the "OHEM" loss of many segmentation code bases).

The pixels are picked by their loss value, with no gradient through the choice; the gradient
then flows through the chosen pixels only. Ties at the cut are broken arbitrarily; the loss
value does not depend on how (tied pixels have the same loss).
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from ..validation import check_int, check_number
from ._checks import check_logits_and_target
from .cross_entropy import cross_entropy

__all__ = ["bootstrapped_cross_entropy", "BootstrappedCrossEntropy"]


class Selection(NamedTuple):
    """Checked bootstrapping arguments: exactly one of ``top_k`` and ``threshold`` is set."""

    top_k: int | float | None
    threshold: float | None
    min_k: int | float | None


def _check_count(name: str, value: Any) -> int | float:
    """A pixel count (int ≥ 1) or a fraction of the labelled pixels (float in (0, 1])."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        pass
    elif isinstance(value, numbers.Integral) and value >= 1:
        return int(value)
    elif not isinstance(value, numbers.Integral) and 0 < value <= 1:
        return float(value)
    raise ValueError(
        f"{name} {value!r} given; {name} must be a number of pixels (an integer >= 1) or a "
        f"fraction of the labelled pixels (a float with 0 < {name} <= 1)"
    )


def check_selection(top_k: Any, threshold: Any, min_k: Any) -> Selection:
    """Check the bootstrapping arguments; ``min_k`` defaults to 1 in the threshold form."""
    if (top_k is None) == (threshold is None):
        raise ValueError(
            f"top_k={top_k!r} and threshold={threshold!r} given; give exactly one: top_k (keep the "
            f"k pixels with the largest loss) or threshold (keep the pixels whose loss exceeds it, "
            f"e.g. threshold=-math.log(0.7))"
        )
    if top_k is not None:
        if min_k is not None:
            raise ValueError(
                f"min_k={min_k!r} given with top_k={top_k!r}; min_k is the floor of the threshold "
                f"form only: top_k already fixes how many pixels are kept"
            )
        return Selection(_check_count("top_k", top_k), None, None)
    threshold = check_number("threshold", threshold, minimum=0)
    return Selection(None, threshold, _check_count("min_k", 1 if min_k is None else min_k))


def _how_many(k: int | float, n_valid: int) -> int:
    """``k`` pixels, or the fraction ``k`` of ``n_valid`` rounded half up (at least 1), at most ``n_valid``."""
    if isinstance(k, float):
        k = max(1, int(k * n_valid + 0.5))
    return min(k, n_valid)


def hard_pixel_mask(losses: Tensor, valid: Tensor, selection: Selection) -> Tensor:
    """The pixels bootstrapping keeps: bool ``[N, H, W]`` from the loss map ``[N, H, W]``."""
    losses = losses.detach()
    n_valid = int(valid.sum())
    if selection.threshold is not None:
        above = valid & (losses > selection.threshold)
        if int(above.sum()) >= _how_many(selection.min_k, n_valid):
            return above
        k = _how_many(selection.min_k, n_valid)  # too few above the threshold: the k hardest
    else:
        k = _how_many(selection.top_k, n_valid)
    flat_valid = valid.flatten().nonzero()[:, 0]  # [P] positions of the labelled pixels
    hardest = losses.flatten()[flat_valid].topk(k, sorted=False).indices  # [k] among the labelled
    mask = torch.zeros(valid.numel(), dtype=torch.bool, device=valid.device)
    mask[flat_valid[hardest]] = True
    return mask.reshape(valid.shape)


def bootstrapped_cross_entropy(
    logits: Tensor,
    target: Tensor,
    *,
    top_k: int | float | None = None,
    threshold: float | None = None,
    min_k: int | float | None = None,
    ignore_index: int = 255,
) -> Tensor:
    """Cross-entropy averaged over the hardest labelled pixels of the batch only.

    The pixels are ranked by their cross-entropy ``−ln p_true`` over the whole mini-batch (all
    ``N`` images together). Give exactly one of:

    * ``top_k``: keep the ``top_k`` pixels with the largest loss; an ``int`` is a number of
      pixels, a ``float`` in (0, 1] a fraction of the labelled pixels (rounded to the nearest
      integer, at least 1). Asking for more pixels than are labelled keeps them all.
    * ``threshold``: keep the pixels whose loss is above ``threshold`` (in nats;
      ``-math.log(t)`` keeps those whose true class has probability below ``t``), but at least
      ``min_k`` of them (a count or a fraction, as for ``top_k``; default 1): when fewer exceed
      the threshold, the ``min_k`` hardest are kept instead.

    The selection carries no gradient; the loss's gradient is zero at every pixel not kept.

    Args:
        logits: the network's raw scores, floating ``Tensor[N, C, H, W]``.
        target: class indices, an integer ``Tensor[N, H, W]`` (values in ``[0, C)`` or
            ``ignore_index``).
        top_k: how many pixels to keep (int) or which fraction of the labelled ones (float).
        threshold: the loss (≥ 0) a pixel must exceed to be kept.
        min_k: the least number (int) or fraction (float) of pixels the threshold form keeps.
        ignore_index: the target value of unlabelled pixels; they are never kept.

    Returns:
        The mean cross-entropy of the kept pixels, a scalar; NaN when the batch has no labelled
        pixel (as ``F.cross_entropy``).

    Shape:
        logits ``[N, C, H, W]``, target ``[N, H, W]`` → ``[]``.

    Reference:
        Wu, Shen and van den Hengel, "Bridging Category-level and Instance-level Semantic Image
        Segmentation", arXiv:1605.06885, 2016 (online bootstrapping).

    Example:
        >>> import math
        >>> p_true = torch.tensor([0.9, 0.6, 0.3, 0.1])  # four pixels, two classes, true class 0
        >>> logits = torch.stack([p_true, 1 - p_true]).log()[None, :, None, :]  # [1, 2, 1, 4]
        >>> target = torch.zeros(1, 1, 4, dtype=torch.long)
        >>> bootstrapped_cross_entropy(logits, target, top_k=2)  # (−ln 0.3 − ln 0.1) / 2
        tensor(1.7533)
        >>> bootstrapped_cross_entropy(logits, target, threshold=-math.log(0.7))  # p_true < 0.7
        tensor(1.3391)
    """
    selection = check_selection(top_k, threshold, min_k)
    logits, target, valid = check_logits_and_target(logits, target, ignore_index)
    losses = cross_entropy(logits, target, ignore_index, reduction="none")  # [N, H, W], 0 at ignored
    kept = hard_pixel_mask(losses, valid, selection)  # [N, H, W]
    return losses[kept].sum() / kept.sum()


class BootstrappedCrossEntropy(nn.Module):
    """Module form of :func:`bootstrapped_cross_entropy` (stores the selection and ``ignore_index``).

    Example:
        >>> import math
        >>> BootstrappedCrossEntropy(top_k=0.25)
        BootstrappedCrossEntropy(top_k=0.25, ignore_index=255)
        >>> BootstrappedCrossEntropy(threshold=-math.log(0.7), min_k=512)
        BootstrappedCrossEntropy(threshold=0.356675, min_k=512, ignore_index=255)
    """

    def __init__(
        self,
        *,
        top_k: int | float | None = None,
        threshold: float | None = None,
        min_k: int | float | None = None,
        ignore_index: int = 255,
    ) -> None:
        super().__init__()
        self.top_k, self.threshold, self.min_k = check_selection(top_k, threshold, min_k)
        self.ignore_index = check_int("ignore_index", ignore_index)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return bootstrapped_cross_entropy(
            logits, target, top_k=self.top_k, threshold=self.threshold, min_k=self.min_k, ignore_index=self.ignore_index
        )

    def extra_repr(self) -> str:
        if self.top_k is not None:
            chosen = f"top_k={self.top_k}"
        else:
            chosen = f"threshold={self.threshold:g}, min_k={self.min_k}"
        return f"{chosen}, ignore_index={self.ignore_index}"
