from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from segviz.data import SYNTHETIC_CLASSES, make_scenes
from segviz.losses import bootstrapped_cross_entropy, class_weights
from segviz.metrics import trimap_mask
from segviz.viz.losses import (
    BARS,
    CE_BARS,
    COUNTED,
    LOG_CEIL,
    LOG_FLOOR,
    LOSS_MAP,
    NOT_COUNTED,
    compute_losses,
    default_loss_inputs,
    figure_losses,
    half_trained_logits,
    loss_inputs,
    update_losses,
)

BAR = SYNTHETIC_CLASSES.index("bar")


@pytest.fixture(scope="module")
def default():
    return default_loss_inputs()


@pytest.fixture(scope="module")
def with_void():
    """Random logits for a 3-class 13×17 target with a band of ignored (255) pixels and a rare class."""
    g = torch.Generator().manual_seed(0)
    target = torch.randint(0, 2, (1, 13, 17), generator=g)
    target[0, 4:6, 3:5] = 2  # 4 pixels of a rare class
    target[0, :, 10] = 255  # an unlabelled column
    logits = 2 * torch.randn(1, 3, 13, 17, generator=g, dtype=torch.float64)
    return loss_inputs(logits, target)


def _oracle(inputs, kind, c=1.02, mode="top_k", top_k=0.1, threshold=0.7, min_k=1):
    """The scalar from PyTorch alone: F.cross_entropy, and a sort for bootstrapping."""
    logits, target = inputs.logits, inputs.target
    if kind == "cross_entropy":
        return float(F.cross_entropy(logits, target, ignore_index=255))
    if kind == "weighted":
        valid = target[target != 255]
        p = torch.bincount(valid, minlength=logits.shape[1]).double() / valid.numel()
        weight = 1 / torch.log(c + p)  # ENet, by hand
        return float(F.cross_entropy(logits, target, weight=weight, ignore_index=255))
    per_pixel = F.cross_entropy(logits, target, ignore_index=255, reduction="none")[target != 255]  # [P]
    hardest = per_pixel.sort(descending=True).values
    if mode == "top_k":
        k = max(1, int(top_k * len(per_pixel) + 0.5))
        return float(hardest[:k].mean())
    above = per_pixel[per_pixel > -math.log(threshold)]
    return float(above.mean()) if len(above) >= min_k else float(hardest[:min_k].mean())


SETTINGS = [
    dict(kind="cross_entropy"),
    dict(kind="weighted", c=1.02),
    dict(kind="weighted", c=1.5),
    dict(kind="bootstrapped", mode="top_k", top_k=0.1),
    dict(kind="bootstrapped", mode="top_k", top_k=1.0),
    dict(kind="bootstrapped", mode="threshold", threshold=0.7, min_k=1),
    dict(kind="bootstrapped", mode="threshold", threshold=0.7, min_k=300),
    dict(kind="bootstrapped", mode="threshold", threshold=0.99, min_k=1),
]


