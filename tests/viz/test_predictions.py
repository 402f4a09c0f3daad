"""compute_prediction_view against segviz.metrics and a numpy count; the figure against the view."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segviz.data import SYNTHETIC_PALETTE
from segviz.metrics import confusion_matrix, per_class_iou, segmentation_scores
from segviz.models import FCN8s
from segviz.viz.predictions import (
    CORRECT,
    WRONG_COLOR,
    compute_prediction_view,
    demo_predictions,
    figure_prediction_view,
    predict_labels,
    update_prediction_view,
)


@pytest.fixture(scope="module")
def demo():
    return demo_predictions(4, size=48, seed=2)


def _numpy_scores(pred: np.ndarray, mask: np.ndarray, num_classes: int) -> tuple[float, float]:
    """Pixel accuracy and mean IoU by counting, class by class (classes in neither map left out)."""
    labelled = mask != 255
    accuracy = (pred == mask)[labelled].mean()
    ious = []
    for k in range(num_classes):
        truth, guess = (mask == k) & labelled, (pred == k) & labelled
        if (truth | guess).any():
            ious.append((truth & guess).sum() / (truth | guess).sum())
    return float(accuracy), float(np.mean(ious))


@pytest.mark.parametrize("index", range(4))
def test_scores_equal_segviz_metrics_and_a_count(demo, index):
    images, masks, predictions = demo
    v = compute_prediction_view(images[index], masks[index], predictions[index], 7)
    confusion = confusion_matrix(predictions[index], masks[index], 7)
    scores = segmentation_scores(confusion)
    assert (v.pixel_accuracy, v.mean_iou, v.mean_accuracy, v.fw_iou) == (
        scores["pixel_accuracy"], scores["mean_iou"], scores["mean_accuracy"], scores["fw_iou"])
    np.testing.assert_array_equal(v.confusion, confusion.numpy())
    np.testing.assert_array_equal(v.iou, per_class_iou(confusion).numpy())
    accuracy, iou = _numpy_scores(predictions[index].numpy(), masks[index].numpy(), 7)
    assert v.pixel_accuracy == pytest.approx(accuracy) and v.mean_iou == pytest.approx(iou)


def test_error_map_by_hand():
    mask = np.array([[0, 0, 1, 1], [2, 255, 1, 0]])
    pred = np.array([[0, 2, 1, 0], [2, 1, 1, 0]])
    v = compute_prediction_view(np.zeros((2, 4, 3), np.uint8), mask, pred, 3)
    assert v.error_map.tolist() == [[CORRECT, 2, CORRECT, 0], [CORRECT, 255, CORRECT, CORRECT]]
    assert v.wrong.sum() == v.num_wrong == 2 and v.num_ignored == 1
    assert v.pixel_accuracy == 5 / 7  # the void pixel is not scored, whatever was predicted there
    assert v.image.shape == (2, 4, 3)


def test_bad_input_says_what_works():
    image = np.zeros((4, 4, 3), np.uint8)
    good = np.zeros((4, 4), np.int64)
    with pytest.raises(ValueError, match="must share the same \\[H, W\\]"):
        compute_prediction_view(image, good, np.zeros((4, 5), np.int64), 3)
    with pytest.raises(ValueError, match="prediction holds 3 .* outside the classes 0 to 2"):
        compute_prediction_view(image, good, np.full((4, 4), 3), 3)
    with pytest.raises(ValueError, match="mask holds 5"):
        compute_prediction_view(image, np.full((4, 4), 5), good, 3)
    with pytest.raises(ValueError, match="argmax\\(0\\)"):
        compute_prediction_view(image, good, np.zeros((3, 4, 4), np.float32), 3)
    with pytest.raises(ValueError, match="long\\(\\)"):
        compute_prediction_view(image, good, np.zeros((4, 4), np.float32), 3)
    with pytest.raises(ValueError, match="3 colour channels"):
        compute_prediction_view(np.zeros((4, 4, 2), np.uint8), good, good, 3)


@pytest.mark.parametrize("batch_size", [1, 2, 5])
def test_predict_labels_is_the_argmax_in_eval_mode(batch_size):
    torch.manual_seed(0)
    model = FCN8s(3, channels=(4, 4, 8, 8, 8), num_convs=1, fc_channels=8, zero_init_skips=False).train()
    images = torch.rand(5, 3, 40, 36)
    labels = predict_labels(model, images, batch_size=batch_size)
    assert model.training
    with torch.no_grad():
        expected = model.eval()(images).argmax(1).numpy()
    np.testing.assert_array_equal(labels, expected)
    with pytest.raises(ValueError, match="Tensor \\[N, 3, H, W\\]"):
        predict_labels(model, images[0])


def test_demo_is_imperfect_but_close(demo):
    images, masks, predictions = demo
    again = demo_predictions(4, size=48, seed=2)
    assert all(torch.equal(a, b) for a, b in zip(demo, again))
    assert ((masks == 255) | (masks < 7)).all() and (predictions < 7).all() and (predictions >= 0).all()
    clean = demo_predictions(4, size=48, seed=2, ignore_index=99)[1]
    assert ((masks == 255) == (clean == 99)).all()  # the void band is the boundary, whatever its label
    for i in range(4):
        v = compute_prediction_view(images[i], masks[i], predictions[i], 7)
        assert 0 < v.num_wrong and 0.5 < v.pixel_accuracy < 1


def test_figure_draws_the_view(demo):
    images, masks, predictions = demo
    v = compute_prediction_view(images[1], masks[1], predictions[1], 7)
    fig = figure_prediction_view(v, heading="image 1: ")
    void = SYNTHETIC_PALETTE[255]
    truth = np.asarray(fig.data[1].z)
    np.testing.assert_array_equal(truth[v.ignored], np.broadcast_to(void, truth[v.ignored].shape))
    np.testing.assert_array_equal(truth[~v.ignored], SYNTHETIC_PALETTE[v.mask[~v.ignored]])
    np.testing.assert_array_equal(np.asarray(fig.data[2].z), SYNTHETIC_PALETTE[v.prediction])
    errors = np.asarray(fig.data[3].z)
    assert (errors[v.wrong] == WRONG_COLOR).all() and (errors[v.ignored] == void).all()
    correct = errors[~v.wrong & ~v.ignored]
    assert (correct[:, 0] == correct[:, 1]).all() and (correct[:, 1] == correct[:, 2]).all()  # grey
    assert correct.min() >= 120
    assert f"{100 * v.pixel_accuracy:.1f} %" in fig.layout.title.text and f"{v.mean_iou:.2f}" in fig.layout.title.text
    assert fig.layout.title.text.startswith("image 1: ")
    assert f"<b>{v.num_wrong}</b> wrong" in fig.layout.annotations[3].text
    hover = np.asarray(fig.data[3].hovertext)
    r, c = np.argwhere(v.wrong)[0]
    assert hover[r, c].startswith("✗ true ")
    r, c = np.argwhere(v.ignored)[0]
    assert hover[r, c] == "void: not scored"
    assert fig.layout.yaxis4.scaleanchor == "x4"


def test_update_equals_a_fresh_figure(demo):
    images, masks, predictions = demo
    a = compute_prediction_view(images[0], masks[0], predictions[0], 7)
    b = compute_prediction_view(images[2], masks[2], predictions[2], 7)
    fig = figure_prediction_view(a)
    update_prediction_view(fig, b, heading="two: ")
    fresh = figure_prediction_view(b, heading="two: ")
    for k in range(4):
        np.testing.assert_array_equal(np.asarray(fig.data[k].z), np.asarray(fresh.data[k].z))
    assert fig.layout.title.text == fresh.layout.title.text
    assert [x.text for x in fig.layout.annotations] == [x.text for x in fresh.layout.annotations]
