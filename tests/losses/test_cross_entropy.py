"""cross_entropy: a hand-computed table, then F.cross_entropy as the oracle (values and gradients)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from segviz.losses import CrossEntropy, cross_entropy


def case(n, c, h, w, *, seed, ignore_share=0.2, ignore_index=255, dtype=torch.float64):
    """Seeded logits [N, C, H, W] and targets [N, H, W] with some pixels set to ``ignore_index``."""
    generator = torch.Generator().manual_seed(seed)
    logits = (3 * torch.randn(n, c, h, w, generator=generator, dtype=torch.float64)).to(dtype)
    target = torch.randint(0, c, (n, h, w), generator=generator)
    target = target.masked_fill(torch.rand(n, h, w, generator=generator) < ignore_share, ignore_index)
    return logits, target


def test_smoke():
    logits, target = case(2, 4, 5, 6, seed=0)
    assert cross_entropy(logits, target).shape == ()
    assert cross_entropy(logits, target, reduction="none").shape == (2, 5, 6)


# The lecture's table: the true class is "dog"; the classes are [dog, fox, horse, eagle, squirrel].
# With a one-hot target the cross-entropy -Σ_c y_c ln p_c keeps one term, -ln p_dog:
#   p = [0.70, 0.10, 0.10, 0.05, 0.05]  ->  -ln 0.70 = 0.3567  (confident and right)
#   p = [0.30, 0.40, 0.10, 0.10, 0.10]  ->  -ln 0.30 = 1.2040  (unsure, fox preferred)
#   p = [0.05, 0.80, 0.05, 0.05, 0.05]  ->  -ln 0.05 = 2.9957  (confident and wrong)
TABLE = [
    ([0.70, 0.10, 0.10, 0.05, 0.05], 0.3567),
    ([0.30, 0.40, 0.10, 0.10, 0.10], 1.2040),
    ([0.05, 0.80, 0.05, 0.05, 0.05], 2.9957),
]


def test_lecture_table_one_hot_cross_entropy_is_minus_log_p_true():
    probabilities = torch.tensor([p for p, _ in TABLE], dtype=torch.float64)  # [3 rows, 5 classes]
    logits = probabilities.log()[:, :, None, None] + 4.0  # [3, 5, 1, 1]; softmax ignores the shift
    dog = torch.zeros(3, 1, 1, dtype=torch.long)
    per_row = cross_entropy(logits, dog, reduction="none").flatten()
    assert [round(v, 4) for v in per_row.tolist()] == [expected for _, expected in TABLE]
    assert round(cross_entropy(logits, dog).item(), 4) == 1.5188  # (0.35667 + 1.20397 + 2.99573) / 3


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(
    n=st.integers(1, 3), c=st.integers(1, 5), h=st.integers(1, 5), w=st.integers(1, 5),
    weighted=st.booleans(), ignore_index=st.sampled_from([255, -100]),
    reduction=st.sampled_from(["mean", "sum", "none"]), seed=st.integers(0, 2**16),
)
def test_equals_f_cross_entropy(n, c, h, w, weighted, ignore_index, reduction, seed):
    logits, target = case(n, c, h, w, seed=seed, ignore_index=ignore_index)
    target[0, 0, 0] = 0  # at least one labelled pixel: the 0/0 of an all-ignored mean is tested apart
    weight = torch.rand(c, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + 0.1 if weighted else None
    expected = F.cross_entropy(logits, target, weight=weight, ignore_index=ignore_index, reduction=reduction)
    assert_close(cross_entropy(logits, target, ignore_index, weight, reduction), expected)


@pytest.mark.parametrize("weighted", [False, True])
def test_float32_equals_f_cross_entropy(weighted):
    logits, target = case(2, 6, 16, 16, seed=1, dtype=torch.float32)
    weight = torch.linspace(0.5, 3.0, 6) if weighted else None
    expected = F.cross_entropy(logits, target, weight=weight, ignore_index=255)
    assert_close(cross_entropy(logits, target, weight=weight), expected)


@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_equals_f_cross_entropy_and_is_zero_at_ignored_pixels(weighted):
    logits, target = case(2, 3, 4, 5, seed=2, ignore_share=0.3)
    weight = torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64) if weighted else None
    mine = logits.clone().requires_grad_()
    oracle = logits.clone().requires_grad_()
    cross_entropy(mine, target, weight=weight).backward()
    F.cross_entropy(oracle, target, weight=weight, ignore_index=255).backward()
    assert_close(mine.grad, oracle.grad)
    ignored = (target == 255)[:, None].expand_as(mine)
    assert bool(ignored.any()) and bool((mine.grad[ignored] == 0).all())


def test_gradcheck():
    logits, target = case(1, 3, 3, 4, seed=3)
    weight = torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: cross_entropy(x, target, weight=weight), (logits.requires_grad_(),))


def test_integer_masks_of_any_dtype_work():
    logits, target = case(1, 4, 6, 6, seed=4)
    expected = F.cross_entropy(logits, target, ignore_index=255)
    assert_close(cross_entropy(logits, target.to(torch.uint8)), expected)  # a PNG mask
    assert_close(cross_entropy(logits, target.to(torch.int32)), expected)


def test_no_labelled_pixel_gives_nan_mean_as_pytorch():
    logits = torch.randn(1, 3, 2, 2, dtype=torch.float64)
    target = torch.full((1, 2, 2), 255)
    assert math.isnan(cross_entropy(logits, target).item())
    assert math.isnan(F.cross_entropy(logits, target, ignore_index=255).item())
    assert cross_entropy(logits, target, reduction="sum").item() == 0.0


def test_large_logits_are_stable():
    logits = torch.tensor([[[[1000.0]], [[0.0]]]])  # [1, 2, 1, 1]: p = (1, e^-1000)
    assert cross_entropy(logits, torch.tensor([[[0]]])).item() == 0.0
    assert cross_entropy(logits, torch.tensor([[[1]]])).item() == 1000.0


def test_module_equals_function():
    logits, target = case(2, 3, 4, 4, seed=5)
    weight = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    module = CrossEntropy(ignore_index=255, weight=weight, reduction="sum")
    assert torch.equal(module(logits, target), cross_entropy(logits, target, 255, weight, "sum"))
    assert repr(module) == "CrossEntropy(ignore_index=255, reduction='sum', weight=Tensor[3])"
    assert "weight" in dict(module.named_buffers())  # moves with .to(device)
    assert repr(CrossEntropy()) == "CrossEntropy(ignore_index=255, reduction='mean')"


LOGITS, TARGET = case(2, 3, 4, 4, seed=0, dtype=torch.float32)
BAD_INPUTS = [
    pytest.param(lambda: cross_entropy(LOGITS, TARGET[:, None]),
                 r"target of shape \(2, 1, 4, 4\) given; .* target.squeeze\(1\)", id="channel-dim"),
    pytest.param(lambda: cross_entropy(LOGITS, F.one_hot(TARGET.clamp(max=2), 3).permute(0, 3, 1, 2).float()),
                 r"for one-hot targets \[N, C, H, W\] pass target.argmax\(1\)", id="one-hot"),
    pytest.param(lambda: cross_entropy(LOGITS, TARGET.float()),
                 r"target of dtype torch.float32 .* target.long\(\)", id="float-target"),
    pytest.param(lambda: cross_entropy(LOGITS[..., :2, :2], TARGET),
                 r"logits of size 2x2 given for target of size 4x4; .* F.interpolate", id="size"),
    pytest.param(lambda: cross_entropy(LOGITS, TARGET[:1]), r"same number of images N \(2 and 1\)", id="batch"),
    pytest.param(lambda: cross_entropy(LOGITS, TARGET, ignore_index=-100),
                 r"target holds 255 .* pass ignore_index=255", id="ignore-index"),
    pytest.param(lambda: cross_entropy(LOGITS, TARGET.masked_fill(TARGET == 1, 3)),
                 r"target holds 3 .* outside the classes 0 to 2 of num_classes=3", id="label-range"),
    pytest.param(lambda: cross_entropy(LOGITS.long(), TARGET),
                 "logits of dtype torch.int64 given; logits must be floating-point", id="int-logits"),
    pytest.param(lambda: cross_entropy(LOGITS[0], TARGET),
                 r"logits of shape \(3, 4, 4\) given; logits must have 4 dimensions", id="ndim"),
    pytest.param(lambda: cross_entropy(LOGITS, TARGET, weight=torch.ones(4)),
                 r"weight of shape \(4,\) given; .* \(C = 3\)", id="weight-shape"),
    pytest.param(lambda: cross_entropy(LOGITS, TARGET, weight=torch.tensor([1.0, -1.0, 1.0])),
                 r"weight holds -1.0 \(at index \(1,\)\); class weights must be finite", id="weight-negative"),
    pytest.param(lambda: cross_entropy(LOGITS, TARGET, reduction="avg"),
                 "reduction 'avg' given; reduction must be one of 'mean', 'sum', 'none'", id="reduction"),
    pytest.param(lambda: CrossEntropy(weight=torch.ones(2, 2)), r"weight of shape \(2, 2\) given", id="module-weight"),
]


@pytest.mark.parametrize("call, message", BAD_INPUTS)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
