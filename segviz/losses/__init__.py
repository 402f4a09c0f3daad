"""Losses for per-pixel classification, and the per-pixel maps behind them.

* pixel-wise cross-entropy, equal to ``F.cross_entropy``: :func:`cross_entropy`,
  :class:`CrossEntropy`;
* class weighting for rare classes, ENet's ``1 / ln(c + p)``: :func:`class_counts`,
  :func:`class_weights` (pass them as ``cross_entropy(..., weight=w)``);
* learning from the hard pixels only, online bootstrapping: :func:`bootstrapped_cross_entropy`,
  :class:`BootstrappedCrossEntropy`;
* where each loss puts its weight, one value per pixel: :func:`pixel_losses`.
"""

from .bootstrapped import BootstrappedCrossEntropy, bootstrapped_cross_entropy
from .class_weights import class_counts, class_weights
from .cross_entropy import CrossEntropy, cross_entropy
from .pixel_losses import pixel_losses

__all__ = [
    "cross_entropy",
    "CrossEntropy",
    "class_counts",
    "class_weights",
    "bootstrapped_cross_entropy",
    "BootstrappedCrossEntropy",
    "pixel_losses",
]
