"""Helpers shared by the widget tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def set_controls(widget, **values: Any) -> None:
    """Move the widget's controls as a learner would, one at a time."""
    for name, value in values.items():
        widget.controls[name].value = value


def figure_state(widget, state: Callable[[Any], dict]) -> dict:
    """What the widget's figure holds for every key ``state(widget.result)`` writes.

    ``state`` is the viz module's flat description of a result, keyed ``(trace_index or None
    for the layout, "dotted.path[0]")``.
    """
    fig = widget.figure.to_dict()
    values = {}
    for (index, path), _ in state(widget.result).items():
        node = fig["layout"] if index is None else fig["data"][index]
        for part in path.replace("]", "").replace("[", ".").split("."):
            node = node[int(part)] if part.isdigit() else node[part]
        values[(index, path)] = node.tolist() if hasattr(node, "tolist") else node
    return values
