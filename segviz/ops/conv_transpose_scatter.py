"""Transposed convolution as stamping: each input pixel weights a copy of the filter.

The picture from the lecture: a 2×2 input, a 3×3 filter, stride 2. Input pixel ``(i, j)`` puts
a copy of the filter, scaled by its value, at ``(i·s, j·s)`` of an output canvas; where copies
overlap they are summed. ``padding`` then crops the canvas, and ``output_padding`` lets it extend
a little further at the bottom and right.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ._checks import add_bias, conv_transpose_args

__all__ = ["conv_transpose2d_scatter"]


def conv_transpose2d_scatter(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
) -> Tensor:
    """``F.conv_transpose2d`` written as "stamp a weighted copy of the filter for every input pixel".

    1. Start from a zero canvas of the *uncropped* size ``(H_in − 1)·s + d(kh − 1) + 1``
       (plus ``output_padding``, which only adds room at the bottom and right).
    2. For every input pixel ``(i, j)``: the copy of the filter it gives, summed over input
       channels, is ``Σ_c x[:, c, i, j] · weight[c]``; add it to the canvas with its top-left
       corner at ``(i·s, j·s)`` and its taps ``d`` apart. Overlapping copies add up.
    3. Crop ``padding`` rows and columns from each side.

    The Python loop runs over the input pixels, so it is slow for large inputs; it is the
    reference picture, not the fast path.

    Args:
        x: the input, Tensor[N, C_in, H_in, W_in].
        weight: the filter, Tensor[C_in, C_out, kh, kw] (``torch.nn.ConvTranspose2d.weight``).
        bias: one value per output channel, Tensor[C_out], or ``None``.
        stride: distance between neighbouring copies, int or ``(sh, sw)``.
        padding: rows and columns cropped from each side of the canvas, int or ``(ph, pw)``.
        output_padding: rows and columns added at the bottom and right, int or pair, each smaller
            than ``max(stride, dilation)``.
        dilation: spacing between the taps of each copy, int or ``(dh, dw)``.

    Returns:
        The transposed convolution of ``x`` with ``weight``.

    Shape:
        - x: ``[N, C_in, H_in, W_in]``
        - output: ``[N, C_out, H_out, W_out]`` where
          ``H_out = (H_in − 1)·s − 2p + d(kh − 1) + output_padding + 1`` (and likewise ``W_out``).

    Reference:
        Zeiler, Krishnan, Taylor and Fergus, "Deconvolutional Networks", CVPR 2010; Long,
        Shelhamer and Darrell, "Fully Convolutional Networks for Semantic Segmentation", CVPR 2015.

    Example:
        Two pixels (1 and 2), a 3×3 filter of ones, stride 2: the copies overlap in the middle
        column, where they add up to 1 + 2:

        >>> import torch
        >>> conv_transpose2d_scatter(torch.tensor([[[[1.0, 2.0]]]]), torch.ones(1, 1, 3, 3), stride=2)
        tensor([[[[1., 1., 3., 2., 2.],
                  [1., 1., 3., 2., 2.],
                  [1., 1., 3., 2., 2.]]]])
    """
    x, weight, bias, stride, padding, output_padding, dilation, (h_out, w_out) = conv_transpose_args(
        x, weight, bias, stride, padding, output_padding, dilation
    )
    n, _, h_in, w_in = x.shape
    c_out, kh, kw = weight.shape[1:]
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation

    # 1. the uncropped canvas, with output_padding's extra room at the bottom and right
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # extent of one (dilated) copy
    canvas_h = (h_in - 1) * sh + span_h + output_padding[0]
    canvas_w = (w_in - 1) * sw + span_w + output_padding[1]
    canvas = x.new_zeros(n, c_out, canvas_h, canvas_w)

    # 2. one weighted copy of the filter per input pixel, summed where copies overlap
    for i in range(h_in):
        for j in range(w_in):
            copy = torch.einsum("nc,cokl->nokl", x[:, :, i, j], weight)  # [N, C_out, kh, kw]
            top, left = i * sh, j * sw
            canvas[:, :, top : top + span_h : dh, left : left + span_w : dw] += copy

    # 3. crop padding from every side
    out = canvas[:, :, ph : ph + h_out, pw : pw + w_out]  # [N, C_out, H_out, W_out]
    return add_bias(out, bias)
