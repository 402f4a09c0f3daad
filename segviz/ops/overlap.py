"""How many filter copies a transposed convolution sums at each output pixel.

When the kernel size is not a multiple of the stride, neighbouring output pixels receive
different numbers of copies: with kernel 3 and stride 2 in 1-D the counts alternate
``1 1 2 1 2 1 …``, and in 2-D the product of two such rows is a checkerboard. A learned filter
has to fight that uneven pattern, which is where the checkerboard artifacts of transposed
convolutions come from.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..validation import check_pair
from .conv_transpose_scatter import conv_transpose2d_scatter

__all__ = ["overlap_count"]


def overlap_count(
    input_size: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
) -> Tensor:
    """Number of filter copies that touch each output pixel of a transposed convolution.

    Equal to the transposed convolution of an all-ones input with an all-ones kernel (computed
    here with :func:`~segviz.ops.conv_transpose2d_scatter`). Evenly divisible ``kernel_size``
    and ``stride`` give a flat count away from the border; otherwise the count alternates, the
    checkerboard. For a 1-D picture use sizes ``(1, n)``, kernels ``(1, k)`` and strides
    ``(1, s)``.

    Args:
        input_size: ``(H_in, W_in)`` of the input, or one int.
        kernel_size: ``(kh, kw)``, or one int.
        stride: ``(sh, sw)``, or one int.
        padding: ``(ph, pw)`` cropped from each side, or one int.
        output_padding: ``(oph, opw)`` added at the bottom and right, or one int; each smaller than
            ``max(stride, dilation)``.
        dilation: ``(dh, dw)``, or one int.

    Returns:
        An ``int64`` tensor of counts.

    Shape:
        - output: ``[H_out, W_out]`` where
          ``H_out = (H_in − 1)·s − 2p + d(kh − 1) + output_padding + 1`` (and likewise ``W_out``).

    Reference:
        Odena, Dumoulin and Olah, "Deconvolution and Checkerboard Artifacts", Distill, 2016.

    Example:
        >>> overlap_count((1, 4), (1, 3), (1, 2))  # 1-D: kernel 3, stride 2
        tensor([[1, 1, 2, 1, 2, 1, 2, 1, 1]])
        >>> overlap_count(2, 3, 2)  # 2-D: the checkerboard
        tensor([[1, 1, 2, 1, 1],
                [1, 1, 2, 1, 1],
                [2, 2, 4, 2, 2],
                [1, 1, 2, 1, 1],
                [1, 1, 2, 1, 1]])
    """
    h_in, w_in = check_pair("input_size", input_size, minimum=1)
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    ones = torch.ones(1, 1, h_in, w_in, dtype=torch.float64)  # float64 counts are exact
    kernel = torch.ones(1, 1, kh, kw, dtype=torch.float64)
    counts = conv_transpose2d_scatter(ones, kernel, None, stride, padding, output_padding, dilation)
    return counts[0, 0].round().to(torch.int64)  # [H_out, W_out]
