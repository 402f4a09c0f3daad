"""figure_history / update_history / LiveHistory: the traces are the History's values."""

from __future__ import annotations

import sys
import types

import pytest

from segviz.train import History
from segviz.viz.training import LiveHistory, figure_history, update_history

RECORDS = [
    {"step": 5, "epoch": 1, "seconds": 0.5, "train_loss": 1.5, "val_loss": 1.4, "mean_iou": 0.2},
    {"step": 10, "epoch": 1, "seconds": 1.0, "train_loss": 1.0, "val_loss": 1.1, "mean_iou": 0.45},
    {"step": 15, "epoch": 2, "seconds": 1.6, "train_loss": 0.7, "val_loss": 0.9, "mean_iou": 0.6},
]


def test_traces_equal_the_history_values():
    history = History(RECORDS, target=0.5, stopped_because="target")
    fig = figure_history(history)
    train, val, iou, target = fig.data
    assert list(train.x) == [5, 10, 15] and list(train.y) == [1.5, 1.0, 0.7]
    assert list(val.y) == [1.4, 1.1, 0.9] and list(iou.y) == [0.2, 0.45, 0.6]
    assert list(iou.customdata) == [0.5, 1.0, 1.6]  # training seconds in the hover text
    assert list(target.y) == [0.5, 0.5] and list(target.x) == [0, 15]  # the history's own target
    assert "target 0.5 reached in 1.6 s" in fig.layout.title.text


def test_records_without_validation_leave_gaps_out():
    history = History([{"step": 1, "seconds": 0.1, "train_loss": 2.0}, {"step": 2, "seconds": 0.2, "train_loss": 1.5}])
    fig = figure_history(history)
    assert list(fig.data[0].y) == [2.0, 1.5] and list(fig.data[2].y) == [] and list(fig.data[3].y) == []


def test_update_moves_the_same_figure_to_a_longer_history():
    fig = figure_history(History(RECORDS[:1]), target=0.9)
    update_history(fig, History(RECORDS), target=0.9)
    assert list(fig.data[2].y) == [0.2, 0.45, 0.6] and list(fig.data[3].x) == [0, 15]
    assert list(fig.data[3].y) == [0.9, 0.9]


def test_live_history_displays_once_then_updates_the_same_output(monkeypatch):
    shown, updated = [], []

    class Handle:
        def update(self, fig):
            updated.append(list(fig.data[2].y))

    def display(fig, display_id=False):
        shown.append(display_id)
        return Handle()

    fake = types.ModuleType("IPython.display")
    fake.display = display
    monkeypatch.setitem(sys.modules, "IPython.display", fake)
    live = LiveHistory(target=0.85)
    live.update(History(RECORDS[:1]))
    live.update(History(RECORDS[:2]))
    live(History(RECORDS))
    assert shown == [True]
    assert updated == [[0.2, 0.45], [0.2, 0.45, 0.6]]
    assert list(live.figure.data[3].y) == [0.85, 0.85]


def test_bad_history_is_explained():
    with pytest.raises(ValueError, match="history of type list given"):
        figure_history(RECORDS)


def test_fit_with_live_on_draws_every_evaluation(monkeypatch):
    import torch

    from segviz.data import make_scenes
    from segviz.train import fit

    shown, updated = [], []

    class Handle:
        def update(self, fig):
            updated.append(len(fig.data[0].y))

    fake = types.ModuleType("IPython.display")
    fake.display = lambda fig, display_id=False: shown.append(display_id) or Handle()
    monkeypatch.setitem(sys.modules, "IPython.display", fake)
    scenes = make_scenes(8, size=16)
    torch.manual_seed(0)
    history = fit(torch.nn.Conv2d(3, 7, 1), scenes, scenes, epochs=3, batch_size=4, device="cpu", live=True,
                  target=0.99)
    assert shown == [True]  # displayed once ...
    assert updated == [2, 3, 3]  # ... then redrawn after each later evaluation, and once at the end
    assert len(history) == 3
