"""The small FCN and training settings that ``bench/train.py`` measures and the lectures reuse.

One place for the numbers, so that the bench's "FCN-8s reaches 0.85 mean IU in under 45 s on
a 2-core CPU" and the lecture that trains the same model in its 25–30 s budget cannot drift
apart.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ..validation import check_choice

__all__ = ["BENCH_CONFIG", "bench_model"]

#: The bench's configuration (read it, don't change it: copy it and edit the copy).
#:
#: * ``"model"``: keyword arguments of :class:`~segviz.models.FCN` (small backbone): VGG's
#:   layout, narrow, no dropout, and a learned final upsampling.
#: * ``"fit"``: keyword arguments of :func:`~segviz.train.fit`.
#: * ``"size"``, ``"num_objects"``, ``"train_images"``, ``"val_images"``: the data,
#:   ``make_scenes(n, size, seed=..., num_objects=...)``.
#: * ``"target"`` (mean IU) and ``"budget"`` (training seconds): the bench's goal.
BENCH_CONFIG: dict[str, Any] = {
    "model": {
        "channels": (16, 32, 64, 64, 64),
        "num_convs": 1,
        "fc_channels": 128,
        "dropout": 0.0,
        "freeze_final_upsampling": False,
    },
    "fit": {
        "epochs": 8,
        "batch_size": 32,
        "lr": 1e-2,
        "weight_decay": 1e-4,
        "scheduler": "onecycle",
        "eval_every": 25,
        "eval_batch_size": 128,
    },
    "size": 64,
    "num_objects": (1, 4),
    "train_images": 4000,
    "val_images": 256,
    "target": 0.85,
    "budget": 45.0,
}


def bench_model(variant: str = "8s", num_classes: int = 7) -> nn.Module:
    """The bench's FCN: :class:`~segviz.models.FCN` with ``BENCH_CONFIG["model"]``.

    Args:
        variant: ``"32s"``, ``"16s"`` or ``"8s"``; the three share every other setting.
        num_classes: number of classes (7 for the synthetic scenes).

    Returns:
        A freshly initialised model (seed first for repeatable weights).

    Example:
        >>> model = bench_model("32s")
        >>> model.variant, model.encoder.channels, model.head.trainable
        ('32s', (16, 32, 64, 64, 64), True)
    """
    from ..models import FCN

    variant = check_choice("variant", variant, ("32s", "16s", "8s"))
    return FCN(num_classes, variant, **BENCH_CONFIG["model"])
