"""compute_fcn_skips against the model itself, F.interpolate and segviz.metrics; the figure against the result."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segviz.data import make_scenes
from segviz.metrics import boundary_accuracy, confusion_matrix, segmentation_scores, trimap_mask
from segviz.models import FCN8s, FCN16s, FCN32s, UNet
from segviz.viz.fcn_skips import compute_fcn_skips, figure_fcn_skips, fit_score_layers, update_fcn_skips

TINY = dict(channels=(4, 8, 8, 16, 16), num_convs=1, fc_channels=32)


class LogitsOnly(torch.nn.Module):
    """A segmentation model without FCN's score maps (like UNet or DeepLabV3)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 7, 1)

    def forward(self, x):
        return self.conv(x)


@pytest.fixture(scope="module")
def scenes():
    return make_scenes(4, size=64, seed=0)


def _model(cls, scenes, seed=0):
    torch.manual_seed(seed)
    return fit_score_layers(cls(7, **TINY), scenes.images, scenes.masks).eval()


@pytest.fixture(scope="module")
def fcn8(scenes):
    return _model(FCN8s, scenes)


@pytest.mark.parametrize("size", [(64, 64), (50, 70), (33, 96)])
def test_finest_prediction_is_the_models_output_and_coarse_maps_are_its_scores(fcn8, size):
    h, w = size
    image = make_scenes(1, size=96, seed=3).images[0, :, :h, :w]
    r = compute_fcn_skips(fcn8, image)
    with torch.no_grad():
        logits, scores = fcn8(image[None], return_scores=True)
    assert r.strides == (32, 16, 8) and r.variant == "FCN-8s"
    np.testing.assert_array_equal(r.logits[8], logits[0].numpy())  # bit for bit: the model's own head
    np.testing.assert_array_equal(r.predictions[8], logits.argmax(1)[0].numpy())
    for s in (32, 16, 8):
        np.testing.assert_array_equal(r.coarse_scores[s], scores[s][0].numpy())
        np.testing.assert_array_equal(r.coarse_labels[s], scores[s][0].argmax(0).numpy())
        assert r.logits[s].shape == (7, h, w) and r.predictions[s].shape == (h, w)


def test_a_learned_final_upsampling_is_the_models_own(scenes):
    torch.manual_seed(0)
    model = FCN8s(7, freeze_final_upsampling=False, **TINY)
    fit_score_layers(model, scenes.images, scenes.masks).eval()
    with torch.no_grad():
        model.head.weight.mul_(torch.rand_like(model.head.weight) + 0.5)  # no longer bilinear
        logits = model(scenes.images[:1])
    r = compute_fcn_skips(model, scenes.images[0])
    np.testing.assert_array_equal(r.logits[8], logits[0].numpy())


