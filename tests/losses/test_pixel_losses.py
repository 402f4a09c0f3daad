"""pixel_losses: each map against F.cross_entropy, and each map's normalised sum is its loss."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from segviz.losses import bootstrapped_cross_entropy, class_weights, cross_entropy, pixel_losses


def case(n: int, c: int, h: int, w: int, *, seed: int, ignore_share: float = 0.2):
    """Seeded float64 logits [N, C, H, W] and targets [N, H, W] with some pixels 255."""
    generator = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(n, c, h, w, generator=generator, dtype=torch.float64)
    target = torch.randint(0, c, (n, h, w), generator=generator)
    return logits, target.masked_fill(torch.rand(n, h, w, generator=generator) < ignore_share, 255)


LOGITS, TARGET = case(2, 4, 6, 7, seed=0)
VALID = TARGET != 255


def test_smoke():
    for kind, extra in [("cross_entropy", {}), ("weighted", {}), ("bootstrapped", {"top_k": 5})]:
        losses = pixel_losses(LOGITS, TARGET, kind, **extra)
        assert losses.shape == TARGET.shape and losses.dtype == LOGITS.dtype


def test_hand_computed():
    p_true = torch.tensor([0.9, 0.6, 0.3, 0.1], dtype=torch.float64)
    logits = torch.stack([p_true, 1 - p_true]).log()[None, :, None, :]  # [1, 2, 1, 4]
    target = torch.tensor([[[0, 0, 0, 255]]])
    # -ln 0.9 = 0.10536, -ln 0.6 = 0.51083, -ln 0.3 = 1.20397; the 4th pixel is ignored
    assert pixel_losses(logits, target).flatten().tolist() == pytest.approx([0.10536, 0.51083, 1.20397, 0.0], abs=1e-5)
    # class 1 weighs 3: only its pixels change; class 1 is the true class nowhere here
    weight = torch.tensor([2.0, 3.0], dtype=torch.float64)
    weighted = pixel_losses(logits, target, "weighted", weight=weight).flatten().tolist()
    assert weighted == pytest.approx([0.21072, 1.02165, 2.40795, 0.0], abs=1e-5)
    hardest_two = pixel_losses(logits, target, "bootstrapped", top_k=2).flatten().tolist()
    assert hardest_two == pytest.approx([0.0, 0.51083, 1.20397, 0.0], abs=1e-5)


def test_cross_entropy_map_equals_f_cross_entropy_and_averages_to_the_loss():
    losses = pixel_losses(LOGITS, TARGET)
    assert_close(losses, F.cross_entropy(LOGITS, TARGET, ignore_index=255, reduction="none"))
    assert_close(losses.sum() / VALID.sum(), cross_entropy(LOGITS, TARGET))


def test_weighted_map_with_given_and_with_batch_weights():
    weight = torch.tensor([0.5, 1.0, 4.0, 2.0], dtype=torch.float64)
    losses = pixel_losses(LOGITS, TARGET, "weighted", weight=weight)
    assert_close(losses, F.cross_entropy(LOGITS, TARGET, weight=weight, ignore_index=255, reduction="none"))
    assert_close(losses.sum() / weight[TARGET[VALID]].sum(), cross_entropy(LOGITS, TARGET, weight=weight))
    batch_weight = class_weights(TARGET, 4).double()  # weight=None: ENet weights of this batch
    assert_close(pixel_losses(LOGITS, TARGET, "weighted"), pixel_losses(LOGITS, TARGET, "weighted", weight=batch_weight))


@pytest.mark.parametrize("selection", [dict(top_k=9), dict(top_k=0.4), dict(threshold=1.5), dict(threshold=8.0, min_k=4)])
def test_bootstrapped_map_keeps_the_hardest_and_averages_to_the_loss(selection):
    losses = pixel_losses(LOGITS, TARGET, "bootstrapped", **selection)
    full = F.cross_entropy(LOGITS, TARGET, ignore_index=255, reduction="none")
    kept = losses != 0
    assert_close(losses[kept], full[kept])  # the kept pixels carry their cross-entropy
    assert full[kept].min() >= full[VALID & ~kept].max()  # ... and they are the hardest labelled ones
    assert_close(losses.sum() / kept.sum(), bootstrapped_cross_entropy(LOGITS, TARGET, **selection))


def test_ignored_pixels_are_zero_in_every_map():
    for kind, extra in [("cross_entropy", {}), ("weighted", {}), ("bootstrapped", {"top_k": 1.0})]:
        losses = pixel_losses(LOGITS, TARGET, kind, **extra)
        assert bool((losses[~VALID] == 0).all()) and bool((losses[VALID] > 0).all())


def test_map_is_differentiable():
    x = LOGITS.clone().requires_grad_()
    pixel_losses(x, TARGET, "bootstrapped", top_k=3).sum().backward()
    assert int((x.grad != 0).any(1).sum()) == 3


BAD_INPUTS = [
    pytest.param(lambda: pixel_losses(LOGITS, TARGET, "ce"),
                 "kind 'ce' given; kind must be one of 'cross_entropy', 'weighted', 'bootstrapped'", id="kind"),
    pytest.param(lambda: pixel_losses(LOGITS, TARGET, weight=torch.ones(4)),
                 "weight given with kind='cross_entropy'; class weights belong to kind='weighted'", id="weight"),
    pytest.param(lambda: pixel_losses(LOGITS, TARGET, "weighted", top_k=3),
                 r"top_k=3, .* given with kind='weighted'; they choose the pixels of kind='bootstrapped'", id="top-k"),
    pytest.param(lambda: pixel_losses(LOGITS, TARGET, "bootstrapped"), "give exactly one", id="no-selection"),
    pytest.param(lambda: pixel_losses(LOGITS, TARGET, "weighted", weight=torch.ones(3)),
                 r"weight of shape \(3,\) given", id="weight-shape"),
    pytest.param(lambda: pixel_losses(LOGITS, TARGET.float()), "target of dtype torch.float32", id="target"),
]


@pytest.mark.parametrize("call, message", BAD_INPUTS)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
