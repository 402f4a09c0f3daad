"""Named building blocks shared by the segmentation models.

Each block is one idea from a paper, so a model reads as a list of them:

* :class:`ConvBlock`: convolution → batch norm → ReLU (or a transposed convolution, DeconvNet);
* :class:`VGGStage` and :class:`VGGEncoder`: VGG's "n 3×3 convolutions, then a 2×2 max pool",
  optionally keeping the pooling switches (SegNet, DeconvNet);
* :class:`DoubleConv`: U-Net's two 3×3 convolutions (padded or valid);
* :class:`BasicBlock`: ResNet's residual block, with dilation (DeepLab's atrous backbone);
* :class:`BilinearConvTranspose2d`: FCN's upsampling layer, a transposed convolution that starts
  as bilinear interpolation;
* :func:`center_crop`: U-Net's crop of the skip features.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from ..ops import bilinear_kernel
from ..validation import check_int, check_ndim, check_pair
from ._checks import check_per_stage

__all__ = [
    "ConvBlock",
    "VGGStage",
    "VGGFeatures",
    "VGGEncoder",
    "DoubleConv",
    "BasicBlock",
    "BilinearConvTranspose2d",
    "center_crop",
]


class ConvBlock(nn.Sequential):
    """Convolution → batch norm → ReLU, the unit every model here is built from.

    With ``batch_norm=False`` the convolution gets a bias instead (batch norm's shift makes a
    bias redundant). ``transposed=True`` uses ``nn.ConvTranspose2d`` (DeconvNet's "deconvolution"
    layers); with stride 1 and the default padding it keeps the size, like the convolution.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out``.
        kernel_size: ``k`` (odd for a "same" convolution).
        stride: the stride.
        padding: zeros added on each side; ``None`` means ``dilation·(k − 1) // 2`` ("same" for
            odd ``k`` and stride 1); ``0`` gives a valid convolution (U-Net's paper version).
        dilation: the atrous rate (DeepLab).
        batch_norm: add ``nn.BatchNorm2d`` after the convolution.
        relu: end with a ReLU.
        transposed: use a transposed convolution.

    Shape:
        - input: ``[N, C_in, H, W]``
        - output: ``[N, C_out, H_out, W_out]`` with
          ``H_out = ⌊(H + 2p − d(k − 1) − 1) / s⌋ + 1`` (``H`` for the defaults), or
          ``(H − 1)·s − 2p + d(k − 1) + 1`` when transposed.

    Example:
        >>> block = ConvBlock(3, 8)
        >>> [name for name, _ in block.named_children()], block.conv
        (['conv', 'bn', 'relu'], Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        >>> ConvBlock(3, 8, padding=0)(torch.zeros(1, 3, 10, 10)).shape  # valid: 10 - 2
        torch.Size([1, 8, 8, 8])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        dilation: int = 1,
        batch_norm: bool = True,
        relu: bool = True,
        transposed: bool = False,
    ) -> None:
        in_channels = check_int("in_channels", in_channels, minimum=1)
        out_channels = check_int("out_channels", out_channels, minimum=1)
        kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        stride = check_int("stride", stride, minimum=1)
        dilation = check_int("dilation", dilation, minimum=1)
        padding = dilation * (kernel_size - 1) // 2 if padding is None else check_int("padding", padding, minimum=0)
        conv_type = nn.ConvTranspose2d if transposed else nn.Conv2d
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv=conv_type(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                           dilation=dilation, bias=not batch_norm)
        )
        if batch_norm:
            layers["bn"] = nn.BatchNorm2d(out_channels)
        if relu:
            layers["relu"] = nn.ReLU(inplace=True)
        super().__init__(layers)


