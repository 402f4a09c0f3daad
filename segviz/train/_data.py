"""The three kinds of data :func:`~segviz.train.fit` accepts, checked and batched one way.

* a ``(images, masks)`` pair of tensors, ``[N, C, H, W]`` and ``[N, H, W]``;
* a :class:`~segviz.data.Scenes` (anything with ``images`` and ``masks`` tensors);
* a ``torch.utils.data.Dataset`` whose items are ``(image, mask, ...)`` (e.g.
  :class:`~segviz.data.SyntheticScenes`).

Tensors in memory are batched by slicing them with a seeded permutation (one indexing per batch);
a Dataset goes through a ``DataLoader`` with a seeded generator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

__all__ = ["Batches", "as_batches", "check_labels"]

_ACCEPTED = (
    "a (images Tensor[N, C, H, W], masks Tensor[N, H, W]) pair, a segviz Scenes "
    "(make_scenes(...)) or a torch Dataset of (image, mask) pairs such as SyntheticScenes"
)


def _check_tensors(name: str, images: Any, masks: Any) -> tuple[Tensor, Tensor]:
    if not isinstance(images, Tensor) or not isinstance(masks, Tensor):
        raise ValueError(
            f"{name} holding {type(images).__name__} and {type(masks).__name__} given; {name} must be {_ACCEPTED}"
        )
    if images.ndim != 4 or not images.is_floating_point():
        raise ValueError(
            f"{name} images of shape {tuple(images.shape)} and dtype {images.dtype} given; images must be a "
            "floating Tensor[N, C, H, W] (e.g. float32 in [0, 1])"
        )
    if masks.ndim != 3 or masks.is_floating_point() or masks.dtype == torch.bool:
        raise ValueError(
            f"{name} masks of shape {tuple(masks.shape)} and dtype {masks.dtype} given; masks must be an integer "
            "Tensor[N, H, W] of class ids (int64, or uint8 from a PNG)"
        )
    if images.shape[0] != masks.shape[0]:
        raise ValueError(
            f"{name} with {images.shape[0]} images and {masks.shape[0]} masks given; {name} needs one mask per image"
        )
    if images.shape[0] == 0:
        raise ValueError(f"{name} with 0 images given; {name} needs at least one (image, mask) pair")
    if images.shape[-2:] != masks.shape[-2:]:
        raise ValueError(
            f"{name} images of size {tuple(images.shape[-2:])} and masks of size {tuple(masks.shape[-2:])} given; "
            "each mask must have its image's H × W"
        )
    return images, masks


def check_labels(name: str, masks: Tensor, num_classes: int, ignore_index: int = 255) -> None:
    """Raise if ``masks`` holds a label outside ``0 … num_classes − 1`` other than ``ignore_index``."""
    bad = (masks != ignore_index) & ((masks < 0) | (masks >= num_classes))
    if bool(bad.any()):
        values = sorted(set(masks[bad].unique()[:5].tolist()))
        raise ValueError(
            f"{name} masks hold label(s) {values}; with num_classes={num_classes} labels must be 0 to "
            f"{num_classes - 1}, or {ignore_index} for unlabelled pixels (check num_classes, or the model's "
            "output channels)"
        )


@dataclass
class Batches:
    """Checked data that yields ``(images, masks)`` batches; ``tensors`` is ``None`` for a Dataset."""

    name: str
    tensors: tuple[Tensor, Tensor] | None
    dataset: Dataset | None
    length: int

    def batches_per_epoch(self, batch_size: int, drop_last: bool) -> int:
        full, rest = divmod(self.length, batch_size)
        return full if drop_last and full > 0 else full + (rest > 0)

    def iterate(
        self, batch_size: int, *, shuffle: bool, generator: torch.Generator | None = None, drop_last: bool = False
    ) -> Iterator[tuple[Tensor, Tensor]]:
        """``(images [B, C, H, W], masks [B, H, W])`` batches, shuffled with ``generator``.

        ``drop_last`` drops a last, smaller batch (batch norm dislikes a batch of one) unless it
        is the only one.
        """
        if self.tensors is not None:
            images, masks = self.tensors
            order = torch.randperm(self.length, generator=generator) if shuffle else None
            count = self.batches_per_epoch(batch_size, drop_last)
            for start in range(0, count * batch_size, batch_size):
                if order is None:
                    yield images[start : start + batch_size], masks[start : start + batch_size]
                else:
                    index = order[start : start + batch_size]
                    yield images[index], masks[index]
            return
        drop = drop_last and self.length >= batch_size
        loader = DataLoader(self.dataset, batch_size=batch_size, shuffle=shuffle, generator=generator, drop_last=drop)
        for batch in loader:
            if not isinstance(batch, (tuple, list)) or len(batch) < 2:
                raise ValueError(
                    f"{self.name} yielded items of type {type(batch).__name__}; its items must be (image, mask) pairs"
                )
            yield _check_tensors(self.name, batch[0], batch[1])


def as_batches(name: str, data: Any) -> Batches:
    """Check ``data`` (one of the three accepted kinds) and wrap it in :class:`Batches`."""
    if isinstance(data, Dataset):
        try:
            length = len(data)  # type: ignore[arg-type]
        except TypeError:
            raise ValueError(f"{name} {type(data).__name__} given without a length; {name} must be {_ACCEPTED}") from None
        if length == 0:
            raise ValueError(f"{name} with 0 items given; {name} needs at least one (image, mask) pair")
        item = data[0]
        if not isinstance(item, (tuple, list)) or len(item) < 2:
            raise ValueError(
                f"{name} {type(data).__name__} whose items are {type(item).__name__} given; "
                f"its items must be (image, mask) pairs"
            )
        image, mask = item[0], item[1]
        if isinstance(image, Tensor) and isinstance(mask, Tensor):
            image, mask = image[None], mask[None]  # one item as a batch of one
        _check_tensors(name, image, mask)
        return Batches(name, None, data, length)
    if hasattr(data, "images") and hasattr(data, "masks"):
        images, masks = _check_tensors(name, data.images, data.masks)
        return Batches(name, (images, masks), None, images.shape[0])
    if isinstance(data, (tuple, list)) and len(data) == 2:
        images, masks = _check_tensors(name, data[0], data[1])
        return Batches(name, (images, masks), None, images.shape[0])
    described = f"a tuple of {len(data)} items" if isinstance(data, (tuple, list)) else f"a {type(data).__name__}"
    raise ValueError(f"{name} {described} given; {name} must be {_ACCEPTED}")
