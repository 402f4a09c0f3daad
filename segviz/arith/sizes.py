"""Output sizes of convolution, transposed convolution and pooling, exactly as PyTorch computes them.

These are the formulas behind every shape in a CNN. They are written once, per axis, in plain
integer arithmetic, and accept either one ``int`` (a square layer on a square input) or an
``(h, w)`` pair, like ``torch.nn.Conv2d`` does. A configuration that PyTorch refuses raises a
``ValueError`` here too, and says why and what input size would work; the tests compare every
formula with the real ``nn.Conv2d``, ``nn.ConvTranspose2d`` and ``nn.MaxPool2d`` on thousands of
random configurations.

Reference: V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning",
arXiv:1603.07285, 2016.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Union

from ..validation import check_choice, check_pair

__all__ = ["conv_output_size", "conv_transpose_output_size", "pool_output_size"]

IntOrPair = Union[int, Sequence[int]]

_AXES = ("height", "width")


def _is_scalar(value: Any) -> bool:
    return not (isinstance(value, Sequence) and not isinstance(value, str))


def _pairs(**named: Any) -> tuple[bool, dict[str, tuple[int, int]]]:
    """Normalise every argument to an ``(h, w)`` pair; report whether all were plain ints."""
    minimum = {"size": 1, "kernel_size": 1, "stride": 1, "dilation": 1, "padding": 0, "output_padding": 0}
    scalar = all(_is_scalar(v) for v in named.values())
    return scalar, {k: check_pair(k, v, minimum=minimum[k]) for k, v in named.items()}


def _axis(scalar: bool, i: int) -> str:
    return "" if scalar else f" along the {_AXES[i]}"


def _result(scalar: bool, values: list[int]) -> IntOrPair:
    return values[0] if scalar else (values[0], values[1])


def _quote(value: Any) -> str:
    return repr(tuple(value) if not _is_scalar(value) else value)


def conv_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair | str = 0,
    dilation: IntOrPair = 1,
) -> IntOrPair:
    """Spatial output size of a convolution (``nn.Conv2d``) along each axis.

    A dilated kernel spans ``d·(k−1)+1`` pixels (its *effective* size); the window slides over
    the padded input in steps of ``s`` and stops when it would leave it, hence the floor.

    Args:
        size: input size ``H`` or ``(H, W)``.
        kernel_size: ``k`` or ``(kh, kw)``.
        stride: ``s`` or ``(sh, sw)``, at least 1.
        padding: zeros added on *each* side, ``p`` or ``(ph, pw)``; or ``"valid"`` (no padding)
            or ``"same"`` (output as large as the input, stride 1 only), as in ``nn.Conv2d``.
        dilation: ``d`` or ``(dh, dw)``, at least 1.

    Returns:
        The output size: an ``int`` when every argument is an ``int``, else an ``(h, w)`` pair.

    Raises:
        ValueError: on a bad argument, or when the padded input is smaller than the effective
            kernel (the output would be empty); the message gives the smallest input that works.

    Shape:
        :math:`D_{out} = \\left\\lfloor \\frac{D_{in} + 2p - d(k-1) - 1}{s} \\right\\rfloor + 1`

    Reference:
        Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016, §2.

    Example:
        >>> conv_output_size(224, kernel_size=11, stride=4, padding=2)  # AlexNet conv1
        55
        >>> conv_output_size((7, 9), kernel_size=3, dilation=(1, 2))
        (5, 5)
        >>> conv_output_size(2, kernel_size=3)
        Traceback (most recent call last):
        ...
        ValueError: conv_output_size: input size 2 is too small for kernel_size 3 with dilation 1 and padding 0: the padded input (2) is smaller than the effective kernel d·(k−1)+1 = 3, so the output would be empty; use an input of at least 3 pixels, or more padding
    """
    same = False
    if isinstance(padding, str):
        mode = check_choice("padding", padding, ["valid", "same"])
        same, padding = mode == "same", 0
    scalar, a = _pairs(size=size, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)
    if same and a["stride"] != (1, 1):
        raise ValueError(
            f"padding='same' given with stride {_quote(stride)}; 'same' padding keeps the output "
            "as large as the input, which only a stride of 1 can do (PyTorch refuses it too): "
            "use stride=1, or give the padding as a number"
        )
    out = []
    for i in range(2):
        n, k, s, p, d = (a[key][i] for key in ("size", "kernel_size", "stride", "padding", "dilation"))
        k_eff = d * (k - 1) + 1
        if same:  # PyTorch pads d·(k−1) in total, split left/right; the output equals the input
            out.append(n)
            continue
        if n + 2 * p < k_eff:
            raise ValueError(
                f"conv_output_size: input size {n}{_axis(scalar, i)} is too small for kernel_size {k} "
                f"with dilation {d} and padding {p}: the padded input ({n + 2 * p}) is smaller than the "
                f"effective kernel d·(k−1)+1 = {k_eff}, so the output would be empty; use an input of "
                f"at least {k_eff - 2 * p} pixels, or more padding"
            )
        out.append((n + 2 * p - k_eff) // s + 1)
    return _result(scalar, out)


def conv_transpose_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> IntOrPair:
    """Spatial output size of a transposed convolution (``nn.ConvTranspose2d``).

    The transposed convolution is the gradient of a convolution with the same arguments, so it
    maps a ``D_out``-sized map back to a ``D_in``-sized one. Because the convolution's floor
    sends up to ``s`` input sizes to the same output size, ``output_padding`` (less than the
    stride, or the dilation) picks which one to return.

    Args:
        size: input size ``H`` or ``(H, W)``.
        kernel_size: ``k`` or ``(kh, kw)``.
        stride: ``s`` or ``(sh, sw)``, at least 1.
        padding: ``p`` or ``(ph, pw)``: rows/columns *removed* from each side of the output.
        output_padding: ``a`` or ``(ah, aw)``: extra rows/columns added on one side; must be
            smaller than ``max(stride, dilation)``.
        dilation: ``d`` or ``(dh, dw)``, at least 1.

    Returns:
        The output size: an ``int`` when every argument is an ``int``, else an ``(h, w)`` pair.

    Raises:
        ValueError: on a bad argument, an ``output_padding`` PyTorch refuses, or an empty output.

    Shape:
        :math:`D_{out} = (D_{in} - 1)\\,s - 2p + d(k-1) + a + 1`

    Reference:
        Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016, §4.

    Example:
        >>> conv_transpose_output_size(7, kernel_size=4, stride=2, padding=1)  # FCN-style 2x upsampling
        14
        >>> conv_transpose_output_size(7, kernel_size=3, stride=2, padding=1, output_padding=1)
        14
        >>> conv_transpose_output_size(7, kernel_size=3, output_padding=1)
        Traceback (most recent call last):
        ...
        ValueError: output_padding 1 given with stride 1 and dilation 1; output_padding must be smaller than max(stride, dilation) = 1 (it only picks one of the stride's possible input sizes), so use an output_padding of at most 0
    """
    scalar, a = _pairs(
        size=size, kernel_size=kernel_size, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation,
    )
    out = []
    for i in range(2):
        n, k, s, p, op, d = (
            a[key][i] for key in ("size", "kernel_size", "stride", "padding", "output_padding", "dilation")
        )
        if op >= max(s, d):
            raise ValueError(
                f"output_padding {_quote(output_padding)} given with stride {_quote(stride)} and "
                f"dilation {_quote(dilation)}; output_padding must be smaller than max(stride, "
                f"dilation) = {max(s, d)}{_axis(scalar, i)} (it only picks one of the stride's possible "
                f"input sizes), so use an output_padding of at most {max(s, d) - 1}"
            )
        result = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        if result < 1:
            smallest = 1 + max(0, -(-(2 * p - d * (k - 1) - op) // s))
            raise ValueError(
                f"conv_transpose_output_size: input size {n}{_axis(scalar, i)} gives an output of "
                f"{result} pixels: (n−1)·s − 2p + d·(k−1) + output_padding + 1 = {result} with "
                f"kernel_size {k}, stride {s}, padding {p}, dilation {d}; the padding crops more than "
                f"the layer produces. Use an input of at least {smallest} pixels, or less padding"
            )
        out.append(result)
    return _result(scalar, out)


def pool_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> IntOrPair:
    """Spatial output size of max or average pooling (``nn.MaxPool2d``, ``nn.AvgPool2d``).

    Like :func:`conv_output_size`, with two pooling rules from PyTorch: the padding may be at most
    half the kernel size, ``k // 2`` (a window entirely made of padding has nothing to pool), and with
    ``ceil_mode=True`` a partial window at the end is kept only if it *starts* inside the input or
    the left padding. ``nn.AvgPool2d`` has no dilation: leave it at 1.

    Args:
        size: input size ``H`` or ``(H, W)``.
        kernel_size: ``k`` or ``(kh, kw)``.
        stride: ``s`` or ``(sh, sw)``; ``None`` (the default) means ``kernel_size``.
        padding: ``p`` or ``(ph, pw)``, at most ``kernel_size // 2``.
        dilation: ``d`` or ``(dh, dw)``, at least 1.
        ceil_mode: round up instead of down, keeping a last partial window.

    Returns:
        The output size: an ``int`` when every argument is an ``int``, else an ``(h, w)`` pair.

    Raises:
        ValueError: on a bad argument, too much padding, or an empty output.

    Shape:
        :math:`D_{out} = \\left\\lfloor \\frac{D_{in} + 2p - d(k-1) - 1}{s} \\right\\rfloor + 1`
        (``ceil`` instead of ``floor`` with ``ceil_mode``, minus one if the last window would
        start at or after :math:`D_{in} + p`).

    Example:
        >>> pool_output_size(112, kernel_size=3, stride=2, ceil_mode=True)  # GoogLeNet maxpool1
        56
        >>> pool_output_size(112, kernel_size=3, stride=2)
        55
        >>> pool_output_size(8, kernel_size=3, padding=2)
        Traceback (most recent call last):
        ...
        ValueError: pool_output_size: padding 2 given with kernel_size 3; pooling padding must be at most half the kernel size, i.e. at most 1 (otherwise a window could hold only padding, with nothing to pool)
    """
    if not isinstance(ceil_mode, bool):
        raise ValueError(f"ceil_mode {ceil_mode!r} given; ceil_mode must be True or False")
    named = {"size": size, "kernel_size": kernel_size, "padding": padding, "dilation": dilation}
    named["stride"] = kernel_size if stride is None else stride
    scalar, a = _pairs(**named)
    out = []
    for i in range(2):
        n, k, s, p, d = (a[key][i] for key in ("size", "kernel_size", "stride", "padding", "dilation"))
        k_eff = d * (k - 1) + 1
        if p > k // 2:  # PyTorch's rule uses the kernel size, not the (larger) dilated one
            raise ValueError(
                f"pool_output_size: padding {p}{_axis(scalar, i)} given with kernel_size {k}; pooling "
                f"padding must be at most half the kernel size, i.e. at most {k // 2} (otherwise a "
                "window could hold only padding, with nothing to pool)"
            )
        slack = s - 1 if ceil_mode else 0
        result = (n + 2 * p - k_eff + slack) // s + 1
        if ceil_mode and result > 1 and (result - 1) * s >= n + p:
            result -= 1  # the last window would start in the right padding: drop it
        if result < 1:
            raise ValueError(
                f"pool_output_size: input size {n}{_axis(scalar, i)} is too small for kernel_size {k} "
                f"with stride {s}, dilation {d}, padding {p} and ceil_mode={ceil_mode}: the output "
                f"would be empty; use an input of at least {k_eff - 2 * p - slack} pixels"
            )
        out.append(result)
    return _result(scalar, out)
