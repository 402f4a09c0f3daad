"""Argument checks and size formulas shared by the ops (private: the ops re-export what matters).

Every op validates its arguments here, so a learner who passes a weight in the wrong layout or an
``output_padding`` PyTorch would refuse reads what was received and what would work, instead of a
shape error from deep inside a matrix product.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from torch import Tensor

from ..validation import check_ndim, check_pair

Pair = tuple[int, int]


def check_tensor(name: str, value: Any, ndims: int | tuple[int, ...], layout: str) -> Tensor:
    """Return ``value`` if it is a ``torch.Tensor`` with one of ``ndims`` dimensions."""
    if not isinstance(value, Tensor):
        raise ValueError(
            f"{name} of type {type(value).__name__} given; {name} must be a torch.Tensor {layout}"
        )
    return check_ndim(name, value, ndims, layout)


def check_same_dtype(x: Tensor, name: str, other: Tensor) -> None:
    """Refuse mixed dtypes (a float64 input with a float32 kernel) with the fix in the message."""
    if x.dtype != other.dtype:
        raise ValueError(
            f"x is {x.dtype} but {name} is {other.dtype}; give both the same dtype, "
            f"e.g. {name}.to(x.dtype)"
        )


def check_conv_weight(weight: Any, in_channels: int, *, transposed: bool) -> Tensor:
    """Check a kernel in PyTorch's own layout against the input's channel count.

    ``conv2d`` weights are ``[C_out, C_in, kh, kw]``; ``conv_transpose2d`` weights are
    ``[C_in, C_out, kh, kw]`` (the layout of the convolution that is being transposed).
    """
    if transposed:
        layout, axis = "[C_in, C_out, kh, kw]", 0
        why = "a conv_transpose2d weight is [C_in, C_out, kh, kw] (the layout of the conv2d it transposes)"
    else:
        layout, axis = "[C_out, C_in, kh, kw]", 1
        why = "a conv2d weight is [C_out, C_in, kh, kw]"
    weight = check_tensor("weight", weight, 4, layout)
    if weight.shape[axis] != in_channels:
        raise ValueError(
            f"weight of shape {tuple(weight.shape)} given for x with {in_channels} channels; "
            f"{why}, so weight.shape[{axis}] must be {in_channels}"
        )
    return weight


def check_bias(bias: Any, out_channels: int) -> Tensor | None:
    """``None`` or a tensor of shape ``(C_out,)``."""
    if bias is None:
        return None
    bias = check_tensor("bias", bias, 1, f"of shape (C_out,) = ({out_channels},)")
    if bias.shape[0] != out_channels:
        raise ValueError(
            f"bias of shape {tuple(bias.shape)} given; bias must have shape (C_out,) = ({out_channels},)"
        )
    return bias


def add_bias(y: Tensor, bias: Tensor | None) -> Tensor:
    """``y`` [N, C_out, H, W] plus one bias per output channel."""
    return y if bias is None else y + bias[None, :, None, None]


def conv_output_size(
    input_size: Pair, kernel_size: Pair, stride: Pair, padding: Pair, dilation: Pair
) -> Pair:
    """``floor((H + 2p - d(k - 1) - 1) / s) + 1`` per direction; refuse an empty output."""
    out = tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, s, p, d in zip(input_size, kernel_size, stride, padding, dilation)
    )
    if min(out) < 1:
        span = tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation))
        raise ValueError(
            f"input {_by(input_size)} with padding {padding} is smaller than the kernel's span "
            f"{_by(span)} (kernel {_by(kernel_size)}, dilation {dilation}): the output would be "
            f"{_by(out)}; pad the input more or use a smaller kernel or dilation"
        )
    return out  # type: ignore[return-value]


def conv_transpose_output_size(
    input_size: Pair,
    kernel_size: Pair,
    stride: Pair,
    padding: Pair,
    output_padding: Pair,
    dilation: Pair,
) -> Pair:
    """``(H - 1) s - 2p + d(k - 1) + output_padding + 1`` per direction; refuse an empty output."""
    out = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        for n, k, s, p, op, d in zip(input_size, kernel_size, stride, padding, output_padding, dilation)
    )
    if min(out) < 1:
        full = tuple(
            (n - 1) * s + d * (k - 1) + 1 for n, k, s, d in zip(input_size, kernel_size, stride, dilation)
        )
        most = tuple((f + op - 1) // 2 for f, op in zip(full, output_padding))
        raise ValueError(
            f"padding {padding} crops away the whole output of a transposed convolution of "
            f"input {_by(input_size)} (the output would be {_by(out)}); the uncropped canvas is "
            f"{_by(full)} = (H - 1) s + d (k - 1) + 1, so padding must be at most {most}"
        )
    return out  # type: ignore[return-value]


def check_output_padding(output_padding: Any, stride: Pair, dilation: Pair) -> Pair:
    """PyTorch's rule: ``0 <= output_padding < max(stride, dilation)`` in each direction.

    A stride-``s`` convolution maps ``s`` consecutive input sizes to the same output size;
    ``output_padding`` picks which of them the transposed convolution restores, so anything
    beyond that choice is refused (it would add only zeros).
    """
    output_padding = check_pair("output_padding", output_padding, minimum=0)
    limit = tuple(max(s, d) for s, d in zip(stride, dilation))
    if any(op >= lim for op, lim in zip(output_padding, limit)):
        raise ValueError(
            f"output_padding {output_padding} given with stride {stride} and dilation {dilation}; "
            f"output_padding must be smaller than max(stride, dilation) = {limit} in each "
            f"direction (it only picks one of the sizes a strided convolution maps to the same size)"
        )
    return output_padding


def conv_args(stride: Any, padding: Any, dilation: Any) -> tuple[Pair, Pair, Pair]:
    """Normalise ``stride``, ``padding``, ``dilation`` (ints or ``(h, w)`` pairs)."""
    return (
        check_pair("stride", stride, minimum=1),
        check_pair("padding", padding, minimum=0),
        check_pair("dilation", dilation, minimum=1),
    )


class ConvTransposeArgs(NamedTuple):
    """The checked, normalised arguments of a transposed convolution, and its output size."""

    x: Tensor
    weight: Tensor
    bias: Tensor | None
    stride: Pair
    padding: Pair
    output_padding: Pair
    dilation: Pair
    output_size: Pair


def conv_transpose_args(
    x: Any, weight: Any, bias: Any, stride: Any, padding: Any, output_padding: Any, dilation: Any
) -> ConvTransposeArgs:
    """Check everything a ``conv_transpose2d`` look-alike receives; ints become ``(h, w)`` pairs."""
    x = check_tensor("x", x, 4, "[N, C_in, H_in, W_in]")
    weight = check_conv_weight(weight, x.shape[1], transposed=True)
    check_same_dtype(x, "weight", weight)
    bias = check_bias(bias, weight.shape[1])
    stride, padding, dilation = conv_args(stride, padding, dilation)
    output_padding = check_output_padding(output_padding, stride, dilation)
    output_size = conv_transpose_output_size(
        tuple(x.shape[2:]), tuple(weight.shape[2:]), stride, padding, output_padding, dilation
    )
    return ConvTransposeArgs(x, weight, bias, stride, padding, output_padding, dilation, output_size)


def _by(size: tuple[int, ...]) -> str:
    """``(4, 5)`` -> ``'4x5'``."""
    return "x".join(str(n) for n in size)


__all__ = [
    "Pair",
    "check_tensor",
    "check_same_dtype",
    "check_conv_weight",
    "check_bias",
    "add_bias",
    "conv_output_size",
    "conv_transpose_output_size",
    "check_output_padding",
    "conv_args",
    "ConvTransposeArgs",
    "conv_transpose_args",
]
