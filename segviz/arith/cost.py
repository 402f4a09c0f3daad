"""Counting the cost of dense prediction: FLOPs, windows and parameters.

Lecture 00 argues with numbers, not adjectives: how much work a per-pixel sliding-window
classifier does, and how many weights a fully-connected layer would need to output a full
resolution score map. Everything here is computed from shapes, so it runs instantly even for
VGG-sized networks (FLOPs are counted on PyTorch's ``meta`` device: no memory, no arithmetic).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call
from torch.utils.flop_counter import FlopCounterMode

from ..validation import check_int, check_pair

__all__ = ["count_flops", "CostEstimate", "sliding_window_cost", "dense_output_parameters"]


def count_flops(model: nn.Module, input_size: Sequence[int]) -> int:
    """Floating-point operations of one forward pass, counted by PyTorch's ``FlopCounterMode``.

    A multiply–add counts as 2 FLOPs (PyTorch's convention; papers that quote "MACs" or
    "mult-adds" report half of this). The model is run on the ``meta`` device through
    ``torch.func.functional_call``: the weights are neither copied nor touched, so counting
    VGG16 at 1000×1000 takes milliseconds.

    Args:
        model: any ``nn.Module`` whose forward takes one tensor.
        input_size: the input's shape, e.g. ``(1, 3, 227, 227)`` for ``[N, C, H, W]``.

    Returns:
        The total FLOPs as an ``int``.

    Example:
        >>> conv = nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=False)
        >>> count_flops(conv, (1, 3, 10, 10))  # 2 * (8*10*10 outputs) * (3*3*3 weights each)
        43200
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model of type {type(model).__name__} given; model must be a torch.nn.Module")
    shape = tuple(check_int("input_size", s, minimum=1) for s in input_size)
    meta_state = {
        name: torch.empty_like(tensor, device="meta")
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]
    }
    x = torch.empty(shape, device="meta")
    was_training = model.training
    model.eval()  # counted as at inference: batch statistics (a batch of 1 through BN) play no part
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            functional_call(model, meta_state, (x,))
    finally:
        model.train(was_training)
    return int(counter.get_total_flops())


@dataclass(frozen=True)
class CostEstimate:
    """What a per-pixel sliding-window classifier costs on one image.

    Attributes:
        image_size: ``(H, W)`` of the image to label.
        window: ``(h, w)`` of the patch classified for each pixel.
        windows: number of classifier runs, one per output pixel: ``H * W``.
        pixels_read: pixel values fed to the classifier in total: ``H * W * h * w``.
        redundancy: how many times each image pixel is read on average: ``h * w``.
        flops_per_window: FLOPs of one classifier run (0 when not given).
        total_flops: ``windows * flops_per_window``.
    """

    image_size: tuple[int, int]
    window: tuple[int, int]
    windows: int
    pixels_read: int
    redundancy: int
    flops_per_window: int
    total_flops: int

    def speedup_over(self, shared_flops: int) -> float:
        """How many times more work than a shared (fully convolutional) pass of ``shared_flops``."""
        shared_flops = check_int("shared_flops", shared_flops, minimum=1)
        return self.total_flops / shared_flops


def sliding_window_cost(
    image_size: int | Sequence[int], window: int | Sequence[int], flops_per_window: int = 0
) -> CostEstimate:
    """Cost of labelling every pixel by classifying the window centred on it.

    The image is padded so every pixel has a full window (the usual choice), hence one
    classifier run per pixel. Neighbouring windows overlap almost entirely, which is the waste
    fully convolutional networks remove: each pixel is read ``h * w`` times instead of once.

    Args:
        image_size: ``H`` or ``(H, W)``.
        window: ``k`` or ``(h, w)``, the patch the classifier sees.
        flops_per_window: cost of one classifier run, e.g. from :func:`count_flops`.

    Returns:
        A :class:`CostEstimate`.

    Example:
        >>> cost = sliding_window_cost(227, 227, flops_per_window=1_000)
        >>> cost.windows, cost.redundancy, cost.total_flops
        (51529, 51529, 51529000)
    """
    height, width = check_pair("image_size", image_size, minimum=1)
    win_h, win_w = check_pair("window", window, minimum=1)
    flops_per_window = check_int("flops_per_window", flops_per_window, minimum=0)
    windows = height * width
    return CostEstimate(
        image_size=(height, width),
        window=(win_h, win_w),
        windows=windows,
        pixels_read=windows * win_h * win_w,
        redundancy=win_h * win_w,
        flops_per_window=flops_per_window,
        total_flops=windows * flops_per_window,
    )


def dense_output_parameters(
    in_shape: Sequence[int], out_shape: Sequence[int], *, bias: bool = True
) -> int:
    """Weights of one fully-connected layer mapping a feature volume to a dense score volume.

    This is the "why not just add an FC layer and reshape?" count: every output score is
    connected to every input feature, so the weight matrix has ``prod(in) * prod(out)`` entries
    (plus ``prod(out)`` biases).

    Args:
        in_shape: the feature volume, e.g. ``(13, 13, 128)``.
        out_shape: the score volume, e.g. ``(227, 227, 21)``.
        bias: count one bias per output.

    Returns:
        The number of learnable parameters (a Python ``int``, exact at any size).

    Example:
        >>> dense_output_parameters((2, 2, 3), (4, 4, 2), bias=False)  # 12 inputs x 32 outputs
        384
        >>> nn.Linear(12, 32).weight.numel()
        384
    """
    n_in = math.prod(check_int("in_shape", s, minimum=1) for s in in_shape)
    n_out = math.prod(check_int("out_shape", s, minimum=1) for s in out_shape)
    return n_in * n_out + (n_out if bias else 0)
