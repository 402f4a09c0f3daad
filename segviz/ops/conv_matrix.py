"""Convolution as a matrix: ``conv2d(x) == W @ vec(x)``.

A convolution is linear in its input, so it *is* a matrix. Writing that matrix down makes two
things concrete that are otherwise only words: the weights are shared (every row holds the same
kernel, shifted), and the connectivity is sparse (most entries are zero). It is also the shortest
route to the transposed convolution, which multiplies by ``Wᵀ`` (see
:func:`~segviz.ops.conv_transpose2d_via_matrix`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..validation import check_pair
from ._checks import (
    add_bias,
    check_bias,
    check_conv_weight,
    check_same_dtype,
    check_tensor,
    conv_args,
    conv_output_size,
)

__all__ = ["conv2d_matrix", "conv2d_via_matrix"]


def _tap_selector(
    size_in: int, size_out: int, kernel: int, stride: int, padding: int, dilation: int, like: Tensor
) -> Tensor:
    """One direction's one-hot "which input does this tap read" table.

    ``selector[a, i, r] == 1`` exactly when output position ``i``'s kernel tap ``a`` lands on input
    position ``r = i * stride - padding + a * dilation``. A tap that lands in the zero padding
    (``r < 0`` or ``r >= size_in``) matches no ``r``: padding contributes nothing to the matrix.

    Returns:
        Tensor[kernel, size_out, size_in] of 0s and 1s, with ``like``'s dtype and device.
    """
    a = torch.arange(kernel, device=like.device)[:, None, None]  # [k, 1, 1]
    i = torch.arange(size_out, device=like.device)[None, :, None]  # [1, H_out, 1]
    r = torch.arange(size_in, device=like.device)[None, None, :]  # [1, 1, H_in]
    return (r == i * stride - padding + a * dilation).to(like.dtype)  # [k, H_out, H_in]


def conv2d_matrix(
    weight: Tensor, input_size: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1
) -> Tensor:
    """The matrix ``W`` of a 2-D convolution: ``conv2d(x)`` flattened equals ``W @ vec(x)``.

    ``vec`` flattens row-major over ``(C, H, W)``, as ``x.reshape(N, -1)`` does. Row
    ``(o, i, j)`` of ``W`` computes output pixel ``(i, j)`` of channel ``o``; it holds kernel
    ``weight[o, c, a, b]`` at column ``(c, i·s − p + a·d, j·s − p + b·d)`` and zeros elsewhere.
    For one input and output channel and stride 1, ``W`` is block Toeplitz with Toeplitz blocks
    (a "doubly blocked" matrix): the outer blocks step along rows of the image, the inner entries
    along columns, so the kernel row ``w11 w12 w13`` reappears shifted by one in every row.

    The matrix is dense and has ``(C_out·H_out·W_out) × (C_in·H_in·W_in)`` entries, so keep the
    sizes small: it is for looking at, not for computing with.

    Args:
        weight: the kernel, Tensor[C_out, C_in, kh, kw] (``torch.nn.Conv2d.weight``'s layout).
        input_size: ``(H_in, W_in)`` of the input, or one int for a square input.
        stride: step of the kernel, int or ``(sh, sw)``.
        padding: zeros added on each side, int or ``(ph, pw)``.
        dilation: spacing between kernel taps, int or ``(dh, dw)``.

    Returns:
        ``W``, with ``weight``'s dtype and device, differentiable with respect to ``weight``.

    Shape:
        - weight: ``[C_out, C_in, kh, kw]``
        - output: ``[C_out·H_out·W_out, C_in·H_in·W_in]`` where
          ``H_out = floor((H_in + 2p − d(kh − 1) − 1) / s) + 1`` (and likewise ``W_out``).

    Reference:
        Dumoulin and Visin, "A guide to convolution arithmetic for deep learning", 2016
        (arXiv:1603.07285), section 4.1.

    Example:
        A 3×3 kernel on a 4×4 input (stride 1, no padding) is a 4×16 matrix; its first row is
        ``w11 w12 w13 0 w21 w22 w23 0 w31 w32 w33 0 0 0 0 0``:

        >>> w = torch.arange(1, 10).reshape(1, 1, 3, 3)  # w11 = 1, w12 = 2, ..., w33 = 9
        >>> conv2d_matrix(w, 4)
        tensor([[1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0],
                [0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0],
                [0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0],
                [0, 0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9]])
    """
    weight = check_tensor("weight", weight, 4, "[C_out, C_in, kh, kw]")
    h_in, w_in = check_pair("input_size", input_size, minimum=1)
    stride, padding, dilation = conv_args(stride, padding, dilation)
    c_out, c_in, kh, kw = weight.shape
    h_out, w_out = conv_output_size((h_in, w_in), (kh, kw), stride, padding, dilation)

    rows = _tap_selector(h_in, h_out, kh, stride[0], padding[0], dilation[0], weight)  # [kh, H_out, H_in]
    cols = _tap_selector(w_in, w_out, kw, stride[1], padding[1], dilation[1], weight)  # [kw, W_out, W_in]
    # W[o, i, j, c, r, q] = sum over taps (a, b) of weight[o, c, a, b] · rows[a, i, r] · cols[b, j, q]
    matrix = torch.einsum("ocab,air,bjq->oijcrq", weight, rows, cols)  # [C_out, H_out, W_out, C_in, H_in, W_in]
    return matrix.reshape(c_out * h_out * w_out, c_in * h_in * w_in)


def conv2d_via_matrix(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
) -> Tensor:
    """``F.conv2d`` computed as one matrix product: ``vec(y) = W @ vec(x) + b``.

    Builds :func:`conv2d_matrix` for ``x``'s size and multiplies every sample of the batch by it.
    Slow and memory-hungry (the matrix is dense) but exactly ``F.conv2d`` with ``groups=1``.

    Args:
        x: the input, Tensor[N, C_in, H_in, W_in].
        weight: the kernel, Tensor[C_out, C_in, kh, kw].
        bias: one value per output channel, Tensor[C_out], or ``None``.
        stride: step of the kernel, int or ``(sh, sw)``.
        padding: zeros added on each side, int or ``(ph, pw)``.
        dilation: spacing between kernel taps, int or ``(dh, dw)``.

    Returns:
        The convolution of ``x`` with ``weight``.

    Shape:
        - x: ``[N, C_in, H_in, W_in]``
        - output: ``[N, C_out, H_out, W_out]`` where
          ``H_out = floor((H_in + 2p − d(kh − 1) − 1) / s) + 1`` (and likewise ``W_out``).

    Reference:
        Dumoulin and Visin, "A guide to convolution arithmetic for deep learning", 2016
        (arXiv:1603.07285).

    Example:
        >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
        >>> conv2d_via_matrix(x, torch.ones(1, 1, 3, 3))  # each output sums a 3×3 window
        tensor([[[[45., 54.],
                  [81., 90.]]]])
    """
    x = check_tensor("x", x, 4, "[N, C_in, H_in, W_in]")
    weight = check_conv_weight(weight, x.shape[1], transposed=False)
    check_same_dtype(x, "weight", weight)
    bias = check_bias(bias, weight.shape[0])
    stride, padding, dilation = conv_args(stride, padding, dilation)
    n, _, h_in, w_in = x.shape
    c_out, _, kh, kw = weight.shape
    h_out, w_out = conv_output_size((h_in, w_in), (kh, kw), stride, padding, dilation)

    matrix = conv2d_matrix(weight, (h_in, w_in), stride, padding, dilation)  # [C_out·H_out·W_out, C_in·H_in·W_in]
    y = x.reshape(n, -1) @ matrix.T  # row k is (W @ vec(x_k))ᵀ: [N, C_out·H_out·W_out]
    return add_bias(y.reshape(n, c_out, h_out, w_out), bias)
