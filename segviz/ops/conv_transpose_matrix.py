"""Transposed convolution as ``Wᵀ``: the matrix of a convolution, transposed.

If a convolution maps a 4×4 input to a 2×2 output with a 4×16 matrix ``W``, then ``Wᵀ`` is a
16×4 matrix that maps 2×2 back to 4×4. That is all a transposed convolution is: it reverses the
*shape* change, not the convolution (``Wᵀ W ≠ I``). It is also why PyTorch stores its weight as
``[C_in, C_out, kh, kw]``: that is the weight of the forward convolution being transposed, which
goes from ``C_out`` channels back to ``C_in``.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ._checks import add_bias, conv_output_size, conv_transpose_args
from .conv_matrix import conv2d_matrix

__all__ = ["conv_transpose2d_via_matrix"]


def conv_transpose2d_via_matrix(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
) -> Tensor:
    """``F.conv_transpose2d`` computed as ``vec(y) = Wᵀ vec(x) + b``.

    ``W`` is :func:`conv2d_matrix` of the *forward* convolution with the same ``weight``
    (read as a ``conv2d`` kernel from ``C_out`` to ``C_in`` channels), ``stride``, ``padding``
    and ``dilation``, built for an input of the transposed convolution's output size. That
    convolution maps the output size back to ``x``'s size, so ``Wᵀ`` maps ``x``'s size to the
    output size: only the shape is reversed; ``Wᵀ`` is not ``W``'s inverse.

    A subtlety: when ``dilation > stride``, PyTorch allows ``stride <= output_padding <
    dilation``; then the forward convolution of the enlarged output is a little *larger* than
    ``x``, and only the rows of ``W`` that belong to ``x``'s pixels are used.

    Args:
        x: the input, Tensor[N, C_in, H_in, W_in].
        weight: the kernel, Tensor[C_in, C_out, kh, kw] (``torch.nn.ConvTranspose2d.weight``'s
            layout).
        bias: one value per output channel, Tensor[C_out], or ``None``.
        stride: upsampling factor, int or ``(sh, sw)``.
        padding: rows and columns cropped from each side of the output, int or ``(ph, pw)``.
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
        (arXiv:1603.07285), section 4.1; Long, Shelhamer and Darrell, "Fully Convolutional
        Networks for Semantic Segmentation", CVPR 2015.

    Example:
        1-D, kernel ``(x, y, z) = (1, 10, 100)``, stride 2: the input ``(a, b) = (1, 2)`` gives
        ``(ax, ay, az + bx, by, bz)``:

        >>> import torch
        >>> w = torch.tensor([[[[1.0, 10.0, 100.0]]]])  # [C_in, C_out, 1, 3]
        >>> conv_transpose2d_via_matrix(torch.tensor([[[[1.0, 2.0]]]]), w, stride=(1, 2))
        tensor([[[[  1.,  10., 102.,  20., 200.]]]])
    """
    x, weight, bias, stride, padding, output_padding, dilation, (h_out, w_out) = conv_transpose_args(
        x, weight, bias, stride, padding, output_padding, dilation
    )
    n, c_in, h_in, w_in = x.shape
    c_out, kh, kw = weight.shape[1:]

    # W: the forward convolution [C_out, H_out, W_out] -> [C_in, H', W'], where H' = H_in unless
    # output_padding >= stride (then H' > H_in and the extra rows of W are not used).
    h_fwd, w_fwd = conv_output_size((h_out, w_out), (kh, kw), stride, padding, dilation)
    matrix = conv2d_matrix(weight, (h_out, w_out), stride, padding, dilation)  # [C_in·H'·W', C_out·H_out·W_out]
    matrix = matrix.reshape(c_in, h_fwd, w_fwd, c_out * h_out * w_out)[:, :h_in, :w_in]
    matrix = matrix.reshape(c_in * h_in * w_in, c_out * h_out * w_out)  # W, one row per pixel of x

    y = x.reshape(n, -1) @ matrix  # row k is (Wᵀ vec(x_k))ᵀ = vec(x_k)ᵀ W: [N, C_out·H_out·W_out]
    return add_bias(y.reshape(n, c_out, h_out, w_out), bias)
