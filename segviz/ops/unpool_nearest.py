"""Nearest-neighbour unpooling: every value fills a ``scale × scale`` block."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from ..validation import check_pair
from ._checks import check_tensor

__all__ = ["unpool_nearest", "UnpoolNearest"]


def unpool_nearest(x: Tensor, scale: Any = 2) -> Tensor:
    """Upsample by copying each value into a ``scale × scale`` block (no learned weights).

    The simplest "unpooling": the inverse of nothing in particular, but it restores the
    resolution that pooling took away, and it is what ``F.interpolate(mode="nearest")`` does for
    integer scale factors.

    Args:
        x: the input, Tensor[N, C, H, W].
        scale: upsampling factor, int or ``(sh, sw)``.

    Returns:
        ``x`` with every pixel repeated ``sh`` times down and ``sw`` times across.

    Shape:
        - x: ``[N, C, H, W]``
        - output: ``[N, C, H·sh, W·sw]``

    Reference:
        Stanford CS231n, lecture "Detection and Segmentation" (in-network upsampling: unpooling).

    Example:
        >>> import torch
        >>> unpool_nearest(torch.tensor([[[[1, 2], [3, 4]]]]))
        tensor([[[[1, 1, 2, 2],
                  [1, 1, 2, 2],
                  [3, 3, 4, 4],
                  [3, 3, 4, 4]]]])
    """
    x = check_tensor("x", x, 4, "[N, C, H, W]")
    sh, sw = check_pair("scale", scale, minimum=1)
    return x.repeat_interleave(sh, dim=2).repeat_interleave(sw, dim=3)  # [N, C, H·sh, W·sw]


class UnpoolNearest(nn.Module):
    """Module form of :func:`unpool_nearest` (stores ``scale``).

    Example:
        >>> UnpoolNearest(scale=(1, 2))
        UnpoolNearest(scale=(1, 2))
    """

    def __init__(self, scale: Any = 2) -> None:
        super().__init__()
        self.scale = check_pair("scale", scale, minimum=1)

    def forward(self, x: Tensor) -> Tensor:
        return unpool_nearest(x, self.scale)

    def extra_repr(self) -> str:
        return f"scale={self.scale}"
