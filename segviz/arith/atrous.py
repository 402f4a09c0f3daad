"""Atrous (dilated) filters on a finite feature map: where the taps land, and how many are real.

A ``k×k`` filter with rate ``r``, centred on feature ``(i, j)`` and padded by ``r·(k − 1)/2`` (as
ASPP's branches are, so they keep the map's size), reads the features at ``(i + a·r, j + b·r)``
for ``a, b ∈ {−(k−1)/2, …, (k−1)/2}``. A tap that falls outside the ``H×W`` map reads the zero
padding: its weight multiplies 0 and learns nothing there. DeepLabV3 (§3.3, Fig. 4) counts these
*valid* weights: as the rate approaches the size of the map, fewer and fewer taps land on real
features, until only the centre one does and the 3×3 filter has degenerated to a 1×1 filter,
which is why ASPP adds an image-pooling branch for global context.

Counting is separable: along one axis of length ``n`` the taps of position ``i`` that land
inside are those with ``0 ≤ i + a·r ≤ n − 1``; the 2-D count is the product of the two axes'
counts, so the mean over all positions is the product of the two axes' means.

The output stride ``s`` of the backbone turns feature distances into input pixels: neighbouring
features are ``s`` pixels apart, so feature ``i`` sits at input pixel ``i·s`` (exactly with
DeepLab's ``s·k + 1`` crops, e.g. 513 = 16·32 + 1, and ``align_corners=True``) and the tap
centres of a rate-``r`` ``k×k`` filter are ``(k − 1)·r·s + 1`` input pixels apart from first to
last, both included (:func:`atrous_span`).

Reference:
    L.-C. Chen, G. Papandreou, F. Schroff and H. Adam, "Rethinking Atrous Convolution for
    Semantic Image Segmentation", arXiv:1706.05587, 2017, §3.3 and Fig. 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..validation import check_int, check_pair

__all__ = [
    "atrous_taps", "valid_tap_counts", "valid_tap_fraction", "feature_map_size", "atrous_span",
    "aspp_multiply_adds",
]


def _check_kernel(kernel_size: Any) -> int:
    k = check_int("kernel_size", kernel_size, minimum=1)
    if k % 2 == 0:
        raise ValueError(
            f"kernel_size {k} given; kernel_size must be odd (1, 3, 5, …) so that the filter has a "
            f"centre tap on the feature it is computed for"
        )
    return k


def _axis_counts(n: int, rate: int, k: int) -> np.ndarray:
    """How many of the ``k`` taps along one axis land inside ``[0, n)``, for each position: ``[n]``."""
    i = np.arange(n)[:, None]  # [n, 1]
    offsets = (np.arange(k) - (k - 1) // 2)[None, :] * rate  # [1, k]
    return ((i + offsets >= 0) & (i + offsets < n)).sum(axis=1)  # [n]


def atrous_taps(size: Any, rate: int, position: Sequence[int], kernel_size: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The feature-map cells a ``k×k`` atrous filter reads when computed at ``position``.

    Args:
        size: the feature map's side ``n``, or ``(H, W)``.
        rate: the atrous rate ``r`` (dilation), ≥ 1.
        position: ``(row, col)`` of the output feature, inside the map.
        kernel_size: ``k``, odd (ASPP: 3).

    Returns:
        ``(taps, inside)``: ``taps`` int64 ``[k², 2]``, the ``(row, col)`` of every tap in
        row-major order, ``(row + a·r, col + b·r)``; ``inside`` bool ``[k²]``, whether the tap
        lands on the map (``False``: it reads the zero padding).

    Shape:
        ``[k², 2]`` and ``[k²]``.

    Example:
        >>> taps, inside = atrous_taps(5, 2, (0, 2))  # top row of a 5×5 map, rate 2
        >>> taps.tolist()
        [[-2, 0], [-2, 2], [-2, 4], [0, 0], [0, 2], [0, 4], [2, 0], [2, 2], [2, 4]]
        >>> inside.tolist()  # the first row of taps hangs in the padding
        [False, False, False, True, True, True, True, True, True]
    """
    h, w = check_pair("size", size, minimum=1)
    r = check_int("rate", rate, minimum=1)
    k = _check_kernel(kernel_size)
    if isinstance(position, (str, bytes)) or not isinstance(position, Sequence) or len(position) != 2:
        raise ValueError(f"position {position!r} given; position must be a pair (row, col) of a feature of the map")
    row = check_int("position row", position[0], minimum=0, maximum=h - 1)
    col = check_int("position col", position[1], minimum=0, maximum=w - 1)
    offsets = (np.arange(k) - (k - 1) // 2) * r  # [k]
    rows, cols = np.meshgrid(row + offsets, col + offsets, indexing="ij")  # [k, k] each
    taps = np.stack([rows.reshape(-1), cols.reshape(-1)], axis=1).astype(np.int64)  # [k², 2]
    inside = (taps[:, 0] >= 0) & (taps[:, 0] < h) & (taps[:, 1] >= 0) & (taps[:, 1] < w)
    return taps, inside


def valid_tap_counts(size: Any, rate: int, kernel_size: int = 3) -> np.ndarray:
    """How many of a ``k×k`` atrous filter's taps land on the map, at every position.

    The count at ``(i, j)`` is ``v_H(i)·v_W(j)``, where ``v_n(i)`` counts the taps along one
    axis with ``0 ≤ i + a·r < n``. It equals ``F.conv2d`` of an all-ones map with an all-ones
    kernel, ``dilation=r, padding=r·(k − 1)/2`` (the tests check it).

    Args:
        size: the feature map's side ``n``, or ``(H, W)``.
        rate: the atrous rate ``r``, ≥ 1.
        kernel_size: ``k``, odd.

    Returns:
        int64 ``[H, W]`` with values in ``1 … k²`` (the centre tap always lands).

    Shape:
        ``[H, W]``.

    Example:
        >>> valid_tap_counts(5, 2).tolist()
        [[4, 4, 6, 4, 4], [4, 4, 6, 4, 4], [6, 6, 9, 6, 6], [4, 4, 6, 4, 4], [4, 4, 6, 4, 4]]
    """
    h, w = check_pair("size", size, minimum=1)
    r = check_int("rate", rate, minimum=1)
    k = _check_kernel(kernel_size)
    return np.outer(_axis_counts(h, r, k), _axis_counts(w, r, k)).astype(np.int64)


def valid_tap_fraction(size: Any, rate: int, kernel_size: int = 3) -> float:
    """The share of a ``k×k`` atrous filter's weights that see real features, over all positions.

    The mean of :func:`valid_tap_counts` divided by ``k²``; DeepLabV3's Fig. 4 measure. For a
    3×3 filter on an ``n×n`` map it is ``((1 + 2·max(0, n − r)/n) / 3)²``: 1 at rate 0 (were it
    allowed), ``1/9`` (only the centre tap, a 1×1 filter) once ``r ≥ n``. The value is the exact
    ratio of two integers, rounded once to a float.

    Args:
        size: the feature map's side ``n``, or ``(H, W)``.
        rate: the atrous rate ``r``, ≥ 1.
        kernel_size: ``k``, odd.

    Returns:
        A float in ``[1/k², 1]``.

    Example:
        >>> valid_tap_fraction(65, 64) == 67**2 / (9 * 65**2)  # DeepLabV3's 65×65 map: nearly 1×1
        True
        >>> valid_tap_fraction(65, 65), valid_tap_fraction(33, 6)
        (0.1111111111111111, 0.7722681359044995)
    """
    h, w = check_pair("size", size, minimum=1)
    r = check_int("rate", rate, minimum=1)
    k = _check_kernel(kernel_size)
    valid = int(_axis_counts(h, r, k).sum()) * int(_axis_counts(w, r, k).sum())  # Σ_ij v_H(i)·v_W(j)
    return valid / (k * k * h * w)


def feature_map_size(input_size: Any, output_stride: int) -> Any:
    """The side of the backbone's feature map: ``⌈input / output_stride⌉``.

    Every strided layer of a padded backbone rounds up (``⌊(n + 2p − k)/s⌋ + 1`` with
    ``p = (k − 1)/2`` is ``⌈n/s⌉``), as :class:`~segviz.models.DeepLabV3`'s encoder does; for
    DeepLab's ``s·k + 1`` crops it is ``k + 1`` (513 at output stride 16: 33; at 8: 65).

    Args:
        input_size: the image's side, or ``(H, W)``.
        output_stride: the backbone's total stride (DeepLabV3: 16 or 8).

    Returns:
        An ``int``, or an ``(h, w)`` pair when ``input_size`` is a pair.

    Example:
        >>> feature_map_size(513, 16), feature_map_size(513, 8), feature_map_size((512, 384), 32)
        (33, 65, (16, 12))
    """
    s = check_int("output_stride", output_stride, minimum=1)
    if isinstance(input_size, Sequence) and not isinstance(input_size, str):
        h, w = check_pair("input_size", input_size, minimum=1)
        return (-(-h // s), -(-w // s))
    return -(-check_int("input_size", input_size, minimum=1) // s)


def atrous_span(rate: int, output_stride: int = 1, kernel_size: int = 3) -> int:
    """Input pixels from the first to the last tap centre of a ``k×k`` atrous filter: ``(k − 1)·r·s + 1``.

    Neighbouring features of a stride-``s`` map are ``s`` input pixels apart, so the outer
    taps of a rate-``r`` filter are ``(k − 1)/2·r·s`` pixels either side of its centre. Two
    wider measures are sometimes quoted: the stride cells the taps stand for cover
    ``((k − 1)·r + 1)·s`` pixels, and the filter's full receptive field adds the backbone's own
    receptive field around each tap (``(k − 1)·r·s + RF_backbone``). This function gives the
    first, which depends on the filter alone.

    Args:
        rate: the atrous rate ``r``, ≥ 1.
        output_stride: ``s``, the distance in input pixels between neighbouring features.
        kernel_size: ``k``, odd.

    Example:
        >>> [atrous_span(r, 16) for r in (6, 12, 18)], [atrous_span(r, 8) for r in (12, 24, 36)]
        ([193, 385, 577], [193, 385, 577])
    """
    r = check_int("rate", rate, minimum=1)
    s = check_int("output_stride", output_stride, minimum=1)
    k = _check_kernel(kernel_size)
    return (k - 1) * r * s + 1


def aspp_multiply_adds(
    feature_size: Any, num_rates: int = 3, in_channels: int = 2048, out_channels: int = 256
) -> int:
    """Multiply-adds of the convolutions of one ASPP on an ``H×W`` feature map (one image).

    Per position: the 1×1 branch ``C_in·C``, each 3×3 atrous branch ``9·C_in·C`` (a dense
    convolution multiplies the padding's zeros too, whatever the rate), the projection of the
    ``(rates + 2)·C`` concatenated channels ``(rates + 2)·C·C``; once per image: image
    pooling's 1×1 convolution on the pooled vector, ``C_in·C``. The average pooling's additions,
    batch norm and ReLU are not counted (as ``FlopCounterMode`` does not; the tests compare with
    :func:`~segviz.arith.count_flops` of :class:`~segviz.models.ASPP`, which counts 2 FLOPs per
    multiply-add). The rates do not change the cost; the map's area does: halving the output
    stride roughly quadruples it.

    Args:
        feature_size: the feature map's side, or ``(H, W)``.
        num_rates: how many 3×3 atrous branches (DeepLabV3: 3).
        in_channels: ``C_in``, the backbone's channels (ResNet-50/101: 2048).
        out_channels: ``C``, the channels of every branch (DeepLabV3: 256).

    Example:
        >>> aspp_multiply_adds(33), aspp_multiply_adds(65)  # 513×513 at output stride 16 and 8
        (16343957504, 63408242688)
    """
    h, w = check_pair("feature_size", feature_size, minimum=1)
    b = check_int("num_rates", num_rates, minimum=0)
    c_in = check_int("in_channels", in_channels, minimum=1)
    c = check_int("out_channels", out_channels, minimum=1)
    per_position = c_in * c * (1 + 9 * b) + (b + 2) * c * c
    return h * w * per_position + c_in * c
