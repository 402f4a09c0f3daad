"""Receptive fields: which input pixels a unit of a convolutional network can see.

Three ways to get the same numbers, from the most to the least "by hand":

* :func:`compose` folds a plain stack of layers with the textbook recurrence
  (size ``r``, jump ``j`` and padding ``p``, layer by layer), and :func:`input_size_for` runs the
  inverse-size rule ``D_in = S·(D_out − 1) + K`` backwards to get the smallest input a stack
  accepts;
* :func:`receptive_field` / :func:`receptive_fields` work on *any* ``nn.Module``, branches and
  residual additions included: one forward pass on PyTorch's ``meta`` device (no memory, no
  arithmetic) where every tensor carries, for each unit, the first and last input pixel it can
  see; convolutions, pooling, concatenation, additions, upsampling, reshapes and linear layers
  update those records;
* :func:`gradient_receptive_field` measures it: back-propagate from one unit through a copy of the
  network whose weights are all positive, and read which input pixels get a non-zero gradient.

Conventions of the traced version: normalisation layers count as pointwise (their statistics are
ignored, as everywhere in the receptive-field literature); an operation with no rule (a warning
names it), or a reshape that splits one image axis over two dims (window attention), is assumed
to let each output see everything its inputs saw: an upper bound.

Conventions: ``size`` is the side, in input pixels, of the window a unit sees (padding included);
``stride`` is the distance, in input pixels, between neighbouring units (the "jump"); ``padding``
is how far unit 0's window starts before pixel 0, so unit ``i`` sees pixels
``i·stride − padding … i·stride − padding + size − 1``.

References:
    A. Araujo, W. Norris and J. Sim, "Computing Receptive Fields of Convolutional Neural
    Networks", Distill, 2019. W. Luo et al., "Understanding the Effective Receptive Field in Deep
    Convolutional Neural Networks", NeurIPS 2016 (the gradient method).
"""

from __future__ import annotations

import difflib
import math
import warnings
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from ..validation import check_int, check_pair
from .sizes import conv_output_size, pool_output_size

__all__ = [
    "ReceptiveField",
    "LayerReceptiveField",
    "compose",
    "input_size_for",
    "receptive_field",
    "receptive_fields",
    "gradient_receptive_field",
]

def _merge(values: Sequence[Any]) -> Any:
    """One value when every axis agrees, else the tuple (``(h, w)`` for images)."""
    values = tuple(values)
    return values[0] if all(v == values[0] for v in values) else values


@dataclass(frozen=True)
class ReceptiveField:
    """Size, stride and padding of the window of input pixels one unit sees.

    Each attribute is a plain ``int`` when both axes agree, else an ``(h, w)`` tuple. Unit ``i``
    sees input pixels ``i·stride − padding`` to ``i·stride − padding + size − 1`` (negative
    indices, and indices past the end, are padding).

    Attributes:
        size: side of the window, in input pixels (padding included).
        stride: input pixels between neighbouring units (the product of the strides so far); a
            ``Fraction`` after upsampling.
        padding: how many pixels before pixel 0 the window of unit 0 starts.
        covers_input: every unit sees the whole input image (after global pooling or a fully
            connected layer, or once the window outgrows the image). Only set by the functions
            that know the input size.
    """

    size: Any
    stride: Any
    padding: Any
    covers_input: bool = False

    def __repr__(self) -> str:
        extra = ", covers_input=True" if self.covers_input else ""
        return f"ReceptiveField(size={self.size!r}, stride={self.stride!r}, padding={self.padding!r}{extra})"


@dataclass(frozen=True)
class LayerReceptiveField:
    """One row of :func:`receptive_fields`: a named layer, its output and its receptive field."""

    name: str
    module_type: str
    output_shape: tuple[int, ...]
    size: Any
    stride: Any
    padding: Any
    covers_input: bool = False

    @property
    def field(self) -> ReceptiveField:
        """The row's :class:`ReceptiveField`."""
        return ReceptiveField(self.size, self.stride, self.padding, self.covers_input)


# --------------------------------------------------------------------------------------------
# compose / input_size_for: a plain stack of layers
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Geometry:
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]  # the left/top padding (the right one only changes the output size)
    dilation: tuple[int, int]
    ceil_mode: bool = False
    pool: bool = False
    same: bool = False  # nn.Conv2d(padding="same"): the output is as large as the input

    def output_length(self, n: int, axis: int) -> int:
        """Output size along ``axis`` for an input of ``n`` pixels, 0 when it would be empty."""
        k, s, p, d = self.kernel[axis], self.stride[axis], self.padding[axis], self.dilation[axis]
        if self.same:
            return n
        try:
            if self.pool:
                return pool_output_size(n, k, s, p, d, self.ceil_mode)
            return conv_output_size(n, k, s, p, d)
        except ValueError:
            return 0


_POINTWISE_MODULES = (
    nn.Identity, nn.modules.dropout._DropoutNd, nn.modules.batchnorm._BatchNorm,
    nn.modules.instancenorm._InstanceNorm, nn.GroupNorm, nn.LocalResponseNorm,
)
_SPEC_KEYS = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")


