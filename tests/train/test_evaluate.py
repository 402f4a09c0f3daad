"""evaluate and predict against segviz.metrics on hand-made predictions."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from segviz.data import SyntheticScenes
from segviz.metrics import confusion_matrix, segmentation_scores
from segviz.train import evaluate, predict


class FixedPrediction(nn.Module):
    """Logits whose argmax is a given label map, whatever the input (looked up by the image's first value)."""

    def __init__(self, labels: torch.Tensor, num_classes: int) -> None:
        super().__init__()
        self.register_buffer("logits", nn.functional.one_hot(labels, num_classes).permute(0, 3, 1, 2).float())
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        index = x[:, 0, 0, 0].long()  # each image carries its index in its first pixel
        return self.logits[index]


def labelled(num_images=10, size=6, num_classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(0, num_classes, (num_images, size, size), generator=g)
    target[torch.rand(target.shape, generator=g) < 0.1] = 255
    pred = torch.randint(0, num_classes, (num_images, size, size), generator=g)
    images = torch.zeros(num_images, 3, size, size)
    images[:, 0, 0, 0] = torch.arange(num_images, dtype=torch.float32)
    return images, target, pred


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_evaluate_equals_metrics_on_the_whole_set(batch_size):
    images, target, pred = labelled()
    model = FixedPrediction(pred, 4)
    result = evaluate(model, (images, target), 4, batch_size=batch_size, device="cpu")
    confusion = confusion_matrix(pred, target, 4)
    assert torch.equal(result["confusion"], confusion)
    expected = segmentation_scores(confusion)
    assert {k: result[k] for k in expected} == expected
    assert model.calls == -(-10 // batch_size)


def test_evaluate_hand_computed():
    target = torch.tensor([[[0, 0, 1], [1, 2, 255]]])
    pred = torch.tensor([[[0, 1, 1], [1, 2, 0]]])
    images = torch.zeros(1, 3, 2, 3)
    result = evaluate(FixedPrediction(pred, 3), (images, target), 3, device="cpu")
    assert result["pixel_accuracy"] == pytest.approx(4 / 5)
    assert result["mean_iou"] == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    assert result["confusion"].tolist() == [[1, 1, 0], [0, 2, 0], [0, 0, 1]]


def test_evaluate_restores_training_mode_and_accepts_datasets():
    model = nn.Sequential(nn.Conv2d(3, 7, 1), nn.BatchNorm2d(7))
    model.train()
    result = evaluate(model, SyntheticScenes(5, size=16), 7, batch_size=2, device="cpu")
    assert model.training
    assert int(result["confusion"].sum()) == 5 * 16 * 16


def test_predict_shape_dtype_and_batching():
    images, _, pred = labelled(num_images=7)
    model = FixedPrediction(pred, 4)
    labels = predict(model, images, batch_size=3, device="cpu")
    assert labels.dtype == torch.int64 and labels.shape == (7, 6, 6) and labels.device.type == "cpu"
    assert torch.equal(labels, pred)
    assert model.calls == 3
    assert torch.equal(predict(model, images[4], device="cpu"), pred[4])  # one image [C, H, W] -> [H, W]


def test_predict_unwraps_dict_outputs_and_restores_mode():
    class DictModel(nn.Module):
        def forward(self, x):
            return {"out": torch.stack([x[:, 0], -x[:, 0]], dim=1)}

    model = DictModel().train()
    labels = predict(model, torch.tensor([1.0, -1.0]).view(2, 1, 1, 1).expand(2, 3, 2, 2).contiguous(), device="cpu")
    assert labels[:, 0, 0].tolist() == [0, 1] and model.training


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: predict(nn.Identity(), [1, 2]), "images of type list given"),
        (lambda: predict(nn.Identity(), torch.zeros(2, 2, dtype=torch.int64)), r"images of shape \(2, 2\)"),
        (lambda: predict("model", torch.zeros(1, 3, 2, 2)), "model of type str given"),
        (lambda: predict(nn.Identity(), torch.zeros(1, 3, 2, 2), batch_size=0), "batch_size 0 given"),
        (lambda: evaluate(nn.Identity(), (torch.zeros(1, 3, 2, 2), torch.full((1, 2, 2), 5)), 3, device="cpu"),
         r"data masks hold label\(s\) \[5\]"),
        (lambda: evaluate(nn.Identity(), (torch.zeros(1, 3, 2, 2), torch.zeros(1, 2, 2, dtype=torch.int64)), 4,
                          device="cpu"),
         "model output 3 channels with num_classes=4"),
        (lambda: evaluate(nn.Identity(), None, 3), "data a NoneType given"),
    ],
)
def test_bad_input_raises_a_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
