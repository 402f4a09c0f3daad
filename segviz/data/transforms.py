"""Joint augmentation for segmentation: move the image and its mask together, colour the image only.

Augmenting a segmentation sample is not augmenting an image: a flip, a zoom or a crop must move the
mask exactly as it moves the image, or the labels no longer sit on their pixels. Three rules follow:

* **geometric** operations (resize, zoom, rotate, crop, flip) are applied to image and mask with
  the *same* random parameters;
* the mask is resampled with **nearest** interpolation, never bilinear: the average of "road" (0)
  and "car" (6) is not "person" (5);
* pixels that enter the frame from outside (padding, the corners of a rotation) get the
  **ignore label** (255) in the mask, so the loss skips them, and black in the image;

and **photometric** operations (brightness, contrast, saturation, hue) change the image only.

``torchvision.transforms.v2`` does all of this when it knows which tensor is the image and which
the mask: ``tv_tensors.Image`` and ``tv_tensors.Mask``. :class:`JointTransform` wraps plain
tensors (and PIL images) as those types, runs the v2 transforms, and hands back plain tensors;
:func:`segmentation_transforms` builds the usual training and evaluation pipelines.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torchvision import tv_tensors
from torchvision.transforms import v2

from ..validation import check_int, check_number, check_pair

__all__ = ["JointTransform", "segmentation_transforms"]


def _as_image(image: Any) -> tv_tensors.Image:
    """A ``tv_tensors.Image``: tensors ``[..., C, H, W]`` as they are, PIL images as float [0, 1]."""
    if isinstance(image, tv_tensors.Image):
        return image
    if isinstance(image, Tensor):
        if image.ndim < 3 or image.shape[-3] not in (1, 3):
            raise ValueError(
                f"image of shape {tuple(image.shape)} given; image must be a tensor [3, H, W] (or "
                "[1, H, W], or a batch [N, 3, H, W]) with the colour channels first"
            )
        return tv_tensors.Image(image)
    if hasattr(image, "getbands"):  # a PIL image
        return v2.functional.to_dtype(v2.functional.to_image(image.convert("RGB")), torch.float32, scale=True)
    raise ValueError(
        f"image of type {type(image).__name__} given; image must be a torch tensor [3, H, W] "
        "or a PIL image"
    )


def _as_mask(mask: Any, image: tv_tensors.Image, name: str) -> tv_tensors.Mask:
    """A ``tv_tensors.Mask`` of integer class ids with the image's height and width."""
    if not isinstance(mask, Tensor) and hasattr(mask, "getbands"):  # a PIL image of ids
        mask = torch.from_numpy(np.array(mask, dtype=np.int64))
    if not isinstance(mask, Tensor):
        raise ValueError(
            f"{name} of type {type(mask).__name__} given; {name} must be a torch tensor [H, W] of "
            "class ids (or a PIL image of them)"
        )
    if mask.is_floating_point() or mask.is_complex():
        raise ValueError(
            f"{name} of dtype {mask.dtype} given; a mask holds class ids, so it must be an integer "
            "tensor (use mask.long()); interpolating ids would invent classes"
        )
    if mask.shape[-2:] != image.shape[-2:] or mask.ndim not in (image.ndim - 1, image.ndim):
        raise ValueError(
            f"{name} of shape {tuple(mask.shape)} given for an image of shape {tuple(image.shape)}; "
            f"{name} must be [H, W] (or [N, H, W] for a batch) with the image's H and W"
        )
    return mask if isinstance(mask, tv_tensors.Mask) else tv_tensors.Mask(mask)


