"""Training curves: the loss and mean IU of a :class:`~segviz.train.History`, drawn or live.

``figure_history`` draws a finished (or running) history once; ``update_history`` moves an
existing figure to a newer history in place; :class:`LiveHistory` is the callback
:func:`~segviz.train.fit` uses with ``live=True``: it displays the figure once in the notebook
and redraws that same output after every evaluation (no ipywidgets needed, so the curves also
survive in a saved notebook as a static figure).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..train.history import History

__all__ = ["figure_history", "update_history", "LiveHistory"]

_TRAIN = "#1f77b4"
_VAL = "#ef8a3c"
_IOU = "#2b8a3e"
_TARGET = "#888888"


def _x(history: History) -> list[Any]:
    return history.values("step")


def _series(history: History, key: str) -> tuple[list[Any], list[Any]]:
    """Steps and values of ``key`` where the value exists."""
    pairs = [(x, y) for x, y in zip(_x(history), history.values(key)) if y is not None]
    return [x for x, _ in pairs], [y for _, y in pairs]


def _seconds(history: History, key: str) -> list[Any]:
    return [s for s, y in zip(history.values("seconds"), history.values(key)) if y is not None]


def _state(history: History, target: float | None) -> dict[str, Any]:
    train_x, train_y = _series(history, "train_loss")
    val_x, val_y = _series(history, "val_loss")
    iou_x, iou_y = _series(history, "mean_iou")
    steps = [x for x in _x(history) if x is not None]
    last = max(steps) if steps else 1
    return {
        "0.x": train_x, "0.y": train_y, "0.customdata": _seconds(history, "train_loss"),
        "1.x": val_x, "1.y": val_y, "1.customdata": _seconds(history, "val_loss"),
        "2.x": iou_x, "2.y": iou_y, "2.customdata": _seconds(history, "mean_iou"),
        "3.x": [0, last] if target is not None else [], "3.y": [target, target] if target is not None else [],
    }  # fmt: skip


def _title(history: History, target: float | None) -> str:
    best = history.best("mean_iou")
    parts = []
    if best is not None:
        parts.append(f"best mean IU {best['mean_iou']:.3f} at step {best['step']}")
    if target is not None:
        reached = history.first_reaching(target, "mean_iou")
        parts.append(f"target {target:g} " + (f"reached in {reached['seconds']:.1f} s" if reached else "not reached"))
    if history.stopped_because is not None:
        parts.append(f"stopped: {history.stopped_because.replace('_', ' ')}")
    return " · ".join(parts)


def figure_history(history: History, target: float | None = None) -> go.Figure:
    """Two panels: training and validation loss (left), validation mean IU and the target (right).

    The x axis is the optimizer step; hovering shows the training seconds too. Traces: 0 the
    training loss, 1 the validation loss, 2 the validation mean IU, 3 the target (a dashed
    horizontal line, empty without a target).

    Args:
        history: a :class:`~segviz.train.History` (the one :func:`~segviz.train.fit` returns).
        target: the mean IU to draw as a line; ``None``: the history's own target, if its
            target metric is ``"mean_iou"``.

    Returns:
        The plotly figure.

    Example:
        >>> history = History([{"step": 10, "seconds": 1.0, "train_loss": 0.9, "val_loss": 1.0, "mean_iou": 0.4},
        ...                    {"step": 20, "seconds": 2.0, "train_loss": 0.5, "val_loss": 0.6, "mean_iou": 0.7}])
        >>> fig = figure_history(history, target=0.85)
        >>> [trace.name for trace in fig.data], list(fig.data[2].y), list(fig.data[3].y)
        (['train loss', 'val loss', 'val mean IU', 'target'], [0.4, 0.7], [0.85, 0.85])
    """
    if not isinstance(history, History):
        raise ValueError(f"history of type {type(history).__name__} given; history must be a segviz History (from fit)")
    target = _target(history, target)
    st = _state(history, target)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=("loss", "validation mean IU"))
    hover = "step %{x} (%{customdata:.1f} s): %{y:.3f}<extra>%{fullData.name}</extra>"
    fig.add_trace(go.Scatter(x=st["0.x"], y=st["0.y"], customdata=st["0.customdata"], mode="lines+markers",
                             line=dict(color=_TRAIN), name="train loss", hovertemplate=hover), row=1, col=1)
    fig.add_trace(go.Scatter(x=st["1.x"], y=st["1.y"], customdata=st["1.customdata"], mode="lines+markers",
                             line=dict(color=_VAL), name="val loss", hovertemplate=hover), row=1, col=1)
    fig.add_trace(go.Scatter(x=st["2.x"], y=st["2.y"], customdata=st["2.customdata"], mode="lines+markers",
                             line=dict(color=_IOU), name="val mean IU", hovertemplate=hover), row=1, col=2)
    fig.add_trace(go.Scatter(x=st["3.x"], y=st["3.y"], mode="lines", line=dict(color=_TARGET, dash="dash"),
                             name="target", hoverinfo="skip"), row=1, col=2)
    fig.update_xaxes(title_text="step", showgrid=True, gridcolor="#eeeeee")
    fig.update_yaxes(showgrid=True, gridcolor="#eeeeee", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(range=[0, 1], showgrid=True, gridcolor="#eeeeee", row=1, col=2)
    fig.update_layout(width=820, height=320, margin=dict(l=50, r=20, t=60, b=40), plot_bgcolor="white",
                      title=dict(text=_title(history, target), font=dict(size=13)),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def _target(history: History, target: float | None) -> float | None:
    if target is not None:
        return float(target)
    return history.target if history.target_metric == "mean_iou" else None


def update_history(fig: go.Figure, history: History, target: float | None = None) -> None:
    """Move ``fig`` (from :func:`figure_history`) to ``history`` in place, in one batch.

    Example:
        >>> fig = figure_history(History())
        >>> update_history(fig, History([{"step": 5, "seconds": 0.5, "train_loss": 1.1}]))
        >>> list(fig.data[0].y)
        [1.1]
    """
    target = _target(history, target)
    st = _state(history, target)
    with fig.batch_update():
        for key, value in st.items():
            index, name = key.split(".")
            fig.data[int(index)][name] = value
        fig.layout.title.text = _title(history, target)


class LiveHistory:
    """Show a history's curves in a notebook and redraw them as training goes on.

    The first :meth:`update` displays the figure with ``IPython.display.display(fig,
    display_id=True)``; later ones change its traces and call ``handle.update(fig)``, which
    replaces that same output (so a long run leaves one figure, not one per evaluation).

    Args:
        target: the mean IU to draw as a dashed line (``None``: the history's own target).

    Example:
        >>> live = LiveHistory(target=0.85)
        >>> live.figure is None  # nothing shown before the first evaluation
        True
    """

    def __init__(self, target: float | None = None) -> None:
        self.target = target
        self.figure: go.Figure | None = None
        self._handle: Any = None

    def update(self, history: History) -> None:
        """Draw ``history``: display the figure the first time, update it afterwards."""
        from IPython.display import display

        if self.figure is None:
            self.figure = figure_history(history, self.target)
            self._handle = display(self.figure, display_id=True)
            return
        update_history(self.figure, history, self.target)
        if self._handle is not None:
            self._handle.update(self.figure)

    __call__ = update

    def __repr__(self) -> str:
        return f"LiveHistory(target={self.target!r}, shown={self.figure is not None})"
