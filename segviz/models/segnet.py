"""SegNet and DeconvNet: decoders that unpool with the encoder's max-pooling switches.

Both encoders are VGG16's convolutional layers whose max pools remember where each maximum was
(the "switches", ``return_indices=True``). Each decoder stage mirrors an encoder stage: it
*unpools* with those switches, putting every value back where its maximum came from and zeros
elsewhere (:func:`segviz.ops.max_unpool`), then densifies the sparse map with convolutions
(SegNet) or transposed convolutions (DeconvNet). Boundaries come back where the encoder saw
them, at the cost of storing only the indices, not whole feature maps as U-Net does.

References:
    V. Badrinarayanan, A. Kendall and R. Cipolla, "SegNet: A Deep Convolutional Encoder-Decoder
    Architecture for Image Segmentation", TPAMI 2017.
    H. Noh, S. Hong and B. Han, "Learning Deconvolution Network for Semantic Segmentation",
    ICCV 2015.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ..ops import MaxUnpool
from ..validation import check_int
from ._checks import check_images, check_min_size, check_per_stage
from .blocks import ConvBlock, VGGEncoder

__all__ = ["UnpoolingStage", "UnpoolingDecoder", "SegNet", "DeconvNet"]

SMALL_CHANNELS = (16, 32, 64, 128, 128)  # VGG16 at a quarter of its width
SMALL_NUM_CONVS = (2, 2, 3, 3, 3)  # VGG16's layout


class UnpoolingStage(nn.Module):
    """One decoder stage: max unpooling with the encoder's switches, then ``num_convs`` layers.

    Every layer keeps ``in_channels`` except the last, which maps to ``out_channels`` (as the
    encoder stage it mirrors changed them the other way).

    Args:
        in_channels: channels of the map to unpool.
        out_channels: channels after the stage.
        num_convs: how many 3×3 layers follow the unpooling.
        transposed: transposed convolutions (DeconvNet's "deconvolution") instead of
            convolutions (SegNet). With stride 1 and padding 1 both keep the size.
        batch_norm: batch norm after each layer.

    Shape:
        - x, indices: ``[N, in_channels, h, w]``; ``size``: the pooled-from ``(H, W)``, with
          ``h = ⌊H/2⌋`` (several sizes pool to the same one, so it must be given)
        - output: ``[N, out_channels, H, W]``

    Example:
        >>> import torch.nn.functional as F
        >>> pooled, switches = F.max_pool2d(torch.randn(1, 4, 7, 6), 2, return_indices=True)
        >>> UnpoolingStage(4, 2, num_convs=2)(pooled, switches, (7, 6)).shape
        torch.Size([1, 2, 7, 6])
    """

    def __init__(
        self, in_channels: int, out_channels: int, num_convs: int = 2, transposed: bool = False, batch_norm: bool = True
    ) -> None:
        super().__init__()
        num_convs = check_int("num_convs", num_convs, minimum=1)
        self.unpool = MaxUnpool(2)
        self.convs = nn.Sequential(*[
            ConvBlock(in_channels, out_channels if i == num_convs - 1 else in_channels, 3,
                      batch_norm=batch_norm, transposed=transposed)
            for i in range(num_convs)
        ])

    def forward(self, x: Tensor, indices: Tensor, size: tuple[int, int]) -> Tensor:
        return self.convs(self.unpool(x, indices, size))


class UnpoolingDecoder(nn.Module):
    """The mirror image of a :class:`~segviz.models.blocks.VGGEncoder`: one :class:`UnpoolingStage` per stage.

    Stage ``k`` (from the coarsest) unpools with the switches of encoder stage ``k`` to that
    stage's pre-pooling size, then maps ``channels[k]`` to ``channels[k − 1]`` channels
    (``channels[0]`` for the finest stage).

    Args:
        channels: the encoder's channels per stage, finest first.
        num_convs: layers per stage (one int or one per stage, finest first).
        transposed: transposed convolutions (DeconvNet) instead of convolutions (SegNet).
        batch_norm: batch norm after each layer.

    Shape:
        - input: the coarsest map ``[N, channels[-1], h, w]`` and the encoder's switches and
          sizes (:class:`~segviz.models.blocks.VGGFeatures`)
        - output: ``[N, channels[0], H, W]``, the encoder's input size

    Example:
        >>> encoder = VGGEncoder(3, (4, 8), num_convs=1, return_indices=True)
        >>> features = encoder(torch.zeros(1, 3, 10, 9))
        >>> UnpoolingDecoder((4, 8), num_convs=1)(features.outputs[-1], features.indices, features.sizes).shape
        torch.Size([1, 4, 10, 9])
    """

    def __init__(
        self,
        channels: Sequence[int],
        num_convs: int | Sequence[int] = 2,
        transposed: bool = False,
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        channels = check_per_stage("channels", channels)
        num_convs = check_per_stage("num_convs", num_convs, len(channels))
        self.stages = nn.ModuleList(
            UnpoolingStage(channels[k], channels[max(k - 1, 0)], num_convs[k], transposed, batch_norm)
            for k in reversed(range(len(channels)))
        )

    def forward(self, x: Tensor, indices: Sequence[Tensor], sizes: Sequence[tuple[int, int]]) -> Tensor:
        if len(indices) != len(self.stages) or len(sizes) != len(self.stages):
            raise ValueError(
                f"{len(indices)} switches and {len(sizes)} sizes given; this decoder has {len(self.stages)} "
                "stages and needs one of each per stage, finest first (VGGEncoder(return_indices=True) returns them)"
            )
        for stage, switches, size in zip(self.stages, reversed(indices), reversed(sizes)):
            x = stage(x, switches, size)
        return x


def _min_size(num_stages: int, bottom: int = 1) -> int:
    """Smallest H for which ``num_stages`` floor-halvings leave at least ``bottom`` pixels."""
    return bottom * 2**num_stages


class SegNet(nn.Module):
    """SegNet: a VGG encoder whose pools keep their switches → unpooling decoder → classifier.

    The encoder is VGG16's 13 convolutions (here at any width; batch norm after each), without
    the fully connected layers. Each decoder stage unpools with the switches of the encoder
    stage it mirrors and convolves the sparse result back to a dense map; a 3×3 convolution
    (the reference's ``conv1_1_D``) gives the class scores.

    Any size ``H, W ≥ 2^stages`` (32 for 5 stages): a pool drops the last row of an odd map,
    and unpooling to the recorded pre-pooling size gives it back (as zeros, then convolved), so
    the output always has the input's size, without cropping or interpolation.

    Args:
        num_classes: number of classes.
        in_channels: image channels.
        channels: channels of each encoder stage (VGG16: ``(64, 128, 256, 512, 512)``).
        num_convs: convolutions per stage, encoder and decoder alike (VGG16: ``(2, 2, 3, 3, 3)``).
        batch_norm: batch norm after each convolution (SegNet has it).

    Shape:
        - input: ``[N, in_channels, H, W]`` with ``H, W ≥ 2^len(channels)``
        - output: ``[N, num_classes, H, W]``

    Reference:
        Badrinarayanan, Kendall and Cipolla, "SegNet: A Deep Convolutional Encoder-Decoder
        Architecture for Image Segmentation", TPAMI 2017.

    Example:
        >>> model = SegNet(num_classes=3, channels=(4, 8, 8), num_convs=1)
        >>> model(torch.zeros(1, 3, 13, 10)).shape
        torch.Size([1, 3, 13, 10])
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 3,
        channels: Sequence[int] = SMALL_CHANNELS,
        num_convs: int | Sequence[int] = SMALL_NUM_CONVS,
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        self.num_classes = check_int("num_classes", num_classes, minimum=1)
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        channels = check_per_stage("channels", channels)
        self.encoder = VGGEncoder(in_channels, channels, num_convs, batch_norm, return_indices=True)
        self.decoder = UnpoolingDecoder(channels, self.encoder.num_convs, transposed=False, batch_norm=batch_norm)
        self.head = nn.Conv2d(channels[0], num_classes, 3, padding=1)
        self.min_size = _min_size(len(channels))

    def forward(self, x: Tensor) -> Tensor:
        x = check_images(x, self.in_channels, "SegNet")
        stages = len(self.encoder.stages)
        check_min_size(x, self.min_size, f"SegNet with {stages} pooling stages",
                       f"each 2x2 max pool halves the size, rounding down, and 2^{stages} = {self.min_size}")
        features = self.encoder(x)
        return self.head(self.decoder(features.outputs[-1], features.indices, features.sizes))

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}"


class DeconvNet(nn.Module):
    """DeconvNet: VGG encoder with fc6/fc7 → deconvolution network (unpooling + transposed convolutions).

    The encoder is VGG's convolutional part, then fc6, a *valid* ``fc_kernel_size`` convolution
    that summarises the whole pool5 map (the paper: 7×7 on the 7×7 pool5 of a 224×224 image,
    giving 1×1), and fc7 (1×1). The decoder mirrors it: ``deconv-fc6``, a transposed
    convolution with the same kernel, brings back the pool5 size; each stage then unpools with
    the switches and densifies with 3×3 transposed convolutions (batch norm after each, as in
    the paper); a 1×1 convolution gives the class scores.

    Any size with ``⌊H / 2^stages⌋ ≥ fc_kernel_size`` (64 for the defaults): the output has the
    input's size (unpooling restores each recorded pre-pooling size).

    Args:
        num_classes: number of classes.
        in_channels: image channels.
        channels: channels of each encoder stage (VGG16: ``(64, 128, 256, 512, 512)``).
        num_convs: convolutions per stage, encoder and decoder alike (VGG16: ``(2, 2, 3, 3, 3)``).
        fc_channels: channels of fc6 and fc7 (the paper: 4096).
        fc_kernel_size: fc6's and deconv-fc6's kernel (the paper: 7, for 224×224 inputs; the
            default 2 does the same job for 64×64 ones).
        batch_norm: batch norm after each layer.

    Shape:
        - input: ``[N, in_channels, H, W]`` with ``H, W ≥ fc_kernel_size · 2^len(channels)``
        - output: ``[N, num_classes, H, W]``

    Reference:
        Noh, Hong and Han, "Learning Deconvolution Network for Semantic Segmentation", ICCV 2015.

    Example:
        >>> model = DeconvNet(num_classes=3, channels=(4, 8, 8), num_convs=1, fc_channels=16, fc_kernel_size=3)
        >>> model(torch.zeros(2, 3, 25, 30)).shape  # pool3 3x3, fc6 1x1, deconv-fc6 3x3
        torch.Size([2, 3, 25, 30])
        >>> model(torch.zeros(2, 3, 20, 30))
        Traceback (most recent call last):
        ...
        ValueError: input of size 20x30 given; DeconvNet with 3 pooling stages and fc_kernel_size=3 needs H and W of at least 24 (fc6 is a valid 3x3 convolution of pool3, which has a 2^3 = 8 times smaller size, rounded down)
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 3,
        channels: Sequence[int] = SMALL_CHANNELS,
        num_convs: int | Sequence[int] = SMALL_NUM_CONVS,
        fc_channels: int = 256,
        fc_kernel_size: int = 2,
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        self.num_classes = check_int("num_classes", num_classes, minimum=1)
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        channels = check_per_stage("channels", channels)
        fc_channels = check_int("fc_channels", fc_channels, minimum=1)
        self.fc_kernel_size = check_int("fc_kernel_size", fc_kernel_size, minimum=1)
        self.batch_norm = bool(batch_norm)
        self.encoder = VGGEncoder(in_channels, channels, num_convs, batch_norm, return_indices=True)
        k = self.fc_kernel_size
        self.fc = nn.Sequential(
            ConvBlock(channels[-1], fc_channels, k, padding=0, batch_norm=batch_norm),  # fc6
            ConvBlock(fc_channels, fc_channels, 1, batch_norm=batch_norm),  # fc7
            ConvBlock(fc_channels, channels[-1], k, padding=0, batch_norm=batch_norm, transposed=True),  # deconv-fc6
        )
        self.decoder = UnpoolingDecoder(channels, self.encoder.num_convs, transposed=True, batch_norm=batch_norm)
        self.head = nn.Conv2d(channels[0], num_classes, 1)
        self.min_size = _min_size(len(channels), self.fc_kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        x = check_images(x, self.in_channels, "DeconvNet")
        stages, k = len(self.encoder.stages), self.fc_kernel_size
        check_min_size(
            x, self.min_size, f"DeconvNet with {stages} pooling stages and fc_kernel_size={k}",
            f"fc6 is a valid {k}x{k} convolution of pool{stages}, which has a 2^{stages} = {2**stages} "
            "times smaller size, rounded down",
        )
        features = self.encoder(x)
        pool = features.outputs[-1]
        if self.training and self.batch_norm and pool.shape[0] == 1 and max(pool.shape[-2:]) == k:
            raise ValueError(
                f"a batch of 1 given in training mode with a {x.shape[-2]}x{x.shape[-1]} image; fc6 reduces it to "
                "1x1, and batch norm cannot normalise a single value per channel: train on batches of at least 2 "
                "(or on larger images), or call model.eval() to predict"
            )
        return self.head(self.decoder(self.fc(pool), features.indices, features.sizes))

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, fc_kernel_size={self.fc_kernel_size}"