def _spec_from_values(where: str, kernel: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                      ceil_mode: bool = False, pool: bool = False) -> _Geometry:
    kernel = check_pair(f"{where} kernel_size", kernel, minimum=1)
    stride = check_pair(f"{where} stride", stride, minimum=1)
    dilation = check_pair(f"{where} dilation", dilation, minimum=1)
    same = False
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{where} padding {padding!r} given; padding must be an integer, a pair, 'same' or 'valid'")
        same = padding == "same"
        # PyTorch pads d·(k−1) in total, the smaller half on the left/top
        padding = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation)) if same else (0, 0)
    padding = check_pair(f"{where} padding", padding, minimum=0)
    geometry = _Geometry(kernel, stride, padding, dilation, bool(ceil_mode), pool, same)
    if pool and any(p > k // 2 for p, k in zip(padding, kernel)):  # PyTorch's pooling rule
        raise ValueError(
            f"{where} padding {_merge(padding)} given with kernel_size {_merge(kernel)}; pooling padding must be "
            f"at most half the kernel size, i.e. at most {_merge([k // 2 for k in kernel])}"
        )
    return geometry


def _layer_geometries(layer: Any, where: str) -> Iterator[_Geometry]:
    """The geometry of one layer given as a tuple, a dict or an ``nn.Module`` (pointwise: none)."""
    if isinstance(layer, nn.Sequential):
        for i, child in enumerate(layer):
            yield from _layer_geometries(child, f"{where}[{i}]")
    elif isinstance(layer, nn.Conv2d):
        yield _spec_from_values(where, layer.kernel_size, layer.stride, layer.padding, layer.dilation)
    elif isinstance(layer, nn.MaxPool2d):
        stride = layer.stride if layer.stride is not None else layer.kernel_size
        yield _spec_from_values(where, layer.kernel_size, stride, layer.padding, layer.dilation,
                                layer.ceil_mode, pool=True)
    elif isinstance(layer, nn.AvgPool2d):
        stride = layer.stride if layer.stride is not None else layer.kernel_size
        yield _spec_from_values(where, layer.kernel_size, stride, layer.padding, 1, layer.ceil_mode, pool=True)
    elif isinstance(layer, _POINTWISE_MODULES) or (
        isinstance(layer, nn.Module) and type(layer).__module__ == "torch.nn.modules.activation"
        and not isinstance(layer, nn.MultiheadAttention)
    ):
        return  # acts pixel by pixel: the receptive field does not change
    elif isinstance(layer, nn.Module):
        raise ValueError(
            f"{where} is a {type(layer).__name__}; compose understands Conv2d, MaxPool2d, AvgPool2d, "
            "pointwise layers (activations, normalisation, dropout) and nn.Sequential of them. "
            "For any other network use receptive_field(model, layer_name)"
        )
    elif isinstance(layer, Mapping):
        unknown = sorted(set(layer) - set(_SPEC_KEYS))
        if unknown or "kernel_size" not in layer:
            raise ValueError(
                f"{where} {dict(layer)!r} given; a layer dict needs 'kernel_size' and may have "
                f"'stride', 'padding', 'dilation', 'ceil_mode'" + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            )
        yield _spec_from_values(where, layer["kernel_size"], layer.get("stride", 1), layer.get("padding", 0),
                                layer.get("dilation", 1), layer.get("ceil_mode", False), pool="ceil_mode" in layer)
    elif isinstance(layer, Sequence) and not isinstance(layer, str) and 1 <= len(layer) <= 4:
        yield _spec_from_values(where, *layer)
    else:
        text = repr(layer) if len(repr(layer)) <= 40 else f"a {type(layer).__name__}"
        raise ValueError(
            f"{where} {text} given; a layer must be a tuple (kernel, stride, padding, dilation) "
            "(the last ones optional; a pair such as (3, 5) inside it for non-square layers), a dict "
            "with 'kernel_size', or an nn.Conv2d / nn.MaxPool2d / nn.AvgPool2d"
        )


def _geometries(layers: Any) -> list[_Geometry]:
    if isinstance(layers, nn.Module):
        layers = [layers]
    if isinstance(layers, (str, bytes, Mapping)) or not isinstance(layers, Iterable):
        raise ValueError(
            f"layers {layers!r} given; layers must be a list of layers, e.g. [(3, 1), (3, 2, 1)] "
            "as (kernel, stride, padding, dilation) tuples, or an nn.Sequential"
        )
    result: list[_Geometry] = []
    for i, layer in enumerate(layers):
        result.extend(_layer_geometries(layer, f"layer {i}"))
    return result


def compose(layers: Any) -> ReceptiveField:
    """Receptive field of a plain stack of convolutions and poolings, seen as one convolution.

    Composing convolutions gives a convolution: its stride is the product of the strides, and
    its kernel (the receptive field) grows by ``k_eff − 1`` steps of the current jump at each
    layer. Pointwise layers (activations, batch norm, dropout) change nothing and are skipped.

    Args:
        layers: the layers in forward order, each a ``(kernel, stride, padding, dilation)``
            tuple (trailing entries optional, defaults 1, 0, 1; any entry may be an ``(h, w)``
            pair), a dict with ``kernel_size`` and optionally ``stride``, ``padding``,
            ``dilation``, ``ceil_mode`` (which makes it a pooling layer), or an ``nn.Conv2d`` / ``nn.MaxPool2d`` /
            ``nn.AvgPool2d`` / ``nn.Sequential`` of them.

    Returns:
        A :class:`ReceptiveField` (plain ints when both axes agree).

    Shape:
        With :math:`k_{eff} = d(k-1)+1`, starting from :math:`r_0 = 1, j_0 = 1, p_0 = 0`:
        :math:`r_l = r_{l-1} + (k_{eff}-1)\\,j_{l-1}`, :math:`j_l = j_{l-1}\\,s_l`,
        :math:`p_l = p_{l-1} + \\mathrm{pad}_l\\,j_{l-1}`.

    Reference:
        Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks",
        Distill 2019, eq. (1)–(3).

    Example:
        >>> compose([(5, 3), (3, 2)])  # kernel 5 stride 3, then kernel 3 stride 2
        ReceptiveField(size=11, stride=6, padding=0)
        >>> compose([(3, 1), (3, 1)])  # two 3x3 convolutions see a 5x5 window
        ReceptiveField(size=5, stride=1, padding=0)
    """
    size, jump, padding = [1, 1], [1, 1], [0, 0]
    for geometry in _geometries(layers):
        for a in range(2):
            k_eff = geometry.dilation[a] * (geometry.kernel[a] - 1) + 1
            size[a] += (k_eff - 1) * jump[a]
            padding[a] += geometry.padding[a] * jump[a]
            jump[a] *= geometry.stride[a]
    return ReceptiveField(_merge(size), _merge(jump), _merge(padding))


def input_size_for(layers: Any, output_size: Any = 1) -> Any:
    """Smallest input size for which a stack of layers outputs at least ``output_size`` units.

    The inverse of the output-size formula, applied from the last layer back to the first:
    a layer with kernel ``K`` and stride ``S`` needs ``D_in = S·(D_out − 1) + K`` input pixels to
    produce ``D_out`` outputs (less ``2·padding`` when it pads; never less than 1). With no
    padding, ``input_size_for(layers, 1)`` is the size of the compound kernel, i.e. the
    receptive field; padding makes the smallest input *smaller* than the receptive field.

    Args:
        layers: as in :func:`compose`.
        output_size: ``D_out`` or ``(h, w)``, at least 1.

    Returns:
        The input size: an ``int`` when ``output_size`` is an ``int`` and both axes agree, else
        an ``(h, w)`` pair.

    Shape:
        :math:`D_{in} = \\max\\big(1,\\; S\\,(D_{out} - 1) + d(K-1) + 1 - 2p\\big)`, layer by
        layer from the output back (``ceil_mode`` pooling: the smallest size that still works).

    Example:
        >>> input_size_for([(5, 3), (3, 2)])  # the compound kernel of the two layers
        11
        >>> input_size_for([(3, 1), (3, 1)], output_size=4)
        8
    """
    scalar = not (isinstance(output_size, Sequence) and not isinstance(output_size, str))
    target = list(check_pair("output_size", output_size, minimum=1))
    for geometry in reversed(_geometries(layers)):
        for a in range(2):
            k_eff = geometry.dilation[a] * (geometry.kernel[a] - 1) + 1
            high = target[a] if geometry.same else max(
                1, geometry.stride[a] * (target[a] - 1) + k_eff - 2 * geometry.padding[a]
            )
            low = 1  # the formula is exact for convolutions; ceil_mode pooling may need less
            while low < high:
                mid = (low + high) // 2
                if geometry.output_length(mid, a) >= target[a]:
                    high = mid
                else:
                    low = mid + 1
            target[a] = high
    return target[0] if scalar and target[0] == target[1] else tuple(target)


# --------------------------------------------------------------------------------------------
# receptive_field: any nn.Module, traced on the meta device
# --------------------------------------------------------------------------------------------

_EMPTY = 1 << 40  # lo of a unit that sees no pixel (hi is -_EMPTY)


@dataclass(frozen=True)
class _Axis:
    """What the units along one tensor dim see of one image axis.

    ``lo[i]`` / ``hi[i]``: first / last input pixel unit ``i`` depends on (may lie in the
    padding, i.e. outside ``[0, H)``); ``jump``: input pixels between neighbouring units, used
    to extend the records into padding. ``dim`` is ``None`` once the axis has been merged away
    (global pooling, a dense layer): then there is a single unit.

    After a reshape that merges dims (``[N, H, W, C] -> [N·H·W, C]``, as ``nn.Linear`` does on
    channels-last tensors) the axis shares its dim with others: element ``f`` of that dim (of
    size ``span``) belongs to unit ``(f // step) % length``. The reshape back recovers it.
    """

    dim: int | None
    lo: np.ndarray
    hi: np.ndarray
    jump: Fraction
    step: int = 1
    span: int = 0  # size of the tensor dim when merged (0: the dim holds exactly the units)

    @property
    def length(self) -> int:
        return len(self.lo)

    @property
    def size_on_dim(self) -> int:
        return self.span or self.length

    def plain(self) -> _Axis:
        """The same axis with one entry per element of its dim (for ops that index units)."""
        if self.step == 1 and self.size_on_dim == self.length:
            return self
        units = (np.arange(self.size_on_dim) // self.step) % self.length
        return _Axis(self.dim, self.lo[units], self.hi[units], self.jump)

    def at(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``lo``/``hi`` of units ``u``; units past either end (padding) extrapolate by the jump."""
        inside = np.clip(u, 0, self.length - 1)
        off = u - inside
        num, den = self.jump.numerator, self.jump.denominator
        return self.lo[inside] + (off * num) // den, self.hi[inside] - ((-off * num) // den)

    def moved(self, dim: int | None) -> _Axis:
        return _Axis(dim, self.lo, self.hi, self.jump, self.step, self.span)

    def collapsed(self, dim: int | None = None, length: int = 1) -> _Axis:
        """Every unit sees everything any unit saw (global pooling, a dense layer)."""
        valid = self.lo <= self.hi
        lo = int(self.lo[valid].min()) if valid.any() else _EMPTY
        hi = int(self.hi[valid].max()) if valid.any() else -_EMPTY
        return _Axis(dim, np.full(length, lo, np.int64), np.full(length, hi, np.int64), self.jump * self.length)

    def placed(self, dim: int | None, length: int) -> _Axis:
        """This axis on ``dim`` with ``length`` units (broadcasting a single unit)."""
        if dim is None:
            return self if self.length == 1 and self.dim is None else self.collapsed()
        if self.size_on_dim == length:
            return self.moved(dim)
        if self.length == 1:
            return _Axis(dim, np.repeat(self.lo, length), np.repeat(self.hi, length), self.jump)
        return self.collapsed(dim, length)  # lengths disagree: be conservative


Record = tuple  # tuple[_Axis, ...], one per spatial axis of the input image


def _union(records: Sequence[Record], shape: Sequence[int]) -> Record | None:
    """Union of records already expressed in the output's dims (elementwise ops, cat, add)."""
    records = [r for r in records if r is not None]
    if not records:
        return None
    result = []
    for a in range(len(records[0])):
        axes = [r[a] for r in records]
        dims = {ax.dim for ax in axes if ax.dim is not None}
        if len(dims) > 1:  # the same image axis on two tensor dims: give up on locality
            dims, axes = set(), [ax.collapsed() for ax in axes]
        dim = dims.pop() if dims else None
        length = 1 if dim is None else shape[dim]
        placed = [ax.placed(dim, length) for ax in axes]
        if len({(ax.step, ax.span, ax.length) for ax in placed}) > 1:  # different layouts: per element
            placed = [ax.plain() for ax in placed]
        own = [ax.jump for ax, orig in zip(placed, axes) if orig.size_on_dim == length and orig.dim is not None]
        jump = max(own) if own else max(ax.jump for ax in placed)
        lo = np.minimum.reduce([ax.lo for ax in placed])
        hi = np.maximum.reduce([ax.hi for ax in placed])
        result.append(_Axis(dim, lo, hi, jump, placed[0].step, placed[0].span))
    return tuple(result)


def _remap(record: Record | None, mapping: Mapping[int, int | None], shape: Sequence[int]) -> Record | None:
    """Move each axis to ``mapping[dim]``; a dim mapped to ``None`` is merged away.

    A single unit stays single (not yet broadcast): :func:`_union` broadcasts it, and knows
    its jump is not the output's.
    """
    if record is None:
        return None
    result = []
    for ax in record:
        new = None if ax.dim is None else mapping.get(ax.dim)
        if ax.dim is None:
            result.append(ax)
        elif new is None:
            result.append(ax.collapsed())
        elif ax.size_on_dim == shape[new] or ax.length == 1:
            result.append(ax.moved(new))
        else:
            result.append(ax.collapsed(new, shape[new]))
    return tuple(result)


def _aligned(record: Record | None, ndim_in: int, shape: Sequence[int]) -> Record | None:
    """Broadcasting: dims align from the right."""
    offset = len(shape) - ndim_in
    return _remap(record, {d: d + offset for d in range(ndim_in) if d + offset >= 0}, shape)


def _mixed(record: Record | None, in_shape: Sequence[int], shape: Sequence[int]) -> Record | None:
    """Every output unit sees everything (unknown op); dims kept where the shape is unchanged."""
    if record is None:
        return None
    result = []
    for ax in record:
        keep = ax.dim is not None and ax.dim < len(shape) and len(in_shape) == len(shape) and (
            in_shape[ax.dim] == shape[ax.dim]
        )
        result.append(ax.collapsed(ax.dim if keep else None, shape[ax.dim] if keep else 1))
    return tuple(result)


def _windows(ax: _Axis, positions: np.ndarray, mask: np.ndarray | None = None, jump: Fraction = Fraction(1)) -> _Axis:
    """Unit ``o`` of the result sees the union of input units ``positions[o, :]`` (where ``mask``)."""
    lo, hi = ax.at(positions)
    if mask is not None:
        lo, hi = np.where(mask, lo, _EMPTY), np.where(mask, hi, -_EMPTY)
    return _Axis(ax.dim, lo.min(axis=1), hi.max(axis=1), ax.jump * jump)


def _sliding(ax: _Axis, out_len: int, k: int, s: int, p: int, d: int) -> _Axis:
    """Convolution / pooling window: output ``o`` reads input units ``o·s − p + t·d``."""
    positions = np.arange(out_len)[:, None] * s - p + np.arange(k)[None, :] * d
    return _windows(ax, positions, jump=Fraction(s))


def _transposed(ax: _Axis, out_len: int, k: int, s: int, p: int, d: int) -> _Axis:
    """Transposed convolution: output ``o`` receives input ``i`` when ``o = i·s − p + t·d``."""
    num = np.arange(out_len)[:, None] + p - np.arange(k)[None, :] * d
    i = num // s
    mask = (num % s == 0) & (i >= 0) & (i < ax.length)
    return _windows(ax, np.clip(i, 0, ax.length - 1), mask, Fraction(1, s))


def _adaptive(ax: _Axis, out_len: int) -> _Axis:
    """Adaptive pooling: output ``o`` pools input ``floor(o·L/O) … ceil((o+1)·L/O) − 1``."""
    n = ax.length
    start = (np.arange(out_len) * n) // out_len
    stop = -((-(np.arange(out_len) + 1) * n) // out_len)
    width = int((stop - start).max())
    positions = start[:, None] + np.arange(width)[None, :]
    return _windows(ax, np.clip(positions, 0, n - 1), positions < stop[:, None], Fraction(n, out_len))


def _interpolated(ax: _Axis, out_len: int, mode: str, align_corners: bool | None, scale: float | None,
                  antialias: bool) -> _Axis:
    """Which input units ``F.interpolate`` reads (with a non-zero weight) for each output unit."""
    n = ax.length
    dst = np.arange(out_len, dtype=np.float64)
    if mode.startswith("nearest"):
        ratio = 1.0 / scale if scale else n / out_len
        shift = 0.5 if mode == "nearest_exact" else 0.0
        src = np.minimum(np.floor((dst + shift) * ratio).astype(np.int64), n - 1)
        positions, mask = src[:, None], None
    else:
        taps = 2 if mode == "linear" else 4
        if align_corners:
            ratio = (n - 1) / (out_len - 1) if out_len > 1 else 0.0
            src = dst * ratio
        else:
            ratio = 1.0 / scale if scale else n / out_len
            src = ratio * (dst + 0.5) - 0.5
            if mode == "linear":
                src = np.maximum(src, 0.0)
        if antialias and ratio > 1:  # anti-aliased downsampling: a kernel widened by the ratio
            support = taps / 2 * ratio
            centre = ratio * (dst + 0.5)
            first = np.maximum((centre - support + 0.5).astype(np.int64), 0)
            last = np.minimum((centre + support + 0.5).astype(np.int64), n) - 1
            width = int((last - first).max()) + 1
            positions = first[:, None] + np.arange(width)[None, :]
            mask = positions <= last[:, None]
        else:
            base = np.floor(src).astype(np.int64)
            exact = (src == base)[:, None]
            offsets = np.arange(taps)[None, :] - (taps // 2 - 1)  # linear: 0, 1; cubic: -1 … 2
            positions = base[:, None] + offsets
            mask = ~exact | (offsets == 0)  # a zero weight reads nothing
        positions = np.clip(positions, 0, n - 1)
    return _windows(ax, positions, mask, Fraction(n, out_len).limit_denominator(1 << 20))


def _pairs_for(values: Any, n: int, default: Sequence[int]) -> list[int]:
    values = list(values) if isinstance(values, (list, tuple)) else ([values] if values is not None else [])
    if not values:
        values = list(default)
    return values * n if len(values) == 1 else values


def _tensors(value: Any) -> list[torch.Tensor]:
    """Tensors in an op argument or a module output (tensor, tuple, list, dict)."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def _bind(func: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    bound = {}
    for i, argument in enumerate(func._schema.arguments):
        if i < len(args):
            bound[argument.name] = args[i]
        elif argument.name in kwargs:
            bound[argument.name] = kwargs[argument.name]
        else:
            bound[argument.name] = argument.default_value if argument.has_default_value() else None
    return bound


_VIEW_LIKE = {"alias", "detach", "lift_fresh", "lift_fresh_copy", "clone", "_to_copy", "contiguous",
              "_unsafe_view_copy", "view_copy", "dropout", "feature_dropout", "alpha_dropout"}
_POINTWISE_LIKE = {
    "native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_no_training",
    "_native_batch_norm_legit_functional", "batch_norm", "native_group_norm", "native_layer_norm",
    "_prelu_kernel", "prelu", "hardswish", "hardsigmoid", "where", "mul", "div", "add", "sub", "rsub",
    "native_dropout", "masked_fill", "clamp", "clamp_min", "clamp_max", "pow", "type_as", "to",
    "_local_response_norm",
}
_NO_DEPENDENCY = {"empty_like", "zeros_like", "ones_like", "full_like", "rand_like", "randn_like",
                  "randint_like", "new_empty", "new_zeros", "new_ones", "new_full", "new_empty_strided",
                  "scalar_tensor", "zero", "fill", "bernoulli", "uniform", "normal"}
_REDUCTIONS = {"mean", "sum", "amax", "amin", "max", "min", "var", "std", "var_mean", "std_mean", "prod",
               "logsumexp", "norm", "linalg_vector_norm", "argmax", "argmin", "any", "all", "nansum",
               "nanmean", "median", "mode"}


# rules that only move dims around (or mix them wholesale) and so keep merged axes as they are
_LAYOUT_AWARE = {
    "_rule_pointwise", "_rule_matmul", "_rule_addmm", "_rule_baddbmm", "_rule_addmv", "_rule_mv", "_rule_linear",
    "_rule_identity", "_rule_view", "_rule_expand", "_rule_permute", "_rule_transpose", "_rule_t",
    "_rule_unsqueeze", "_rule_squeeze", "_rule_reduction", "_rule__softmax", "_rule_stack", "_rule_unknown",
    "_rule_as_strided",
}


class _Tracer(TorchDispatchMode):
    """Forward pass that carries, next to every tensor, what each of its units sees."""

    def __init__(self) -> None:
        super().__init__()
        # id(tensor) -> (weak reference, record); an entry leaves with its tensor, so a run on
        # real tensors (the fallback) keeps no activation alive
        self.records: dict[int, tuple[weakref.ref, Record]] = {}
        self.unknown: set[str] = set()
        self.plain_only = False  # rules that index units see one entry per element

    def get(self, t: Any) -> Record | None:
        entry = self.records.get(id(t)) if isinstance(t, torch.Tensor) else None
        if entry is None or entry[0]() is not t:
            return None
        return tuple(ax.plain() for ax in entry[1]) if self.plain_only else entry[1]

    def put(self, t: torch.Tensor, record: Record | None) -> None:
        key = id(t)
        if record is None:
            self.records.pop(key, None)
        else:
            self.records[key] = (weakref.ref(t, lambda _, key=key: self.records.pop(key, None)), record)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        inputs = [t for a in [*args, *kwargs.values()] for t in _tensors(a)]
        if any(self.get(t) is not None for t in inputs):
            self._propagate(func, args, kwargs, out)
        return out

    # one record per output tensor
    def _propagate(self, func: Any, args: Sequence[Any], kwargs: Mapping[str, Any], out: Any) -> None:
        name = func.overloadpacket.__name__
        schema_args = func._schema.arguments
        inplace = bool(schema_args) and schema_args[0].alias_info is not None and schema_args[0].alias_info.is_write
        base = name[:-1] if inplace and name.endswith("_") else name
        outs = _tensors(out) if not inplace else [args[0]]
        if not outs:
            return
        bound = _bind(func, args, kwargs)
        if base in _NO_DEPENDENCY:
            for t in outs:
                self.put(t, None)
            return
        if base == "copy":  # dst.copy_(src): dst now holds src
            src = bound.get("src")
            record = _aligned(self.get(src), src.ndim, args[0].shape) if isinstance(src, torch.Tensor) else None
            self.put(args[0], _union([record], args[0].shape))
            return
        rule = getattr(self, f"_rule_{base}", None)
        if rule is None and (torch.Tag.pointwise in func.tags or base in _POINTWISE_LIKE):
            rule = self._rule_pointwise
        if rule is None and base in _REDUCTIONS:
            rule = self._rule_reduction
        if rule is None:
            rule = self._rule_unknown
        self.plain_only = getattr(rule, "__name__", "") not in _LAYOUT_AWARE
        try:
            records = rule(bound, outs, func)
        except Exception:  # a rule that does not fit this call: be conservative, and say so
            records = self._rule_unknown(bound, outs, func)
        finally:
            self.plain_only = False
        if not isinstance(records, list):
            records = [records if t.shape == outs[0].shape else None for t in outs]
        for t, record in zip(outs, records):
            self.put(t, record)

    def _first(self, bound: Mapping[str, Any]) -> tuple[torch.Tensor, Record | None]:
        for value in bound.values():
            if isinstance(value, torch.Tensor):
                return value, self.get(value)
        raise ValueError("no tensor argument")

    def _rule_unknown(self, bound, outs, func):  # noqa: ANN001
        self.unknown.add(str(func))
        inputs = [t for v in bound.values() for t in _tensors(v) if self.get(t) is not None]
        return [_union([_mixed(self.get(t), t.shape, o.shape) for t in inputs], o.shape) for o in outs]

    def _rule_pointwise(self, bound, outs, func):  # noqa: ANN001
        shape = outs[0].shape
        return _union([_aligned(self.get(t), t.ndim, shape) for v in bound.values() for t in _tensors(v)], shape)

    def _rule_matmul(self, bound, outs, func, first="self", second="mat2"):  # noqa: ANN001
        shape = outs[0].shape
        a, b = bound[first], bound[second]
        records = []
        if a.ndim >= 1:  # a's last dim is summed over; its other dims align with the output's
            offset = len(shape) - a.ndim + (1 if b.ndim == 1 else 0)
            mapping = {d: d + offset for d in range(a.ndim - 1)}
            records.append(_remap(self.get(a), mapping, shape))
        if b.ndim >= 2:  # b's second-to-last dim is summed over
            mapping = {d: d + len(shape) - b.ndim for d in range(b.ndim) if d != b.ndim - 2}
            records.append(_remap(self.get(b), mapping, shape))
        elif b.ndim == 1:
            records.append(_remap(self.get(b), {}, shape))
        for key, value in bound.items():  # addmm's bias and friends
            if key not in (first, second) and isinstance(value, torch.Tensor):
                records.append(_aligned(self.get(value), value.ndim, shape))
        return _union(records, shape)

    _rule_mm = _rule_bmm = _rule_matmul

    def _rule_addmm(self, bound, outs, func):  # noqa: ANN001
        return self._rule_matmul(bound, outs, func, "mat1", "mat2")

    def _rule_baddbmm(self, bound, outs, func):  # noqa: ANN001
        return self._rule_matmul(bound, outs, func, "batch1", "batch2")

    def _rule_addmv(self, bound, outs, func):  # noqa: ANN001
        return self._rule_matmul(bound, outs, func, "mat", "vec")

    def _rule_mv(self, bound, outs, func):  # noqa: ANN001
        return self._rule_matmul(bound, outs, func, "self", "vec")

    def _rule_linear(self, bound, outs, func):  # noqa: ANN001
        x, shape = bound["input"], outs[0].shape
        records = [_remap(self.get(x), {d: d for d in range(x.ndim - 1)}, shape)]
        if isinstance(bound.get("bias"), torch.Tensor):
            records.append(_aligned(self.get(bound["bias"]), bound["bias"].ndim, shape))
        return _union(records, shape)

    def _rule_identity(self, bound, outs, func):  # noqa: ANN001
        x, record = self._first(bound)
        return _aligned(record, x.ndim, outs[0].shape) if x.shape == outs[0].shape else _mixed(record, x.shape, outs[0].shape)


    # -- layers that slide a window -----------------------------------------------------------
    def _rule_convolution(self, bound, outs, func):  # noqa: ANN001
        x, w, out = bound["input"], bound["weight"], outs[0]
        n = w.ndim - 2
        record = self.get(x)
        stride = _pairs_for(bound["stride"], n, [1])
        padding = _pairs_for(bound["padding"], n, [0])
        dilation = _pairs_for(bound["dilation"], n, [1])
        transposed = bool(bound.get("transposed", False))
        first_spatial = x.ndim - n
        result = []
        for ax in record:
            if ax.dim is None or ax.dim < first_spatial - 1:
                result.append(ax)  # batch dim (or merged): unchanged
            elif ax.dim == first_spatial - 1:
                result.append(ax.collapsed(ax.dim, out.shape[ax.dim]))  # channels are all mixed
            else:
                i = ax.dim - first_spatial
                op = _transposed if transposed else _sliding
                result.append(op(ax, out.shape[ax.dim], w.shape[2 + i], stride[i], padding[i], dilation[i]))
        return tuple(result)

    _rule__convolution = _rule_convolution

    def _rule_pool(self, bound, outs, func):  # noqa: ANN001
        x, out = next(iter(bound.values())), outs[0]
        kernel = list(bound["kernel_size"])
        n = len(kernel)
        stride = _pairs_for(bound.get("stride"), n, kernel)
        padding = _pairs_for(bound.get("padding"), n, [0])
        dilation = _pairs_for(bound.get("dilation"), n, [1])
        first_spatial = x.ndim - n
        result = []
        for ax in self.get(x):
            if ax.dim is None or ax.dim < first_spatial:
                result.append(ax)
            else:
                i = ax.dim - first_spatial
                result.append(_sliding(ax, out.shape[ax.dim], kernel[i], stride[i], padding[i], dilation[i]))
        return tuple(result)


    def _rule_adaptive(self, bound, outs, func):  # noqa: ANN001
        x, out = next(iter(bound.values())), outs[0]
        n = len(list(bound["output_size"]))
        first_spatial = x.ndim - n
        return tuple(
            _adaptive(ax, out.shape[ax.dim]) if ax.dim is not None and ax.dim >= first_spatial else ax
            for ax in self.get(x)
        )


    def _rule_upsample(self, bound, outs, func):  # noqa: ANN001
        name = func.overloadpacket.__name__
        x, out = next(iter(bound.values())), outs[0]
        n = x.ndim - 2  # [N, C, *spatial]
        mode = ("nearest_exact" if "nearest_exact" in name else "nearest" if "nearest" in name
                else "cubic" if "bicubic" in name else "linear")
        if "scale_factors" in bound:
            scales = list(bound["scale_factors"] or []) or [None] * n
        else:
            scales = [v for k, v in bound.items() if k.startswith("scales")] or [None] * n
        scales = _pairs_for(scales, n, [None])
        first_spatial = x.ndim - n
        return tuple(
            _interpolated(ax, out.shape[ax.dim], mode, bound.get("align_corners"),
                          scales[ax.dim - first_spatial], name.endswith("_aa"))
            if ax.dim is not None and ax.dim >= first_spatial else ax
            for ax in self.get(x)
        )


    def _rule_pad(self, bound, outs, func, how: str = "constant"):  # noqa: ANN001
        x, out = next(iter(bound.values())), outs[0]
        pad = list(bound.get("pad", bound.get("padding")))
        result = []
        for ax in self.get(x):
            k = None if ax.dim is None else x.ndim - 1 - ax.dim
            if k is None or 2 * k >= len(pad):
                result.append(ax)
                continue
            u = np.arange(out.shape[ax.dim]) - pad[2 * k]
            if how == "constant":  # zeros continue the grid (like a convolution's padding)
                lo, hi = ax.at(u)
            else:
                n = ax.length
                if how == "reflect":
                    u = np.abs(u)
                    u = np.where(u >= n, 2 * (n - 1) - u, u)
                u = np.clip(u, 0, n - 1)
                lo, hi = ax.lo[u], ax.hi[u]
            result.append(_Axis(ax.dim, lo, hi, ax.jump))
        return tuple(result)

    _rule_constant_pad_nd = _rule_pad

    def _rule_reflection(self, bound, outs, func):  # noqa: ANN001
        return self._rule_pad(bound, outs, func, "reflect")

    def _rule_replication(self, bound, outs, func):  # noqa: ANN001
        return self._rule_pad(bound, outs, func, "replicate")

    def _rule_pixel_shuffle(self, bound, outs, func, down: bool = False):  # noqa: ANN001
        x, out = next(iter(bound.values())), outs[0]
        r = int(bound.get("downscale_factor") if down else bound.get("upscale_factor"))
        result = []
        for ax in self.get(x):
            if ax.dim is None or ax.dim < x.ndim - 2:
                result.append(ax.collapsed(ax.dim, out.shape[ax.dim]) if ax.dim == x.ndim - 3 else ax)
            elif down:
                positions = np.arange(out.shape[ax.dim])[:, None] * r + np.arange(r)[None, :]
                result.append(_windows(ax, positions, jump=Fraction(r)))
            else:
                positions = (np.arange(out.shape[ax.dim]) // r)[:, None]
                result.append(_windows(ax, positions, jump=Fraction(1, r)))
        return tuple(result)

    def _rule_pixel_unshuffle(self, bound, outs, func):  # noqa: ANN001
        return self._rule_pixel_shuffle(bound, outs, func, down=True)

    # -- reductions and softmax ------------------------------------------------------------------
    def _rule_reduction(self, bound, outs, func):  # noqa: ANN001
        if sum(isinstance(v, torch.Tensor) for v in bound.values()) > 1:  # max(a, b) and friends
            return self._rule_pointwise(bound, outs, func)
        x, record = self._first(bound)
        dims = bound.get("dim")
        if dims is None or dims == []:
            dims = list(range(x.ndim))
        dims = {d % max(x.ndim, 1) for d in ([dims] if isinstance(dims, int) else dims)}
        keep = bool(bound.get("keepdim", False))
        mapping, j = {}, 0
        for d in range(x.ndim):
            if d in dims:
                mapping[d] = d if keep else None
            else:
                mapping[d], j = (d if keep else j), j + 1
        shape = outs[0].shape
        result = []
        for ax in record:
            if ax.dim in dims:
                result.append(ax.collapsed(ax.dim if keep else None, 1))
            elif ax.dim is None:
                result.append(ax)
            else:
                result.append(ax.placed(mapping[ax.dim], shape[mapping[ax.dim]]))
        return tuple(result)

    def _rule__softmax(self, bound, outs, func):  # noqa: ANN001
        x, record = self._first(bound)
        dim = bound["dim"] % x.ndim
        return tuple(ax.collapsed(dim, x.shape[dim]) if ax.dim == dim else ax for ax in record)

    _rule__log_softmax = _rule__safe_softmax = _rule__softmax

    # -- shape bookkeeping ------------------------------------------------------------------------
    def _rule_permute(self, bound, outs, func):  # noqa: ANN001
        x, record = self._first(bound)
        dims = [d % x.ndim for d in bound["dims"]]
        return _remap(record, {d: i for i, d in enumerate(dims)}, outs[0].shape)

    def _rule_transpose(self, bound, outs, func):  # noqa: ANN001
        x, record = self._first(bound)
        d0, d1 = bound["dim0"] % x.ndim, bound["dim1"] % x.ndim
        mapping = {d: d for d in range(x.ndim)}
        mapping[d0], mapping[d1] = d1, d0
        return _remap(record, mapping, outs[0].shape)

    def _rule_t(self, bound, outs, func):  # noqa: ANN001
        x, record = self._first(bound)
        mapping = {0: 1, 1: 0} if x.ndim == 2 else {0: 0}
        return _remap(record, mapping, outs[0].shape)

    def _rule_unsqueeze(self, bound, outs, func):  # noqa: ANN001
        x, record = self._first(bound)
        dim = bound["dim"] % (x.ndim + 1)
        return _remap(record, {d: d + (d >= dim) for d in range(x.ndim)}, outs[0].shape)

    def _rule_squeeze(self, bound, outs, func):  # noqa: ANN001
        x, record = self._first(bound)
        dims = bound.get("dim")
        if dims is None:
            dims = [d for d in range(x.ndim) if x.shape[d] == 1]
        dims = {d % max(x.ndim, 1) for d in ([dims] if isinstance(dims, int) else dims) if x.shape[d] == 1}
        mapping, j = {}, 0
        for d in range(x.ndim):
            if d not in dims:
                mapping[d], j = j, j + 1
        return _remap(record, mapping, outs[0].shape)

    def _rule_select(self, bound, outs, func):  # noqa: ANN001
        x, record = self._first(bound)
        dim = bound["dim"] % x.ndim
        index = bound["index"] % x.shape[dim]
        result = []
        for ax in record:
            if ax.dim == dim:
                result.append(_Axis(None, ax.lo[index:index + 1], ax.hi[index:index + 1], ax.jump))
            elif ax.dim is None:
                result.append(ax)
            else:
                result.append(ax.moved(ax.dim - (ax.dim > dim)))
        return tuple(result)

    def _rule_slice(self, bound, outs, func):  # noqa: ANN001
        x, record = self._first(bound)
        dim = bound["dim"] % x.ndim
        step = bound.get("step") or 1
        window = slice(bound.get("start"), bound.get("end"), step)
        return tuple(
            _Axis(ax.dim, ax.lo[window], ax.hi[window], ax.jump * step) if ax.dim == dim else ax for ax in record
        )

    def _rule_narrow(self, bound, outs, func):  # noqa: ANN001
        start = bound["start"]
        return self._rule_slice({"self": bound["self"], "dim": bound["dim"], "start": start,
                                 "end": start + bound["length"], "step": 1}, outs, func)

    def _rule_view(self, bound, outs, func):  # noqa: ANN001
        """Reshape: follow each axis through the row-major layout, whether dims merge or split."""
        x, record = self._first(bound)
        shape = outs[0].shape
        result = []
        for ax in record:
            if ax.dim is None or ax.length == 1:
                result.append(ax if ax.dim is None else ax.collapsed())
                continue
            period = ax.step * math.prod(x.shape[ax.dim + 1:])  # elements between units, flattened
            for e in range(len(shape)):
                inner = math.prod(shape[e + 1:])
                step = period // inner
                if period % inner == 0 and shape[e] % (step * ax.length) == 0:
                    plain = step == 1 and shape[e] == ax.length
                    result.append(_Axis(e, ax.lo, ax.hi, ax.jump, step, 0 if plain else shape[e]))
                    break
            else:
                result.append(ax.collapsed())
        return tuple(result)

    _rule__unsafe_view = _rule_reshape = _rule__reshape_alias = _rule_view

    def _rule_as_strided(self, bound, outs, func):  # noqa: ANN001
        x, record = self._first(bound)
        if tuple(outs[0].shape) != tuple(x.shape):  # a true strided view: no general rule
            raise ValueError("as_strided changes the shape")
        return record  # PyTorch re-striding a result in place: the same values

    def _rule_expand(self, bound, outs, func):  # noqa: ANN001
        x, record = self._first(bound)
        return _union([_aligned(record, x.ndim, outs[0].shape)], outs[0].shape)

    def _rule_roll(self, bound, outs, func):  # noqa: ANN001
        """Cyclic shift (Swin's shifted windows): unit ``i`` shows what unit ``i − shift`` saw."""
        x, record = self._first(bound)
        shifts, dims = list(bound["shifts"]), [d % x.ndim for d in bound.get("dims") or []]
        if len(dims) != len(shifts):
            raise ValueError("roll of the flattened tensor")
        result = []
        for ax in record:
            if ax.dim in dims:
                units = (np.arange(ax.length) - shifts[dims.index(ax.dim)]) % ax.length
                ax = _Axis(ax.dim, ax.lo[units], ax.hi[units], ax.jump)
            result.append(ax)
        return tuple(result)

    def _rule_cat(self, bound, outs, func):  # noqa: ANN001
        tensors = [t for t in bound["tensors"] if not (t.ndim == 1 and t.shape[0] == 0)]
        shape = outs[0].shape
        dim = bound.get("dim", 0) % len(shape)
        records = [self.get(t) for t in tensors]
        known = [r for r in records if r is not None]
        if not any(ax.dim == dim for r in known for ax in r):
            return _union(records, shape)  # channels (or batch) concatenated: the union
        result = []
        for a in range(len(known[0])):
            if known[0][a].dim != dim:
                result.append(_union([(r[a],) if r is not None else None for r in records], shape)[0])
                continue
            lo, hi = [], []
            for t, r in zip(tensors, records):  # pieces side by side along the axis
                if r is None or r[a].dim != dim:
                    lo.append(np.full(t.shape[dim], _EMPTY, np.int64))
                    hi.append(np.full(t.shape[dim], -_EMPTY, np.int64))
                else:
                    lo.append(r[a].lo)
                    hi.append(r[a].hi)
            result.append(_Axis(dim, np.concatenate(lo), np.concatenate(hi), known[0][a].jump))
        return tuple(result)

    def _rule_stack(self, bound, outs, func):  # noqa: ANN001
        shape = outs[0].shape
        dim = bound.get("dim", 0) % len(shape)
        return _union(
            [_remap(self.get(t), {d: d + (d >= dim) for d in range(t.ndim)}, shape) for t in bound["tensors"]], shape
        )

    def _rule_split(self, bound, outs, func):  # noqa: ANN001
        x, record = self._first(bound)
        dim = bound.get("dim", 0) % x.ndim
        result, start = [], 0
        for o in outs:
            stop = start + o.shape[dim]
            result.append(tuple(
                _Axis(ax.dim, ax.lo[start:stop], ax.hi[start:stop], ax.jump) if ax.dim == dim else ax
                for ax in record
            ))
            start = stop
        return result

    _rule_split_with_sizes = _rule_unsafe_split = _rule_unsafe_split_with_sizes = _rule_split

    def _rule_unbind(self, bound, outs, func):  # noqa: ANN001
        x, _ = self._first(bound)
        dim = bound.get("dim", 0) % x.ndim
        return [self._rule_select({"self": x, "dim": dim, "index": i}, [o], func) for i, o in enumerate(outs)]


# ops that share a rule
_ALIASES = {
    "_rule_identity": _VIEW_LIKE,
    "_rule_pool": ("max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
                  "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d",
                  "avg_pool3d", "mkldnn_max_pool2d"),
    "_rule_adaptive": ("_adaptive_avg_pool2d", "_adaptive_avg_pool3d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
                  "adaptive_max_pool2d", "adaptive_max_pool3d", "adaptive_avg_pool2d", "adaptive_avg_pool3d"),
    "_rule_upsample": ("upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d", "_upsample_nearest_exact1d",
                  "_upsample_nearest_exact2d", "_upsample_nearest_exact3d", "upsample_linear1d",
                  "upsample_bilinear2d", "upsample_trilinear3d", "upsample_bicubic2d",
                  "_upsample_bilinear2d_aa", "_upsample_bicubic2d_aa"),
    "_rule_reflection": ("reflection_pad1d", "reflection_pad2d", "reflection_pad3d"),
    "_rule_replication": ("replication_pad1d", "replication_pad2d", "replication_pad3d"),
}
for _rule, _names in _ALIASES.items():
    for _op in _names:
        setattr(_Tracer, f"_rule_{_op}", getattr(_Tracer, _rule))
del _rule, _names, _op


def _check_model(model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model of type {type(model).__name__} given; model must be a torch.nn.Module")
    return model


def _check_input_size(input_size: Any) -> tuple[int, ...]:
    if isinstance(input_size, (str, bytes)) or not isinstance(input_size, Sequence) or len(input_size) < 3:
        raise ValueError(
            f"input_size {input_size!r} given; input_size must be the full input shape [N, C, H, W], "
            "e.g. (1, 3, 224, 224)"
        )
    return tuple(check_int("input_size", s, minimum=1) for s in input_size)


def _layer_name(model: nn.Module, layer: Any) -> str:
    """The dotted name of ``layer`` in ``model`` (a name or the module itself)."""
    names = [name for name, _ in model.named_modules()]
    if isinstance(layer, nn.Module):
        for name, module in model.named_modules():
            if module is layer:
                return name
        raise ValueError(f"the {type(layer).__name__} given as layer is not a submodule of this model")
    if not isinstance(layer, str):
        raise ValueError(f"layer {layer!r} given; layer must be a name from model.named_modules(), e.g. {names[-1]!r}")
    if layer in names:
        return layer
    close = difflib.get_close_matches(layer, names, n=5, cutoff=0.6)
    hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else (
        f"the names look like {', '.join(repr(n) for n in names[1:6])}, …"
    )
    raise ValueError(
        f"layer {layer!r} is not in this {type(model).__name__}; {hint} (layer names are the dotted "
        "names of model.named_modules())"
    )


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Evaluation mode for the duration (no auxiliary heads, no dropout), then restored."""
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        yield
    finally:
        for module, training in modes.items():
            module.training = training


@contextmanager
def _no_deterministic_decompositions() -> Iterator[None]:
    """With deterministic algorithms on (``seed_everything`` does it), ``F.interpolate`` and
    ``F.pad`` rewrite themselves for non-CPU tensors, meta included, into index arithmetic that
    hides the geometry; the shape-only pass has nothing to be deterministic about."""
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(False)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


def _trace(model: nn.Module, input_size: tuple[int, ...]) -> tuple[dict[str, list[tuple[Record, tuple]]], Record, Any]:
    """Run the tracer; return each module's output records (in call order) and the input record."""
    spatial = input_size[2:]
    image = tuple(
        _Axis(2 + i, np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64), Fraction(1))
        for i, n in enumerate(spatial)
    )
    outputs: dict[str, list[tuple[Record, tuple]]] = {}
    tracer = _Tracer()

    def hook(name: str):
        def record_output(module: nn.Module, args: Any, output: Any) -> None:
            for t in _tensors(output):
                record = tracer.get(t)
                if record is not None:
                    outputs.setdefault(name, []).append((record, tuple(t.shape)))
                    return

        return record_output

    def run(device: str) -> Any:
        handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules()]
        try:
            if device == "meta":
                state = {n: torch.empty_like(t, device="meta")
                         for n, t in [*model.named_parameters(), *model.named_buffers()]}
                x = torch.empty(input_size, device="meta")
                tracer.put(x, image)
                with torch.no_grad(), _no_deterministic_decompositions(), tracer:
                    return functional_call(model, state, (x,))
            first = next(iter(model.parameters()), None)
            x = torch.zeros(input_size, device=first.device if first is not None else "cpu",
                            dtype=first.dtype if first is not None and first.is_floating_point() else torch.float32)
            tracer.put(x, image)
            with torch.no_grad(), tracer:
                return model(x)
        finally:
            for handle in handles:
                handle.remove()

    def failed(error: Exception) -> ValueError:
        return ValueError(
            f"the forward pass of {type(model).__name__} on input_size {input_size} failed: {error}. "
            "If the input is too small for the network, use a larger input_size"
        )

    with _eval_mode(model):
        try:
            result = run("meta")
        except (NotImplementedError, RuntimeError) as meta_error:  # data-dependent code? run for real
            outputs.clear()
            tracer.records.clear()
            if any(p.is_meta for p in model.parameters()):
                raise failed(meta_error) from meta_error
            try:
                result = run("real")
            except (NotImplementedError, RuntimeError) as error:
                raise failed(error) from error
    del result  # the model's own output was recorded by the hook on "" (the root module)
    if tracer.unknown:
        warnings.warn(
            "receptive_field: no rule for " + ", ".join(sorted(tracer.unknown)) + "; assumed each of their "
            "outputs sees every input position its inputs saw (an upper bound)",
            stacklevel=3,
        )
    return outputs, image, tracer


def _field(record: Record, image: Record) -> ReceptiveField:
    sizes, strides, paddings, covers = [], [], [], True
    for ax, whole in zip(record, image):
        valid = ax.lo <= ax.hi
        if not valid.any():
            raise ValueError("this layer's output does not depend on the input image")
        sizes.append(int((ax.hi - ax.lo + 1)[valid].max()))
        jump = ax.jump
        strides.append(int(jump) if jump.denominator == 1 else jump)
        paddings.append(int(-ax.lo[np.argmax(valid)]))
        covers = covers and bool(valid.all() and (ax.lo <= 0).all() and (ax.hi >= whole.length - 1).all())
    return ReceptiveField(_merge(sizes), _merge(strides), _merge(paddings), covers)


def _largest(calls: list[tuple[Record, tuple]], image: Record) -> tuple[ReceptiveField, tuple]:
    """A module called several times: the call whose units see the most."""
    fields = [(_field(record, image), shape) for record, shape in calls]
    order = range(len(fields))  # ties: the last call (a block's closing activation, say)
    best = max(order, key=lambda i: (math.prod(np.atleast_1d(fields[i][0].size).tolist()), i))
    return fields[best]


def receptive_field(model: nn.Module, layer: Any, input_size: Sequence[int] = (1, 3, 224, 224)) -> ReceptiveField:
    """Receptive field of the output of one layer of any network (branches and skips included).

    The model runs once on PyTorch's ``meta`` device (shapes only: no memory, no arithmetic,
    weights untouched, evaluation mode) while every tensor carries, for each of its units, the
    first and last input pixel it depends on. Convolutions and poolings widen those windows,
    additions and concatenations take their union (the largest over parallel paths),
    upsampling and transposed convolutions spread them, and global pooling or a fully connected
    layer makes every unit see the whole input (``covers_input``; ``size`` is then the extent
    covered at this ``input_size``, padding included).

    Args:
        model: any ``nn.Module`` whose forward takes one tensor.
        layer: a dotted name from ``model.named_modules()`` (``"features.30"``, ``"layer4"``),
            or the submodule itself; ``""`` is the whole model.
        input_size: the input's shape ``[N, C, H, W]``.

    Returns:
        A :class:`ReceptiveField` for the layer's output (the largest, if the layer is called
        more than once).

    Raises:
        ValueError: an unknown layer name (with the closest names), a layer not called in
            the forward pass, or a bad ``input_size``.

    Shape:
        Per axis, for a layer with kernel ``k``, stride ``s``, padding ``p``, dilation ``d``:
        :math:`r \\leftarrow r + d(k-1)\\,j`, :math:`p \\leftarrow p + p_{layer}\\,j`,
        :math:`j \\leftarrow j\\,s`, with unions over branches.

    Reference:
        Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks",
        Distill 2019 (including the branching case).

    Example:
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3))
        >>> receptive_field(net, "3", input_size=(1, 3, 32, 32))
        ReceptiveField(size=8, stride=2, padding=0)
    """
    model = _check_model(model)
    name = _layer_name(model, layer)
    outputs, image, _ = _trace(model, _check_input_size(input_size))
    if name not in outputs:
        raise ValueError(
            f"layer {name!r} was not called in the forward pass (in evaluation mode), or its output does "
            "not depend on the input; pick a layer from receptive_fields(model, input_size)"
        )
    return _largest(outputs[name], image)[0]


def receptive_fields(model: nn.Module, input_size: Sequence[int] = (1, 3, 224, 224)) -> list[LayerReceptiveField]:
    """The receptive field of every layer of a network, as a table (one traced forward pass).

    Args:
        model: any ``nn.Module`` whose forward takes one tensor.
        input_size: the input's shape ``[N, C, H, W]``.

    Returns:
        One :class:`LayerReceptiveField` per submodule called in the forward pass, in the order
        of ``model.named_modules()`` (containers included, the model itself last under the
        name ``""``). ``pandas.DataFrame(rows)`` turns it into a table.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.MaxPool2d(2))
        >>> [(row.name, row.module_type, row.size, row.stride) for row in receptive_fields(net, (1, 3, 8, 8))]
        [('0', 'Conv2d', 3, 1), ('1', 'MaxPool2d', 4, 2), ('', 'Sequential', 4, 2)]
    """
    model = _check_model(model)
    outputs, image, _ = _trace(model, _check_input_size(input_size))
    rows = []
    modules = dict(model.named_modules())
    for name in [*[n for n in modules if n], ""]:
        if name in outputs:
            field, shape = _largest(outputs[name], image)
            rows.append(LayerReceptiveField(name, type(modules[name]).__name__, shape, field.size, field.stride,
                                            field.padding, field.covers_input))
    return rows


# --------------------------------------------------------------------------------------------
# gradient_receptive_field: measured by back-propagation
# --------------------------------------------------------------------------------------------

class _Stop(Exception):
    """Raised by a hook once the layer's output is computed: the rest of the network is skipped."""


def _sum_pool(x: torch.Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
              ceil_mode: bool = False) -> torch.Tensor:
    """Max pooling's geometry with a sum instead of the max: every pixel in a window gets gradient."""
    n = x.ndim - 2
    kernel = _pairs_for(kernel_size, n, [1])
    stride = _pairs_for(stride, n, kernel)
    padding = _pairs_for(padding, n, [0])
    dilation = _pairs_for(dilation, n, [1])
    extra = []
    for i in range(n):  # ceil_mode: pad the end so the last partial window exists
        size = x.shape[2 + i]
        wanted = pool_output_size(size, kernel[i], stride[i], padding[i], dilation[i], ceil_mode)
        needed = (wanted - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 - (size + 2 * padding[i])
        extra.append(max(0, needed))
    pads = [v for i in reversed(range(n)) for v in (padding[i], padding[i] + extra[i])]
    x = F.pad(x, pads)
    weight = torch.ones(x.shape[1], 1, *kernel, dtype=x.dtype, device=x.device)
    conv = (F.conv1d, F.conv2d, F.conv3d)[n - 1]
    return conv(x, weight, stride=stride, dilation=dilation, groups=x.shape[1])


_MAX_POOLS = (F.max_pool1d, F.max_pool2d, F.max_pool3d, torch.max_pool1d, torch.max_pool2d, torch.max_pool3d,
              F.max_pool1d_with_indices, F.max_pool2d_with_indices, F.max_pool3d_with_indices)
_ADAPTIVE_MAX_POOLS = (F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d)
_CONVS = (F.conv1d, F.conv2d, F.conv3d)
_CONV_TRANSPOSES = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)
_NORMS = (F.batch_norm, F.instance_norm, F.group_norm, F.layer_norm, F.local_response_norm)


def _arguments(names: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {**dict(zip(names.split(), args)), **kwargs}


class _PositiveProbe(TorchFunctionMode):
    """The forward pass of :func:`gradient_receptive_field`.

    Max pooling becomes a sum over the same windows (a max sends gradient to one pixel only).
    With ``one_channel``, every convolution, linear layer and normalisation is replaced by its
    positive-average version with a *single* output channel: with all weights equal, every
    channel of the full network carries the same numbers, so one of them is enough (and VGG16
    runs in milliseconds instead of seconds). Code that needs the real channel counts fails
    loudly, and the caller then runs the full-width network instead.
    """

    def __init__(self, one_channel: bool) -> None:
        super().__init__()
        self.one_channel = one_channel

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        if func in _MAX_POOLS:
            options = _arguments("input kernel_size stride padding dilation ceil_mode return_indices", args, kwargs)
            x = options.pop("input")
            want_indices = options.pop("return_indices", False) or "with_indices" in getattr(func, "__name__", "")
            pooled = _sum_pool(x, **options)
            return (pooled, func(*args, **kwargs)[1]) if want_indices else pooled
        if func in _ADAPTIVE_MAX_POOLS:
            options = _arguments("input output_size return_indices", args, kwargs)
            avg = (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d)[options["input"].ndim - 3]
            pooled = avg(options["input"], options["output_size"])
            return (pooled, func(*args, **kwargs)[1]) if options.get("return_indices") else pooled
        if not self.one_channel:
            return func(*args, **kwargs)
        if func in _CONVS:
            a = _arguments("input weight bias stride padding dilation groups", args, kwargs)
            x, kernel = a["input"], a["weight"].shape[2:]
            weight = torch.full((1, x.shape[1], *kernel), 1.0 / (x.shape[1] * math.prod(kernel)), dtype=x.dtype)
            return func(x, weight, None, a.get("stride", 1), a.get("padding", 0), a.get("dilation", 1), 1)
        if func in _CONV_TRANSPOSES:
            a = _arguments("input weight bias stride padding output_padding groups dilation", args, kwargs)
            x, kernel = a["input"], a["weight"].shape[2:]
            weight = torch.full((x.shape[1], 1, *kernel), 1.0 / (x.shape[1] * math.prod(kernel)), dtype=x.dtype)
            return func(x, weight, None, a.get("stride", 1), a.get("padding", 0), a.get("output_padding", 0), 1,
                        a.get("dilation", 1))
        if func is F.linear:
            x = _arguments("input weight bias", args, kwargs)["input"]
            return func(x, torch.full((1, x.shape[-1]), 1.0 / x.shape[-1], dtype=x.dtype))
        if func in _NORMS:
            return _arguments("input", args, kwargs)["input"]
        if func is F.prelu:
            return F.relu(_arguments("input", args, kwargs)["input"])
        return func(*args, **kwargs)


def _positive_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Every weight a positive average (1/fan-in), biases 0, batch norm the identity; float64.

    The tensors are broadcast views of one number each: no memory for VGG16's 138M weights.
    """
    state = {}
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        if not t.is_floating_point():
            value, dtype = 0, t.dtype
        elif name.endswith("running_var") or (t.ndim == 1 and name.endswith("weight")):
            value, dtype = 1.0, torch.float64
        elif t.ndim >= 2:
            value, dtype = 1.0 / math.prod(t.shape[1:]), torch.float64
        else:
            value, dtype = 0.0, torch.float64
        state[name] = torch.tensor(value, dtype=dtype).expand(t.shape)
    return state


def _extent(mask: torch.Tensor) -> list[tuple[int, int]]:
    """First and last index along each dim where ``mask`` is true."""
    spans = []
    for d in range(mask.ndim):
        hit = mask.any(dim=tuple(e for e in range(mask.ndim) if e != d)).nonzero().flatten()
        spans.append((int(hit[0]), int(hit[-1])))
    return spans


def gradient_receptive_field(
    model: nn.Module, layer: Any, input_size: Sequence[int] = (1, 3, 224, 224), unit: Sequence[int] | None = None
) -> ReceptiveField:
    """Measure the receptive field by back-propagating from one unit to the input pixels.

    The input pixels a unit depends on are exactly those with a non-zero gradient, provided
    nothing cancels or blocks it. So the network runs (in float64, on the CPU, in evaluation
    mode, without touching the model) with every weight set to a positive average
    (``1/fan_in``), every bias to 0 and batch norm to the identity, on an all-ones input, and with
    max pooling replaced by a sum over the same windows (a max sends gradient to one pixel
    only). Two neighbouring units are measured at once (a batch of 2) to read the stride. With
    all weights equal every channel carries the same numbers, so the network runs with one
    channel per layer when its code allows (the full width otherwise): VGG16 takes milliseconds.

    Args:
        model: any ``nn.Module`` whose forward takes one tensor (its weights may be on ``meta``).
        layer: a dotted name from ``model.named_modules()``, or the submodule itself.
        input_size: ``[N, C, H, W]`` (``N`` is ignored). Choose it large enough that the unit's
            window lies inside the image, or the border clips it (a warning says so).
        unit: the output position to measure (default: the centre one).

    Returns:
        A :class:`ReceptiveField` measured from the gradient (``stride`` is ``None`` along an axis
        with a single unit). It equals :func:`receptive_field` when the window is not clipped.

    Reference:
        Luo, Li, Urtasun & Zemel, "Understanding the Effective Receptive Field in Deep
        Convolutional Neural Networks", NeurIPS 2016.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, dilation=2))
        >>> gradient_receptive_field(net, "3", input_size=(1, 1, 32, 32))
        ReceptiveField(size=12, stride=2, padding=0)
        >>> receptive_field(net, "3", input_size=(1, 1, 32, 32))
        ReceptiveField(size=12, stride=2, padding=0)
    """
    model = _check_model(model)
    name = _layer_name(model, layer)
    shape = _check_input_size(input_size)
    module = dict(model.named_modules())[name]

    def forward(one_channel: bool) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.ones((2, *shape[1:]), dtype=torch.float64, requires_grad=True)
        captured: dict[str, torch.Tensor] = {}

        def stop(mod: nn.Module, args: Any, output: Any) -> None:
            if _tensors(output):
                captured["out"] = _tensors(output)[0]
            raise _Stop

        handle = module.register_forward_hook(stop) if name else None
        try:
            with _eval_mode(model), _PositiveProbe(one_channel), torch.enable_grad():
                result = functional_call(model, _positive_state(model), (x,))
                captured.setdefault("out", _tensors(result)[0])
        except _Stop:
            pass
        finally:
            if handle is not None:
                handle.remove()
        return x, captured.get("out")

    try:
        x, out = forward(one_channel=True)
    except Exception:  # the model's code needs its real channel counts: run it at full width
        x, out = forward(one_channel=False)
    if out is None:
        raise ValueError(f"layer {name!r} was not called in the forward pass (in evaluation mode)")
    spatial = out.shape[2:] if out.ndim == x.ndim else ()
    if spatial:
        if unit is not None and (isinstance(unit, (str, bytes)) or not isinstance(unit, Sequence)
                                 or len(unit) != len(spatial)):
            raise ValueError(f"unit {unit!r} given; unit must have {len(spatial)} indices, one per axis, "
                             f"within the layer's output size {tuple(spatial)}")
        centre = [(n - 1) // 2 for n in spatial] if unit is None else [
            check_int("unit", u, minimum=0, maximum=n - 1) for u, n in zip(unit, spatial)
        ]
        neighbour = [c + 1 if c + 1 < n else max(c - 1, 0) for c, n in zip(centre, spatial)]
        target = out[(0, slice(None), *centre)].sum() + out[(1, slice(None), *neighbour)].sum()
    else:
        centre = neighbour = []
        target = out[0].sum() + out[1].sum()
    (grad,) = torch.autograd.grad(target, x)
    if not (grad[0] != 0).any():
        raise ValueError(f"no input pixel reaches layer {name!r}: its output does not depend on the input")
    first = _extent(grad[0].abs().sum(0) != 0)
    second = _extent(grad[1].abs().sum(0) != 0)
    sizes, strides, paddings, covers, clipped = [], [], [], True, False
    for a, n in enumerate(shape[2:]):
        (start, stop_), (start2, _) = first[a], second[a]
        sizes.append(stop_ - start + 1)
        covers = covers and start == 0 and stop_ == n - 1
        clipped = clipped or start == 0 or stop_ == n - 1
        if a < len(centre) and neighbour[a] != centre[a]:
            stride = (start2 - start) // (neighbour[a] - centre[a])
            strides.append(stride)
            paddings.append(centre[a] * stride - start)
        else:
            strides.append(None)
            paddings.append(-start)
    if clipped and spatial:
        warnings.warn(
            f"gradient_receptive_field: the window of unit {tuple(centre)} of {name!r} touches the image "
            f"border at input size {tuple(shape[2:])}, so it may be clipped; use a larger input_size",
            stacklevel=2,
        )
    return ReceptiveField(_merge(sizes), _merge(strides), _merge(paddings), covers)
