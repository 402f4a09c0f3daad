"""Max unpooling: put each value back where the max pooling found its maximum.

Max pooling remembers *which* input won in every window (the "switches",
``F.max_pool2d(..., return_indices=True)``); max unpooling writes each value back at that
position and zeros everywhere else. The decoder of SegNet and DeconvNet uses the encoder's
switches this way, so boundaries come back where they were.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ..validation import check_pair
from ._checks import check_tensor

__all__ = ["max_unpool", "MaxUnpool"]


def _unpool_size(
    input_size: tuple[int, int],
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    output_size: Any,
) -> tuple[int, int]:
    """The default ``(H − 1)·s − 2p + k``, or ``output_size`` if it is a size that pools to H."""
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in zip(input_size, kernel_size, stride, padding))
    if output_size is None:
        if min(default) < 1:
            raise ValueError(
                f"padding {padding} with kernel_size {kernel_size} and stride {stride} leaves no "
                f"default size for a {input_size[0]}x{input_size[1]} input: (H - 1) s - 2p + k is "
                f"{default}; pass output_size = the size of the input that was max pooled"
            )
        return default  # type: ignore[return-value]
    if isinstance(output_size, (list, tuple)) and len(output_size) == 4:
        output_size = tuple(output_size)[2:]  # accept x.shape of the pooled-from input
    size = check_pair("output_size", output_size, minimum=1)
    low = tuple(d - s for d, s in zip(default, stride))
    high = tuple(d + s for d, s in zip(default, stride))
    if not all(lo < n < hi for n, lo, hi in zip(size, low, high)):
        raise ValueError(
            f"output_size {size} given; max pooling with kernel_size {kernel_size}, stride "
            f"{stride}, padding {padding} maps only sizes strictly between {low} and {high} to "
            f"{input_size}: pass the size of the input that was pooled"
        )
    return size


def max_unpool(
    x: Tensor,
    indices: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Any = None,
) -> Tensor:
    """Scatter each value of ``x`` to the position its max pooling switch recorded.

    ``indices[n, c, i, j]`` is the flat position ``row · W_out + column`` (within one channel of
    the pooled-from input) of the maximum that became ``x[n, c, i, j]``; exactly what
    ``F.max_pool2d(..., return_indices=True)`` returns. Every other output pixel is zero.

    Args:
        x: the pooled values (or the decoder's features at that resolution), Tensor[N, C, H, W].
        indices: the switches, an int64 Tensor[N, C, H, W] from ``F.max_pool2d``.
        kernel_size: the pooling window, int or ``(kh, kw)``.
        stride: the pooling stride, int or pair (default: ``kernel_size``, as in pooling).
        padding: the pooling padding, int or pair.
        output_size: ``(H_out, W_out)`` (or the full shape of the pooled-from input) when the
            default size is not the one that was pooled; several sizes pool to the same ``H``.

    Returns:
        The sparse unpooled map.

    Shape:
        - x, indices: ``[N, C, H, W]``
        - output: ``[N, C, H_out, W_out]`` where ``H_out = (H − 1)·s − 2p + kh`` unless
          ``output_size`` is given (and likewise ``W_out``).

    Reference:
        Zeiler and Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014
        (switches); Noh, Hong and Han, "Learning Deconvolution Network for Semantic Segmentation",
        ICCV 2015; Badrinarayanan, Kendall and Cipolla, "SegNet", TPAMI 2017.

    Example:
        >>> import torch
        >>> import torch.nn.functional as F
        >>> x = torch.tensor([[[[1.0, 5.0], [7.0, 2.0]]]])
        >>> pooled, switches = F.max_pool2d(x, 2, return_indices=True)
        >>> switches
        tensor([[[[2]]]])
        >>> max_unpool(pooled, switches, 2)
        tensor([[[[0., 0.],
                  [7., 0.]]]])
    """
    x = check_tensor("x", x, 4, "[N, C, H, W]")
    indices = check_tensor("indices", indices, 4, "[N, C, H, W] from F.max_pool2d(..., return_indices=True)")
    if indices.shape != x.shape:
        raise ValueError(
            f"indices of shape {tuple(indices.shape)} given for x of shape {tuple(x.shape)}; "
            f"indices must have x's shape (one switch per pooled value)"
        )
    if indices.dtype != torch.int64:
        raise ValueError(
            f"indices of dtype {indices.dtype} given; indices must be the int64 tensor returned "
            f"by F.max_pool2d(..., return_indices=True)"
        )
    kernel_size = check_pair("kernel_size", kernel_size, minimum=1)
    stride = kernel_size if stride is None else check_pair("stride", stride, minimum=1)
    padding = check_pair("padding", padding, minimum=0)
    n, c, h, w = x.shape
    h_out, w_out = _unpool_size((h, w), kernel_size, stride, padding, output_size)
    # on the meta device (shape-only runs such as segviz.count_flops) there are no values to check
    if indices.numel() and not indices.is_meta and (indices.min() < 0 or indices.max() >= h_out * w_out):
        bad = int(indices.max() if indices.max() >= h_out * w_out else indices.min())
        raise ValueError(
            f"indices holds {bad}, outside a {h_out}x{w_out} output (flat positions 0 to "
            f"{h_out * w_out - 1}); pass output_size = the size of the input that was max pooled"
        )

    flat = x.new_zeros(n, c, h_out * w_out)  # one row of H_out·W_out pixels per channel
    flat = flat.scatter(2, indices.reshape(n, c, -1), x.reshape(n, c, -1))  # [N, C, H_out·W_out]
    return flat.reshape(n, c, h_out, w_out)


class MaxUnpool(nn.Module):
    """Module form of :func:`max_unpool` (stores the pooling's ``kernel_size``, ``stride``, ``padding``).

    Example:
        >>> MaxUnpool(2)
        MaxUnpool(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = check_pair("kernel_size", kernel_size, minimum=1)
        self.stride = self.kernel_size if stride is None else check_pair("stride", stride, minimum=1)
        self.padding = check_pair("padding", padding, minimum=0)

    def forward(self, x: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return max_unpool(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
