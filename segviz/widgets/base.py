"""The shell every segviz widget shares: controls → pure compute → in-place figure update.

A widget is three layers (STYLE.md): a pure ``compute`` that returns a result dataclass, a
figure builder that draws a result once, and this thin shell, which owns the controls, calls
``compute`` when one changes and updates the existing ``go.FigureWidget`` inside
``batch_update()`` (one message to the browser, never a rebuilt figure). An invalid combination
of controls does not raise inside the callback, where the learner would never see it: the
message line says what is wrong and what would work, and the figure keeps the last valid state.
A valid result may carry a teaching ``note`` (e.g. "kernel < stride leaves gaps"); the message
line shows it while the figure updates.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

__all__ = ["Explorer"]


class Explorer(widgets.VBox):
    """Base class: subclasses implement :meth:`compute`, :meth:`draw` and :meth:`redraw`.

    Attributes:
        controls: name → ipywidgets control, in display order.
        figure: the ``go.FigureWidget``, built once.
        result: the latest valid result of :meth:`compute`.
        message: an ``HTML`` line explaining an invalid combination (empty when all is well).
        label: an ``HTML`` line that describes the current result in words and numbers.
    """

    def __init__(self, controls: Mapping[str, widgets.ValueWidget], *, layout_controls: Any = None):
        self.controls: dict[str, widgets.ValueWidget] = dict(controls)
        self.message = widgets.HTML("", layout=widgets.Layout(min_height="1.5em"))
        self.message.add_class("segviz-message")
        self.label = widgets.HTML("")
        self.label.add_class("segviz-label")
        self.result = self.compute(**self.values())
        self.figure: go.FigureWidget = go.FigureWidget(self.draw(self.result))
        self.label.value = self.describe(self.result)
        self.message.value = self._note(self.result)
        box = layout_controls or widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([box, self.label, self.message, self.figure])
        self.add_class("segviz-widget")
        self.add_class(f"segviz-{type(self).__name__}")  # lets a browser test find one widget among several
        for control in self.controls.values():
            control.observe(self._on_change, names="value")

    # --- to implement -------------------------------------------------------------------------
    def compute(self, **values: Any) -> Any:  # pragma: no cover - abstract
        """Pure: control values → result dataclass. Raise ``ValueError`` for invalid input."""
        raise NotImplementedError

    def draw(self, result: Any) -> go.Figure:  # pragma: no cover - abstract
        """Build the figure for a result (called once)."""
        raise NotImplementedError

    def redraw(self, figure: go.FigureWidget, result: Any, previous: Any) -> None:  # pragma: no cover - abstract
        """Update ``figure`` in place from ``previous`` (the result it shows now) to ``result``.

        Knowing what is on screen lets an update send only the properties that change.
        """
        raise NotImplementedError

    def describe(self, result: Any) -> str:
        """One line of HTML for :attr:`label`."""
        return ""

    # --- machinery ----------------------------------------------------------------------------
    @staticmethod
    def _note(result: Any) -> str:
        """A result's teaching note (``result.note``: valid, but worth a remark), as message HTML."""
        note = getattr(result, "note", "")
        return f"<span style='color:#7a4f00'>ℹ {html.escape(note)}</span>" if note else ""

    def values(self) -> dict[str, Any]:
        """Current control values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, change: Any = None) -> None:
        self.update()

    def update(self) -> None:
        """Recompute from the controls and update the figure in place (synchronously)."""
        try:
            result = self.compute(**self.values())
        except ValueError as error:
            self.message.value = f"<span style='color:#b00020'>⚠ {html.escape(str(error))}</span>"
            return
        self.message.value = self._note(result)
        previous, self.result = self.result, result
        with self.figure.batch_update():
            self.redraw(self.figure, result, previous)
        self.label.value = self.describe(result)