class JointTransform(v2.Compose):
    """``v2.Compose`` for ``(image, mask)`` pairs given as plain tensors.

    torchvision's v2 transforms move a mask with its image only when they can tell the two apart:
    a plain tensor counts as an image, and a second plain tensor is passed through *unchanged*,
    which silently misaligns the labels. This wrapper marks the first argument as a
    ``tv_tensors.Image`` and every further one as a ``tv_tensors.Mask``, runs the transforms, and
    returns plain tensors again. Geometric transforms then move image and masks together (masks
    with nearest interpolation); photometric ones change the image only.

    Args:
        transforms: the v2 transforms to apply in order (or a single one).

    Returns (when called as ``transform(image, mask, ...)``):
        ``(image, mask, ...)`` as plain tensors; the image alone when called with no mask.

    Shape:
        ``image [3, H, W]`` (or ``[N, 3, H, W]``), each mask ``[H, W]`` (or ``[N, H, W]``) with the
        image's ``H, W``; outputs have the transformed ``H', W'``. A PIL image becomes float32 in
        [0, 1], a PIL mask int64.

    Example:
        >>> flip = JointTransform([v2.RandomHorizontalFlip(p=1.0)])
        >>> image, mask = flip(torch.tensor([[[0.0, 1.0]]]), torch.tensor([[3, 7]]))
        >>> image.tolist(), mask.tolist(), type(mask).__name__
        ([[[1.0, 0.0]]], [[7, 3]], 'Tensor')
    """

    def __init__(self, transforms: Sequence[Callable] | Callable) -> None:
        if callable(transforms) and not isinstance(transforms, Sequence):
            transforms = [transforms]
        if not isinstance(transforms, Sequence) or not all(callable(t) for t in transforms):
            raise ValueError(
                f"transforms {transforms!r} given; transforms must be a list of v2 transforms, "
                "e.g. [v2.RandomHorizontalFlip()]"
            )
        super().__init__(list(transforms) or [v2.Identity()])

    def forward(self, image: Any, *masks: Any) -> Any:  # type: ignore[override]
        wrapped = _as_image(image)
        inputs = [wrapped] + [_as_mask(m, wrapped, "mask" if i == 0 else f"mask {i}") for i, m in enumerate(masks)]
        outputs = super().forward(*inputs)
        if not masks:
            return outputs.as_subclass(Tensor)
        return tuple(t.as_subclass(Tensor) for t in outputs)


def _check_range(name: str, value: Any, example: str) -> tuple[float, float]:
    rule = f"a pair (low, high) of numbers with 0 < low <= high, e.g. {example}"
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        try:
            low, high = (check_number(name, v) for v in value)
        except ValueError:
            pass
        else:
            if 0 < low <= high:
                return low, high
    raise ValueError(f"{name} {value!r} given; {name} must be None or {rule}")


def _check_jitter(value: Any) -> tuple[float, float, float, float]:
    rule = (
        "None, a number c >= 0 (brightness, contrast and saturation each by up to c), or four "
        "numbers (brightness, contrast, saturation, hue) >= 0 with hue <= 0.5, e.g. (0.3, 0.3, 0.3, 0.02)"
    )
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and value >= 0:
        return float(value), float(value), float(value), 0.0
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 4:
        if all(isinstance(v, numbers.Real) and not isinstance(v, bool) and v >= 0 for v in value):
            if value[3] <= 0.5:
                return tuple(float(v) for v in value)  # type: ignore[return-value]
    raise ValueError(f"color_jitter {value!r} given; color_jitter must be {rule}")


def _check_size(name: str, value: Any) -> int | tuple[int, int] | None:
    if value is None:
        return None
    try:
        if isinstance(value, Sequence) and not isinstance(value, str):
            return check_pair(name, value, minimum=1)
        return check_int(name, value, minimum=1)
    except ValueError:
        raise ValueError(
            f"{name} {value!r} given; {name} must be None, an integer >= 1 or a pair (H, W) of them"
        ) from None


