"""Argument checks shared by the models (private: each model quotes them in its own words).

A learner who passes a grey image to an RGB model, five stages' worth of channels to a model
with four, or an image too small for five poolings reads what was received and what would work,
instead of a shape error from deep inside a convolution.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

from torch import Tensor

from ..validation import check_int, check_ndim

__all__ = ["check_images", "check_per_stage", "check_probability", "check_min_size", "check_cached_weights"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"a {type(value).__name__}"


def check_images(x: Any, in_channels: int, model: str) -> Tensor:
    """Return ``x`` if it is a ``Tensor[N, in_channels, H, W]``, else raise a ``ValueError``."""
    layout = f"[N, {in_channels}, H, W]"
    if not isinstance(x, Tensor):
        raise ValueError(f"x of type {type(x).__name__} given; {model} takes a torch.Tensor {layout}")
    check_ndim("x", x, 4, layout)
    if x.shape[1] != in_channels:
        raise ValueError(
            f"x of shape {tuple(x.shape)} given; this {model} was built with in_channels={in_channels}, "
            f"so x must be {layout} (or build the model with in_channels={x.shape[1]})"
        )
    return x


def check_per_stage(name: str, value: Any, num_stages: int | None = None, *, minimum: int = 1) -> tuple[int, ...]:
    """One integer per stage: a sequence of ``num_stages`` ints (any length if ``None``), or one int for all."""
    if num_stages is not None and not isinstance(value, Sequence):
        try:
            return (check_int(name, value, minimum=minimum),) * num_stages
        except ValueError:
            pass
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0:
        if num_stages is None or len(value) == num_stages:
            try:
                return tuple(check_int(name, v, minimum=minimum) for v in value)
            except ValueError:
                pass
    count = "one or more" if num_stages is None else f"{num_stages}"
    alone = "" if num_stages is None else " (or one integer for all of them)"
    raise ValueError(
        f"{name} {_short(value)} given; {name} must be {count} integers >= {minimum}, one per stage{alone}"
    )


def check_probability(name: str, value: Any) -> float:
    """A dropout probability in ``[0, 1)``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} {_short(value)} given; {name} must be a number in [0, 1), e.g. 0.5 or 0")
    return float(value)


def check_min_size(x: Tensor, minimum: int, model: str, why: str) -> None:
    """Refuse an input whose height or width is below ``minimum``, saying ``why``."""
    h, w = x.shape[-2:]
    if h < minimum or w < minimum:
        raise ValueError(
            f"input of size {h}x{w} given; {model} needs H and W of at least {minimum} ({why})"
        )


def check_cached_weights(weights: Any, enum: Any, architecture: str) -> Any:
    """Resolve torchvision ``weights`` and make sure their file is already in torch's cache.

    segviz never downloads: the course runs offline. ``None`` (random initialisation) always
    passes; a ``weights`` enum member or its name passes only when the checkpoint file is where
    ``torch.hub.load_state_dict_from_url`` looks for it, so torchvision loads it without a download.
    """
    if weights is None:
        return None
    import torch.hub

    try:
        weights = enum.verify(weights)
    except (ValueError, KeyError, TypeError) as error:
        names = ", ".join(repr(w.name) for w in enum)
        raise ValueError(
            f"weights {_short(weights)} given; weights must be None or one of {enum.__name__}: {names}"
        ) from error
    filename = os.path.basename(urlparse(weights.url).path)
    path = os.path.join(torch.hub.get_dir(), "checkpoints", filename)
    if not os.path.isfile(path):
        raise ValueError(
            f"weights {weights} given but {path} does not exist; segviz never downloads. Copy the "
            f"checkpoint ({weights.url}) there yourself, or pass weights=None for a randomly "
            f"initialised {architecture}"
        )
    return weights