@pytest.mark.parametrize("inputs_name", ["default", "with_void"])
@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: "-".join(str(v) for v in s.values()))
def test_map_mean_is_the_scalar_loss_and_pytorchs(inputs_name, settings, request):
    inputs = request.getfixturevalue(inputs_name)
    min_k = settings.get("min_k", 1)
    min_k = min(min_k, int((inputs.target != 255).sum()))
    settings = {**settings, "min_k": min_k} if "min_k" in settings else settings
    r = compute_losses(inputs, **settings)
    valid = (inputs.target[0] != 255).numpy()
    np.testing.assert_array_equal(r.valid, valid)
    assert (r.loss_map[~valid] == 0).all() and (r.loss_map[~r.counted] == 0).all()
    expected = _oracle(inputs, **settings)
    assert r.loss == pytest.approx(expected, abs=1e-6)
    if r.kind == "weighted":  # the map's sum over the summed weights of the labelled pixels
        w = class_weights(inputs.target, inputs.num_classes, c=settings["c"]).double().numpy()
        np.testing.assert_allclose(r.weights, w)
        denominator = w[np.where(valid, inputs.target[0].numpy(), 0)][valid].sum()
        assert r.loss_map.sum() / denominator == pytest.approx(expected, abs=1e-6)
        np.testing.assert_allclose(r.loss_map[valid], (w[inputs.target[0].numpy()[valid]] * r.ce_map[valid]))
    else:  # the mean over the labelled (cross-entropy) or the kept (bootstrapped) pixels
        assert r.loss_map[r.counted].mean() == pytest.approx(expected, abs=1e-6)
    if r.kind == "bootstrapped":
        assert r.loss == pytest.approx(float(bootstrapped_cross_entropy(
            inputs.logits, inputs.target, **({"top_k": r.top_k} if r.mode == "top_k" else
                                             {"threshold": -math.log(r.threshold), "min_k": r.min_k}))), abs=1e-12)
        # the kept pixels are the hardest: none left out is harder than one kept
        assert r.ce_map[valid & ~r.counted].max(initial=0) <= r.ce_map[r.counted].min() + 1e-12
    else:
        np.testing.assert_array_equal(r.counted, valid)
    # the bars split the loss: contributions sum to it, shares to 1
    assert r.contributions.sum() == pytest.approx(r.loss, rel=1e-9)
    assert r.shares.sum() == pytest.approx(1.0) and r.ce_shares.sum() == pytest.approx(1.0)
    target = inputs.target[0].numpy()
    for k in r.present:
        expected_share = r.loss_map[r.counted & (target == k)].sum() / r.loss_map[r.counted].sum()
        assert r.shares[k] == pytest.approx(expected_share)


def test_the_default_prediction_and_what_each_loss_does_with_it(default):
    target = default.target[0].numpy()
    assert default.class_names[default.rare_class] == "bar" and (target == BAR).sum() == 91
    assert torch.equal(default.target, make_scenes(16, 64, seed=1).masks[15:16])  # lecture 07's data set
    plain, weighted = compute_losses(default), compute_losses(default, "weighted")
    band = trimap_mask(default.target, 1)[0].numpy()
    # confident and right inside regions, the bar under-predicted
    assert (plain.p_true[~band & (target != BAR)] > 0.9).all()
    assert ((plain.prediction == BAR) & (target == BAR)).sum() < 0.7 * (target == BAR).sum()
    # weighting lifts the rare class's share of the loss far above its 2 % of the pixels
    assert weighted.shares[BAR] > 0.75 > plain.shares[BAR] > 0.3
    assert weighted.weights[BAR] == pytest.approx(1 / math.log(1.02 + 91 / 4096))
    # bootstrapping keeps the boundaries and the bar
    hardest = compute_losses(default, "bootstrapped", top_k=0.1)
    assert hardest.num_counted == 410 and (hardest.counted & band).sum() == 410
    unsure = compute_losses(default, "bootstrapped", mode="threshold", threshold=0.7, min_k=1)
    assert unsure.num_counted == unsure.num_below == int((plain.p_true[plain.valid] < 0.7).sum())
    assert (unsure.counted & (target == BAR)).sum() / unsure.num_counted > 0.4


def test_half_trained_logits_is_lecture_07s_recipe(default):
    masks = make_scenes(4, 64, seed=1).masks
    one_hot = F.one_hot(masks, 7).permute(0, 3, 1, 2).double()
    blurred = F.avg_pool2d(one_hot, 3, stride=1, padding=1, count_include_pad=False)
    blurred[:, BAR] *= 0.3
    torch.testing.assert_close(half_trained_logits(masks, 7, BAR), 6 * blurred)
    noisy = half_trained_logits(masks, 7, BAR, noise=0.3, seed=2)
    assert torch.equal(noisy, half_trained_logits(masks, 7, BAR, noise=0.3, seed=2))  # seeded
    assert 0.25 < float((noisy - 6 * blurred).std()) < 0.35
    # ignored pixels get no class; the rare class defaults to the least frequent present one
    target = torch.tensor([[0, 0, 1, 255]])
    assert half_trained_logits(target, 3, blur=1, rare_scale=1.0)[0, :, 0, 3].tolist() == [0.0, 0.0, 0.0]
    assert half_trained_logits(target, 3, blur=1, rare_scale=0.5)[0, 1, 0, 2] == 3.0  # class 1: the rarest
    with pytest.raises(ValueError, match="blur 2 given; blur must be odd"):
        half_trained_logits(target, 3, blur=2)


