"""Resize-convolution: nearest-neighbour upsampling followed by a convolution.

Odena, Dumoulin and Olah's remedy for checkerboard artifacts: a transposed convolution whose
kernel size is not a multiple of its stride sums an uneven number of filter copies at
neighbouring pixels (see :func:`~segviz.ops.overlap_count`); resizing first and then convolving
with stride 1 gives every output pixel the same number of taps.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..validation import check_int, check_pair
from ._checks import check_bias, check_conv_weight, check_same_dtype, check_tensor, conv_output_size
from .unpool_nearest import unpool_nearest

__all__ = ["resize_conv", "ResizeConv"]


def resize_conv(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, scale: Any = 2, padding: Any = None
) -> Tensor:
    """Upsample ``x`` by ``scale`` with nearest neighbour, then convolve (stride 1) with ``weight``.

    Args:
        x: the input, Tensor[N, C_in, H, W].
        weight: the kernel, Tensor[C_out, C_in, kh, kw] (``torch.nn.Conv2d.weight``'s layout).
        bias: one value per output channel, Tensor[C_out], or ``None``.
        scale: upsampling factor, int or ``(sh, sw)``.
        padding: zeros added around the *upsampled* map, int or pair; ``None`` means
            ``((kh − 1) // 2, (kw − 1) // 2)``, which keeps the size ``scale·H`` for odd kernels.

    Returns:
        The upsampled, convolved map.

    Shape:
        - x: ``[N, C_in, H, W]``
        - output: ``[N, C_out, H_out, W_out]`` where ``H_out = sh·H + 2p − kh + 1``
          (``sh·H`` for odd ``kh`` with the default padding; likewise ``W_out``).

    Reference:
        Odena, Dumoulin and Olah, "Deconvolution and Checkerboard Artifacts", Distill, 2016.

    Example:
        >>> x = torch.tensor([[[[1.0, 2.0]]]])
        >>> resize_conv(x, torch.ones(1, 1, 1, 3), scale=(1, 2))  # (1, 1, 2, 2), then sums of 3
        tensor([[[[2., 4., 5., 4.]]]])
    """
    x = check_tensor("x", x, 4, "[N, C_in, H, W]")
    weight = check_conv_weight(weight, x.shape[1], transposed=False)
    check_same_dtype(x, "weight", weight)
    bias = check_bias(bias, weight.shape[0])
    scale = check_pair("scale", scale, minimum=1)
    kh, kw = weight.shape[2:]
    padding = ((kh - 1) // 2, (kw - 1) // 2) if padding is None else check_pair("padding", padding, minimum=0)
    big = unpool_nearest(x, scale)  # [N, C_in, sh·H, sw·W]
    conv_output_size(tuple(big.shape[2:]), (kh, kw), (1, 1), padding, (1, 1))  # a teaching error if empty
    return F.conv2d(big, weight, bias, padding=padding)


class ResizeConv(nn.Module):
    """A learnable upsampling layer: :func:`resize_conv` with its own weight and bias.

    A drop-in alternative to ``nn.ConvTranspose2d(in_channels, out_channels, k, stride=scale)``
    in a decoder. The weight and bias are initialised as ``nn.Conv2d`` initialises its own.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out``.
        kernel_size: ``k`` or ``(kh, kw)`` (odd sizes keep the output at ``scale·H``).
        scale: upsampling factor, int or ``(sh, sw)``.
        padding: as in :func:`resize_conv` (``None``: ``(k − 1) // 2``).
        bias: whether to learn a bias.

    Example:
        >>> ResizeConv(8, 4)
        ResizeConv(8, 4, kernel_size=(3, 3), scale=(2, 2), padding=None, bias=True)
        >>> ResizeConv(8, 4)(torch.zeros(1, 8, 5, 7)).shape
        torch.Size([1, 4, 10, 14])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any = 3,
        scale: Any = 2,
        padding: Any = None,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        self.kernel_size = check_pair("kernel_size", kernel_size, minimum=1)
        self.scale = check_pair("scale", scale, minimum=1)
        self.padding = None if padding is None else check_pair("padding", padding, minimum=0)
        self.weight = nn.Parameter(torch.empty(self.out_channels, self.in_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(self.out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``nn.Conv2d``'s initialisation: Kaiming-uniform weight, bias uniform in ±1/√fan_in."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.weight[0].numel())
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return resize_conv(x, self.weight, self.bias, self.scale, self.padding)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"scale={self.scale}, padding={self.padding}, bias={self.bias is not None}"
        )
