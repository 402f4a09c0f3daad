"""bootstrapped_cross_entropy: by hand, against a sort-based reference, and where its gradient goes."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from segviz.losses import BootstrappedCrossEntropy, bootstrapped_cross_entropy, cross_entropy


def case(n: int, c: int, h: int, w: int, *, seed: int, ignore_share: float = 0.2):
    """Seeded float64 logits [N, C, H, W] and targets [N, H, W] with some pixels 255."""
    generator = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(n, c, h, w, generator=generator, dtype=torch.float64)
    target = torch.randint(0, c, (n, h, w), generator=generator)
    return logits, target.masked_fill(torch.rand(n, h, w, generator=generator) < ignore_share, 255)


def reference_kept(logits, target, *, top_k=None, threshold=None, min_k=1):
    """The reference: sort the labelled pixels' losses, hardest first, and take the documented number.

    Returns the flat positions (into [N·H·W]) of the kept pixels.
    """
    losses = F.cross_entropy(logits, target, ignore_index=255, reduction="none").flatten().tolist()
    labelled = [i for i, t in enumerate(target.flatten().tolist()) if t != 255]
    ranked = sorted(labelled, key=lambda i: losses[i], reverse=True)
    n = len(ranked)

    def how_many(k):  # an int is a count; a float a fraction of n, rounded half up, at least 1
        return min(n, k if isinstance(k, int) else max(1, math.floor(k * n + 0.5)))

    if top_k is not None:
        return ranked[: how_many(top_k)]
    above = [i for i in ranked if losses[i] > threshold]
    return above if len(above) >= how_many(min_k) else ranked[: how_many(min_k)]


def reference_loss(logits, target, **selection):
    losses = F.cross_entropy(logits, target, ignore_index=255, reduction="none").flatten()
    kept = reference_kept(logits, target, **selection)
    return losses[kept].mean()


def four_pixels():
    """Four pixels of two classes, true class 0 with probability 0.9, 0.6, 0.3, 0.1."""
    p_true = torch.tensor([0.9, 0.6, 0.3, 0.1], dtype=torch.float64)
    logits = torch.stack([p_true, 1 - p_true]).log()[None, :, None, :]  # [1, 2, 1, 4]
    return logits, torch.zeros(1, 1, 4, dtype=torch.long)


def test_smoke():
    logits, target = case(2, 4, 6, 6, seed=0)
    assert bootstrapped_cross_entropy(logits, target, top_k=10).shape == ()
    assert bootstrapped_cross_entropy(logits, target, threshold=0.5).shape == ()


# The four pixels' losses -ln p_true: -ln 0.9 = 0.10536, -ln 0.6 = 0.51083, -ln 0.3 = 1.20397,
# -ln 0.1 = 2.30259.
@pytest.mark.parametrize(
    "selection, expected",
    [
        (dict(top_k=1), 2.30259),  # the hardest pixel alone
        (dict(top_k=2), 1.75328),  # (1.20397 + 2.30259) / 2
        (dict(top_k=0.5), 1.75328),  # half of 4 pixels
        (dict(top_k=0.6), 1.75328),  # 0.6 * 4 = 2.4 pixels, rounded to 2
        (dict(top_k=0.625), 1.33913),  # 0.625 * 4 = 2.5, rounded half up to 3: (0.51083 + 1.20397 + 2.30259) / 3
        (dict(threshold=-math.log(0.7)), 1.33913),  # p_true < 0.7: (0.51083 + 1.20397 + 2.30259) / 3
        (dict(threshold=0.0), 1.03069),  # every pixel: (0.10536 + 0.51083 + 1.20397 + 2.30259) / 4
        (dict(threshold=3.0), 2.30259),  # none above 3 nats: the min_k = 1 hardest
        (dict(threshold=3.0, min_k=2), 1.75328),  # none above: the 2 hardest
        (dict(threshold=1.0, min_k=0.75), 1.33913),  # 2 above 1 nat, fewer than 0.75 * 4 = 3: the 3 hardest
    ],
)
def test_hand_computed(selection, expected):
    logits, target = four_pixels()
    assert bootstrapped_cross_entropy(logits, target, **selection).item() == pytest.approx(expected, abs=1e-5)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    n=st.integers(1, 2), c=st.integers(2, 4), h=st.integers(1, 5), w=st.integers(1, 5),
    selection=st.one_of(
        st.builds(dict, top_k=st.integers(1, 60)),
        st.builds(dict, top_k=st.floats(0.01, 1.0)),
        st.builds(dict, threshold=st.floats(0.0, 4.0), min_k=st.integers(1, 30)),
        st.builds(dict, threshold=st.floats(0.0, 4.0), min_k=st.floats(0.01, 1.0)),
    ),
    seed=st.integers(0, 2**16),
)
def test_equals_sort_based_reference(n, c, h, w, selection, seed):
    logits, target = case(n, c, h, w, seed=seed)
    target[0, 0, 0] = 0  # at least one labelled pixel
    assert_close(bootstrapped_cross_entropy(logits, target, **selection), reference_loss(logits, target, **selection))


@pytest.mark.parametrize("selection", [dict(top_k=7), dict(top_k=0.3), dict(threshold=1.0), dict(threshold=9.0, min_k=5)])
def test_gradient_flows_through_the_kept_pixels_only(selection):
    logits, target = case(2, 3, 5, 6, seed=1)
    x = logits.clone().requires_grad_()
    bootstrapped_cross_entropy(x, target, **selection).backward()
    kept = torch.zeros(target.numel(), dtype=torch.bool)
    kept[reference_kept(logits, target, **selection)] = True
    kept = kept.reshape(target.shape)  # [N, H, W]
    touched = (x.grad != 0).any(1)  # [N, H, W]: pixels with a gradient
    assert torch.equal(touched, kept)
    # and that gradient is the one of a plain cross-entropy over the kept pixels
    oracle = logits.clone().requires_grad_()
    F.cross_entropy(oracle, target.masked_fill(~kept, 255), ignore_index=255).backward()
    assert_close(x.grad, oracle.grad)


def test_keeping_everything_is_cross_entropy():
    logits, target = case(2, 3, 5, 5, seed=2)
    expected = cross_entropy(logits, target)
    assert_close(bootstrapped_cross_entropy(logits, target, top_k=1.0), expected)
    assert_close(bootstrapped_cross_entropy(logits, target, top_k=10_000), expected)  # more than there are


def test_fraction_is_rounded_half_up_and_at_least_one():
    logits, target = case(1, 3, 2, 5, seed=3, ignore_share=0.0)  # 10 labelled pixels
    for fraction, count in [(0.25, 3), (0.24, 2), (0.01, 1), (1.0, 10)]:
        x = logits.clone().requires_grad_()
        bootstrapped_cross_entropy(x, target, top_k=fraction).backward()
        assert int((x.grad != 0).any(1).sum()) == count, fraction


def test_ties_do_not_change_the_value():
    logits = torch.zeros(1, 3, 2, 3, dtype=torch.float64)  # every pixel: p_true = 1/3, loss ln 3
    target = torch.tensor([[[0, 1, 2], [2, 1, 0]]])
    for k in (1, 2, 5):
        assert bootstrapped_cross_entropy(logits, target, top_k=k).item() == pytest.approx(math.log(3))


def test_ignored_pixels_are_never_kept():
    logits, target = four_pixels()
    logits = torch.cat([logits, torch.tensor([[[[-50.0]], [[50.0]]]], dtype=torch.float64)], dim=3)  # a 5th, very wrong
    target = torch.tensor([[[0, 0, 0, 0, 255]]])  # ... but ignored
    assert bootstrapped_cross_entropy(logits, target, top_k=1).item() == pytest.approx(2.30259, abs=1e-5)
    assert math.isnan(bootstrapped_cross_entropy(logits, torch.full_like(target, 255), top_k=1).item())


def test_module_equals_function():
    logits, target = case(2, 3, 4, 4, seed=4)
    module = BootstrappedCrossEntropy(threshold=0.5, min_k=3)
    assert torch.equal(module(logits, target), bootstrapped_cross_entropy(logits, target, threshold=0.5, min_k=3))
    assert repr(module) == "BootstrappedCrossEntropy(threshold=0.5, min_k=3, ignore_index=255)"
    assert repr(BootstrappedCrossEntropy(top_k=0.25)) == "BootstrappedCrossEntropy(top_k=0.25, ignore_index=255)"


LOGITS, TARGET = case(1, 3, 4, 4, seed=0)
BAD_INPUTS = [
    pytest.param(lambda: bootstrapped_cross_entropy(LOGITS, TARGET),
                 "top_k=None and threshold=None given; give exactly one", id="neither"),
    pytest.param(lambda: bootstrapped_cross_entropy(LOGITS, TARGET, top_k=3, threshold=0.3),
                 "top_k=3 and threshold=0.3 given; give exactly one", id="both"),
    pytest.param(lambda: bootstrapped_cross_entropy(LOGITS, TARGET, top_k=0),
                 r"top_k 0 given; .* a fraction of the labelled pixels", id="top-k-0"),
    pytest.param(lambda: bootstrapped_cross_entropy(LOGITS, TARGET, top_k=1.5),
                 r"top_k 1.5 given; .* 0 < top_k <= 1", id="fraction"),
    pytest.param(lambda: bootstrapped_cross_entropy(LOGITS, TARGET, top_k=True), "top_k True given", id="bool"),
    pytest.param(lambda: bootstrapped_cross_entropy(LOGITS, TARGET, top_k=3, min_k=2),
                 "min_k=2 given with top_k=3; min_k is the floor of the threshold form only", id="min-k-with-top-k"),
    pytest.param(lambda: bootstrapped_cross_entropy(LOGITS, TARGET, threshold=-0.1),
                 "threshold -0.1 given; threshold must be a number >= 0", id="threshold"),
    pytest.param(lambda: bootstrapped_cross_entropy(LOGITS, TARGET, threshold=0.5, min_k=0),
                 "min_k 0 given", id="min-k"),
    pytest.param(lambda: bootstrapped_cross_entropy(LOGITS, TARGET[:, None], top_k=2),
                 r"pass target.squeeze\(1\)", id="target-shape"),
    pytest.param(lambda: BootstrappedCrossEntropy(), "give exactly one", id="module"),
]


@pytest.mark.parametrize("call, message", BAD_INPUTS)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