def test_loss_inputs_from_a_model_restores_its_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Dropout(0.5)).train()
    image = torch.rand(3, 8, 8)
    target = torch.randint(0, 4, (8, 8))
    inputs = loss_inputs(model=model, image=image, target=target)
    assert model.training  # put back in training mode
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(inputs.logits, model(image[None]).double())  # run in eval mode: no dropout
    assert inputs.image.shape == (8, 8, 3) and inputs.class_names == ("class 0", "class 1", "class 2", "class 3")
    r = compute_losses(inputs)
    assert r.loss == pytest.approx(float(F.cross_entropy(inputs.logits, inputs.target)), abs=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    (dict(logits=torch.zeros(3, 4, 4)), "give logits and target, or model, image and target"),
    (dict(logits=torch.zeros(2, 3, 4, 4), target=torch.zeros(4, 4, dtype=torch.long)), "the explorer shows one image"),
    (dict(logits=torch.zeros(3, 4, 4), target=torch.zeros(5, 5, dtype=torch.long)),
     "logits of size 4x4 given for target of size 5x5"),
    (dict(logits=torch.zeros(3, 4, 4), target=torch.full((4, 4), 255)), "target has no labelled pixel"),
    (dict(logits=torch.zeros(3, 4, 4), target=torch.zeros(4, 4, dtype=torch.long), class_names=["a", "b"]),
     "2 class names given for 3 classes"),
    (dict(model=nn.Identity(), target=torch.zeros(4, 4, dtype=torch.long)), "model given without a float image"),
])
def test_bad_inputs_say_what_would_work(kwargs, message):
    with pytest.raises(ValueError, match=message):
        loss_inputs(**kwargs)


def test_bad_settings(default):
    with pytest.raises(ValueError, match="c 1.0 given; c must be a number > 1"):
        compute_losses(default, "weighted", c=1.0)
    with pytest.raises(ValueError, match="kind 'dice' given"):
        compute_losses(default, "dice")
    with pytest.raises(ValueError, match="threshold 1.5 given"):
        compute_losses(default, "bootstrapped", mode="threshold", threshold=1.5)


def test_figure_shows_the_result(default):
    r = compute_losses(default, "bootstrapped", top_k=0.1)
    fig = figure_losses(r)
    z = np.asarray(fig.data[LOSS_MAP].z)
    expected = np.where(r.counted, np.log10(np.clip(r.loss_map, 10**LOG_FLOOR, 10**LOG_CEIL)), NOT_COUNTED)
    np.testing.assert_allclose(z, expected, rtol=1e-6)
    assert fig.data[LOSS_MAP].zmin == NOT_COUNTED and fig.data[LOSS_MAP].zmax == LOG_CEIL  # one scale for every loss
    counted = np.asarray(fig.data[COUNTED].z)
    np.testing.assert_array_equal(counted[r.counted], default.image[r.counted])  # kept pixels: the image itself
    assert not (counted[~r.counted] == default.image[~r.counted]).all(axis=-1).any()  # the rest dimmed
    present = list(r.present)
    assert list(fig.data[BARS].x) == [default.class_names[k] for k in present]
    np.testing.assert_allclose(fig.data[BARS].y, r.shares[present], rtol=1e-6)
    np.testing.assert_allclose(fig.data[CE_BARS].y, r.ce_shares[present], rtol=1e-6)
    assert f"L = {r.loss:.4f}" in fig.layout.title.text and "410 hardest pixels" in fig.layout.title.text
    assert "kept: 410 of 4096 (10%)" in fig.layout.annotations[4].text


def test_update_equals_fresh_figure_with_and_without_previous(with_void):
    first = compute_losses(with_void)
    second = compute_losses(with_void, "bootstrapped", mode="threshold", threshold=0.5, min_k=20)
    fresh = figure_losses(second).to_json()
    fig = figure_losses(first)
    update_losses(fig, second)  # compared with what the figure holds
    assert fig.to_json() == fresh
    update_losses(fig, first, previous=second)  # compared with the previous result: nothing read back
    update_losses(fig, second, previous=first)
    assert fig.to_json() == fresh