def segmentation_transforms(
    train: bool = True,
    *,
    size: int | tuple[int, int] | None = None,
    scale: tuple[float, float] | None = (0.5, 2.0),
    rotation: float = 0.0,
    crop: int | tuple[int, int] | None = None,
    hflip: float = 0.5,
    color_jitter: float | tuple[float, float, float, float] | None = (0.3, 0.3, 0.3, 0.02),
    ignore_index: int = 255,
    fill: float = 0.0,
) -> JointTransform:
    """The standard augmentation pipeline for semantic segmentation, as one joint transform.

    For training, in this order (each step only if asked for):

    1. ``v2.Resize(size)``: image bilinear (antialiased), mask nearest.
    2. ``v2.RandomAffine``: zoom by a factor drawn uniformly from ``scale`` about a point up to a
       quarter of the image from the centre, and rotate by up to ``rotation`` degrees; the canvas
       keeps its size (zooming out and rotating bring in pixels from outside the image: ``fill``
       in the image, ``ignore_index`` in the mask).
    3. ``v2.RandomCrop(crop)``, padding first if the image is smaller (``fill`` / ``ignore_index``).
    4. ``v2.RandomHorizontalFlip(hflip)`` (never a vertical flip: streets have a sky on top).
    5. ``v2.ColorJitter(*color_jitter)``, on the image only.

    For evaluation (``train=False``) only step 1: predictions must be scored on unaltered images,
    so the random steps' arguments are ignored.

    Args:
        train: training (random augmentation) or evaluation (deterministic resize) pipeline.
        size: resize to ``(H, W)``, or the shorter side to ``size`` (aspect kept); None: keep.
        scale: ``(low, high)`` zoom factors (0.5 halves the content, 2 doubles it); None: none.
        rotation: largest rotation in degrees, >= 0 (0: none).
        crop: ``(H, W)`` (or one side for a square) of a random crop; None: no crop.
        hflip: probability of a horizontal flip, 0 to 1.
        color_jitter: ``(brightness, contrast, saturation, hue)`` strengths as in
            ``v2.ColorJitter``, or one number for the first three; None: no colour change.
        ignore_index: the mask label of pixels from outside the image (255, as in VOC and
            Cityscapes, which losses skip with ``ignore_index=255``).
        fill: the image value of pixels from outside the image (0: black).

    Returns:
        :class:`JointTransform` (a ``v2.Compose``) called as ``transform(image, mask)``.

    Shape:
        ``image [3, H, W]``, ``mask [H, W]`` -> ``[3, H', W']``, ``[H', W']`` with ``(H', W') =
        crop`` if given, else ``size`` (or the input size).

    Example:
        >>> transform = segmentation_transforms(crop=(32, 32), scale=(0.5, 1.0), rotation=10)
        >>> _ = torch.manual_seed(0)
        >>> image, mask = transform(torch.rand(3, 24, 40), torch.zeros(24, 40, dtype=torch.long))
        >>> tuple(image.shape), tuple(mask.shape), sorted(mask.unique().tolist())
        ((3, 32, 32), (32, 32), [0, 255])
        >>> segmentation_transforms(hflip=2)
        Traceback (most recent call last):
        ...
        ValueError: hflip 2 given; hflip must be a number between 0 and 1
    """
    if not isinstance(train, bool):
        raise ValueError(f"train {train!r} given; train must be True (augment) or False (evaluate)")
    size = _check_size("size", size)
    crop = _check_size("crop", crop)
    scale = None if scale is None else _check_range("scale", scale, "(0.5, 2.0)")
    rotation = check_number("rotation", rotation, minimum=0, maximum=180)
    hflip = check_number("hflip", hflip, minimum=0, maximum=1)
    jitter = None if color_jitter is None else _check_jitter(color_jitter)
    ignore_index = check_int("ignore_index", ignore_index)
    fill = check_number("fill", fill)
    fills = {tv_tensors.Image: fill, tv_tensors.Mask: ignore_index}

    steps: list[Callable] = []
    if size is not None:
        steps.append(v2.Resize(size, antialias=True))
    if train:
        if scale is not None or rotation > 0:
            steps.append(v2.RandomAffine(
                degrees=rotation, translate=(0.25, 0.25) if scale is not None else None,
                scale=scale, interpolation=v2.InterpolationMode.BILINEAR, fill=fills,
            ))  # fmt: skip
        if crop is not None:
            steps.append(v2.RandomCrop(crop, pad_if_needed=True, fill=fills))
        if hflip > 0:
            steps.append(v2.RandomHorizontalFlip(hflip))
        if jitter is not None and any(jitter):
            steps.append(v2.ColorJitter(*jitter))
    return JointTransform(steps)
