"""segviz.data: palettes and ``colorize``, synthetic scenes, and the photos bundled with scikit-image.

Everything here runs offline on a CPU: the synthetic scenes are drawn on the fly and the photos
ship inside the scikit-image wheel. Nothing here imports plotly or ipywidgets.
"""

from .palettes import (
    CITYSCAPES_CATEGORIES,
    CITYSCAPES_CLASSES,
    CITYSCAPES_PALETTE,
    VOC_CLASSES,
    VOC_PALETTE,
    colorize,
)
from .convert import to_uint8_image
from .real import real_images
from .synthetic import SYNTHETIC_CLASSES, SYNTHETIC_PALETTE, Scenes, SyntheticScenes, make_scenes

__all__ = [
    "VOC_CLASSES",
    "VOC_PALETTE",
    "CITYSCAPES_CLASSES",
    "CITYSCAPES_PALETTE",
    "CITYSCAPES_CATEGORIES",
    "colorize",
    "SyntheticScenes",
    "make_scenes",
    "Scenes",
    "SYNTHETIC_CLASSES",
    "SYNTHETIC_PALETTE",
    "real_images",
    "to_uint8_image",
]
