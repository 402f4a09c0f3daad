"""Fully convolutional networks: FCN-32s, FCN-16s and FCN-8s from one builder.

A convolutionalized classifier (lecture 01) scores every 32×32 block of the image. FCN turns
those coarse scores into a full-resolution map with transposed convolutions initialised as
bilinear interpolation, and sharpens them with *skips*: scores predicted from pool4 (stride 16)
and pool3 (stride 8) are added to the upsampled coarse scores, in label space. The three
variants differ only in how many skips they fuse, so :class:`FCN` builds all three and
:class:`FCN32s`, :class:`FCN16s`, :class:`FCN8s` only fix ``variant``.

Reference:
    J. Long, E. Shelhamer and T. Darrell, "Fully Convolutional Networks for Semantic
    Segmentation", CVPR 2015 (and the TPAMI 2017 version).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..validation import check_choice, check_int
from ._checks import check_cached_weights, check_images, check_per_stage, check_probability
from .blocks import BilinearConvTranspose2d, ConvBlock, VGGEncoder

__all__ = ["FCNEncoder", "FCNDecoder", "FCN", "FCN32s", "FCN16s", "FCN8s"]

STRIDES = {"32s": (32,), "16s": (32, 16), "8s": (32, 16, 8)}  # the score maps each variant fuses
SMALL_CHANNELS = (16, 32, 64, 128, 128)  # VGG16 at a quarter of its width
SMALL_NUM_CONVS = (2, 2, 3, 3, 3)  # VGG16's layout
VGG16_CHANNELS = (64, 128, 256, 512, 512)


class FCNEncoder(nn.Module):
    """FCN's encoder: five VGG stages (pool1 … pool5) and the convolutionalized fc6 and fc7.

    Stage ``k`` (``k = 1 … 5``) ends with a 2×2 max pool, so pool3, pool4 and pool5 have strides
    8, 16 and 32. fc6 is a "same"-padded ``fc_kernel_size`` convolution and fc7 a 1×1
    convolution, each followed by ReLU and dropout: VGG's dense layers, convolutionalized.
    Build it with :meth:`small` (trains on a CPU) or :meth:`vgg16` (torchvision's VGG16,
    convolutionalized by :func:`segviz.arith.convolutionalize`).

    Args:
        stages: the five stages, each mapping its input to its pooled output.
        fc6: fc6 (convolution, ReLU, dropout); must keep the pool5 size.
        fc7: fc7, likewise.
        channels: output channels of the five stages.
        fc_channels: output channels of fc6 and fc7.

    Returns:
        A dict with ``"pool3"``, ``"pool4"`` and ``"fc7"``.

    Shape:
        - input: ``[N, C, H, W]``
        - ``pool3``: ``[N, channels[2], ⌊H/8⌋, ⌊W/8⌋]``; ``pool4``: ``⌊H/16⌋``; ``fc7``:
          ``[N, fc_channels, ⌊H/32⌋, ⌊W/32⌋]``.

    Example:
        >>> encoder = FCNEncoder.small(3, channels=(4, 4, 8, 8, 8), num_convs=1, fc_channels=16)
        >>> {name: tuple(f.shape) for name, f in encoder(torch.zeros(1, 3, 64, 96)).items()}
        {'pool3': (1, 8, 8, 12), 'pool4': (1, 8, 4, 6), 'fc7': (1, 16, 2, 3)}
    """

    def __init__(
        self, stages: Sequence[nn.Module], fc6: nn.Module, fc7: nn.Module, channels: Sequence[int], fc_channels: int
    ) -> None:
        super().__init__()
        if len(stages) != 5:
            raise ValueError(f"{len(stages)} stages given; FCN's encoder has 5 (pool1 to pool5)")
        self.stages = nn.ModuleList(stages)
        self.fc6, self.fc7 = fc6, fc7
        self.channels = tuple(channels)
        self.fc_channels = fc_channels

    @classmethod
    def small(
        cls,
        in_channels: int = 3,
        channels: Sequence[int] = SMALL_CHANNELS,
        num_convs: int | Sequence[int] = SMALL_NUM_CONVS,
        fc_channels: int = 256,
        fc_kernel_size: int = 3,
        batch_norm: bool = True,
        dropout: float = 0.5,
    ) -> FCNEncoder:
        """A VGG-style encoder of any width: VGG16 at a quarter of its width by default.

        Args:
            in_channels: image channels.
            channels: output channels of the five stages.
            num_convs: padded 3×3 convolutions per stage (one int or five).
            fc_channels: channels of fc6 and fc7 (VGG16: 4096).
            fc_kernel_size: fc6's kernel (VGG16: 7); odd, so "same" padding keeps it centred.
            batch_norm: batch norm after each convolution of the stages.
            dropout: dropout after fc6 and fc7 (FCN and VGG: 0.5).
        """
        channels = check_per_stage("channels", channels, 5)
        fc_channels = check_int("fc_channels", fc_channels, minimum=1)
        fc_kernel_size = check_int("fc_kernel_size", fc_kernel_size, minimum=1)
        if fc_kernel_size % 2 == 0:
            raise ValueError(
                f"fc_kernel_size {fc_kernel_size} given; fc_kernel_size must be odd, so that fc6 can be "
                f"padded by (k - 1) / 2 on each side and stay aligned with pool5 (e.g. {fc_kernel_size + 1})"
            )
        dropout = check_probability("dropout", dropout)
        vgg = VGGEncoder(in_channels, channels, num_convs, batch_norm)
        fc6 = nn.Sequential(ConvBlock(channels[-1], fc_channels, fc_kernel_size, batch_norm=False), nn.Dropout(dropout))
        fc7 = nn.Sequential(ConvBlock(fc_channels, fc_channels, 1, batch_norm=False), nn.Dropout(dropout))
        return cls(vgg.stages, fc6, fc7, channels, fc_channels)

    @classmethod
    def vgg16(cls, weights: Any = None, dropout: float = 0.5) -> FCNEncoder:
        """torchvision's VGG16 (``weights=None``: random), convolutionalized as in lecture 01.

        fc6 becomes a 7×7 convolution with 512 input channels and fc7 a 1×1 one, with the very
        same weights (:func:`segviz.arith.convolutionalize`); fc8, the 1000-class ImageNet
        classifier, is dropped (FCN replaces it by ``score_fr``). fc6 is then padded by 3, so
        that it keeps the pool5 size instead of needing a 7×7 pool5 (the reference pads conv1_1
        by 100 pixels instead and crops afterwards).

        Args:
            weights: ``None``, or a ``torchvision.models.VGG16_Weights`` member (or its name)
                whose checkpoint is already in torch's cache; segviz never downloads.
            dropout: dropout after fc6 and fc7 (torchvision and FCN: 0.5).
        """
        import torchvision

        from ..arith import convolutionalize

        weights = check_cached_weights(weights, torchvision.models.VGG16_Weights, "VGG16")
        dropout = check_probability("dropout", dropout)
        fcn = convolutionalize(torchvision.models.vgg16(weights=weights))
        stages, current = [], []
        for layer in fcn.features:
            current.append(layer)
            if isinstance(layer, nn.MaxPool2d):
                stages.append(nn.Sequential(*current))
                current = []
        head = fcn.classifier  # fc6, ReLU, Dropout, fc7, ReLU, Dropout, fc8
        head[0].padding = (3, 3)
        for index in (2, 5):
            head[index].p = dropout
        fc6, fc7 = nn.Sequential(*head[0:3]), nn.Sequential(*head[3:6])
        return cls(stages, fc6, fc7, VGG16_CHANNELS, head[0].out_channels)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        features = {}
        for k, stage in enumerate(self.stages, start=1):
            x = stage(x)
            features[f"pool{k}"] = x
        return {"pool3": features["pool3"], "pool4": features["pool4"], "fc7": self.fc7(self.fc6(x))}


class FCNDecoder(nn.Module):
    """FCN's skip architecture: score in label space, upsample 2×, add the finer scores.

    ``score_fr`` (a 1×1 convolution) turns fc7 into ``num_classes`` scores at stride 32. FCN-16s
    upsamples them 2× (``upscore2``, a :class:`BilinearConvTranspose2d`, learned) and adds
    ``score_pool4``, a 1×1 convolution of pool4; FCN-8s does it once more with ``upscore_pool4``
    and ``score_pool3``. The skip scores start at zero (``zero_init_skips``), so at
    initialisation the finer variants predict exactly the coarse scores, upsampled (in two or
    three bilinear steps: close to FCN-32s's single 32× step, equal where the scores vary
    linearly).

    Alignment: every convolution of the encoder is "same"-padded and every pool is 2×2 with
    stride 2, so unit ``i`` of a stride-``s`` map is centred on input pixel ``s·i + (s − 1)/2``,
    which is where bilinear interpolation (``align_corners=False``) puts it. The 2× transposed
    convolution maps a stride-``2s`` map of ``n`` units onto ``2n`` units of stride ``s`` with
    the same centres, so the skip scores add element by element with crop offset 0 (the
    reference, built on unpadded Caffe layers, needs crop layers with offsets such as 5 and 9).
    The encoder's input must therefore be a multiple of 32 (:class:`FCN` pads it).

    Args:
        channels: output channels of the encoder's five stages (pool3 is ``channels[2]``,
            pool4 ``channels[3]``).
        fc_channels: fc7's channels.
        num_classes: number of classes.
        variant: ``"32s"``, ``"16s"`` or ``"8s"``.
        zero_init_skips: initialise ``score_pool4`` and ``score_pool3`` to zero (FCN).

    Returns:
        The score maps ``{32: …, 16: …, 8: …}`` keyed by stride (only those of the variant):
        ``scores[32]`` is ``score_fr``, ``scores[16]`` the fused stride-16 scores, ``scores[8]``
        the fused stride-8 scores. The last one is the prediction to upsample.

    Shape:
        - input: the dict of :class:`FCNEncoder`, from an ``H × W`` image with ``H, W``
          multiples of 32
        - ``scores[s]``: ``[N, num_classes, H/s, W/s]``

    Example:
        >>> decoder = FCNDecoder((4, 4, 8, 8, 8), 16, num_classes=3, variant="8s")
        >>> features = {"pool3": torch.zeros(1, 8, 8, 8), "pool4": torch.zeros(1, 8, 4, 4),
        ...             "fc7": torch.zeros(1, 16, 2, 2)}
        >>> {s: tuple(m.shape) for s, m in decoder(features).items()}
        {32: (1, 3, 2, 2), 16: (1, 3, 4, 4), 8: (1, 3, 8, 8)}
    """

    def __init__(
        self,
        channels: Sequence[int],
        fc_channels: int,
        num_classes: int,
        variant: str = "8s",
        zero_init_skips: bool = True,
    ) -> None:
        super().__init__()
        self.variant = check_choice("variant", variant, STRIDES)
        num_classes = check_int("num_classes", num_classes, minimum=1)
        # score_fr first: the random numbers it draws are the same in all three variants
        self.score_fr = nn.Conv2d(fc_channels, num_classes, 1)
        if variant in ("16s", "8s"):
            self.upscore2 = BilinearConvTranspose2d(num_classes, 2)
            self.score_pool4 = nn.Conv2d(channels[3], num_classes, 1)
        if variant == "8s":
            self.upscore_pool4 = BilinearConvTranspose2d(num_classes, 2)
            self.score_pool3 = nn.Conv2d(channels[2], num_classes, 1)
        if zero_init_skips:
            for name in ("score_pool4", "score_pool3"):
                if hasattr(self, name):
                    nn.init.zeros_(getattr(self, name).weight)
                    nn.init.zeros_(getattr(self, name).bias)

    def forward(self, features: dict[str, Tensor]) -> dict[int, Tensor]:
        scores = {32: self.score_fr(features["fc7"])}
        if self.variant in ("16s", "8s"):
            scores[16] = self.upscore2(scores[32]) + self.score_pool4(features["pool4"])
        if self.variant == "8s":
            scores[8] = self.upscore_pool4(scores[16]) + self.score_pool3(features["pool3"])
        return scores


class FCN(nn.Module):
    """FCN-32s, FCN-16s or FCN-8s: encoder → skip decoder (in label space) → bilinear upsampling.

    The encoder (:class:`FCNEncoder`) is a VGG network with fc6 and fc7 as convolutions; the
    decoder (:class:`FCNDecoder`) scores pool5/fc7 (stride 32) and, for 16s and 8s, adds scores
    from pool4 (stride 16) and pool3 (stride 8); the head is one transposed convolution
    (:class:`BilinearConvTranspose2d`) by the last stride: kernel/stride 64/32 for 32s,
    32/16 for 16s, 16/8 for 8s, fixed at bilinear unless ``freeze_final_upsampling=False``.

    Any input size: ``H`` and ``W`` that are not multiples of 32 are zero-padded at the bottom
    and on the right up to the next multiple, and the logits are cropped back to ``H × W``.
    Padding the far sides keeps pixel ``(0, 0)`` where it was, so the crop has offset 0 and no
    interpolation is involved. Inside, the encoder's padded convolutions and 2×2 pools keep
    every map exactly aligned (see :class:`FCNDecoder`), so no crop layer is needed either.

    Args:
        num_classes: number of classes.
        variant: ``"32s"``, ``"16s"`` or ``"8s"``.
        in_channels: image channels (3 for ``backbone="vgg16"``).
        backbone: ``"small"`` (VGG16's layout, narrow, batch norm; for CPUs) or ``"vgg16"``
            (torchvision's, convolutionalized; about 134 million parameters).
        channels: ``"small"`` only: the five stages' channels (default ``(16, 32, 64, 128, 128)``).
        num_convs: ``"small"`` only: convolutions per stage (default ``(2, 2, 3, 3, 3)``).
        fc_channels: ``"small"`` only: fc6/fc7 channels (default 256; VGG16's 4096).
        fc_kernel_size: ``"small"`` only: fc6's kernel, odd (default 3; VGG16's 7).
        batch_norm: ``"small"`` only: batch norm in the stages (default ``True``).
        dropout: dropout after fc6 and fc7 (FCN: 0.5).
        zero_init_skips: start ``score_pool4``/``score_pool3`` at zero (FCN's choice).
        freeze_final_upsampling: keep the last upsampling at bilinear (FCN's choice).
        weights: ``"vgg16"`` only: torchvision ``VGG16_Weights`` already in torch's cache.

    Returns:
        ``forward(x)``: the logits. ``forward(x, return_scores=True)``: ``(logits, scores)``
        where ``scores`` maps each stride of the variant (32; 32, 16; 32, 16, 8) to its score
        map (see :class:`FCNDecoder`), cropped to the units that see the image.

    Shape:
        - input: ``[N, in_channels, H, W]``, any ``H, W ≥ 1``
        - output: ``[N, num_classes, H, W]``
        - ``scores[s]``: ``[N, num_classes, ⌈H/s⌉, ⌈W/s⌉]``

    Reference:
        Long, Shelhamer and Darrell, "Fully Convolutional Networks for Semantic Segmentation",
        CVPR 2015.

    Example:
        >>> model = FCN(num_classes=3, variant="16s", channels=(4, 4, 8, 8, 8), num_convs=1, fc_channels=16)
        >>> logits, scores = model(torch.zeros(2, 3, 50, 70), return_scores=True)
        >>> logits.shape, {s: tuple(m.shape[-2:]) for s, m in scores.items()}
        (torch.Size([2, 3, 50, 70]), {32: (2, 3), 16: (4, 5)})
    """

    def __init__(
        self,
        num_classes: int,
        variant: str = "8s",
        *,
        in_channels: int = 3,
        backbone: str = "small",
        channels: Sequence[int] | None = None,
        num_convs: int | Sequence[int] | None = None,
        fc_channels: int | None = None,
        fc_kernel_size: int | None = None,
        batch_norm: bool | None = None,
        dropout: float = 0.5,
        zero_init_skips: bool = True,
        freeze_final_upsampling: bool = True,
        weights: Any = None,
    ) -> None:
        super().__init__()
        self.num_classes = check_int("num_classes", num_classes, minimum=1)
        self.variant = check_choice("variant", variant, STRIDES)
        self.backbone = check_choice("backbone", backbone, ("small", "vgg16"))
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        small_only = dict(channels=channels, num_convs=num_convs, fc_channels=fc_channels,
                          fc_kernel_size=fc_kernel_size, batch_norm=batch_norm)
        if backbone == "vgg16":
            given = [name for name, value in small_only.items() if value is not None]
            if given:
                raise ValueError(
                    f"{', '.join(given)} given with backbone='vgg16'; VGG16's layout is fixed "
                    f"(channels {VGG16_CHANNELS}, fc6/fc7 4096): leave {given[0]} out or use backbone='small'"
                )
            if in_channels != 3:
                raise ValueError(f"in_channels {in_channels} given with backbone='vgg16'; VGG16 takes RGB images, in_channels=3")
            self.encoder = FCNEncoder.vgg16(weights, dropout)
        else:
            if weights is not None:
                raise ValueError(
                    f"weights {weights!r} given with backbone='small'; only backbone='vgg16' has "
                    "torchvision weights (leave weights out to train the small backbone from scratch)"
                )
            self.encoder = FCNEncoder.small(
                in_channels,
                SMALL_CHANNELS if channels is None else channels,
                SMALL_NUM_CONVS if num_convs is None else num_convs,
                256 if fc_channels is None else fc_channels,
                3 if fc_kernel_size is None else fc_kernel_size,
                True if batch_norm is None else batch_norm,
                dropout,
            )
        self.decoder = FCNDecoder(self.encoder.channels, self.encoder.fc_channels, num_classes, variant, zero_init_skips)
        self.head = BilinearConvTranspose2d(num_classes, STRIDES[variant][-1], trainable=not freeze_final_upsampling)

    def forward(self, x: Tensor, return_scores: bool = False) -> Tensor | tuple[Tensor, dict[int, Tensor]]:
        x = check_images(x, self.in_channels, type(self).__name__)
        h, w = x.shape[-2:]
        x = F.pad(x, (0, -w % 32, 0, -h % 32))  # bottom and right, up to a multiple of 32
        scores = self.decoder(self.encoder(x))
        logits = self.head(scores[STRIDES[self.variant][-1]])[..., :h, :w]
        if not return_scores:
            return logits
        return logits, {s: m[..., : math.ceil(h / s), : math.ceil(w / s)] for s, m in scores.items()}

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, variant={self.variant!r}, backbone={self.backbone!r}"


class FCN32s(FCN):
    """FCN-32s: the coarse scores (stride 32) upsampled 32× in one step.

    :class:`FCN` with ``variant="32s"``; every other argument is :class:`FCN`'s.

    Example:
        >>> model = FCN32s(num_classes=4)  # VGG16's layout at a quarter of its width
        >>> sum(p.numel() for p in model.parameters())
        1349364
        >>> model.head
        BilinearConvTranspose2d(4, 4, kernel_size=(64, 64), stride=(32, 32), padding=(16, 16), bias=False, factor=32, trainable=False)
    """

    def __init__(self, num_classes: int, **kwargs: Any) -> None:
        super().__init__(num_classes, "32s", **kwargs)


class FCN16s(FCN):
    """FCN-16s: the coarse scores upsampled 2×, plus scores from pool4, upsampled 16×.

    :class:`FCN` with ``variant="16s"``; every other argument is :class:`FCN`'s.

    Example:
        >>> model = FCN16s(num_classes=4, channels=(4, 4, 8, 8, 8), fc_channels=16)
        >>> model.decoder.score_pool4.weight.abs().sum().item()  # zero at initialisation
        0.0
        >>> model(torch.zeros(1, 3, 40, 40)).shape
        torch.Size([1, 4, 40, 40])
    """

    def __init__(self, num_classes: int, **kwargs: Any) -> None:
        super().__init__(num_classes, "16s", **kwargs)


class FCN8s(FCN):
    """FCN-8s: FCN-16s's scores upsampled 2×, plus scores from pool3, upsampled 8×.

    :class:`FCN` with ``variant="8s"``; every other argument is :class:`FCN`'s.

    Example:
        >>> model = FCN8s(num_classes=4, channels=(4, 4, 8, 8, 8), fc_channels=16)
        >>> logits, scores = model(torch.zeros(1, 3, 64, 64), return_scores=True)
        >>> [tuple(scores[s].shape) for s in (32, 16, 8)]
        [(1, 4, 2, 2), (1, 4, 4, 4), (1, 4, 8, 8)]
    """

    def __init__(self, num_classes: int, **kwargs: Any) -> None:
        super().__init__(num_classes, "8s", **kwargs)
