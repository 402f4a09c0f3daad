"""Tests for segviz.data.transforms: image and mask move together, masks keep their labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms import v2

from segviz.data import JointTransform, segmentation_transforms

# five classes, each painted in its own colour: after any geometric transform, a pixel's colour
# must still be its label's colour (the image and the mask moved together)
COLOURS = torch.tensor([[0.9, 0.1, 0.1], [0.1, 0.8, 0.2], [0.2, 0.3, 0.9], [0.9, 0.9, 0.2], [0.6, 0.2, 0.7]])


def labelled_pair(height: int = 48, width: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A blocky random label map [H, W] and the image [3, H, W] that paints each label its colour."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randint(0, len(COLOURS), (1, 1, height // 16, width // 16), generator=g).float()
    mask = F.interpolate(coarse, size=(height, width), mode="nearest")[0, 0].long()
    return COLOURS[mask].permute(2, 0, 1).contiguous(), mask


def interior(mask: torch.Tensor, radius: int = 2) -> torch.Tensor:
    """Pixels whose (2 radius + 1)^2 neighbourhood holds a single label (away from all edges)."""
    m = mask.float()[None, None]
    size = 2 * radius + 1
    high = F.max_pool2d(m, size, stride=1, padding=radius)
    low = -F.max_pool2d(-m, size, stride=1, padding=radius)
    inside = (high == low)[0, 0]
    inside[:radius], inside[-radius:], inside[:, :radius], inside[:, -radius:] = False, False, False, False
    return inside


def test_output_is_a_v2_compose_of_the_expected_steps():
    transform = segmentation_transforms(size=(64, 128), scale=(0.5, 2.0), rotation=5, crop=(32, 64))
    assert isinstance(transform, v2.Compose) and isinstance(transform, JointTransform)
    names = [type(t).__name__ for t in transform.transforms]
    assert names == ["Resize", "RandomAffine", "RandomCrop", "RandomHorizontalFlip", "ColorJitter"]
    evaluation = segmentation_transforms(train=False, size=(64, 128), crop=(32, 64))
    assert [type(t).__name__ for t in evaluation.transforms] == ["Resize"]
    assert [type(t).__name__ for t in segmentation_transforms(train=False).transforms] == ["Identity"]


@pytest.mark.parametrize("seed", range(6))
def test_image_and_mask_stay_aligned_through_zoom_rotation_crop_and_flip(seed):
    image, mask = labelled_pair(seed=seed)
    transform = segmentation_transforms(
        scale=(0.5, 2.0), rotation=20, crop=(40, 56), hflip=0.5, color_jitter=None
    )
    torch.manual_seed(seed)
    out_image, out_mask = transform(image, mask)
    assert out_image.shape == (3, 40, 56) and out_mask.shape == (40, 56)
    assert out_mask.dtype == torch.int64 and type(out_mask) is torch.Tensor and type(out_image) is torch.Tensor
    inside = interior(out_mask)
    labelled = inside & (out_mask != 255)
    assert labelled.sum() > 100  # enough pixels to check
    expected = COLOURS[out_mask.clamp(max=len(COLOURS) - 1)].permute(2, 0, 1)
    torch.testing.assert_close(out_image[:, labelled], expected[:, labelled], atol=1e-4, rtol=0)
    # what came from outside the image is ignored in the mask and black in the image
    outside = inside & (out_mask == 255)
    assert (out_image[:, outside] == 0).all()


def test_flip_moves_image_and_mask_together():
    image, mask = labelled_pair()
    flip = segmentation_transforms(scale=None, hflip=1.0, color_jitter=None)
    out_image, out_mask = flip(image, mask)
    assert torch.equal(out_image, image.flip(-1)) and torch.equal(out_mask, mask.flip(-1))


def test_plain_v2_transforms_would_leave_a_plain_mask_behind():
    """Why JointTransform exists: v2 treats a second plain tensor as 'not an image' and passes it
    through, so the labels no longer match the flipped image."""
    image, mask = labelled_pair()
    _, untouched = v2.RandomHorizontalFlip(p=1.0)(image, mask)
    assert torch.equal(untouched, mask)
    _, flipped = JointTransform([v2.RandomHorizontalFlip(p=1.0)])(image, mask)
    assert torch.equal(flipped, mask.flip(-1))


@pytest.mark.parametrize("seed", range(4))
def test_mask_values_are_never_interpolated(seed):
    image, mask = labelled_pair(seed=seed)
    mask = mask * 3 + 1  # labels 1, 4, 7, 10, 13: an average of two would fall in between
    transform = segmentation_transforms(
        size=(37, 51), scale=(0.5, 2.0), rotation=30, crop=(45, 45), color_jitter=0.4
    )
    torch.manual_seed(seed)
    _, out_mask = transform(image, mask)
    assert set(out_mask.unique().tolist()) <= set(mask.unique().tolist()) | {255}


def test_evaluation_resize_uses_nearest_for_the_mask():
    image, mask = labelled_pair(48, 64)
    out_image, out_mask = segmentation_transforms(train=False, size=(24, 32))(image, mask)
    assert out_image.shape == (3, 24, 32)
    assert torch.equal(out_mask, mask[::2, ::2])  # nearest: every second pixel, no new labels


def test_photometric_transforms_change_the_image_only():
    image, mask = labelled_pair()
    jitter = segmentation_transforms(scale=None, hflip=0.0, color_jitter=(0.5, 0.5, 0.5, 0.1))
    torch.manual_seed(0)
    out_image, out_mask = jitter(image, mask)
    assert torch.equal(out_mask, mask)
    assert not torch.allclose(out_image, image)
    assert out_image.shape == image.shape and 0 <= out_image.min() and out_image.max() <= 1


def test_seeded_determinism():
    image, mask = labelled_pair()
    transform = segmentation_transforms(scale=(0.5, 2.0), rotation=15, crop=(32, 32))
    results = []
    for seed in (0, 0, 1):
        torch.manual_seed(seed)
        results.append(transform(image, mask))
    assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])
    assert not torch.equal(results[0][0], results[2][0])


def test_padding_uses_fill_and_ignore_index():
    image, mask = labelled_pair(16, 16)
    pad = segmentation_transforms(scale=None, crop=(32, 32), hflip=0, color_jitter=None, ignore_index=99, fill=0.5)
    torch.manual_seed(0)
    out_image, out_mask = pad(image, mask)
    added = out_mask == 99
    assert int(added.sum()) == 32 * 32 - 16 * 16
    assert (out_image[:, added] == 0.5).all()
    assert torch.equal(out_image[:, ~added].reshape(3, 16, 16), image)


def test_joint_transform_with_instances_batches_and_pil():
    image, mask = labelled_pair()
    instances = torch.arange(mask.numel()).view(mask.shape) % 7
    flip = JointTransform(v2.RandomHorizontalFlip(p=1.0))  # a single transform is fine too
    out = flip(image, mask, instances)
    assert len(out) == 3 and torch.equal(out[2], instances.flip(-1))
    batch_image, batch_mask = flip(image[None].repeat(2, 1, 1, 1), mask[None].repeat(2, 1, 1))
    assert batch_image.shape == (2, 3, 48, 64) and torch.equal(batch_mask[1], mask.flip(-1))
    only_image = flip(image)
    assert type(only_image) is torch.Tensor and torch.equal(only_image, image.flip(-1))
    pil_image = Image.fromarray((image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
    pil_mask = Image.fromarray(mask.numpy().astype(np.uint8), mode="L")
    out_image, out_mask = flip(pil_image, pil_mask)
    assert out_image.dtype == torch.float32 and out_mask.dtype == torch.int64
    assert torch.equal(out_mask, mask.flip(-1))
    torch.testing.assert_close(out_image, image.flip(-1), atol=1 / 255, rtol=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"train": "yes"}, "train 'yes' given; train must be True"),
        ({"hflip": 2}, "hflip 2 given; hflip must be a number between 0 and 1"),
        ({"scale": (2.0, 1.0)}, r"scale \(2.0, 1.0\) given; scale must be None or a pair \(low, high\)"),
        ({"scale": (0, 1)}, r"scale \(0, 1\) given"),
        ({"scale": 2.0}, "scale 2.0 given"),
        ({"rotation": -5}, "rotation -5 given; rotation must be a number between 0 and 180"),
        ({"crop": 0}, "crop 0 given; crop must be None, an integer >= 1 or a pair"),
        ({"size": (0, 5)}, r"size \(0, 5\) given"),
        ({"color_jitter": (1, 2)}, r"color_jitter \(1, 2\) given; color_jitter must be None, a number"),
        ({"color_jitter": (0.1, 0.1, 0.1, 0.9)}, "hue <= 0.5"),
        ({"color_jitter": -1}, "color_jitter -1 given"),
        ({"ignore_index": 1.5}, "ignore_index 1.5 given; ignore_index must be an integer"),
    ],
)
def test_bad_arguments_raise_teaching_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        segmentation_transforms(**kwargs)


def test_bad_inputs_raise_teaching_errors():
    image, mask = labelled_pair()
    flip = JointTransform([v2.RandomHorizontalFlip()])
    with pytest.raises(ValueError, match="mask of dtype torch.float32 given; a mask holds class ids"):
        flip(image, mask.float())
    with pytest.raises(ValueError, match=r"mask of shape \(10, 10\) given for an image of shape \(3, 48, 64\)"):
        flip(image, mask[:10, :10])
    with pytest.raises(ValueError, match=r"image of shape \(48, 64\) given; image must be a tensor \[3, H, W\]"):
        flip(mask.float(), mask)
    with pytest.raises(ValueError, match="image of type list given"):
        flip([1, 2, 3], mask)
    with pytest.raises(ValueError, match="transforms 'flip' given; transforms must be a list of v2 transforms"):
        JointTransform("flip")


def test_synthetic_scenes_take_transforms_with_and_without_instances():
    from segviz.data import SyntheticScenes

    flip = segmentation_transforms(scale=None, hflip=1.0, color_jitter=None)
    plain = SyntheticScenes(8, size=32, seed=3, with_instances=True)[5]
    image, mask = SyntheticScenes(8, size=32, seed=3, transforms=flip)[5]
    assert torch.equal(image, plain[0].flip(-1)) and torch.equal(mask, plain[1].flip(-1))
    flipped = SyntheticScenes(8, size=32, seed=3, with_instances=True, transforms=flip)[5]
    assert len(flipped) == 3 and all(torch.equal(a, b.flip(-1)) for a, b in zip(flipped, plain))
    assert "transforms=JointTransform(" in repr(SyntheticScenes(8, transforms=flip))
    with pytest.raises(ValueError, match="transforms 3 given; transforms must be None or a callable"):
        SyntheticScenes(8, transforms=3)
