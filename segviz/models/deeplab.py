"""DeepLabV3: an atrous backbone, atrous spatial pyramid pooling (ASPP), bilinear upsampling.

Striding shrinks feature maps; DeepLab stops it at an *output stride* of 16 or 8 and lets the
later stages use atrous (dilated) convolutions instead, so the receptive field keeps growing as
if the strides were still there while the map stays 2× or 4× finer. ASPP then looks at the
features at several rates at once (a 1×1 convolution, one 3×3 atrous convolution per rate, and
the global average of the image), and the logits are upsampled bilinearly to the input size.

Reference:
    L.-C. Chen, G. Papandreou, F. Schroff and H. Adam, "Rethinking Atrous Convolution for
    Semantic Image Segmentation", arXiv:1706.05587, 2017 (DeepLabv3).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..validation import check_choice, check_int
from ._checks import check_cached_weights, check_images, check_per_stage, check_probability
from .blocks import BasicBlock, ConvBlock

__all__ = ["ImagePooling", "ASPP", "AtrousResNet", "DeepLabV3"]

PAPER_RATES = {16: (6, 12, 18), 8: (12, 24, 36)}  # ASPP rates; doubled when the output stride halves


class ImagePooling(nn.Module):
    """ASPP's image-level branch: global average pool → 1×1 convolution → BN → ReLU → upsample.

    It gives every position the same summary of the whole image: context no 3×3 kernel reaches
    once its rate approaches the size of the map (then only its centre tap sees real features).

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out``.

    Shape:
        - input: ``[N, C_in, H, W]``
        - output: ``[N, C_out, H, W]``, constant over ``H × W``

    Example:
        >>> branch = ImagePooling(8, 4).eval()
        >>> out = branch(torch.randn(1, 8, 5, 6))
        >>> out.shape, bool((out == out[..., :1, :1]).all())
        (torch.Size([1, 4, 5, 6]), True)
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.conv = ConvBlock(in_channels, out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        if self.training and x.shape[0] == 1:
            raise ValueError(
                f"a batch of 1 given in training mode; ASPP's image-pooling branch averages each image to one "
                f"value per channel, and batch norm cannot normalise a single value: train on batches of at "
                f"least 2, or call model.eval() to predict"
            )
        y = self.conv(self.pool(x))  # [N, C_out, 1, 1]
        return y.expand(-1, -1, *x.shape[-2:])  # bilinear upsampling of a 1x1 map copies it: [N, C_out, H, W]


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: parallel branches at several rates, concatenated and projected.

    Branches: a 1×1 convolution, one 3×3 convolution per rate (padded by the rate, so each keeps
    the size), and :class:`ImagePooling`; each with ``out_channels`` outputs, batch norm and
    ReLU. Their concatenation (``(len(rates) + 2)·out_channels`` channels) goes through a 1×1
    convolution with batch norm and ReLU back to ``out_channels``.

    Args:
        in_channels: ``C_in`` (the backbone's output channels).
        out_channels: channels of every branch and of the output (the paper: 256).
        rates: the atrous rates (the paper: 6, 12, 18 at output stride 16).
        dropout: dropout after the projection (torchvision: 0.5; the paper does not say).

    Shape:
        - input: ``[N, C_in, H, W]``
        - output: ``[N, out_channels, H, W]``

    Reference:
        Chen, Papandreou, Schroff and Adam, "Rethinking Atrous Convolution for Semantic Image
        Segmentation", 2017, §3.3.

    Example:
        >>> aspp = ASPP(16, 8, rates=(2, 4, 6))
        >>> len(aspp.branches), aspp.branches[2].conv.dilation
        (5, (4, 4))
        >>> aspp(torch.randn(2, 16, 9, 9)).shape
        torch.Size([2, 8, 9, 9])
    """

    def __init__(
        self, in_channels: int, out_channels: int = 256, rates: Sequence[int] = (6, 12, 18), dropout: float = 0.0
    ) -> None:
        super().__init__()
        in_channels = check_int("in_channels", in_channels, minimum=1)
        out_channels = check_int("out_channels", out_channels, minimum=1)
        self.rates = check_per_stage("rates", rates)
        self.branches = nn.ModuleList([
            ConvBlock(in_channels, out_channels, 1),
            *[ConvBlock(in_channels, out_channels, 3, dilation=rate) for rate in self.rates],
            ImagePooling(in_channels, out_channels),
        ])
        self.project = nn.Sequential(
            ConvBlock(len(self.branches) * out_channels, out_channels, 1),
            nn.Dropout(check_probability("dropout", dropout)),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.project(torch.cat([branch(x) for branch in self.branches], dim=1))  # [N, B·C_out, H, W]

    def extra_repr(self) -> str:
        return f"rates={self.rates}"


class AtrousResNet(nn.Module):
    """A small ResNet whose last stages trade stride for dilation to stop at ``output_stride``.

    Layout of ResNet-18 at any width: a stem (3×3 convolution of stride 2 and a 3×3 max pool of
    stride 2: stride 4), then four stages of :class:`BasicBlock` s with strides 1, 2, 2, 2.
    A stage that would take the stride past ``output_stride`` keeps stride 1 and multiplies the
    dilation by 2 instead, as torchvision's ``replace_stride_with_dilation`` does: at output
    stride 16 the last stage is atrous with rate 2; at 8 the last two, with rates 2 and 4.

    Args:
        in_channels: image channels.
        channels: channels of the four stages (ResNet-18: ``(64, 128, 256, 512)``).
        num_blocks: blocks per stage (ResNet-18: 2 each).
        output_stride: 8, 16 or 32 (no dilation).

    Shape:
        - input: ``[N, in_channels, H, W]``
        - output: ``[N, channels[-1], ⌈H/os⌉, ⌈W/os⌉]`` (every strided layer rounds up)

    Example:
        >>> AtrousResNet(3, (8, 8, 16, 16), num_blocks=1, output_stride=8)(torch.zeros(1, 3, 64, 64)).shape
        torch.Size([1, 16, 8, 8])
        >>> [stage[0].dilation for stage in AtrousResNet(output_stride=8).stages]
        [1, 1, 1, 2]
    """

    def __init__(
        self,
        in_channels: int = 3,
        channels: Sequence[int] = (16, 32, 64, 128),
        num_blocks: int | Sequence[int] = 2,
        output_stride: int = 16,
    ) -> None:
        super().__init__()
        channels = check_per_stage("channels", channels, 4)
        num_blocks = check_per_stage("num_blocks", num_blocks, 4)
        self.output_stride = check_choice("output_stride", output_stride, (8, 16, 32))
        self.out_channels = channels[-1]
        self.stem = nn.Sequential(
            ConvBlock(in_channels, channels[0], 3, stride=2),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        stride, dilation = 4, 1
        stages = []
        widths = (channels[0], *channels)
        for k, blocks in enumerate(num_blocks):
            step, first_dilation = (1 if k == 0 else 2), dilation
            if step > 1 and stride * step > self.output_stride:
                dilation, step = dilation * step, 1  # atrous instead of strided
            stride *= step
            stages.append(nn.Sequential(
                BasicBlock(widths[k], widths[k + 1], stride=step, dilation=first_dilation),
                *[BasicBlock(widths[k + 1], widths[k + 1], dilation=dilation) for _ in range(blocks - 1)],
            ))
        self.stages = nn.ModuleList(stages)

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return x

    def extra_repr(self) -> str:
        return f"output_stride={self.output_stride}"


def _resnet50_encoder(in_channels: int, output_stride: int, weights: Any) -> nn.Sequential:
    """torchvision's ResNet-50 up to layer4, with ``replace_stride_with_dilation`` for the output stride."""
    import torchvision

    if in_channels != 3:
        raise ValueError(f"in_channels {in_channels} given with backbone='resnet50'; ResNet-50 takes RGB images, in_channels=3")
    weights = check_cached_weights(weights, torchvision.models.ResNet50_Weights, "ResNet-50")
    net = torchvision.models.resnet50(weights=weights, replace_stride_with_dilation=[False, output_stride == 8, True])
    names = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")
    encoder = nn.Sequential(OrderedDict((name, getattr(net, name)) for name in names))
    encoder.output_stride, encoder.out_channels = output_stride, 2048
    return encoder


class DeepLabV3(nn.Module):
    """DeepLabV3: atrous backbone (encoder) → ASPP and a 3×3 convolution (decoder) → 1×1 classifier.

    The logits, at the backbone's output stride, are upsampled bilinearly to the input size,
    so any input size works. DeepLabV3 has no decoder in the sense of DeepLabV3+ (which adds
    low-level features back); ASPP sits in its place here. ``model.encoder(x)`` gives the
    backbone's features, of size ``⌈H / output_stride⌉``.

    Args:
        num_classes: number of classes.
        output_stride: 16 or 8: the backbone's stride, past which it dilates instead.
        backbone: ``"small"`` (:class:`AtrousResNet`, ResNet-18's layout at a quarter of its
            width) or ``"resnet50"`` (torchvision's, ``replace_stride_with_dilation``).
        rates: ASPP's rates; ``None``: the paper's ``(6, 12, 18)`` at output stride 16, doubled to
            ``(12, 24, 36)`` at 8 (the same field of view in pixels).
        in_channels: image channels (3 for ``"resnet50"``).
        channels: ``"small"`` only: the four stages' channels (default ``(16, 32, 64, 128)``).
        num_blocks: ``"small"`` only: blocks per stage (default 2).
        aspp_channels: ASPP's channels; ``None``: 256 for ``"resnet50"`` (the paper), 64 for
            ``"small"``.
        dropout: dropout after ASPP's projection.
        weights: ``"resnet50"`` only: torchvision ``ResNet50_Weights`` already in torch's cache.

    Shape:
        - input: ``[N, in_channels, H, W]``
        - ``encoder(x)``: ``[N, C, ⌈H/os⌉, ⌈W/os⌉]``
        - output: ``[N, num_classes, H, W]``

    Reference:
        Chen, Papandreou, Schroff and Adam, "Rethinking Atrous Convolution for Semantic Image
        Segmentation", 2017. Like torchvision, the upsampling uses ``align_corners=False``; the
        reference used ``align_corners=True`` with 513×513 crops (sizes ``os·k + 1``).

    Example:
        >>> model = DeepLabV3(num_classes=3, output_stride=8).eval()
        >>> model.decoder.aspp.rates
        (12, 24, 36)
        >>> x = torch.zeros(1, 3, 64, 48)
        >>> model.encoder(x).shape[-2:], model(x).shape
        (torch.Size([8, 6]), torch.Size([1, 3, 64, 48]))
    """

    def __init__(
        self,
        num_classes: int,
        output_stride: int = 16,
        backbone: str = "small",
        rates: Sequence[int] | None = None,
        *,
        in_channels: int = 3,
        channels: Sequence[int] | None = None,
        num_blocks: int | Sequence[int] | None = None,
        aspp_channels: int | None = None,
        dropout: float = 0.0,
        weights: Any = None,
    ) -> None:
        super().__init__()
        self.num_classes = check_int("num_classes", num_classes, minimum=1)
        self.output_stride = check_choice("output_stride", output_stride, (16, 8))
        self.backbone = check_choice("backbone", backbone, ("small", "resnet50"))
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        rates = PAPER_RATES[output_stride] if rates is None else rates
        if backbone == "resnet50":
            given = [name for name, value in (("channels", channels), ("num_blocks", num_blocks)) if value is not None]
            if given:
                raise ValueError(
                    f"{', '.join(given)} given with backbone='resnet50'; ResNet-50's layout is fixed: "
                    f"leave {given[0]} out or use backbone='small'"
                )
            self.encoder = _resnet50_encoder(in_channels, output_stride, weights)
            aspp_channels = 256 if aspp_channels is None else aspp_channels
        else:
            if weights is not None:
                raise ValueError(
                    f"weights {weights!r} given with backbone='small'; only backbone='resnet50' has "
                    "torchvision weights (leave weights out to train the small backbone from scratch)"
                )
            self.encoder = AtrousResNet(
                in_channels, (16, 32, 64, 128) if channels is None else channels,
                2 if num_blocks is None else num_blocks, output_stride,
            )
            aspp_channels = 64 if aspp_channels is None else aspp_channels
        aspp_channels = check_int("aspp_channels", aspp_channels, minimum=1)
        self.decoder = nn.Sequential(OrderedDict(
            aspp=ASPP(self.encoder.out_channels, aspp_channels, rates, dropout),
            conv=ConvBlock(aspp_channels, aspp_channels, 3),
        ))
        self.head = nn.Conv2d(aspp_channels, num_classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = check_images(x, self.in_channels, "DeepLabV3")
        logits = self.head(self.decoder(self.encoder(x)))  # [N, num_classes, ⌈H/os⌉, ⌈W/os⌉]
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, output_stride={self.output_stride}, backbone={self.backbone!r}"
