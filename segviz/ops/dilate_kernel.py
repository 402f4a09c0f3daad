"""Dilated (atrous) kernels: the same taps, spread ``d`` apart with zeros in between."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ..validation import check_pair
from ._checks import check_tensor

__all__ = ["dilate_kernel"]


def dilate_kernel(weight: Tensor, dilation: Any) -> Tensor:
    """Insert ``d − 1`` zeros between neighbouring taps of a kernel.

    A convolution with ``dilation=d`` is an ordinary convolution with this larger, sparse
    kernel: a ``k × k`` kernel covers ``d(k − 1) + 1`` pixels in each direction with the same
    ``k²`` weights. That is how dilated convolutions grow the receptive field without pooling
    and without extra parameters.

    Args:
        weight: a kernel, Tensor[..., kh, kw] (e.g. ``[C_out, C_in, kh, kw]``, or one ``[kh, kw]``).
        dilation: ``d`` or ``(dh, dw)``.

    Returns:
        The dilated kernel: ``out[..., a·dh, b·dw] = weight[..., a, b]``, zeros elsewhere.

    Shape:
        - weight: ``[..., kh, kw]``
        - output: ``[..., dh(kh − 1) + 1, dw(kw − 1) + 1]``

    Reference:
        Yu and Koltun, "Multi-Scale Context Aggregation by Dilated Convolutions", ICLR 2016;
        Chen et al., "DeepLab", TPAMI 2018 (atrous convolution).

    Example:
        >>> import torch
        >>> dilate_kernel(torch.tensor([[1, 2], [3, 4]]), 2)
        tensor([[1, 0, 2],
                [0, 0, 0],
                [3, 0, 4]])
    """
    weight = check_tensor("weight", weight, (2, 3, 4), "[..., kh, kw] with 2 to 4 dimensions")
    dh, dw = check_pair("dilation", dilation, minimum=1)
    kh, kw = weight.shape[-2:]
    out = weight.new_zeros(*weight.shape[:-2], dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    out[..., ::dh, ::dw] = weight  # the taps, d apart
    return out
