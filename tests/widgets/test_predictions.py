"""PredictionViewer without a browser: move the slider, compare the figure with segviz.metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segviz.data import SYNTHETIC_PALETTE
from segviz.metrics import confusion_matrix, segmentation_scores
from segviz.models import FCN8s
from segviz.viz.predictions import WRONG_COLOR, demo_predictions
from segviz.widgets.predictions import PredictionViewer
from tests.widgets.helpers import set_controls


@pytest.fixture(scope="module")
def viewer():
    return PredictionViewer()


@pytest.mark.parametrize("index", [0, 3, 5, 1])
def test_figure_follows_the_slider(viewer, index):
    set_controls(viewer, index=index)
    mask, pred = torch.as_tensor(viewer.masks[index]), torch.as_tensor(viewer.predictions[index])
    scores = segmentation_scores(confusion_matrix(pred, mask, 7))
    fig = viewer.figure
    np.testing.assert_array_equal(np.asarray(fig.data[2].z), SYNTHETIC_PALETTE[pred.numpy()])
    wrong = ((pred != mask) & (mask != 255)).numpy()
    errors = np.asarray(fig.data[3].z)
    assert (errors[wrong] == WRONG_COLOR).all() and not (errors[~wrong] == WRONG_COLOR).all(axis=-1).any()
    assert (errors[(mask == 255).numpy()] == SYNTHETIC_PALETTE[255]).all()
    title = fig.layout.title.text
    assert title.startswith(f"image #{index} of 6")
    assert f"pixel accuracy <b>{100 * scores['pixel_accuracy']:.1f} %</b>" in title
    assert f"mean IoU <b>{scores['mean_iou']:.2f}</b>" in title


def test_label_gives_the_set_scores_from_one_confusion_matrix(viewer):
    masks = torch.stack([torch.as_tensor(m) for m in viewer.masks])
    preds = torch.stack([torch.as_tensor(p) for p in viewer.predictions])
    overall = segmentation_scores(confusion_matrix(preds, masks, 7))
    assert f"All 6 images (one confusion matrix): pixel accuracy {100 * overall['pixel_accuracy']:.1f} %" \
        in viewer.label.value
    assert f"mean IoU {overall['mean_iou']:.2f}." in viewer.label.value


def test_the_figure_is_built_once(viewer):
    figure = viewer.figure
    set_controls(viewer, index=2)
    set_controls(viewer, index=4)
    assert viewer.figure is figure and viewer.children[-1] is figure


def test_a_model_gives_its_argmax():
    images, masks, _ = demo_predictions(3, size=40, seed=1)
    torch.manual_seed(0)
    model = FCN8s(7, channels=(4, 4, 8, 8, 8), num_convs=1, fc_channels=8, zero_init_skips=False)
    viewer = PredictionViewer(images, masks, model=model, batch_size=2)
    with torch.no_grad():
        expected = model.eval()(images).argmax(1)
    set_controls(viewer, index=2)
    np.testing.assert_array_equal(np.asarray(viewer.figure.data[2].z), SYNTHETIC_PALETTE[expected[2].numpy()])


def test_lists_of_images_of_different_sizes():
    a = demo_predictions(1, size=32, seed=0)
    b = demo_predictions(1, size=48, seed=1)
    viewer = PredictionViewer([a[0][0], b[0][0]], [a[1][0], b[1][0]], [a[2][0], b[2][0]])
    set_controls(viewer, index=1)
    assert np.asarray(viewer.figure.data[2].z).shape == (48, 48, 3)
    assert list(viewer.figure.layout.xaxis.range) == [-0.5, 47.5]


def test_bad_input_says_what_works():
    images, masks, preds = demo_predictions(3, size=32)
    with pytest.raises(ValueError, match="3 images, 2 masks and 3 predictions"):
        PredictionViewer(images, masks[:2], preds)
    with pytest.raises(ValueError, match="image 1: .*must share the same \\[H, W\\]"):
        PredictionViewer(images, masks, [preds[0], preds[1][:16], preds[2]])
    bad = preds.clone()
    bad[2, 0, 0] = 7
    with pytest.raises(ValueError, match="image 2: prediction holds 7"):
        PredictionViewer(images, masks, bad)
    six = masks.clone()
    six[0, 0, 0] = 6
    with pytest.raises(ValueError, match="image 0: mask holds 6 .* give one class name per class"):
        PredictionViewer(images, six, preds, class_names=("background", "disk", "square", "triangle", "ring", "bar"))
    with pytest.raises(ValueError, match="pass one: predictions"):
        PredictionViewer(images, masks, preds, model=FCN8s(7))
    with pytest.raises(ValueError, match="masks not given"):
        PredictionViewer(images, predictions=preds)
    with pytest.raises(ValueError, match="neither predictions nor model"):
        PredictionViewer(images, masks)
