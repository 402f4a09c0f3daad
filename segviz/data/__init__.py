"""segviz.data: palettes and ``colorize``, synthetic scenes and toy streets, the photos bundled with
scikit-image, loaders for VOC and Cityscapes already on disk, and joint augmentation.

Everything here runs offline on a CPU: the synthetic scenes and streets are drawn on the fly, the
photos ship inside the scikit-image wheel, and VOC and Cityscapes are read from a folder, never
downloaded. Nothing here imports plotly or ipywidgets, and torchvision (seconds to import) only
when the transforms or a VOC/Cityscapes loader is first used.
"""

import importlib
from typing import Any

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
from .streets import STREET_CLASSES, STREET_PALETTE, STREET_TO_CITYSCAPES, Streets, ToyStreets, make_streets
from .disk import VOC, CITYSCAPES_TRAIN_IDS, Cityscapes, DatasetNotFoundError, cityscapes_to_train_ids

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
    "ToyStreets",
    "make_streets",
    "Streets",
    "STREET_CLASSES",
    "STREET_PALETTE",
    "STREET_TO_CITYSCAPES",
    "VOC",
    "Cityscapes",
    "DatasetNotFoundError",
    "CITYSCAPES_TRAIN_IDS",
    "cityscapes_to_train_ids",
    "JointTransform",
    "segmentation_transforms",
    "real_images",
    "to_uint8_image",
]

# imported on first use: they import torchvision.transforms.v2
_LAZY = {"JointTransform": ".transforms", "segmentation_transforms": ".transforms"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
