"""Convolutionalization: a classifier's dense layers turned into convolutions with the same weights.

A fully connected layer that reads a ``C×h×w`` feature volume computes, for each output, a dot
product with a ``C×h×w`` block of weights: exactly what a ``h×w`` convolution with ``C`` input
channels computes at one position. Reshaping the weight matrix therefore gives a convolution
that agrees with the dense layer on an input of the training size, and slides over anything
larger, returning a heatmap of class scores instead of one score vector (Long, Shelhamer &
Darrell, 2015, §3.1).
"""

from __future__ import annotations

import copy
from collections import OrderedDict

from torch import nn

from ..validation import check_pair

__all__ = ["convolutionalize"]

_SUPPORTED = (
    "torchvision's VGG (vgg11, vgg13, vgg16, vgg19 and their _bn variants) and AlexNet: "
    "a `features` CNN, an AdaptiveAvgPool2d `avgpool` and a `classifier` of Linear, ReLU and Dropout layers"
)
_POINTWISE = (nn.ReLU, nn.Dropout, nn.Identity)


def _dense_to_conv(linear: nn.Linear, in_channels: int, kernel: tuple[int, int]) -> nn.Conv2d:
    """A ``kernel`` convolution whose weight is a *view* of ``linear``'s weight, reshaped."""
    conv = nn.Conv2d(in_channels, linear.out_features, kernel, bias=linear.bias is not None,
                     device="meta", dtype=linear.weight.dtype)  # meta: no time spent on an init we discard
    # [out, C*h*w] -> [out, C, h, w]: torch.flatten(x, 1) ordered the inputs channel, row, column
    conv.weight = nn.Parameter(linear.weight.detach().view(linear.out_features, in_channels, *kernel),
                               requires_grad=linear.weight.requires_grad)
    if linear.bias is not None:
        conv.bias = nn.Parameter(linear.bias.detach(), requires_grad=linear.bias.requires_grad)
    return conv


def convolutionalize(model: nn.Module) -> nn.Sequential:
    """Turn a VGG or AlexNet classifier into a fully convolutional network with the same weights.

    The first dense layer (fc6), which reads the ``C×h×w`` output of the adaptive average pool,
    becomes an ``h×w`` convolution with ``C`` input channels (VGG: 7×7 from 512 channels; AlexNet:
    6×6 from 256); every later dense layer becomes a 1×1 convolution. Their weights are views of
    the (copied) dense weights, reshaped, so no number changes. The adaptive pool, which would
    squeeze any input back to ``h×w``, becomes ``nn.Identity`` and the flatten disappears, so
    the network accepts any input at least as large as the training size (224×224) and returns
    one score vector per ``h×w`` window of features: a heatmap.

    Args:
        model: a torchvision ``VGG`` or ``AlexNet`` (weights may be on the ``meta`` device). It is
            not modified.

    Returns:
        A new ``nn.Sequential`` with children ``features``, ``avgpool`` (an ``nn.Identity``) and
        ``classifier``, so the layer names stay those of the original (``"classifier.0"`` is
        VGG's fc6, ``"classifier.1"`` AlexNet's). At 224×224 its output, flattened, equals the
        original's logits.

    Raises:
        ValueError: for any other architecture (the message lists the supported ones).

    Shape:
        ``x (Tensor[N, 3, H, W]) -> Tensor[N, num_classes, h, w]`` with
        :math:`h = \\lfloor (H - 224) / 32 \\rfloor + 1` for VGG (``features`` has stride 32
        and fc6 a 7×7 kernel); in general ``h = H_features − 7 + 1`` (VGG) or
        ``H_features − 6 + 1`` (AlexNet).

    Reference:
        J. Long, E. Shelhamer, T. Darrell, "Fully Convolutional Networks for Semantic
        Segmentation", CVPR 2015, §3.1 and Fig. 2.

    Example:
        >>> import torch, torchvision
        >>> with torch.device("meta"):  # shapes only: no weights to initialise
        ...     vgg = torchvision.models.vgg16()
        >>> fcn = convolutionalize(vgg)
        >>> fcn.classifier[0]
        Conv2d(512, 4096, kernel_size=(7, 7), stride=(1, 1))
        >>> fcn(torch.empty(1, 3, 384, 512, device="meta")).shape  # a 6x10 heatmap of 1000 classes
        torch.Size([1, 1000, 6, 10])
    """
    import torchvision  # only needed here; keeps `import segviz.arith` light

    if not isinstance(model, (torchvision.models.VGG, torchvision.models.AlexNet)):
        raise ValueError(f"a {type(model).__name__} given; convolutionalize supports {_SUPPORTED}")
    features, avgpool, classifier = (getattr(model, n, None) for n in ("features", "avgpool", "classifier"))
    if not (isinstance(features, nn.Module) and isinstance(avgpool, nn.AdaptiveAvgPool2d)
            and isinstance(classifier, nn.Sequential)):
        raise ValueError(f"this {type(model).__name__} has been modified; convolutionalize supports {_SUPPORTED}")
    kernel = check_pair("avgpool.output_size", avgpool.output_size, minimum=1)
    convs = [m for m in features.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in classifier if isinstance(m, nn.Linear)]
    if not convs or not linears:
        raise ValueError(f"no convolution in features or no Linear in classifier; convolutionalize supports {_SUPPORTED}")
    channels = convs[-1].out_channels
    if linears[0].in_features != channels * kernel[0] * kernel[1]:
        raise ValueError(
            f"the first Linear reads {linears[0].in_features} features, but features end with {channels} channels "
            f"pooled to {kernel[0]}×{kernel[1]} ({channels * kernel[0] * kernel[1]}); convolutionalize supports {_SUPPORTED}"
        )
    for name, layer in classifier.named_children():
        if not isinstance(layer, (nn.Linear, *_POINTWISE)):
            raise ValueError(
                f"classifier.{name} is a {type(layer).__name__}; convolutionalize supports {_SUPPORTED}"
            )

    twin = copy.deepcopy(model)  # the original keeps its dense layers
    head = nn.Sequential()
    first = True
    for name, layer in twin.classifier.named_children():
        if isinstance(layer, nn.Linear):
            layer = _dense_to_conv(layer, channels if first else layer.in_features, kernel if first else (1, 1))
            first = False
        head.add_module(name, layer)
    fcn = nn.Sequential(OrderedDict([("features", twin.features), ("avgpool", nn.Identity()), ("classifier", head)]))
    return fcn.train(model.training)
