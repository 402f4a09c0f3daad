"""Metrics: how good a segmentation (or an upsampled image) is.

* FCN's four scores from one confusion matrix accumulated over the evaluation set:
  :func:`confusion_matrix`, :func:`segmentation_scores` (pixel accuracy, mean accuracy, mean IU,
  frequency-weighted IU), :func:`per_class_iou`, :func:`per_class_accuracy`;
* accuracy near object boundaries, the trimap evaluation of DeepLab: :func:`trimap_mask`,
  :func:`boundary_accuracy`;
* how much of an upsampled image is checkerboard: :func:`checkerboard_energy`.
"""

from .boundary import boundary_accuracy, trimap_mask
from .checkerboard import checkerboard_energy
from .segmentation import confusion_matrix, per_class_accuracy, per_class_iou, segmentation_scores

__all__ = [
    "confusion_matrix",
    "segmentation_scores",
    "per_class_iou",
    "per_class_accuracy",
    "trimap_mask",
    "boundary_accuracy",
    "checkerboard_energy",
]
