"""Diff-based in-place figure updates shared by the widgets' ``update_*`` functions.

A figure's changing properties are described as a flat mapping ``"trace_index.path"`` (or
``"layout.path"``) → value. Updating compares the new mapping with the old one and assigns only
the properties whose values differ, so a slider move sends the browser the few arrays that
changed, never the whole figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go

__all__ = ["get_value", "set_value", "same_value", "apply_changes"]


def _owner(fig: go.Figure, head: str) -> Any:
    return fig.layout if head == "layout" else fig.data[int(head)]


def get_value(fig: go.Figure, key: str) -> Any:
    """The figure's current value at ``key`` (e.g. ``"0.z"``, ``"layout.shapes.0.x0"``)."""
    head, *path = key.split(".")
    obj = _owner(fig, head)
    for part in path:
        obj = obj[int(part)] if part.isdigit() else obj[part]
    return obj


def set_value(fig: go.Figure, key: str, value: Any) -> None:
    """Assign ``value`` to the figure property at ``key``."""
    head, *path = key.split(".")
    obj = _owner(fig, head)
    for part in path[:-1]:
        obj = obj[int(part)] if part.isdigit() else obj[part]
    obj[path[-1]] = value


def same_value(old: Any, new: Any) -> bool:
    """Whether a property would not change (arrays compared by shape, kind and values)."""
    if isinstance(new, np.ndarray):
        if not isinstance(old, np.ndarray) or old.shape != new.shape or old.dtype.kind != new.dtype.kind:
            return False
        return np.array_equal(old, new, equal_nan=new.dtype.kind == "f")
    if isinstance(new, list):
        return old is not None and len(old) == len(new) and list(old) == new
    return old == new


def apply_changes(fig: go.Figure, new: Mapping[str, Any], old: Mapping[str, Any] | None = None) -> None:
    """Set every property of ``new`` that differs from ``old`` (default: read from the figure).

    Example:
        >>> fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]))
        >>> apply_changes(fig, {"0.y": [1, 0], "0.x": [0, 1]}, {"0.y": [0, 1], "0.x": [0, 1]})
        >>> fig.data[0].y
        (1, 0)
    """
    if old is None:
        old = {key: get_value(fig, key) for key in new}
    for key, value in new.items():
        if not same_value(old[key], value):
            set_value(fig, key, value)
