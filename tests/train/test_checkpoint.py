"""save_checkpoint / load_checkpoint: weights, optimizer state and history survive the round trip."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from segviz.train import History, load_checkpoint, save_checkpoint


def model_and_optimizer(seed: int):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.rand(2, 3, 5, 5)).sum().backward()
    optimizer.step()  # some optimizer state and batch-norm statistics to save
    return model, optimizer


def test_round_trip_restores_weights_buffers_optimizer_and_history(tmp_path):
    model, optimizer = model_and_optimizer(0)
    history = History([{"step": 3, "seconds": 0.5, "mean_iou": 0.4}], target=0.8, stopped_because="epochs")
    path = save_checkpoint(tmp_path / "deep" / "folder" / "run.pt", model, optimizer, history)
    assert path.is_file() and not list(path.parent.glob("*.partial"))

    fresh, fresh_optimizer = model_and_optimizer(1)
    restored = load_checkpoint(path, fresh, fresh_optimizer)
    assert restored == history
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), name
    saved, loaded = optimizer.state_dict(), fresh_optimizer.state_dict()
    assert torch.equal(saved["state"][0]["exp_avg"], loaded["state"][0]["exp_avg"])


def test_without_history_or_optimizer(tmp_path):
    model, _ = model_and_optimizer(0)
    path = save_checkpoint(str(tmp_path / "m.pt"), model)
    assert load_checkpoint(path, model_and_optimizer(1)[0]) is None
    with pytest.raises(ValueError, match="holds no optimizer state"):
        load_checkpoint(path, *model_and_optimizer(1))


def test_a_different_architecture_is_explained(tmp_path):
    model, _ = model_and_optimizer(0)
    path = save_checkpoint(tmp_path / "m.pt", model)
    with pytest.raises(ValueError, match="does not fit this Sequential"):
        load_checkpoint(path, nn.Sequential(nn.Conv2d(3, 8, 3)))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda p: save_checkpoint(p, "model"), "model of type str given"),
        (lambda p: save_checkpoint(3, nn.Conv2d(1, 1, 1)), "path of type int given"),
        (lambda p: save_checkpoint(p, nn.Conv2d(1, 1, 1), history={"records": []}), "history of type dict given"),
        (lambda p: load_checkpoint(p.parent / "missing.pt", nn.Conv2d(1, 1, 1)), "there is no such file"),
    ],
)
def test_bad_input_raises_a_teaching_error(tmp_path, call, message):
    with pytest.raises(ValueError, match=message):
        call(tmp_path / "x.pt")


def test_a_file_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "x.pt"
    torch.save([1, 2], path)
    with pytest.raises(ValueError, match="not a checkpoint written by save_checkpoint"):
        load_checkpoint(path, nn.Conv2d(1, 1, 1))
