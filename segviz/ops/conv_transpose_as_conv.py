"""Transposed convolution as an ordinary convolution of a zero-inserted, padded input.

The lecture's "convolve the input with the *flipped* filter": spread the input out by putting
``stride − 1`` zeros between its pixels, pad it by ``d(k − 1) − p`` on every side, and slide the
spatially flipped filter over it with stride 1. This is how the equivalence is usually drawn
(Dumoulin and Visin's animations), and why a transposed convolution is also called a
"fractionally strided" convolution.
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor

from ._checks import conv_transpose_args

__all__ = ["conv_transpose2d_as_conv"]


def conv_transpose2d_as_conv(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
) -> Tensor:
    """``F.conv_transpose2d`` computed with ``F.conv2d``: zero-insert, pad, flip, convolve.

    1. Zero-insert: put ``s − 1`` zeros between neighbouring input pixels, giving
       ``(H_in − 1)·s + 1`` rows.
    2. Pad by ``d(k − 1) − p`` on every side, plus ``output_padding`` at the bottom and right.
       When ``p > d(k − 1)`` this number is negative and the step crops instead.
    3. Convolve (stride 1, dilation ``d``) with the kernel flipped top-bottom and left-right and
       its channel axes swapped, ``[C_in, C_out, kh, kw] → [C_out, C_in, kh, kw]``: input pixel
       ``(i, j)`` meets tap ``(a, b)`` of the copy it stamps exactly when the flipped kernel's tap
       ``(kh − 1 − a, kw − 1 − b)`` sits on it.

    Args:
        x: the input, Tensor[N, C_in, H_in, W_in].
        weight: the filter, Tensor[C_in, C_out, kh, kw] (``torch.nn.ConvTranspose2d.weight``).
        bias: one value per output channel, Tensor[C_out], or ``None``.
        stride: upsampling factor (``s − 1`` zeros are inserted), int or ``(sh, sw)``.
        padding: the transposed convolution's padding, int or ``(ph, pw)``.
        output_padding: rows and columns added at the bottom and right, int or pair, each smaller
            than ``max(stride, dilation)``.
        dilation: spacing between kernel taps, int or ``(dh, dw)``.

    Returns:
        The transposed convolution of ``x`` with ``weight``.

    Shape:
        - x: ``[N, C_in, H_in, W_in]``
        - output: ``[N, C_out, H_out, W_out]`` where
          ``H_out = (H_in − 1)·s − 2p + d(kh − 1) + output_padding + 1`` (and likewise ``W_out``).

    Reference:
        Dumoulin and Visin, "A guide to convolution arithmetic for deep learning", 2016
        (arXiv:1603.07285), section 4.

    Example:
        >>> import torch
        >>> w = torch.tensor([[[[1.0, 10.0, 100.0]]]])  # [C_in, C_out, 1, 3]
        >>> conv_transpose2d_as_conv(torch.tensor([[[[1.0, 2.0]]]]), w, stride=(1, 2))
        tensor([[[[  1.,  10., 102.,  20., 200.]]]])
    """
    x, weight, bias, stride, padding, output_padding, dilation, _ = conv_transpose_args(
        x, weight, bias, stride, padding, output_padding, dilation
    )
    n, c_in, h_in, w_in = x.shape
    kh, kw = weight.shape[2:]
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation

    # 1. zero-insertion: s - 1 zeros between neighbouring pixels
    spread = x.new_zeros(n, c_in, (h_in - 1) * sh + 1, (w_in - 1) * sw + 1)
    spread[:, :, ::sh, ::sw] = x

    # 2. pad by d(k - 1) - p (negative: crop), plus output_padding at the bottom and right
    edge_h, edge_w = dh * (kh - 1) - ph, dw * (kw - 1) - pw
    padded = F.pad(spread, (edge_w, edge_w + output_padding[1], edge_h, edge_h + output_padding[0]))

    # 3. ordinary convolution with the flipped, in/out-swapped kernel
    flipped = weight.flip(-2, -1).transpose(0, 1)  # [C_out, C_in, kh, kw]
    return F.conv2d(padded, flipped, bias, stride=1, dilation=dilation)
