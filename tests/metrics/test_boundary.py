"""trimap_mask and boundary_accuracy: hand-drawn masks and a per-pixel distance loop."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from segviz.metrics import boundary_accuracy, confusion_matrix, segmentation_scores, trimap_mask


def random_labels(*shape: int, num_classes: int, seed: int, ignore_share: float = 0.0) -> torch.Tensor:
    """Blocky random labels (2×2 blocks, so there are regions as well as boundaries), some set to 255."""
    generator = torch.Generator().manual_seed(seed)
    n, h, w = shape
    blocks = torch.randint(0, num_classes, (n, (h + 1) // 2, (w + 1) // 2), generator=generator)
    values = blocks.repeat_interleave(2, 1).repeat_interleave(2, 2)[:, :h, :w]
    return values.masked_fill(torch.rand(shape, generator=generator) < ignore_share, 255)


def trimap_loop(target: torch.Tensor, width: int, ignore_index: int = 255) -> torch.Tensor:
    """The reference: a pixel is in the band if it is labelled and some boundary pixel is within
    Chebyshev distance ``width``; a boundary pixel has an 8-neighbour inside the image with another label."""
    n, h, w = target.shape
    t = target.tolist()

    def is_boundary(b: int, i: int, j: int) -> bool:
        return any(
            t[b][i + di][j + dj] != t[b][i][j]
            for di in (-1, 0, 1)
            for dj in (-1, 0, 1)
            if 0 <= i + di < h and 0 <= j + dj < w
        )

    boundary = [[(b, i, j) for i in range(h) for j in range(w) if is_boundary(b, i, j)] for b in range(n)]
    mask = torch.zeros(n, h, w, dtype=torch.bool)
    for b in range(n):
        for i in range(h):
            for j in range(w):
                near = any(max(abs(i - y), abs(j - x)) <= width for _, y, x in boundary[b])
                mask[b, i, j] = near and t[b][i][j] != ignore_index
    return mask


def grid(rows: str) -> torch.Tensor:
    """'0011 / 0011' -> a [H, W] tensor of digits ('.' for 255)."""
    return torch.tensor([[255 if c == "." else int(c) for c in row] for row in rows.split()])


def test_smoke():
    target = random_labels(2, 9, 13, num_classes=3, seed=0, ignore_share=0.1)
    mask = trimap_mask(target, 2)
    assert mask.shape == target.shape and mask.dtype == torch.bool
    assert trimap_mask(target[0], 2).shape == (9, 13)
    assert 0 <= boundary_accuracy(target.flip(-1), target, 2) <= 1


@pytest.mark.parametrize(
    "width, expected",
    [
        (0, "001100 001100 001100"),
        (1, "011110 011110 011110"),
        (2, "111111 111111 111111"),
    ],
)
def test_hand_computed_vertical_edge(width, expected):
    target = grid("000111 000111 000111")  # boundary pixels: columns 2 and 3
    assert torch.equal(trimap_mask(target, width).int(), grid(expected))


def test_single_pixel_object_uses_8_neighbours():
    target = grid("00000 00000 00100 00000 00000")
    # 8-neighbourhood: the object and its 8 neighbours are boundary pixels (a square, not a plus)
    assert torch.equal(trimap_mask(target, 0).int(), grid("00000 01110 01110 01110 00000"))
    assert trimap_mask(target, 1).all()


def test_uniform_image_has_no_boundary_even_at_the_image_border():
    target = torch.full((2, 4, 5), 3)
    assert not trimap_mask(target, 3).any()
    assert math.isnan(boundary_accuracy(target, target, 3))


def test_images_of_a_batch_do_not_touch():
    target = torch.stack([torch.zeros(4, 4, dtype=torch.long), torch.ones(4, 4, dtype=torch.long)])
    assert not trimap_mask(target, 1).any()  # two uniform images, no boundary between them


def test_ignored_band_edges_are_boundaries_and_ignored_pixels_never_count():
    target = grid("00.11 00.11")  # a void column between two classes, as in PASCAL VOC
    assert torch.equal(trimap_mask(target, 0).int(), grid("01010 01010"))
    assert torch.equal(trimap_mask(target, 1).int(), grid("11011 11011"))
    other = target.masked_fill(target == 255, -1)
    assert torch.equal(trimap_mask(other, 1, ignore_index=-1), trimap_mask(target, 1))
    pred = torch.where(target == 255, torch.full_like(target, 9), target)  # anything where ignored
    assert boundary_accuracy(pred, target, 1) == 1.0


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    n=st.integers(1, 2), h=st.integers(1, 8), w=st.integers(1, 8), width=st.integers(0, 4),
    num_classes=st.integers(1, 4), seed=st.integers(0, 2**16),
)
def test_trimap_equals_distance_loop(n, h, w, width, num_classes, seed):
    target = random_labels(n, h, w, num_classes=num_classes, seed=seed, ignore_share=0.15)
    assert torch.equal(trimap_mask(target, width), trimap_loop(target, width))


def test_hand_computed_boundary_accuracy():
    target = grid("000111 000111")
    pred = grid("100011 000111")  # wrong at (0, 0), far from the edge, and at (0, 3), on it
    assert boundary_accuracy(pred, target, 0) == 3 / 4  # columns 2-3: 4 pixels, one wrong
    assert boundary_accuracy(pred, target, 1) == 7 / 8  # columns 1-4: 8 pixels, one wrong
    assert boundary_accuracy(pred, target, 2) == 10 / 12  # everything: both errors count


@pytest.mark.parametrize("seed", range(4))
def test_boundary_accuracy_equals_loop_and_tends_to_pixel_accuracy(seed):
    target = random_labels(2, 10, 12, num_classes=3, seed=seed, ignore_share=0.1)
    pred = random_labels(2, 10, 12, num_classes=3, seed=seed + 100)
    for width in (0, 1, 3):
        band = trimap_loop(target, width)
        expected = (pred == target)[band].double().mean().item()
        assert boundary_accuracy(pred, target, width) == pytest.approx(expected)
    # a band wider than the images covers every labelled pixel: pixel accuracy
    pixel_accuracy = segmentation_scores(confusion_matrix(pred, target, 3))["pixel_accuracy"]
    assert boundary_accuracy(pred, target, 12) == pytest.approx(pixel_accuracy)


TARGET = grid("0011 0011")
BAD_INPUTS = [
    pytest.param(lambda: trimap_mask(TARGET, -1), "width -1 given; width must be an integer >= 0", id="width"),
    pytest.param(lambda: trimap_mask(TARGET, 1.5), "width 1.5 given", id="width-float"),
    pytest.param(lambda: trimap_mask(TARGET.float(), 1),
                 r"target of dtype torch.float32 .* integer class labels", id="float"),
    pytest.param(lambda: trimap_mask(TARGET[None, None], 1),
                 r"target of shape \(1, 1, 2, 4\) given; target must have 2 or 3 dimensions", id="ndim"),
    pytest.param(lambda: boundary_accuracy(torch.randn(1, 3, 2, 4), TARGET[None], 1), r"pred.argmax\(1\)", id="logits"),
    pytest.param(lambda: boundary_accuracy(TARGET[:, :2], TARGET, 1),
                 r"pred of shape \(2, 2\) given for target of shape \(2, 4\)", id="shape"),
]


@pytest.mark.parametrize("call, message", BAD_INPUTS)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
