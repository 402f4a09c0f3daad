"""Teaching-quality argument checks.

Every public function in segviz validates its arguments with these helpers, so a learner who
passes ``stride=0`` reads *what* was received and *what would work* instead of a traceback from
deep inside PyTorch::

    ValueError: stride 0 given; stride must be an integer >= 1

The helpers raise ``ValueError`` (never ``assert``, which ``python -O`` strips) and return the
value, normalised, so they can be used inline: ``stride = check_int("stride", stride, minimum=1)``.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["check_int", "check_number", "check_choice", "check_pair", "check_ndim"]


def _describe(value: Any) -> str:
    """``repr`` for small values, ``type`` for everything else (keeps messages one line)."""
    text = repr(value)
    return text if len(text) <= 40 else f"a {type(value).__name__}"


def _bounds(minimum: Any, maximum: Any) -> str:
    if minimum is not None and maximum is not None:
        return f"between {minimum} and {maximum}"
    if minimum is not None:
        return f">= {minimum}"
    if maximum is not None:
        return f"<= {maximum}"
    return ""


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` or raise a ``ValueError`` that says what would work.

    Booleans and floats are refused (``True`` as a stride is almost always a slip); NumPy and
    0-d tensor integers are accepted.

    Args:
        name: the argument's name, as the learner typed it.
        value: what was received.
        minimum: smallest allowed value, inclusive (``None``: unbounded).
        maximum: largest allowed value, inclusive (``None``: unbounded).

    Returns:
        ``int(value)``.

    Example:
        >>> check_int("stride", 2, minimum=1)
        2
        >>> check_int("stride", 0, minimum=1)
        Traceback (most recent call last):
        ...
        ValueError: stride 0 given; stride must be an integer >= 1
    """
    rule = " ".join(filter(None, ["an integer", _bounds(minimum, maximum)]))
    is_integer = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not is_integer and hasattr(value, "ndim") and getattr(value, "ndim") == 0:
        try:  # a 0-d numpy array or tensor holding an integer
            as_int = int(value)
            is_integer = as_int == value and "int" in str(getattr(value, "dtype", ""))
            if is_integer:
                value = as_int
        except (TypeError, ValueError):
            is_integer = False
    if not is_integer:
        raise ValueError(f"{name} {_describe(value)} given; {name} must be {rule}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} {value} given; {name} must be {rule}")
    return value


def check_number(
    name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    """Return ``value`` as a ``float`` or raise a ``ValueError`` that says what would work.

    Example:
        >>> check_number("alpha", 0.5, minimum=0, maximum=1)
        0.5
        >>> check_number("alpha", 2, minimum=0, maximum=1)
        Traceback (most recent call last):
        ...
        ValueError: alpha 2 given; alpha must be a number between 0 and 1
    """
    rule = " ".join(filter(None, ["a number", _bounds(minimum, maximum)]))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} {_describe(value)} given; {name} must be {rule}")
    if value != value:  # NaN
        raise ValueError(f"{name} nan given; {name} must be {rule}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} {value} given; {name} must be {rule}")
    return float(value)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise a ``ValueError`` listing them.

    Example:
        >>> check_choice("mode", "nearest", ["nearest", "bed_of_nails", "max"])
        'nearest'
        >>> check_choice("mode", "bilinear", ["nearest", "max"])
        Traceback (most recent call last):
        ...
        ValueError: mode 'bilinear' given; mode must be one of 'nearest', 'max'
    """
    choices = list(choices)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} {_describe(value)} given; {name} must be one of {listed}")
    return value


def check_pair(name: str, value: Any, *, minimum: int | None = None) -> tuple[int, int]:
    """Accept ``k`` or ``(kh, kw)`` the way ``torch.nn.Conv2d`` does; return ``(kh, kw)``.

    Example:
        >>> check_pair("kernel_size", 3, minimum=1)
        (3, 3)
        >>> check_pair("kernel_size", (3, 5), minimum=1)
        (3, 5)
        >>> check_pair("kernel_size", (3, 0), minimum=1)
        Traceback (most recent call last):
        ...
        ValueError: kernel_size (3, 0) given; kernel_size must be an integer >= 1 or a pair of them
    """
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = tuple(value)
        if len(items) == 2:
            try:
                return tuple(check_int(name, v, minimum=minimum) for v in items)  # type: ignore[return-value]
            except ValueError:
                pass
    else:
        try:
            single = check_int(name, value, minimum=minimum)
            return (single, single)
        except ValueError:
            pass
    rule = " ".join(filter(None, ["an integer", _bounds(minimum, None)]))
    raise ValueError(f"{name} {_describe(value)} given; {name} must be {rule} or a pair of them")


def check_ndim(name: str, value: Any, ndims: int | Sequence[int], layout: str = "") -> Any:
    """Check that an array or tensor has one of the expected numbers of dimensions.

    Args:
        name: the argument's name.
        value: a tensor or array (anything with ``.ndim`` and ``.shape``).
        ndims: the allowed number(s) of dimensions.
        layout: the expected layout to quote, e.g. ``"[N, C, H, W]"``.

    Example:
        >>> import torch
        >>> check_ndim("x", torch.zeros(2, 3), 4, "[N, C, H, W]")
        Traceback (most recent call last):
        ...
        ValueError: x of shape (2, 3) given; x must have 4 dimensions [N, C, H, W]
    """
    allowed = (ndims,) if isinstance(ndims, int) else tuple(ndims)
    if not hasattr(value, "ndim"):
        raise ValueError(f"{name} {_describe(value)} given; {name} must be a tensor or array")
    if value.ndim not in allowed:
        count = " or ".join(str(n) for n in allowed)
        suffix = f" {layout}" if layout else ""
        raise ValueError(
            f"{name} of shape {tuple(value.shape)} given; {name} must have {count} dimensions{suffix}"
        )
    return value
