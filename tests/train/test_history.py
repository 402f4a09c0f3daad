"""History: best, final, time_to, reached_target, the table and the round trip through a dict."""

from __future__ import annotations

import json
import math

import pytest

from segviz.train import History

RECORDS = [
    {"step": 10, "epoch": 1, "seconds": 1.5, "train_loss": 1.2, "val_loss": 1.1, "pixel_accuracy": 0.7,
     "mean_accuracy": 0.3, "mean_iou": 0.25, "fw_iou": 0.6},
    {"step": 20, "epoch": 1, "seconds": 3.25, "train_loss": 0.8, "val_loss": 0.9, "pixel_accuracy": 0.8,
     "mean_accuracy": 0.5, "mean_iou": 0.55, "fw_iou": 0.7},
    {"step": 30, "epoch": 2, "seconds": 5.0, "train_loss": 0.6, "val_loss": 0.95, "pixel_accuracy": 0.82,
     "mean_accuracy": 0.52, "mean_iou": 0.5, "fw_iou": 0.71},
]


@pytest.fixture
def history():
    return History(RECORDS, target=0.5, stopped_because="target")


def test_best_is_the_highest_score_or_the_lowest_loss(history):
    assert history.best()["step"] == 20
    assert history.best("fw_iou")["step"] == 30
    assert history.best("train_loss")["step"] == 30
    assert history.best("val_loss")["step"] == 20


def test_best_ties_go_to_the_first_and_missing_values_are_skipped():
    history = History([{"step": 1, "mean_iou": None}, {"step": 2, "mean_iou": 0.5}, {"step": 3, "mean_iou": 0.5},
                       {"step": 4, "mean_iou": math.nan}])
    assert history.best()["step"] == 2
    assert History([{"step": 1}]).best() is None


def test_time_to_is_the_first_crossing(history):
    assert history.time_to(0.5) == 3.25  # 0.55 at 3.25 s, the first record >= 0.5
    assert history.time_to(0.25) == 1.5
    assert history.time_to(0.6) is None
    assert history.time_to(0.9, metric="val_loss") == 3.25  # losses: first record <= 0.9
    assert history.time_to(0.8, metric="pixel_accuracy") == 3.25


def test_final_and_reached_target(history):
    assert history.final["step"] == 30
    assert history.reached_target
    assert not History(RECORDS, target=0.6).reached_target
    assert not History(RECORDS).reached_target
    assert History().final is None


def test_missing_keys_are_filled_with_none():
    history = History([{"step": 1, "train_loss": 0.5}])
    assert history.final == {"step": 1, "epoch": None, "seconds": None, "train_loss": 0.5, "val_loss": None,
                             "pixel_accuracy": None, "mean_accuracy": None, "mean_iou": None, "fw_iou": None}


def test_dict_round_trip_survives_json(history):
    data = json.loads(json.dumps(history.to_dict()))
    again = History.from_dict(data)
    assert again == history
    assert again.records == history.records and again.target == 0.5 and again.stopped_because == "target"


def test_table_is_rounded_and_aligned(history):
    lines = history.table().splitlines()
    assert lines[0].split() == ["step", "epoch", "seconds", "train_loss", "val_loss", "pixel_acc", "mean_acc",
                                "mean_iou", "fw_iou"]
    assert lines[2].split() == ["20", "1", "3.25", "0.800", "0.900", "0.800", "0.500", "0.550", "0.700"]
    assert len({len(line) for line in lines}) == 1  # right-aligned columns
    assert History([{"step": 1, "train_loss": 0.123456}]).table(digits=2).splitlines()[1].split() == ["1", "0.12"]
    assert History().table() == "(no evaluations)"


def test_repr_says_what_happened(history):
    assert repr(history) == ("History(3 evaluations, 30 steps, 5.0 s, best mean_iou 0.55 at step 20, "
                             "target 0.5 reached, stopped: target)")
    assert repr(History()) == "History(no evaluations)"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda h: h.best("iou"), "metric 'iou' given"),
        (lambda h: h.time_to("high"), "value 'high' given; value must be a number"),
        (lambda h: h.append({"steps": 1}), r"record keys \['steps'\] given"),
        (lambda h: h.append([1]), "record of type list given"),
        (lambda h: History.from_dict([]), "History.from_dict needs the dict made by History.to_dict"),
        (lambda h: History(stopped_because="tired"), "stopped_because 'tired' given"),
        (lambda h: History(target_metric="accuracy"), "target_metric 'accuracy' given"),
    ],
)
def test_bad_input_raises_a_teaching_error(history, call, message):
    with pytest.raises(ValueError, match=message):
        call(history)
