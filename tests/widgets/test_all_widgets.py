"""Properties every segviz widget must have, checked on each exported Explorer."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from plotly.serializers import custom_serializers

import segviz.widgets as widgets
from segviz.widgets import Explorer

EXPLORERS = [getattr(widgets, name) for name in widgets.__all__
             if isinstance(getattr(widgets, name), type) and issubclass(getattr(widgets, name), Explorer)
             and getattr(widgets, name) is not Explorer]


def _non_finite(value, path="figure"):
    """Paths of NaN/inf numbers: JSON cannot carry them to the browser (jupyter-client warns and drops)."""
    if isinstance(value, float):
        return [] if math.isfinite(value) else [path]
    if isinstance(value, np.ndarray):
        return [path] if value.dtype.kind in "fc" and not np.isfinite(value).all() else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite(v, f"{path}.{k}")]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _non_finite(v, f"{path}[{i}]")]
    return []


def _slider_moves(widget):
    for name, control in widget.controls.items():
        if hasattr(control, "max") and hasattr(control, "min") and isinstance(control.value, int):
            for value in (control.min, control.max, control.value):
                yield name, control, value


def test_every_explorer_is_listed():
    assert len(EXPLORERS) >= 7


def _sent_to_browser(figure) -> list[str]:
    """What the FigureWidget syncs, serialised the way the widget does; NaN/inf paths found."""
    bad = []
    for trait in ("_widget_data", "_widget_layout", "_py2js_restyle", "_py2js_relayout", "_py2js_update"):
        payload = custom_serializers["to_json"](getattr(figure, trait), figure)
        try:
            json.dumps(payload, allow_nan=False, default=str)
        except ValueError:
            bad += [f"{trait}{p[len('figure'):]}" for p in _non_finite(payload)] or [trait]
    return bad


@pytest.mark.parametrize("cls", EXPLORERS, ids=lambda c: c.__name__)
def test_figure_only_sends_json_numbers(cls):
    # NaN/inf are not JSON: jupyter-client warns "Message serialization failed" in the notebook
    # and newer versions drop the message, leaving the figure stale in the browser.
    widget = cls()
    assert not _sent_to_browser(widget.figure)
    for name, control, value in _slider_moves(widget):
        control.value = value
        bad = _sent_to_browser(widget.figure)
        assert not bad, f"after {name} = {value}: NaN/inf at {bad[:3]}"


@pytest.mark.parametrize("cls", EXPLORERS, ids=lambda c: c.__name__)
def test_shell_contract(cls):
    widget = cls()
    assert widget.figure is widget.children[-1] or widget.figure in widget.children
    assert widget.controls and widget.result is not None
    assert widget.label.value, "the label describes the current result"
    assert "segviz-widget" in widget._dom_classes and f"segviz-{cls.__name__}" in widget._dom_classes


def _off_grid(control) -> float | None:
    """How far a slider's value is from the nearest point ``min + k·step`` the browser snaps to
    (in steps), or None for a control that is not a slider."""
    import ipywidgets

    if not isinstance(control, (ipywidgets.IntSlider, ipywidgets.FloatSlider, ipywidgets.FloatLogSlider)):
        return None
    value = math.log(control.value, control.base) if isinstance(control, ipywidgets.FloatLogSlider) else control.value
    if math.isclose(value, control.max, rel_tol=0, abs_tol=1e-9):
        return 0.0  # the end of the range is always reachable
    steps = (value - control.min) / control.step
    return abs(steps - round(steps))


@pytest.mark.parametrize("cls", EXPLORERS, ids=lambda c: c.__name__)
def test_every_slider_starts_on_a_point_the_browser_keeps(cls):
    # The slider in the browser snaps its value to min + k·step and sends the snapped value back:
    # a default off that grid changes as soon as the widget is drawn (ENet's c = 1.02 became 1.019).
    widget = cls()
    off = {name: _off_grid(control) for name, control in widget.controls.items()}
    assert {name: d for name, d in off.items() if d is not None and d > 1e-6} == {}