class VGGStage(nn.Module):
    """One VGG stage: ``num_convs`` padded 3×3 :class:`ConvBlock` s, then a 2×2 max pool of stride 2.

    The convolutions keep the size, the pool halves it (rounding down): after ``k`` stages,
    unit ``i`` sits at the centre of input pixels ``2^k·i … 2^k·i + 2^k − 1``, exactly where
    bilinear interpolation (``align_corners=False``) expects it. With ``return_indices=True`` the
    pool also returns its switches, the position of every maximum, for SegNet's and
    DeconvNet's unpooling.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out`` of every convolution.
        num_convs: how many convolutions (VGG16: 2, 2, 3, 3, 3 per stage).
        batch_norm: batch norm after each convolution.
        return_indices: also return the max-pooling switches.

    Returns:
        The pooled map, or ``(pooled, indices)`` with ``return_indices=True``.

    Shape:
        - input: ``[N, C_in, H, W]``
        - output (and indices): ``[N, C_out, ⌊H/2⌋, ⌊W/2⌋]``

    Reference:
        Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
        Recognition", ICLR 2015.

    Example:
        >>> stage = VGGStage(3, 8, num_convs=2, return_indices=True)
        >>> pooled, indices = stage(torch.zeros(1, 3, 7, 6))
        >>> pooled.shape, indices.dtype
        (torch.Size([1, 8, 3, 3]), torch.int64)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_convs: int = 2,
        batch_norm: bool = True,
        return_indices: bool = False,
    ) -> None:
        super().__init__()
        num_convs = check_int("num_convs", num_convs, minimum=1)
        self.convs = nn.Sequential(*[
            ConvBlock(in_channels if i == 0 else out_channels, out_channels, 3, batch_norm=batch_norm)
            for i in range(num_convs)
        ])
        self.pool = nn.MaxPool2d(2, 2, return_indices=return_indices)
        self.return_indices = return_indices

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return self.pool(self.convs(x))


class VGGFeatures(NamedTuple):
    """What :class:`VGGEncoder` returns.

    Attributes:
        outputs: every stage's pooled output, ``outputs[k]`` of stride ``2^(k+1)``.
        indices: every stage's max-pooling switches (empty unless ``return_indices=True``).
        sizes: every stage's ``(H, W)`` before its pool, which the unpooling restores (several
            sizes pool to the same one: 8 and 9 both give 4).

    Example:
        >>> encoder = VGGEncoder(3, channels=(4, 8), num_convs=1, return_indices=True)
        >>> features = encoder(torch.zeros(1, 3, 9, 8))
        >>> features.sizes, [tuple(switches.shape) for switches in features.indices]
        ([(9, 8), (4, 4)], [(1, 4, 4, 4), (1, 8, 2, 2)])
    """

    outputs: list[Tensor]
    indices: list[Tensor]
    sizes: list[tuple[int, int]]


class VGGEncoder(nn.Module):
    """A stack of :class:`VGGStage` s: VGG's convolutional part at any width and depth.

    With the defaults it is VGG16's layout (2, 2, 3, 3, 3 convolutions per stage) at a quarter
    of its width (64, 128, 256, 512, 512 channels), so it trains on a CPU in seconds.

    Args:
        in_channels: image channels.
        channels: output channels of each stage (VGG16: ``(64, 128, 256, 512, 512)``).
        num_convs: convolutions per stage, one int for all or one per stage.
        batch_norm: batch norm after each convolution.
        return_indices: keep the max-pooling switches.

    Returns:
        A :class:`VGGFeatures` of every stage's output, switches and pre-pooling size.

    Shape:
        - input: ``[N, in_channels, H, W]`` with ``H, W ≥ 2^len(channels)``
        - ``outputs[k]``: ``[N, channels[k], ⌊H/2^(k+1)⌋, ⌊W/2^(k+1)⌋]`` (floor at every stage)

    Example:
        >>> encoder = VGGEncoder(3, channels=(4, 8, 8), num_convs=1)
        >>> [tuple(f.shape) for f in encoder(torch.zeros(1, 3, 32, 24)).outputs]
        [(1, 4, 16, 12), (1, 8, 8, 6), (1, 8, 4, 3)]
    """

    def __init__(
        self,
        in_channels: int = 3,
        channels: Sequence[int] = (16, 32, 64, 128, 128),
        num_convs: int | Sequence[int] = (2, 2, 3, 3, 3),
        batch_norm: bool = True,
        return_indices: bool = False,
    ) -> None:
        super().__init__()
        in_channels = check_int("in_channels", in_channels, minimum=1)
        self.channels = check_per_stage("channels", channels)
        self.num_convs = check_per_stage("num_convs", num_convs, len(self.channels))
        self.return_indices = return_indices
        widths = (in_channels, *self.channels)
        self.stages = nn.ModuleList(
            VGGStage(widths[k], widths[k + 1], self.num_convs[k], batch_norm, return_indices)
            for k in range(len(self.channels))
        )

    def forward(self, x: Tensor) -> VGGFeatures:
        outputs, indices, sizes = [], [], []
        for stage in self.stages:
            sizes.append((x.shape[-2], x.shape[-1]))
            x = stage(x)
            if self.return_indices:
                x, switches = x
                indices.append(switches)
            outputs.append(x)
        return VGGFeatures(outputs, indices, sizes)


class DoubleConv(nn.Sequential):
    """U-Net's unit: two 3×3 :class:`ConvBlock` s, padded (size kept) or valid (size − 4).

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out`` of both convolutions.
        padding: ``True`` pads each convolution by 1; ``False`` is the paper's valid convolution.
        batch_norm: batch norm after each convolution (the 2015 paper had none).

    Shape:
        - input: ``[N, C_in, H, W]``
        - output: ``[N, C_out, H, W]`` padded, ``[N, C_out, H − 4, W − 4]`` valid.

    Reference:
        Ronneberger, Fischer and Brox, "U-Net: Convolutional Networks for Biomedical Image
        Segmentation", MICCAI 2015.

    Example:
        >>> DoubleConv(1, 4, padding=False)(torch.zeros(1, 1, 572, 572)).shape
        torch.Size([1, 4, 568, 568])
    """

    def __init__(self, in_channels: int, out_channels: int, padding: bool = True, batch_norm: bool = True) -> None:
        pad = 1 if padding else 0
        super().__init__(
            ConvBlock(in_channels, out_channels, 3, padding=pad, batch_norm=batch_norm),
            ConvBlock(out_channels, out_channels, 3, padding=pad, batch_norm=batch_norm),
        )


class BasicBlock(nn.Module):
    """ResNet's basic residual block, with the dilation DeepLab's atrous backbone needs.

    ``relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))`` with two 3×3 convolutions of rate
    ``dilation`` (padded by ``dilation``, so the size only changes by the stride). The shortcut
    is the identity, or a strided 1×1 convolution with batch norm when the stride or the channel
    count changes. torchvision's ``BasicBlock`` refuses ``dilation > 1``; this one does not.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out``.
        stride: stride of the first convolution and of the shortcut.
        dilation: atrous rate of both convolutions.

    Shape:
        - input: ``[N, C_in, H, W]``
        - output: ``[N, C_out, ⌈H/s⌉, ⌈W/s⌉]``

    Reference:
        He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", CVPR 2016.

    Example:
        >>> block = BasicBlock(8, 16, stride=2)
        >>> block(torch.zeros(1, 8, 9, 9)).shape
        torch.Size([1, 16, 5, 5])
        >>> BasicBlock(16, 16, dilation=4)(torch.zeros(1, 16, 5, 5)).shape  # atrous: same size
        torch.Size([1, 16, 5, 5])
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.conv1 = ConvBlock(in_channels, out_channels, 3, stride=stride, dilation=dilation)
        self.conv2 = ConvBlock(out_channels, out_channels, 3, dilation=dilation, relu=False)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = ConvBlock(in_channels, out_channels, 1, stride=stride, relu=False)
        self.relu = nn.ReLU(inplace=True)
        self.stride, self.dilation = stride, dilation

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.conv2(self.conv1(x)) + self.shortcut(x))

    def extra_repr(self) -> str:
        return f"stride={self.stride}, dilation={self.dilation}"


