""""Bed of nails" unpooling: each value at the top-left of its block, zeros elsewhere."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from ..validation import check_pair
from ._checks import check_tensor

__all__ = ["unpool_bed_of_nails", "UnpoolBedOfNails"]


def unpool_bed_of_nails(x: Tensor, scale: Any = 2) -> Tensor:
    """Upsample by placing each value at the top-left corner of a ``scale × scale`` block of zeros.

    Equivalent to max unpooling with switches that always point at the top-left corner, and to a
    transposed convolution with stride ``scale`` and a one-hot ``scale × scale`` kernel.

    Args:
        x: the input, Tensor[N, C, H, W].
        scale: upsampling factor, int or ``(sh, sw)``.

    Returns:
        The sparse upsampled map: ``out[..., i·sh, j·sw] = x[..., i, j]``, zeros elsewhere.

    Shape:
        - x: ``[N, C, H, W]``
        - output: ``[N, C, H·sh, W·sw]``

    Reference:
        Dosovitskiy, Springenberg and Brox, "Learning to Generate Chairs with Convolutional
        Neural Networks", CVPR 2015 (unpooling with zeros); Stanford CS231n.

    Example:
        >>> import torch
        >>> unpool_bed_of_nails(torch.tensor([[[[1, 2], [3, 4]]]]))
        tensor([[[[1, 0, 2, 0],
                  [0, 0, 0, 0],
                  [3, 0, 4, 0],
                  [0, 0, 0, 0]]]])
    """
    x = check_tensor("x", x, 4, "[N, C, H, W]")
    sh, sw = check_pair("scale", scale, minimum=1)
    n, c, h, w = x.shape
    out = x.new_zeros(n, c, h * sh, w * sw)  # [N, C, H·sh, W·sw]
    out[:, :, ::sh, ::sw] = x  # the nails
    return out


class UnpoolBedOfNails(nn.Module):
    """Module form of :func:`unpool_bed_of_nails` (stores ``scale``).

    Example:
        >>> UnpoolBedOfNails(scale=2)
        UnpoolBedOfNails(scale=(2, 2))
    """

    def __init__(self, scale: Any = 2) -> None:
        super().__init__()
        self.scale = check_pair("scale", scale, minimum=1)

    def forward(self, x: Tensor) -> Tensor:
        return unpool_bed_of_nails(x, self.scale)

    def extra_repr(self) -> str:
        return f"scale={self.scale}"
