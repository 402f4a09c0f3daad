"""U-Net: a contracting path, a symmetric expansive path, and skips that concatenate features.

Unlike FCN, which adds *scores*, U-Net concatenates *features*: the expansive path upsamples
with a 2×2 up-convolution, concatenates the contracting path's features of the same level and
convolves them together. The paper's version uses valid (unpadded) convolutions, so every map
shrinks by 4 pixels per :class:`~segviz.models.blocks.DoubleConv` and the skip features are
cropped to the upsampled size; a 572×572 tile gives a 388×388 segmentation of its centre, and
large images are segmented tile by tile (the overlap-tile strategy). The padded version keeps
the size, for training on small images.

Reference:
    O. Ronneberger, P. Fischer and T. Brox, "U-Net: Convolutional Networks for Biomedical Image
    Segmentation", MICCAI 2015.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ..validation import check_int
from ._checks import check_images
from .blocks import DoubleConv, center_crop

__all__ = ["ContractingPath", "ExpansivePath", "UNet", "unet_output_size", "unet_valid_sizes"]

_SHRINK = 4  # a valid DoubleConv loses 2 pixels per 3x3 convolution


def _trace(size: int, depth: int, padding: bool) -> tuple[int, str]:
    """The output size for an input of ``size`` (0 if none) and, if none, why (for messages)."""
    if padding:  # the convolutions keep the size: only the pools matter
        if size % 2**depth:
            return 0, (f"with padded convolutions every max pool sees an even size only if the size "
                       f"is divisible by 2^{depth} = {2**depth}")
        return size, ""
    seen = [size]
    n = size
    for level in range(1, depth + 1):
        n -= _SHRINK
        seen.append(n)
        if n < 2:
            return 0, f"the valid convolutions shrink it to {n} before max pool {level} ({' → '.join(map(str, seen))})"
        if n % 2:
            return 0, (f"max pool {level} would see an odd size ({' → '.join(map(str, seen))}) and "
                       "drop its last row, which no up-convolution gives back")
        n //= 2
        seen.append(n)
    n -= _SHRINK  # the bottom DoubleConv
    for _ in range(depth):
        if n < 1:
            break
        n = 2 * n - _SHRINK  # up-convolution, then a DoubleConv
    if n < 1:
        return 0, f"the valid convolutions leave nothing ({' → '.join(map(str, seen))} → {n + _SHRINK} → …)"
    return n, ""


def _nearest_valid(size: int, depth: int, padding: bool) -> str:
    """``"the nearest valid sizes are 556 and 572"`` (or the smallest one, below it)."""
    period = 2**depth  # valid sizes repeat with this period
    below = next((m for m in range(size - 1, max(size - period - 1, 0), -1) if _trace(m, depth, padding)[0]), None)
    above = size + 1
    while not _trace(above, depth, padding)[0]:
        above += 1
    if below is None:
        return f"the smallest valid size is {above}"
    return f"the nearest valid sizes are {below} and {above}"


def _explain(size: int, depth: int, padding: bool) -> str:
    """Why ``size`` is not valid and what would be (empty when it is valid)."""
    out, why = _trace(size, depth, padding)
    return "" if out else f"{why}; {_nearest_valid(size, depth, padding)}"


def unet_output_size(input_size: Any, depth: int = 4, padding: bool = False) -> Any:
    """U-Net's output size for a given input size, or a ``ValueError`` naming the nearest valid ones.

    Valid convolutions (``padding=False``, the paper): each :class:`DoubleConv` loses 4 pixels,
    each 2×2 max pool halves, each up-convolution doubles. Every max pool must see an even
    size, or it drops a row that the expansive path cannot give back and the skip features no
    longer line up with the upsampled ones: the size rule of the paper's overlap-tile strategy.
    Padded convolutions keep the size, so the rule is then ``H`` divisible by ``2^depth``.

    Args:
        input_size: ``H`` (or ``(H, W)``).
        depth: the number of max pools (the paper: 4).
        padding: padded convolutions (``True``) or the paper's valid ones (``False``).

    Returns:
        The output size, in the form of ``input_size``.

    Raises:
        ValueError: if a max pool would see an odd size or nothing is left; the message gives
            the nearest valid input sizes.

    Shape:
        Valid, ``depth = 4``: ``H_out = H − 184`` for ``H = 16·b + 124`` (``b ≥ 4``, the bottom
        size); padded: ``H_out = H``.

    Example:
        >>> unet_output_size(572)  # the paper's Fig. 1
        388
        >>> unet_output_size(570)
        Traceback (most recent call last):
        ...
        ValueError: input size 570 given; with depth=4 and padding=False, max pool 2 would see an odd size (570 → 566 → 283 → 279) and drop its last row, which no up-convolution gives back; the nearest valid sizes are 556 and 572
    """
    depth = check_int("depth", depth, minimum=0)
    if isinstance(input_size, (tuple, list)):
        if len(input_size) != 2:
            raise ValueError(f"input_size {input_size!r} given; input_size must be H or (H, W)")
        return tuple(unet_output_size(n, depth, padding) for n in input_size)
    size = check_int("input_size", input_size, minimum=1)
    problem = _explain(size, depth, padding)
    if problem:
        raise ValueError(f"input size {size} given; with depth={depth} and padding={padding}, {problem}")
    return _trace(size, depth, padding)[0]


def unet_valid_sizes(depth: int = 4, min_size: int = 1, max_size: int = 1024, padding: bool = False) -> list[int]:
    """Every input size from ``min_size`` to ``max_size`` that U-Net accepts (overlap-tile rule).

    A size is valid when every 2×2 max pool sees an even size and the expansive path leaves at
    least one pixel (see :func:`unet_output_size`). For the paper's valid convolutions and
    ``depth = 4`` these are ``16·b + 124`` for bottom sizes ``b ≥ 4``: 188, 204, …, 572, …;
    padded, the multiples of ``2^depth``.

    Args:
        depth: the number of max pools.
        min_size: smallest size to consider.
        max_size: largest size to consider.
        padding: padded or valid convolutions.

    Returns:
        The valid sizes, ascending.

    Example:
        >>> unet_valid_sizes(min_size=540, max_size=600)
        [540, 556, 572, 588]
        >>> unet_valid_sizes(depth=2, max_size=20, padding=True)
        [4, 8, 12, 16, 20]
    """
    depth = check_int("depth", depth, minimum=0)
    min_size = check_int("min_size", min_size, minimum=1)
    max_size = check_int("max_size", max_size, minimum=min_size)
    return [n for n in range(min_size, max_size + 1) if _trace(n, depth, padding)[0]]


class ContractingPath(nn.Module):
    """U-Net's encoder: a :class:`DoubleConv`, then ``depth`` times max pool → :class:`DoubleConv`.

    Args:
        in_channels: image channels.
        channels: the ``depth + 1`` levels' channels (the paper: 64, 128, 256, 512, 1024).
        padding: padded or valid convolutions.
        batch_norm: batch norm after each convolution.

    Returns:
        The features of every level, finest first; the last one is the bottom of the "U".

    Shape:
        - ``features[k]``: ``[N, channels[k], H_k, W_k]`` with ``H_0 = H − 4`` (valid) or ``H``,
          ``H_k = H_(k−1)/2 − 4`` (valid) or ``H/2^k``.

    Example:
        >>> path = ContractingPath(1, (2, 4, 8), padding=False)
        >>> [tuple(f.shape[-2:]) for f in path(torch.zeros(1, 1, 44, 44))]
        [(40, 40), (16, 16), (4, 4)]
    """

    def __init__(self, in_channels: int, channels: tuple[int, ...], padding: bool = True, batch_norm: bool = True) -> None:
        super().__init__()
        widths = (in_channels, *channels)
        self.blocks = nn.ModuleList(DoubleConv(widths[k], widths[k + 1], padding, batch_norm) for k in range(len(channels)))
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, x: Tensor) -> list[Tensor]:
        features = [self.blocks[0](x)]
        for block in self.blocks[1:]:
            features.append(block(self.pool(features[-1])))
        return features


class ExpansivePath(nn.Module):
    """U-Net's decoder: ``depth`` times up-convolution → crop-and-concatenate → :class:`DoubleConv`.

    The 2×2 up-convolution (a transposed convolution of stride 2) doubles the size and halves
    the channels; the contracting path's features of the same level, centre-cropped to that
    size (a no-op when padded), are concatenated to it: features, not scores, as in FCN.

    Args:
        channels: the levels' channels, finest first (as for :class:`ContractingPath`).
        padding: padded or valid convolutions.
        batch_norm: batch norm after each convolution.

    Returns:
        The finest level's features, ``channels[0]`` of them.

    Example:
        >>> features = ContractingPath(1, (2, 4, 8), padding=False)(torch.zeros(1, 1, 44, 44))
        >>> ExpansivePath((2, 4, 8), padding=False)(features).shape  # 4 → 8 − 4 → 8 − 4
        torch.Size([1, 2, 4, 4])
    """

    def __init__(self, channels: tuple[int, ...], padding: bool = True, batch_norm: bool = True) -> None:
        super().__init__()
        levels = range(len(channels) - 1, 0, -1)  # from the bottom up
        self.up = nn.ModuleList(nn.ConvTranspose2d(channels[k], channels[k - 1], 2, stride=2) for k in levels)
        self.blocks = nn.ModuleList(DoubleConv(2 * channels[k - 1], channels[k - 1], padding, batch_norm) for k in levels)

    def forward(self, features: list[Tensor]) -> Tensor:
        x = features[-1]
        for up, block, skip in zip(self.up, self.blocks, reversed(features[:-1])):
            x = up(x)
            x = block(torch.cat([center_crop(skip, x.shape[-2:]), x], dim=1))  # [N, 2·C, H, W]
        return x


class UNet(nn.Module):
    """U-Net: contracting path → expansive path (skips concatenate features) → 1×1 classifier.

    ``padding=True`` (the default) pads every convolution: the output has the input's size,
    which must be divisible by ``2^depth`` (other sizes raise a ``ValueError`` naming the
    nearest valid ones; pad or crop the image). ``padding=False`` is the paper's network,
    :meth:`paper`: valid convolutions and cropped skips, output smaller than the input (see
    :func:`unet_output_size`, :func:`unet_valid_sizes`).

    Args:
        in_channels: image channels (the paper: 1).
        num_classes: number of classes (the paper: 2).
        base_channels: channels of the finest level; level ``k`` has ``base_channels·2^k``.
        depth: number of max pools (the paper: 4).
        padding: padded (size kept) or valid convolutions.
        batch_norm: batch norm after each convolution (the paper: none).

    Shape:
        - input: ``[N, in_channels, H, W]``
        - output: ``[N, num_classes, H, W]`` padded; ``unet_output_size(H)`` valid.

    Reference:
        Ronneberger, Fischer and Brox, "U-Net: Convolutional Networks for Biomedical Image
        Segmentation", MICCAI 2015.

    Example:
        >>> model = UNet(3, num_classes=2, base_channels=4, depth=3)
        >>> model(torch.zeros(1, 3, 48, 40)).shape
        torch.Size([1, 2, 48, 40])
        >>> model(torch.zeros(1, 3, 50, 40))
        Traceback (most recent call last):
        ...
        ValueError: input of size 50x40 given; UNet(depth=3, padding=True) cannot take H = 50: with padded convolutions every max pool sees an even size only if the size is divisible by 2^3 = 8; the nearest valid sizes are 48 and 56
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        base_channels: int = 64,
        depth: int = 4,
        padding: bool = True,
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.num_classes = check_int("num_classes", num_classes, minimum=1)
        base_channels = check_int("base_channels", base_channels, minimum=1)
        self.depth = check_int("depth", depth, minimum=1)
        self.padding = bool(padding)
        channels = tuple(base_channels * 2**k for k in range(depth + 1))
        self.encoder = ContractingPath(in_channels, channels, self.padding, batch_norm)
        self.decoder = ExpansivePath(channels, self.padding, batch_norm)
        self.head = nn.Conv2d(channels[0], num_classes, 1)

    @classmethod
    def paper(cls, in_channels: int = 1, num_classes: int = 2) -> UNet:
        """The network of the paper's Fig. 1: 64 to 1024 channels, 4 pools, valid convolutions, no batch norm.

        About 31 million parameters; a 572×572 tile gives a 388×388 map.

        Example:
            >>> with torch.device("meta"):  # shapes only
            ...     net = UNet.paper()
            >>> net(torch.empty(1, 1, 572, 572, device="meta")).shape
            torch.Size([1, 2, 388, 388])
        """
        return cls(in_channels, num_classes, base_channels=64, depth=4, padding=False, batch_norm=False)

    def output_size(self, input_size: Any) -> Any:
        """The output size for ``input_size`` (``H`` or ``(H, W)``): :func:`unet_output_size`."""
        return unet_output_size(input_size, self.depth, self.padding)

    def forward(self, x: Tensor) -> Tensor:
        x = check_images(x, self.in_channels, "UNet")
        for axis, n in zip("HW", x.shape[-2:]):
            problem = _explain(n, self.depth, self.padding)
            if problem:
                raise ValueError(
                    f"input of size {x.shape[-2]}x{x.shape[-1]} given; UNet(depth={self.depth}, "
                    f"padding={self.padding}) cannot take {axis} = {n}: {problem}"
                )
        return self.head(self.decoder(self.encoder(x)))

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, depth={self.depth}, padding={self.padding}"