class BilinearConvTranspose2d(nn.ConvTranspose2d):
    """FCN's upsampling layer: a transposed convolution initialised as bilinear interpolation.

    Kernel ``2f − f % 2``, stride ``f``, padding ``f // 2`` and no bias (FCN: 4/2 for the 2×
    layers, 16/8, 32/16 and 64/32 for the final 8×, 16× and 32×), with
    :func:`~segviz.ops.bilinear_kernel` as its weight: channel ``c`` is upsampled from channel
    ``c`` only. It then equals ``F.interpolate(x, scale_factor=f, mode="bilinear")`` except
    in a border ``f // 2`` pixels wide. ``trainable=False`` keeps it fixed there, as FCN did
    for its final upsampling; otherwise training starts from bilinear and learns corrections.

    Args:
        channels: channels in and out (FCN: ``num_classes``, it upsamples scores).
        factor: the upsampling factor ``f``.
        trainable: whether the weight is learned (``requires_grad``).

    Shape:
        - input: ``[N, channels, H, W]``
        - output: ``[N, channels, f·H, f·W]``

    Reference:
        Long, Shelhamer and Darrell, "Fully Convolutional Networks for Semantic
        Segmentation", CVPR 2015, §3.3.

    Example:
        >>> up = BilinearConvTranspose2d(2, factor=8, trainable=False)
        >>> up
        BilinearConvTranspose2d(2, 2, kernel_size=(16, 16), stride=(8, 8), padding=(4, 4), bias=False, factor=8, trainable=False)
        >>> up(torch.ones(1, 2, 4, 4))[0, 0, 4:-4, 4:-4].unique()  # a constant stays constant inside
        tensor([1.])
    """

    def __init__(self, channels: int, factor: int, trainable: bool = True) -> None:
        channels = check_int("channels", channels, minimum=1)
        factor = check_int("factor", factor, minimum=1)
        super().__init__(channels, channels, 2 * factor - factor % 2, stride=factor, padding=factor // 2, bias=False)
        self.factor = factor
        with torch.no_grad():
            self.weight.copy_(bilinear_kernel(channels, 2 * factor - factor % 2, dtype=self.weight.dtype))
        self.weight.requires_grad_(trainable)

    @property
    def trainable(self) -> bool:
        """Whether the weight is learned."""
        return self.weight.requires_grad

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, factor={self.factor}, trainable={self.trainable}"


def center_crop(x: Tensor, size: Any) -> Tensor:
    """The central ``size`` window of ``x`` (U-Net crops its skip features this way).

    When ``H − h`` is odd the extra row is dropped at the bottom (and likewise for columns).

    Args:
        x: the map to crop, Tensor[N, C, H, W].
        size: ``(h, w)`` or ``h`` for a square, at most ``(H, W)``.

    Returns:
        ``x[..., top:top + h, left:left + w]`` with ``top = (H − h) // 2``, ``left = (W − w) // 2``.

    Shape:
        - output: ``[N, C, h, w]``

    Example:
        >>> center_crop(torch.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 5.,  6.],
                  [ 9., 10.]]]])
    """
    check_ndim("x", x, 4, "[N, C, H, W]")
    h, w = check_pair("size", size, minimum=1)
    height, width = x.shape[-2:]
    if h > height or w > width:
        raise ValueError(f"size {(h, w)} given; a crop of a {height}x{width} map must be at most ({height}, {width})")
    top, left = (height - h) // 2, (width - w) // 2
    return x[..., top : top + h, left : left + w]
