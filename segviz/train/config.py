"""The small FCN, data and training settings that ``bench/train.py`` measures and the lectures reuse.

One place for the numbers, so that the bench and the lectures that train "the same small FCN in
a 25–30 s budget" cannot drift apart:

* :func:`bench_config`: the settings, as a fresh dict (edit your copy freely);
* :func:`bench_model`: the FCN they describe (FCN-32s, 16s or 8s);
* :func:`bench_data`: the training and validation scenes.
"""

from __future__ import annotations

import copy
from typing import Any

from torch import nn

from ..validation import check_choice, check_int

__all__ = ["bench_config", "bench_model", "bench_data"]

_CONFIG: dict[str, Any] = {
    "model": {
        "channels": (8, 16, 32, 64, 64),
        "num_convs": (1, 2, 3, 3, 1),
        "fc_channels": 64,
        "dropout": 0.0,
        "freeze_final_upsampling": False,
    },
    "fit": {
        "epochs": 20,
        "batch_size": 8,
        "lr": 5e-3,
        "weight_decay": 1e-4,
        "scheduler": "onecycle",
        "eval_every": 50,
        "eval_batch_size": 128,
    },
    "size": 64,
    "num_objects": (1, 4),
    "train_images": 4000,
    "val_images": 256,
    "target": 0.85,
    "budget": 45.0,
}


def bench_config() -> dict[str, Any]:
    """The bench's settings, a new copy on every call.

    * ``"model"``: keyword arguments of :class:`~segviz.models.FCN` (small backbone): VGG16's
      five stages at an eighth of its width, with 1, 2, 3, 3, 1 convolutions (depth where the
      maps are small and cheap), fc6/fc7 of 64 channels, no dropout, and a learned final
      upsampling; about 0.2 M parameters, 50 ms a step on two CPU cores.
    * ``"fit"``: keyword arguments of :func:`~segviz.train.fit`: AdamW, batches of 8 (on a CPU
      as many images per second as 16 or 32, and twice the updates), a one-cycle schedule
      peaking at 5e-3. ``epochs`` is large on purpose: pass ``time_limit`` and the schedule
      follows the clock, so the run ends annealed when the budget runs out.
    * ``"size"``, ``"num_objects"``, ``"train_images"``, ``"val_images"``: the data
      (:func:`bench_data`).
    * ``"target"`` (validation mean IU) and ``"budget"`` (training seconds): the bench's goal.

    Returns:
        A dict (nested dicts and tuples), safe to modify.

    Example:
        >>> config = bench_config()
        >>> config["fit"]["batch_size"], config["model"]["channels"], config["target"]
        (8, (8, 16, 32, 64, 64), 0.85)
    """
    return copy.deepcopy(_CONFIG)


def bench_model(variant: str = "8s", num_classes: int = 7) -> nn.Module:
    """The bench's FCN: :class:`~segviz.models.FCN` with ``bench_config()["model"]``.

    Args:
        variant: ``"32s"``, ``"16s"`` or ``"8s"``; the three share every other setting.
        num_classes: number of classes (7 for the synthetic scenes).

    Returns:
        A freshly initialised model (seed first for repeatable weights).

    Example:
        >>> model = bench_model("32s")
        >>> model.variant, model.encoder.channels, model.head.trainable
        ('32s', (8, 16, 32, 64, 64), True)
    """
    from ..models import FCN

    variant = check_choice("variant", variant, ("32s", "16s", "8s"))
    return FCN(num_classes, variant, **_CONFIG["model"])


def bench_data(seed: int = 0, *, train_images: int | None = None, val_images: int | None = None,
               size: int | None = None) -> tuple[Any, Any]:
    """The bench's training and validation scenes (:func:`~segviz.data.make_scenes`).

    Training uses data-set seed ``2·seed + 1`` and validation ``2·seed + 2``, so the two never
    share a scene.

    Args:
        seed: which pair of data sets.
        train_images: ``None``: ``bench_config()["train_images"]`` (4000).
        val_images: ``None``: ``bench_config()["val_images"]`` (256).
        size: ``None``: ``bench_config()["size"]`` (64).

    Returns:
        ``(train, val)``, two :class:`~segviz.data.Scenes`.

    Example:
        >>> train, val = bench_data(train_images=8, val_images=4, size=32)
        >>> len(train), len(val), tuple(val.images.shape[-2:])
        (8, 4, (32, 32))
    """
    from ..data import make_scenes

    seed = check_int("seed", seed, minimum=0)
    size = _CONFIG["size"] if size is None else size
    train_images = _CONFIG["train_images"] if train_images is None else train_images
    val_images = _CONFIG["val_images"] if val_images is None else val_images
    objects = _CONFIG["num_objects"]
    return (
        make_scenes(train_images, size, seed=2 * seed + 1, num_objects=objects),
        make_scenes(val_images, size, seed=2 * seed + 2, num_objects=objects),
    )
