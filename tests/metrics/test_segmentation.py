"""confusion_matrix and FCN's four scores: a hand-worked matrix, a per-pixel loop, a NumPy reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from segviz.metrics import confusion_matrix, per_class_accuracy, per_class_iou, segmentation_scores

KEYS = ["pixel_accuracy", "mean_accuracy", "mean_iou", "fw_iou"]


def labels(*shape: int, num_classes: int, seed: int, ignore_share: float = 0.0, ignore_index: int = 255) -> torch.Tensor:
    """Random labels in [0, num_classes), with about ``ignore_share`` of the pixels set to ``ignore_index``."""
    generator = torch.Generator().manual_seed(seed)
    values = torch.randint(0, num_classes, shape, generator=generator)
    ignored = torch.rand(shape, generator=generator) < ignore_share
    return values.masked_fill(ignored, ignore_index)


def pixels_from_confusion(confusion: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """(pred, target) as 1-D label tensors holding ``confusion[i][j]`` pixels of class i predicted j."""
    pairs = [(i, j) for i, row in enumerate(confusion) for j, count in enumerate(row) for _ in range(count)]
    target, pred = zip(*pairs)
    return torch.tensor(pred), torch.tensor(target)


def confusion_loop(pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int) -> torch.Tensor:
    """The reference: visit every pixel and add one to its (true, predicted) cell."""
    counts = [[0] * num_classes for _ in range(num_classes)]
    for p, t in zip(pred.flatten().tolist(), target.flatten().tolist()):
        if t != ignore_index:
            counts[t][p] += 1
    return torch.tensor(counts)


def scores_numpy(confusion: np.ndarray) -> dict[str, float]:
    """An independent NumPy transcription of FCN §5 with np.nanmean (as in the FCN reference score.py)."""
    hist = confusion.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        accuracy = np.diag(hist) / hist.sum(1)
        iu = np.diag(hist) / (hist.sum(1) + hist.sum(0) - np.diag(hist))
        frequency = hist.sum(1) / hist.sum()
        return {
            "pixel_accuracy": np.diag(hist).sum() / hist.sum(),
            "mean_accuracy": np.nanmean(accuracy),
            "mean_iou": np.nanmean(iu),
            "fw_iou": (frequency[frequency > 0] * iu[frequency > 0]).sum(),
        }


def test_smoke():
    target = labels(2, 5, 7, num_classes=4, seed=0, ignore_share=0.2)
    pred = labels(2, 5, 7, num_classes=4, seed=1)
    confusion = confusion_matrix(pred, target, 4)
    assert confusion.shape == (4, 4) and confusion.dtype == torch.int64
    assert int(confusion.sum()) == int((target != 255).sum())
    scores = segmentation_scores(confusion)
    assert list(scores) == KEYS and all(type(v) is float and 0 <= v <= 1 for v in scores.values())


# A hand-worked example. Rows are the ground truth, columns the prediction:
#
#            pred 0  pred 1  pred 2 | t_i (row sum)
#   true 0      3       1       0   |  4
#   true 1      0       2       2   |  4
#   true 2      1       0       1   |  2
#   ---------------------------------------
#   column sum  4       3       3   | 10 pixels, 3 + 2 + 1 = 6 on the diagonal
#
# pixel accuracy = 6 / 10                                   = 0.6
# mean accuracy  = (3/4 + 2/4 + 1/2) / 3 = 1.75 / 3         = 0.583333...
# IU_0 = 3 / (4 + 4 - 3) = 0.6, IU_1 = 2 / (4 + 3 - 2) = 0.4, IU_2 = 1 / (2 + 3 - 1) = 0.25
# mean IU        = (0.6 + 0.4 + 0.25) / 3 = 1.25 / 3        = 0.416667...
# f.w. IU        = (4 * 0.6 + 4 * 0.4 + 2 * 0.25) / 10      = 4.5 / 10 = 0.45
HAND = [[3, 1, 0], [0, 2, 2], [1, 0, 1]]


def test_hand_computed_confusion_and_scores():
    pred, target = pixels_from_confusion(HAND)
    confusion = confusion_matrix(pred, target, 3)
    assert confusion.tolist() == HAND
    scores = segmentation_scores(confusion)
    assert scores == pytest.approx({"pixel_accuracy": 0.6, "mean_accuracy": 1.75 / 3, "mean_iou": 1.25 / 3, "fw_iou": 0.45})
    assert_close(per_class_accuracy(confusion), torch.tensor([0.75, 0.5, 0.5], dtype=torch.float64))
    assert_close(per_class_iou(confusion), torch.tensor([0.6, 0.4, 0.25], dtype=torch.float64))


def test_labels_of_any_integer_dtype_and_shape():
    pred, target = pixels_from_confusion(HAND)  # 10 pixels
    for dtype in (torch.uint8, torch.int16, torch.int32, torch.int64):
        assert confusion_matrix(pred.to(dtype).reshape(2, 5), target.to(dtype).reshape(2, 5), 3).tolist() == HAND
        assert confusion_matrix(pred.to(dtype).reshape(1, 1, 2, 5), target.to(dtype).reshape(1, 1, 2, 5), 3).tolist() == HAND


# Absent classes. Class 3 is predicted once but never present; class 4 is neither present nor predicted:
#
#            pred 0  1  2  3  4 | t_i
#   true 0      3    1  0  1  0 |  5
#   true 1      0    2  2  0  0 |  4
#   true 2      1    0  1  0  0 |  2
#   true 3      0    0  0  0  0 |  0
#   true 4      0    0  0  0  0 |  0
#   col sum     4    3  3  1  0 | 11 pixels, 6 on the diagonal
#
# accuracy: 3/5, 2/4, 1/2, undefined (t_3 = 0), undefined (t_4 = 0)
#   mean accuracy = (0.6 + 0.5 + 0.5) / 3 = 0.533333...             (3 defined classes)
# IU: 3/(5+4-3) = 0.5, 2/(4+3-2) = 0.4, 1/(2+3-1) = 0.25, 0/(0+1-0) = 0, undefined (0/0)
#   mean IU = (0.5 + 0.4 + 0.25 + 0) / 4 = 0.2875                   (the false alarm counts)
# f.w. IU = (5 * 0.5 + 4 * 0.4 + 2 * 0.25 + 0 * 0) / 11 = 4.6 / 11 = 0.418181...
# pixel accuracy = 6 / 11 = 0.545454...
ABSENT = [[3, 1, 0, 1, 0], [0, 2, 2, 0, 0], [1, 0, 1, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]


def test_absent_classes_are_left_out_of_the_means():
    confusion = torch.tensor(ABSENT)
    assert segmentation_scores(confusion) == pytest.approx(
        {"pixel_accuracy": 6 / 11, "mean_accuracy": 1.6 / 3, "mean_iou": 0.2875, "fw_iou": 4.6 / 11}
    )
    accuracy, iou = per_class_accuracy(confusion), per_class_iou(confusion)
    assert accuracy[:3].tolist() == pytest.approx([0.6, 0.5, 0.5]) and accuracy[3:].isnan().all()
    assert iou[:4].tolist() == pytest.approx([0.5, 0.4, 0.25, 0.0]) and iou[4].isnan()
    # a class absent from both ground truth and prediction changes nothing
    assert segmentation_scores(confusion[:4, :4]) == segmentation_scores(confusion)


def test_perfect_and_empty():
    target = labels(3, 6, 6, num_classes=5, seed=0)
    assert segmentation_scores(confusion_matrix(target, target, 5)) == dict.fromkeys(KEYS, 1.0)
    empty = segmentation_scores(torch.zeros(3, 3, dtype=torch.long))
    assert list(empty) == KEYS and all(math.isnan(v) for v in empty.values())


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    num_classes=st.integers(1, 6),
    ignore_index=st.sampled_from([255, -1, -100]),
    seed=st.integers(0, 2**16),
)
def test_confusion_matrix_equals_pixel_loop(shape, num_classes, ignore_index, seed):
    target = labels(*shape, num_classes=num_classes, seed=seed, ignore_share=0.3, ignore_index=ignore_index)
    pred = labels(*shape, num_classes=num_classes, seed=seed + 1)
    pred = torch.where(target == ignore_index, torch.full_like(pred, 77), pred)  # anything goes where ignored
    expected = confusion_loop(pred, target, num_classes, ignore_index)
    assert torch.equal(confusion_matrix(pred, target, num_classes, ignore_index=ignore_index), expected)


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(num_classes=st.integers(1, 7), empty_rows=st.integers(0, 3), empty_cols=st.integers(0, 3), seed=st.integers(0, 2**16))
def test_scores_equal_numpy_reference(num_classes, empty_rows, empty_cols, seed):
    generator = torch.Generator().manual_seed(seed)
    confusion = torch.randint(0, 20, (num_classes, num_classes), generator=generator)
    confusion[torch.randperm(num_classes, generator=generator)[:empty_rows]] = 0  # classes never present
    confusion[:, torch.randperm(num_classes, generator=generator)[:empty_cols]] = 0  # classes never predicted
    if confusion.sum() == 0:
        confusion[0, 0] = 1
    expected = scores_numpy(confusion.numpy())
    actual = segmentation_scores(confusion)
    for key in KEYS:
        assert actual[key] == pytest.approx(float(expected[key]), rel=1e-12, abs=1e-15), key


def test_confusion_adds_up_over_batches():
    target = labels(4, 9, 11, num_classes=6, seed=3, ignore_share=0.1)
    pred = labels(4, 9, 11, num_classes=6, seed=4)
    whole = confusion_matrix(pred, target, 6)
    by_image = sum(confusion_matrix(p, t, 6) for p, t in zip(pred, target))
    assert torch.equal(whole, by_image)


def test_ignore_index_skips_pixels_whatever_was_predicted():
    target = torch.tensor([[0, 1, 255, 255], [1, 1, 0, 255]])
    pred = torch.tensor([[0, 0, 1, 200], [1, 0, 0, -5]])  # 200 and -5 sit on ignored pixels: not checked
    assert confusion_matrix(pred, target, 2).tolist() == [[2, 0], [2, 1]]
    # ignore_index may be any integer; 255 is then a label like any other and out of range
    minus_one = target.masked_fill(target == 255, -1)
    assert confusion_matrix(pred.clamp(0, 1), minus_one, 2, ignore_index=-1).tolist() == [[2, 0], [2, 1]]
    with pytest.raises(ValueError, match="target holds 255"):
        confusion_matrix(pred.clamp(0, 1), target, 2, ignore_index=-1)


def test_float_counts_are_accepted():
    confusion = torch.tensor(HAND, dtype=torch.float64) / 10  # normalised counts give the same ratios
    assert segmentation_scores(confusion) == pytest.approx(segmentation_scores(torch.tensor(HAND)))


TARGET = torch.tensor([[0, 1], [2, 255]])
PRED = torch.tensor([[0, 1], [1, 0]])
BAD_INPUTS = [
    pytest.param(lambda: confusion_matrix(torch.randn(1, 3, 2, 2), TARGET[None], 3),
                 r"pred of dtype torch.float32 and shape \(1, 3, 2, 2\) given; .* pass pred.argmax\(1\)", id="logits"),
    pytest.param(lambda: confusion_matrix(torch.randint(0, 3, (1, 3, 2, 2)), TARGET[None], 3),
                 r"pred of shape \(1, 3, 2, 2\) given for target of shape \(1, 2, 2\); .* pred.argmax\(1\)",
                 id="scores-shape"),
    pytest.param(lambda: confusion_matrix(PRED, TARGET, 2),
                 r"target holds 2 \(at index \(1, 0\)\), outside the classes 0 to 1 of num_classes=2", id="target-range"),
    pytest.param(lambda: confusion_matrix(PRED + 2, TARGET, 3),
                 r"pred holds 3 \(at index \(0, 1\)\), .* every predicted label must be a class index", id="pred-range"),
    pytest.param(lambda: confusion_matrix(PRED.bool(), TARGET, 3),
                 r"pred of dtype torch.bool given; .* pred.long\(\)", id="bool"),
    pytest.param(lambda: confusion_matrix(PRED.tolist(), TARGET, 3),
                 r"pred of type list given; pred must be a torch.Tensor", id="list"),
    pytest.param(lambda: confusion_matrix(PRED, TARGET, 0),
                 "num_classes 0 given; num_classes must be an integer >= 1", id="num-classes"),
    pytest.param(lambda: segmentation_scores(torch.ones(2, 3)),
                 r"confusion of shape \(2, 3\) given; confusion must be a square", id="not-square"),
    pytest.param(lambda: segmentation_scores(torch.tensor([[1, -1], [0, 1]])), r"confusion holds -1 \(at index \(0, 1\)\); confusion must hold pixel counts >= 0",
                 id="negative"),
    pytest.param(lambda: per_class_iou(np.eye(2)), "confusion of type ndarray given", id="numpy"),
]


@pytest.mark.parametrize("call, message", BAD_INPUTS)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
