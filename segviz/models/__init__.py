"""Segmentation models, each encoder → decoder → head, built from blocks named after the papers.

* FCN (Long et al. 2015): :class:`FCN32s`, :class:`FCN16s`, :class:`FCN8s`, three variants of
  one builder, :class:`FCN`: skips that add *scores* from pool4 and pool3, transposed
  convolutions initialised as bilinear interpolation;
* U-Net (Ronneberger et al. 2015): :class:`UNet`, skips that concatenate *features*; the paper's
  valid-convolution version (:meth:`UNet.paper`, 572 → 388) and its size rules
  (:func:`unet_output_size`, :func:`unet_valid_sizes`);
* SegNet (Badrinarayanan et al. 2017) and DeconvNet (Noh et al. 2015): :class:`SegNet`,
  :class:`DeconvNet`, decoders that unpool with the encoder's max-pooling switches;
* DeepLabV3 (Chen et al. 2017): :class:`DeepLabV3` with :class:`ASPP` on an atrous backbone.

Every model takes ``Tensor[N, C, H, W]`` and returns logits ``[N, num_classes, H', W']`` (the
input's size, except for the paper's U-Net); channel counts, rates and strides are arguments
with small defaults, so that every model trains on a CPU. Blocks: :class:`ConvBlock`,
:class:`VGGStage`, :class:`VGGEncoder`, :class:`DoubleConv`, :class:`BasicBlock`,
:class:`BilinearConvTranspose2d`, :func:`center_crop`.
"""

from .blocks import (
    BasicBlock,
    BilinearConvTranspose2d,
    ConvBlock,
    DoubleConv,
    VGGEncoder,
    VGGFeatures,
    VGGStage,
    center_crop,
)
from .deeplab import ASPP, AtrousResNet, DeepLabV3, ImagePooling
from .fcn import FCN, FCN8s, FCN16s, FCN32s, FCNDecoder, FCNEncoder
from .segnet import DeconvNet, SegNet, UnpoolingDecoder, UnpoolingStage
from .unet import ContractingPath, ExpansivePath, UNet, unet_output_size, unet_valid_sizes

__all__ = [
    # blocks
    "ConvBlock",
    "VGGStage",
    "VGGFeatures",
    "VGGEncoder",
    "DoubleConv",
    "BasicBlock",
    "BilinearConvTranspose2d",
    "center_crop",
    # FCN
    "FCN",
    "FCN32s",
    "FCN16s",
    "FCN8s",
    "FCNEncoder",
    "FCNDecoder",
    # U-Net
    "UNet",
    "ContractingPath",
    "ExpansivePath",
    "unet_output_size",
    "unet_valid_sizes",
    # SegNet, DeconvNet
    "SegNet",
    "DeconvNet",
    "UnpoolingStage",
    "UnpoolingDecoder",
    # DeepLab
    "ASPP",
    "ImagePooling",
    "AtrousResNet",
    "DeepLabV3",
]
