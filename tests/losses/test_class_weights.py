"""class_counts and class_weights: ENet's 1 / ln(c + p) by hand, labels and counts agree."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from segviz.losses import class_counts, class_weights, cross_entropy


def labels(*shape: int, num_classes: int, seed: int, ignore_share: float = 0.2) -> torch.Tensor:
    """Skewed random labels (class 0 common, the last class rare), some pixels 255."""
    generator = torch.Generator().manual_seed(seed)
    skewed = (torch.rand(shape, generator=generator) ** 3 * num_classes).long()
    return skewed.masked_fill(torch.rand(shape, generator=generator) < ignore_share, 255)


def test_smoke():
    weights = class_weights(labels(2, 8, 8, num_classes=4, seed=0), 4)
    assert weights.shape == (4,) and weights.dtype == torch.get_default_dtype()


def test_hand_computed_weights():
    # counts 50, 0, 50 of 100 pixels: p = 0.5, 0, 0.5
    #   1 / ln(1.02 + 0.5) = 1 / ln 1.52 = 1 / 0.418710 = 2.3883
    #   1 / ln(1.02 + 0)   = 1 / ln 1.02 = 1 / 0.019803 = 50.4983 (the largest possible weight)
    assert class_weights(torch.tensor([50, 0, 50]), 3).tolist() == pytest.approx([2.3883, 50.4983, 2.3883], abs=1e-4)
    # one class covers everything: p = 1, 1 / ln 2.02 = 1 / 0.703098 = 1.4223 (the smallest)
    assert class_weights(torch.tensor([0, 7]), 2).tolist() == pytest.approx([50.4983, 1.4223], abs=1e-4)
    # c = 2: p = 0.5 gives 1 / ln 2.5 = 1 / 0.916291 = 1.0914
    assert class_weights(torch.tensor([1, 1]), 2, c=2).tolist() == pytest.approx([1.0914, 1.0914], abs=1e-4)


def test_class_counts_equal_a_counter():
    target = labels(3, 7, 9, num_classes=5, seed=1)
    counter = Counter(v for v in target.flatten().tolist() if v != 255)
    assert class_counts(target, 5).tolist() == [counter[k] for k in range(5)]
    assert class_counts(target.to(torch.uint8), 5).tolist() == [counter[k] for k in range(5)]


def test_labels_and_counts_agree_and_counts_add_up_over_a_dataset():
    batches = [labels(2, 6, 6, num_classes=4, seed=s) for s in range(3)]
    counts = sum(class_counts(b, 4) for b in batches)
    assert_close(class_weights(counts, 4), class_weights(torch.cat(batches), 4))
    frequency = counts.double() / counts.sum()
    assert_close(class_weights(counts, 4), (1 / torch.log(1.02 + frequency)).float())  # the formula, once more
    assert_close(class_weights(counts.double(), 4), class_weights(counts, 4))  # float counts too


def test_rarer_classes_weigh_more_and_weights_are_bounded():
    weights = class_weights(torch.tensor([1000, 100, 10, 1, 0]), 5)
    assert weights.tolist() == sorted(weights.tolist())
    assert 1.4222 < weights.min() and weights.max() < 50.4984


def test_ignored_pixels_are_not_counted():
    target = torch.tensor([[0, 0, 1, 255], [255, 255, 255, 255]])
    assert class_counts(target, 2).tolist() == [2, 1]
    assert_close(class_weights(target, 2), class_weights(torch.tensor([2, 1]), 2))
    assert class_counts(target.masked_fill(target == 255, -1), 2, ignore_index=-1).tolist() == [2, 1]


def test_weights_plug_into_cross_entropy():
    target = labels(2, 5, 5, num_classes=3, seed=2)
    logits = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    weight = class_weights(target, 3).double()
    expected = F.cross_entropy(logits, target, weight=weight, ignore_index=255)
    assert_close(cross_entropy(logits, target, weight=weight), expected)


BAD_INPUTS = [
    pytest.param(lambda: class_weights(torch.tensor([1, 2]), 2, c=1),
                 r"c 1 given; c must be a number > 1 .*ENet uses c = 1.02", id="c"),
    pytest.param(lambda: class_weights(torch.tensor([1, 2]), 3),
                 r"target_or_counts of shape \(2,\) given for num_classes=3; a 1-D tensor is read as per-class",
                 id="counts-length"),
    pytest.param(lambda: class_weights(torch.tensor([1, -2]), 2), r"counts holds -2 \(at index \(1,\)\)", id="counts-negative"),
    pytest.param(lambda: class_weights(torch.full((2, 2), 255), 3), "holds no labelled pixel", id="all-ignored"),
    pytest.param(lambda: class_weights(torch.zeros(3), 3), "holds no labelled pixel", id="zero-counts"),
    pytest.param(lambda: class_weights([1, 2], 2), "target_or_counts of type list given", id="list"),
    pytest.param(lambda: class_weights(torch.tensor([[0, 3]]), 3),
                 r"target holds 3 \(at index \(0, 1\)\)", id="label-range"),
    pytest.param(lambda: class_counts(torch.rand(2, 2), 3), r"target of dtype torch.float32", id="float-labels"),
    pytest.param(lambda: class_counts(torch.zeros(2, 2, dtype=torch.long), 0), "num_classes 0 given", id="num-classes"),
]


@pytest.mark.parametrize("call, message", BAD_INPUTS)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
