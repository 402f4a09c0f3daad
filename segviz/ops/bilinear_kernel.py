"""The bilinear-interpolation kernel FCN uses to initialise its transposed convolutions.

A transposed convolution with stride ``f`` and a ``2f × 2f`` "tent" kernel *is* bilinear
upsampling by ``f``, away from the image border. FCN initialises its upsampling layers this way
(and keeps the final 32× layer fixed), so training starts from plain bilinear interpolation and
only learns corrections to it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..validation import check_int, check_pair

__all__ = ["bilinear_kernel"]


def _tent(size: int, dtype: torch.dtype) -> Tensor:
    """FCN's ``upsample_filt`` in one direction: ``1 − |x − center| / factor``, Tensor[size]."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    x = torch.arange(size, dtype=dtype)
    return 1 - (x - center).abs() / factor


def bilinear_kernel(
    in_channels: Any,
    out_channels: Any = None,
    kernel_size: Any = None,
    *,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """A ``conv_transpose2d`` weight that performs bilinear upsampling, channel by channel.

    Call it as ``bilinear_kernel(channels, kernel_size)`` or
    ``bilinear_kernel(in_channels, out_channels, kernel_size)``. Each kernel is the outer product
    of two tents ``1 − |x − center| / factor`` with ``factor = (k + 1) // 2`` and
    ``center = factor − 1`` for odd ``k``, ``factor − 0.5`` for even ``k`` (FCN's
    ``upsample_filt``). Channel ``c`` is upsampled from channel ``c`` only: ``weight[c, c]`` is the
    tent, every other ``weight[c_in, c_out]`` is zero (for ``c < min(in_channels, out_channels)``).

    For upsampling by an integer factor ``f`` use ``kernel_size = 2f − f % 2``, ``stride = f``,
    ``padding = f // 2`` (FCN: ``k = 4, s = 2, p = 1`` and ``k = 16, s = 8, p = 4``); the result then
    equals ``F.interpolate(x, scale_factor=f, mode="bilinear", align_corners=False)`` except in a
    border ``f // 2`` pixels wide. There ``interpolate`` repeats the edge pixel, while the
    transposed convolution gives the missing neighbour beyond the edge weight but no value (it is
    zero), so the border comes out darker (``0.75 · x`` at the edge for ``f = 2``).

    Args:
        in_channels: input channels (or ``channels`` in the two-argument form).
        out_channels: output channels; in the two-argument form, the kernel size.
        kernel_size: ``k`` or ``(kh, kw)``.
        dtype: the weight's dtype.

    Returns:
        The weight, in ``torch.nn.ConvTranspose2d.weight``'s layout.

    Shape:
        - output: ``[C_in, C_out, kh, kw]``; with stride ``f`` and padding ``p`` the layer maps
          ``H`` to ``(H − 1)·f − 2p + kh`` (``f·H`` with the settings above).

    Reference:
        Long, Shelhamer and Darrell, "Fully Convolutional Networks for Semantic Segmentation",
        CVPR 2015 (``surgery.py``: ``upsample_filt`` and ``interp``).

    Example:
        >>> bilinear_kernel(1, 4)[0, 0]  # the tent (0.25, 0.75, 0.75, 0.25) times itself
        tensor([[0.0625, 0.1875, 0.1875, 0.0625],
                [0.1875, 0.5625, 0.5625, 0.1875],
                [0.1875, 0.5625, 0.5625, 0.1875],
                [0.0625, 0.1875, 0.1875, 0.0625]])
    """
    if kernel_size is None:  # bilinear_kernel(channels, kernel_size)
        if out_channels is None:
            raise ValueError(
                "kernel_size missing; call bilinear_kernel(channels, kernel_size) or "
                "bilinear_kernel(in_channels, out_channels, kernel_size)"
            )
        kernel_size, out_channels = out_channels, in_channels
    elif out_channels is None:  # bilinear_kernel(channels, kernel_size=k)
        out_channels = in_channels
    in_channels = check_int("in_channels", in_channels, minimum=1)
    out_channels = check_int("out_channels", out_channels, minimum=1)
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    if not dtype.is_floating_point:
        raise ValueError(f"dtype {dtype} given; dtype must be a floating-point dtype such as torch.float32")

    tent = _tent(kh, dtype)[:, None] * _tent(kw, dtype)[None, :]  # [kh, kw]
    weight = torch.zeros(in_channels, out_channels, kh, kw, dtype=dtype)
    diagonal = torch.arange(min(in_channels, out_channels))
    weight[diagonal, diagonal] = tent  # channel c -> channel c only
    return weight
