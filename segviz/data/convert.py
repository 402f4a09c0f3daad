"""Conversions between the tensor layout models use and the array layout figures use."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..validation import check_ndim

__all__ = ["to_uint8_image"]


def to_uint8_image(image: Any) -> np.ndarray:
    """A float image in [0, 1] as the uint8 RGB array figures and photos use.

    Args:
        image: ``Tensor[3, H, W]`` (model layout) or ``[H, W, 3]`` array/tensor, floats in
            [0, 1] (values outside are clipped) or already uint8.

    Returns:
        ``np.ndarray[H, W, 3]`` of dtype uint8.

    Example:
        >>> to_uint8_image(torch.tensor([[[0.0, 1.0]], [[0.5, 0.25]], [[1.0, 2.0]]])).tolist()
        [[[0, 128, 255], [255, 64, 255]]]
    """
    array = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    check_ndim("image", array, 3, "[3, H, W] or [H, W, 3]")
    if array.shape[0] == 3 and array.shape[-1] != 3:
        array = array.transpose(1, 2, 0)  # [3, H, W] -> [H, W, 3]
    if array.shape[-1] != 3:
        raise ValueError(f"image of shape {tuple(image.shape)} given; image must have 3 colour channels, first or last")
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"image of dtype {array.dtype} given; image must be float in [0, 1] or uint8")
    return np.ascontiguousarray((np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))
