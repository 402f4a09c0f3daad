"""segviz: an interactive course on semantic segmentation that computes with PyTorch.

The package is layered so that imports flow one way, widgets → viz → core:

* core (``segviz.arith``, ``segviz.ops``, ``segviz.data``, ``segviz.models``, …) needs only
  torch, torchvision and numpy;
* ``segviz.viz`` builds plotly figures from core results;
* ``segviz.widgets`` wraps them in ipywidgets.

Names from viz and widgets are exported here lazily, so ``import segviz`` (and every core
module) never imports plotly or ipywidgets until a figure or widget is asked for.
"""

from __future__ import annotations

import importlib
from typing import Any

from .utils import default_device, seed_everything

__version__ = "0.1.0"

# public name -> submodule that defines it (imported on first use)
_LAZY: dict[str, str] = {}


def _register(module: str, names: list[str]) -> None:
    for name in names:
        _LAZY[name] = module


_register("segviz.arith", [
    "count_flops", "CostEstimate", "sliding_window_cost", "dense_output_parameters",
    "conv_output_size", "conv_transpose_output_size", "pool_output_size", "ReceptiveField",
    "LayerReceptiveField", "compose", "input_size_for", "receptive_field", "receptive_fields",
    "gradient_receptive_field", "convolutionalize", "atrous_taps", "valid_tap_counts", "valid_tap_fraction",
    "feature_map_size", "atrous_span", "aspp_multiply_adds",
])
_register("segviz.data", [
    "VOC_CLASSES", "VOC_PALETTE", "CITYSCAPES_CLASSES", "CITYSCAPES_PALETTE", "CITYSCAPES_CATEGORIES",
    "SYNTHETIC_CLASSES", "SYNTHETIC_PALETTE", "colorize", "to_uint8_image",
    "Scenes", "SyntheticScenes", "make_scenes", "real_images", "STREET_CLASSES", "STREET_PALETTE",
    "STREET_TO_CITYSCAPES", "Streets", "ToyStreets", "make_streets", "VOC", "Cityscapes", "DatasetNotFoundError",
    "CITYSCAPES_TRAIN_IDS", "cityscapes_to_train_ids", "JointTransform", "segmentation_transforms",
])
_register("segviz.ops", [
    "conv2d_matrix", "conv2d_via_matrix", "conv_transpose2d_via_matrix", "conv_transpose2d_scatter",
    "conv_transpose2d_as_conv", "overlap_count", "unpool_nearest", "UnpoolNearest", "unpool_bed_of_nails",
    "UnpoolBedOfNails", "max_unpool", "MaxUnpool", "bilinear_kernel", "dilate_kernel", "resize_conv", "ResizeConv",
])
_register("segviz.metrics", [
    "checkerboard_energy", "confusion_matrix", "segmentation_scores", "per_class_iou", "per_class_accuracy",
    "trimap_mask", "boundary_accuracy",
])
_register("segviz.losses", [
    "cross_entropy", "CrossEntropy", "class_counts", "class_weights", "bootstrapped_cross_entropy",
    "BootstrappedCrossEntropy", "pixel_losses",
])
_register("segviz.models", [
    "FCN", "FCN32s", "FCN16s", "FCN8s", "UNet", "unet_output_size", "unet_valid_sizes", "SegNet", "DeconvNet",
    "ASPP", "DeepLabV3",
])
_register("segviz.train", [
    "fit", "evaluate", "predict", "History", "save_checkpoint", "load_checkpoint", "bench_config", "bench_model", "bench_data",
    "schedule_factor",
])
_register("segviz.viz", [
    "compute_tasks", "figure_tasks", "figure_palette", "figure_images",
    "compute_sliding_window", "figure_sliding_window", "compute_fcn_skips", "figure_fcn_skips",
    "compute_prediction_view", "figure_prediction_view", "figure_history",
])
_register("segviz.widgets", [
    "SlidingWindowExplorer", "ReceptiveFieldExplorer", "UnpoolingExplorer", "CheckerboardExplorer",
    "DilationExplorer", "TransposedConvExplorer", "ConvMatrixExplorer", "FCNSkipExplorer", "PredictionViewer",
    "ASPPExplorer", "LossExplorer",
])

__all__ = ["__version__", "seed_everything", "default_device", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'segviz' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