def test_coarser_strides_are_bilinear_upsampling_of_their_scores(fcn8):
    image = make_scenes(1, size=128, seed=4).images[0]
    r = compute_fcn_skips(fcn8, image)
    for s in (32, 16):
        scores = torch.from_numpy(r.coarse_scores[s])[None]  # 128 is a multiple of 32: nothing cropped
        oracle = F.interpolate(scores, scale_factor=s, mode="bilinear", align_corners=False)[0]
        inner = slice(s // 2, 128 - s // 2)  # the transposed convolution equals it away from the border
        torch.testing.assert_close(torch.from_numpy(r.logits[s])[:, inner, inner], oracle[:, inner, inner],
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(r.predictions[s], r.logits[s].argmax(0))


def test_metrics_equal_segviz_metrics_and_a_numpy_count(fcn8, scenes):
    mask = scenes.masks[1].clone()
    mask[:3] = 255  # an unlabelled band
    r = compute_fcn_skips(fcn8, scenes.images[1], mask, width=2)
    labelled = mask.numpy() != 255
    for s in (32, 16, 8):
        pred = torch.from_numpy(r.predictions[s])
        scores = segmentation_scores(confusion_matrix(pred, mask, 7))
        assert r.pixel_accuracy[s] == scores["pixel_accuracy"]
        assert r.mean_iou[s] == scores["mean_iou"]
        assert r.boundary_accuracy[s] == boundary_accuracy(pred, mask, 2)
        right = (r.predictions[s] == mask.numpy())[labelled]
        assert r.pixel_accuracy[s] == pytest.approx(right.mean())
        ious = []
        for k in range(7):
            truth, guess = (mask.numpy() == k) & labelled, (r.predictions[s] == k) & labelled
            if (truth | guess).any():
                ious.append((truth & guess).sum() / (truth | guess).sum())
        assert r.mean_iou[s] == pytest.approx(np.mean(ious))
    np.testing.assert_array_equal(r.trimap, trimap_mask(mask, 2).numpy())
    assert not r.trimap[:3].any()


def test_the_skips_help_a_fitted_fcn8s():
    # FCN's claim (Table 1): each skip improves the scores; true here of the least-squares demo fit
    scenes = make_scenes(6, size=128, seed=0)
    torch.manual_seed(0)
    model = fit_score_layers(FCN8s(7), scenes.images, scenes.masks)
    results = [compute_fcn_skips(model, image, mask) for image, mask in zip(scenes.images, scenes.masks)]
    iou = {s: np.mean([r.mean_iou[s] for r in results]) for s in (32, 16, 8)}
    boundary = {s: np.mean([r.boundary_accuracy[s] for r in results]) for s in (32, 16, 8)}
    assert iou[32] < iou[16] < iou[8] and boundary[32] < boundary[16] < boundary[8]


def test_pure_eval_mode_no_grad_and_mode_restored(scenes):
    model = _model(FCN8s, scenes).train()
    first = compute_fcn_skips(model, scenes.images[2], scenes.masks[2])
    assert model.training  # restored
    second = compute_fcn_skips(model.eval(), scenes.images[2], scenes.masks[2])
    np.testing.assert_array_equal(first.logits[8], second.logits[8])  # dropout was off
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("cls, strides", [(FCN32s, (32,)), (FCN16s, (32, 16))])
def test_fcn32s_and_fcn16s_show_only_their_strides(scenes, cls, strides):
    model = _model(cls, scenes)
    r = compute_fcn_skips(model, scenes.images[0], scenes.masks[0])
    assert r.strides == strides and set(r.logits) == set(strides)
    with torch.no_grad():
        expected = model(scenes.images[:1]).argmax(1)[0].numpy()
    np.testing.assert_array_equal(r.predictions[strides[-1]], expected)
    assert "panels stay empty" in r.note
    fig = figure_fcn_skips(r)
    assert np.asarray(fig.data[3].z).size == 0 and np.asarray(fig.data[8].z).size == 0  # stride 8 is blank
    assert "no stride-8 scores" in fig.layout.annotations[10].text
    assert "no stride-8 scores" in fig.layout.annotations[13].text
    assert fig.layout.annotations[8].text == ""  # stride 32 is there


def test_a_model_without_return_scores_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="pass a segviz FCN"):
        compute_fcn_skips(UNet(3, 7, base_channels=4, depth=2), torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match="pass a segviz FCN"):
        compute_fcn_skips(LogitsOnly(), torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match="pass a segviz FCN"):
        compute_fcn_skips("fcn8s", torch.rand(3, 32, 32))


def test_bad_arguments_say_what_works(fcn8):
    image = torch.rand(3, 32, 32)
    with pytest.raises(ValueError, match="mask must be \\[H, W\\] with the image's size"):
        compute_fcn_skips(fcn8, image, torch.zeros(16, 16, dtype=torch.long))
    with pytest.raises(ValueError, match="pass mask.long"):
        compute_fcn_skips(fcn8, image, torch.zeros(32, 32))
    with pytest.raises(ValueError, match="show must be an integer between 0 and 6"):
        compute_fcn_skips(fcn8, image, show=7)
    with pytest.raises(ValueError, match="one image"):
        compute_fcn_skips(fcn8, torch.rand(2, 3, 32, 32))
    with pytest.raises(ValueError, match="mask holds 9 .*num_classes=7.*use a model with that many classes"):
        compute_fcn_skips(fcn8, image, torch.full((32, 32), 9))


def test_uint8_image_is_accepted(fcn8, scenes):
    rgb = (scenes.images[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    a = compute_fcn_skips(fcn8, rgb)
    b = compute_fcn_skips(fcn8, scenes.images[0])
    np.testing.assert_array_equal(a.logits[8], b.logits[8])
    np.testing.assert_array_equal(a.image, rgb)


def test_fit_score_layers_keeps_the_encoder_and_restores_the_mode(scenes):
    torch.manual_seed(1)
    model = FCN8s(7, **TINY).train()
    encoder = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    fit_score_layers(model, scenes.images, scenes.masks)
    assert model.training
    assert all(torch.equal(v, model.encoder.state_dict()[k]) for k, v in encoder.items())
    assert model.decoder.score_pool3.weight.abs().sum() > 0
    with pytest.raises(ValueError, match="segviz FCN"):
        fit_score_layers(LogitsOnly(), scenes.images, scenes.masks)
    with pytest.raises(ValueError, match="same N, H, W"):
        fit_score_layers(model, scenes.images, scenes.masks[:2])


# --- figure ----------------------------------------------------------------------------------

def _finite(fig) -> bool:
    for trace in fig.data:
        for name in ("z", "x0", "y0", "dx", "dy", "zmin", "zmax"):
            value = getattr(trace, name, None)
            if value is not None and np.asarray(value).dtype.kind == "f" and not np.isfinite(value).all():
                return False
    return True


def test_figure_draws_the_result(fcn8, scenes):
    r = compute_fcn_skips(fcn8, scenes.images[0], scenes.masks[0], width=4)
    fig = figure_fcn_skips(r)
    for s, coarse, full in ((32, 1, 6), (16, 2, 7), (8, 3, 8)):
        np.testing.assert_array_equal(np.asarray(fig.data[coarse].z), r.coarse_labels[s])
        np.testing.assert_array_equal(np.asarray(fig.data[full].z), r.predictions[s])
        assert (fig.data[coarse].x0, fig.data[coarse].dx) == ((s - 1) / 2, s)  # one block per unit, in pixels
        title = fig.layout.annotations[full - 1].text
        assert f"mIoU {r.mean_iou[s]:.2f}" in title and f"boundary {100 * r.boundary_accuracy[s]:.1f} %" in title
        assert f"acc {100 * r.pixel_accuracy[s]:.1f} %" in title
    np.testing.assert_array_equal(np.asarray(fig.data[4].z), r.mask)
    np.testing.assert_array_equal(np.asarray(fig.data[5].z), r.trimap.astype(np.uint8))
    assert np.asarray(fig.data[6].text)[0, 0].endswith(("background", "disk", "square", "triangle", "ring", "bar",
                                                        "cross"))
    assert fig.layout.yaxis2.scaleanchor == "x2" and list(fig.layout.yaxis.range) == [63.5, -0.5]
    assert _finite(fig)


def test_score_mode_draws_one_class_on_a_shared_scale(fcn8, scenes):
    r = compute_fcn_skips(fcn8, scenes.images[0], scenes.masks[0], show=2)
    fig = figure_fcn_skips(r)
    peak = max(float(np.abs(m[2]).max()) for m in (*r.coarse_scores.values(), *r.logits.values()))
    for s, coarse, full in ((32, 1, 6), (16, 2, 7), (8, 3, 8)):
        np.testing.assert_array_equal(np.asarray(fig.data[coarse].z), r.coarse_scores[s][2])
        np.testing.assert_array_equal(np.asarray(fig.data[full].z), r.logits[s][2])
        assert fig.data[full].zmax == pytest.approx(peak) and fig.data[full].zmin == pytest.approx(-peak)
    assert fig.data[6].showscale and "square" in fig.data[6].colorbar.title.text


def test_update_equals_a_fresh_figure(fcn8, scenes):
    a = compute_fcn_skips(fcn8, scenes.images[0], scenes.masks[0])
    b = compute_fcn_skips(fcn8, scenes.images[3], scenes.masks[3], width=6, show=4)
    fig = figure_fcn_skips(a)
    shown = update_fcn_skips(fig, b)
    fresh = figure_fcn_skips(b).to_dict()
    moved = fig.to_dict()
    for k in range(9):
        for key in ("z", "text", "zmin", "zmax", "x0", "dx", "hovertemplate"):
            np.testing.assert_array_equal(np.asarray(moved["data"][k].get(key)), np.asarray(fresh["data"][k].get(key)))
    assert [a["text"] for a in moved["layout"]["annotations"]] == [a["text"] for a in fresh["layout"]["annotations"]]
    update_fcn_skips(fig, a, previous=shown)
    np.testing.assert_array_equal(np.asarray(fig.data[8].z), a.predictions[8])
    assert math.isclose(fig.data[8].zmax, 7.5)
