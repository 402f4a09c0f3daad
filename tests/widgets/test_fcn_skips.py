"""FCNSkipExplorer without a browser: move a control, compare the figure with the model and the metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segviz.data import make_scenes
from segviz.metrics import boundary_accuracy, confusion_matrix, segmentation_scores, trimap_mask
from segviz.models import FCN16s, FCN32s
from segviz.viz.fcn_skips import compute_fcn_skips, fit_score_layers
from segviz.widgets.fcn_skips import FCNSkipExplorer
from tests.widgets.helpers import set_controls

TINY = dict(channels=(4, 8, 8, 16, 16), num_convs=1, fc_channels=32)


class LogitsOnly(torch.nn.Module):
    """A segmentation model without FCN's score maps (like UNet or DeepLabV3)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 7, 1)

    def forward(self, x):
        return self.conv(x)


@pytest.fixture(scope="module")
def explorer():
    return FCNSkipExplorer()


@pytest.mark.parametrize("index, width", [(0, 3), (2, 1), (5, 8)])
def test_figure_follows_index_and_width(explorer, index, width):
    set_controls(explorer, show=-1, index=index, width=width)
    image, mask = explorer.images[index], explorer.masks[index]
    with torch.no_grad():
        logits, scores = explorer.model(image[None], return_scores=True)
    fig = explorer.figure
    np.testing.assert_array_equal(np.asarray(fig.data[8].z), logits.argmax(1)[0].numpy())  # the model's own output
    for s, trace in ((32, 1), (16, 2), (8, 3)):
        np.testing.assert_array_equal(np.asarray(fig.data[trace].z), scores[s][0].argmax(0).numpy())
    np.testing.assert_array_equal(np.asarray(fig.data[5].z), trimap_mask(mask, width).numpy())
    for s, trace in ((32, 6), (16, 7), (8, 8)):
        pred = torch.tensor(np.asarray(fig.data[trace].z))
        numbers = segmentation_scores(confusion_matrix(pred, mask, 7))
        title = fig.layout.annotations[trace - 1].text
        assert f"acc {100 * numbers['pixel_accuracy']:.1f} %" in title
        assert f"mIoU {numbers['mean_iou']:.2f}" in title
        assert f"boundary {100 * boundary_accuracy(pred, mask, width):.1f} %" in title
    assert f"within {width} px" in fig.layout.annotations[4].text and f"within {width} px" in explorer.label.value


def test_show_a_class_score_and_back(explorer):
    set_controls(explorer, index=1, width=3, show=4)
    expected = compute_fcn_skips(explorer.model, explorer.images[1], explorer.masks[1])
    fig = explorer.figure
    for s, coarse, full in ((32, 1, 6), (16, 2, 7), (8, 3, 8)):
        np.testing.assert_array_equal(np.asarray(fig.data[coarse].z), expected.coarse_scores[s][4])
        np.testing.assert_array_equal(np.asarray(fig.data[full].z), expected.logits[s][4])
    assert fig.data[6].showscale and "ring" in fig.data[6].colorbar.title.text
    assert fig.data[8].zmin == -fig.data[8].zmax
    set_controls(explorer, show=-1)
    np.testing.assert_array_equal(np.asarray(fig.data[8].z), expected.predictions[8])
    assert not fig.data[6].showscale and (fig.data[8].zmin, fig.data[8].zmax) == (-0.5, 7.5)


def test_label_reads_the_gain_of_the_skips(explorer):
    set_controls(explorer, show=-1, index=0, width=3)
    r = explorer.result
    assert explorer.label.value.startswith("FCN-8s, image 0, strides 32 → 16 → 8: mean IoU")
    assert f"{r.mean_iou[32]:.2f} → {r.mean_iou[16]:.2f} → {r.mean_iou[8]:.2f}" in explorer.label.value


def test_the_figure_is_built_once(explorer):
    figure = explorer.figure
    set_controls(explorer, index=4, show=2)
    set_controls(explorer, width=7, show=-1)
    assert explorer.figure is figure and explorer.children[-1] is figure


@pytest.fixture(scope="module")
def scenes():
    return make_scenes(3, size=64, seed=1)


@pytest.mark.parametrize("cls, missing", [(FCN32s, (16, 8)), (FCN16s, (8,))])
def test_fcn32s_and_fcn16s_leave_their_missing_columns_empty(scenes, cls, missing):
    torch.manual_seed(0)
    model = fit_score_layers(cls(7, **TINY), scenes.images, scenes.masks)
    explorer = FCNSkipExplorer(model, scenes.images, scenes.masks)
    assert "panels stay empty" in explorer.message.value
    columns = {32: 0, 16: 1, 8: 2}
    for s in missing:
        assert np.asarray(explorer.figure.data[1 + columns[s]].z).size == 0
        assert f"no stride-{s} scores" in explorer.figure.layout.annotations[8 + columns[s]].text
    finest = 16 if cls is FCN16s else 32
    set_controls(explorer, index=2)
    with torch.no_grad():
        expected = model.eval()(scenes.images[2:3]).argmax(1)[0].numpy()
    np.testing.assert_array_equal(np.asarray(explorer.figure.data[6 + columns[finest]].z), expected)


def test_bad_arguments_say_what_works(scenes):
    with pytest.raises(ValueError, match="pass a segviz FCN"):
        FCNSkipExplorer(LogitsOnly(), scenes.images, scenes.masks)
    with pytest.raises(ValueError, match="3 images and 2 masks"):
        FCNSkipExplorer(None, scenes.images, scenes.masks[:2])
    with pytest.raises(ValueError, match="mask holds [2-6] .*outside the classes 0 to 1 of num_classes=2"):
        FCNSkipExplorer(None, scenes.images, scenes.masks, class_names=("a", "b"))  # the demo model has 2 classes
    model = FCN16s(7, **TINY)
    with pytest.raises(ValueError, match="2 class names given for 7 classes"):
        FCNSkipExplorer(model, scenes.images, scenes.masks, class_names=("a", "b"))
