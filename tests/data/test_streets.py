"""Tests for segviz.data.streets: determinism, street structure, labels, and honesty of the data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from segviz.data import (
    CITYSCAPES_CLASSES,
    STREET_CLASSES,
    STREET_PALETTE,
    STREET_TO_CITYSCAPES,
    Streets,
    ToyStreets,
    colorize,
    make_streets,
    segmentation_transforms,
)
from segviz.data.streets import _coverage, _ellipse_alpha, _factors

NUM_CLASSES = len(STREET_CLASSES)
ROAD, SIDEWALK, BUILDING, VEGETATION, SKY, PERSON, CAR = range(NUM_CLASSES)

# Cityscapes colours as published in cityscapesscripts/helpers/labels.py, typed by hand
CITYSCAPES_KNOWN = {
    "road": (128, 64, 128),
    "sidewalk": (244, 35, 232),
    "building": (70, 70, 70),
    "vegetation": (107, 142, 35),
    "sky": (70, 130, 180),
    "person": (220, 20, 60),
    "car": (0, 0, 142),
}


@pytest.fixture(scope="module")
def streets() -> Streets:
    return make_streets(256, seed=0)


def test_classes_palette_and_cityscapes_ids():
    assert STREET_CLASSES == ("road", "sidewalk", "building", "vegetation", "sky", "person", "car")
    for k, name in enumerate(STREET_CLASSES):
        assert tuple(STREET_PALETTE[k]) == CITYSCAPES_KNOWN[name], name
        assert CITYSCAPES_CLASSES[STREET_TO_CITYSCAPES[k]] == name
    assert STREET_PALETTE.shape == (256, 3) and tuple(STREET_PALETTE[255]) == (0, 0, 0)
    assert list(STREET_TO_CITYSCAPES) == sorted(STREET_TO_CITYSCAPES)  # trainId order
    with pytest.raises(ValueError):
        STREET_PALETTE[0, 0] = 1  # read-only


def test_shapes_dtypes_and_ranges(streets):
    assert streets.images.shape == (256, 3, 64, 128) and streets.images.dtype == torch.float32
    assert streets.masks.shape == (256, 64, 128) and streets.masks.dtype == torch.int64
    assert len(streets) == 256 and streets.num_classes == NUM_CLASSES
    assert streets.class_names == STREET_CLASSES
    assert 0 <= streets.images.min() and streets.images.max() <= 1
    eight_bit = streets.images * 255
    torch.testing.assert_close(eight_bit, eight_bit.round(), atol=1e-4, rtol=0)
    assert set(torch.unique(streets.masks).tolist()) == {*range(NUM_CLASSES), 255}
    assert "Streets(images=Tensor[256, 3, 64, 128] float32" in repr(streets)


def test_size_as_one_integer_is_square():
    square = make_streets(3, size=32)
    assert square.images.shape == (3, 3, 32, 32) and square.masks.shape == (3, 32, 32)


def test_same_seed_same_streets_different_seed_different_streets(streets):
    again = make_streets(64, seed=0)
    assert torch.equal(again.images, streets.images[:64])
    assert torch.equal(again.masks, streets.masks[:64])
    other = make_streets(64, seed=1)
    same_mask = (other.masks == streets.masks[:64]).flatten(1).all(1)
    assert not same_mask.any()


def test_scene_depends_on_seed_and_index_only(streets):
    for start, count in [(0, 1), (5, 3), (63, 2), (100, 90), (255, 1)]:
        part = make_streets(count, seed=0, start=start)
        assert torch.equal(part.images, streets.images[start : start + count]), (start, count)
        assert torch.equal(part.masks, streets.masks[start : start + count]), (start, count)


def test_streets_within_a_set_are_all_different(streets):
    flat = streets.masks.flatten(1)
    assert len({tuple(row.tolist()) for row in flat}) == len(flat)


def test_layout_does_not_depend_on_size(streets):
    large = make_streets(64, size=(128, 256), seed=0)
    # a 64x128 pixel centre lies between four 128x256 centres: labels agree except along edges
    agree = (large.masks[:, ::2, ::2] == streets.masks[:64]).float().mean()
    assert agree > 0.95  # measured: 0.979


def test_every_class_appears_with_plausible_frequency(streets):
    pixels = torch.bincount(streets.masks.flatten(), minlength=256).double()
    share = pixels / pixels.sum()
    present = torch.stack([(streets.masks == k).flatten(1).any(1) for k in range(256)], 1).double().mean(0)
    # measured on 256 scenes: road 0.33, sidewalk 0.11, building 0.28, vegetation 0.12, sky 0.10,
    # person 0.006, car 0.034, void 0.022; people in 66 % of the scenes, cars in 87 %
    assert 0.2 < share[ROAD] < 0.45 and 0.15 < share[BUILDING] < 0.4
    for k in (SIDEWALK, VEGETATION, SKY):
        assert 0.04 < share[k] < 0.2, (STREET_CLASSES[k], float(share[k]))
    assert 0.002 < share[PERSON] < 0.02 and 0.01 < share[CAR] < 0.08
    assert (present[:5] == 1).all()  # every scene has road, sidewalk, buildings, plants, sky
    assert 0.4 < present[PERSON] < 0.9 and 0.7 < present[CAR] < 0.98
    assert 0.25 < present[255] < 0.55  # the bonnet (void) in about 40 % of the scenes


def test_street_structure_sky_on_top_road_at_the_bottom(streets):
    masks = streets.masks
    height = masks.shape[1]
    rows = torch.arange(height).view(1, height, 1).expand_as(masks).float()
    assert not (masks[:, : int(0.3 * height)] == ROAD).any()  # the horizon is below 36 %
    assert not (masks[:, int(0.6 * height) :] == SKY).any()
    # per scene, the sky is above the buildings, which are above the road
    for mask, row in zip(masks[:64], rows[:64]):
        sky, building, road = (row[mask == k].mean() for k in (SKY, BUILDING, ROAD))
        assert sky < building < road
    # the road narrows towards the vanishing point: more road near the bottom than near the horizon
    lower = (masks[:, int(0.8 * height)] == ROAD).float().mean()
    upper = (masks[:, int(0.55 * height)] == ROAD).float().mean()
    assert lower > 1.5 * upper


def test_void_is_the_bonnet_at_the_bottom(streets):
    masks = streets.masks
    height = masks.shape[1]
    void_rows = torch.nonzero(masks == 255)[:, 1]
    assert void_rows.min() >= int(0.85 * height)
    with_bonnet = (masks == 255).flatten(1).any(1)
    assert (masks[with_bonnet, -1] == 255).all()  # it spans the whole bottom row
    assert not (masks[~with_bonnet] == 255).any()


def test_colour_alone_cannot_label_the_streets():
    """A per-pixel nearest-colour-mean classifier, fitted on 128 scenes, labels few pixels of
    most classes right (measured: mean recall 0.35 over the 7 classes; only the sky, 0.92, and
    plants, 0.70, are mostly told by colour)."""
    train, test = make_streets(128, seed=10), make_streets(128, seed=11)

    def pixels(s):
        keep = s.masks.flatten() != 255
        return s.images.permute(0, 2, 3, 1).reshape(-1, 3)[keep], s.masks.flatten()[keep]

    x, y = pixels(train)
    means = torch.stack([x[y == k].mean(0) for k in range(NUM_CLASSES)])
    x, y = pixels(test)
    predicted = torch.cdist(x, means).argmin(1)
    recall = [float((predicted[y == k] == k).float().mean()) for k in range(NUM_CLASSES)]
    assert np.mean(recall) < 0.5, recall
    assert max(recall[k] for k in (ROAD, SIDEWALK, BUILDING, PERSON, CAR)) < 0.5, recall
    assert np.mean(recall) > 1 / NUM_CLASSES, recall  # but colour is not pure noise either


def test_coverage_is_the_exact_box_filter():
    centres = (np.arange(8) + 0.5) / 8  # 8 pixels
    cover = _coverage(np.array([[0.125]]), np.array([[0.5625]]), centres, 8)[0, 0]
    # the interval [1, 4.5] in pixels: pixel 0 empty, 1-3 full, 4 half
    np.testing.assert_allclose(cover, [0.0, 1, 1, 1, 0.5, 0, 0, 0])
    tiny = _coverage(np.array([[0.3]]), np.array([[0.31]]), centres, 8)[0, 0]
    assert float(tiny.sum()) == pytest.approx(0.08, abs=1e-6)  # a sub-pixel strip keeps its width


def test_ellipse_coverage_has_the_ellipse_area():
    height, width = 64, 128
    v, u = (np.arange(height) + 0.5) / height, (np.arange(width) + 0.5) / width
    for ru_px, rv_px in [(20.0, 10.0), (6.0, 9.0), (2.5, 2.5)]:
        geometry = tuple(np.array([[g]]) for g in (0.5, 0.5, ru_px / width, rv_px / height))
        factors = _factors("ellipse", v, u, height, width, geometry)
        alpha = _ellipse_alpha(factors, 1, 0, slice(None), slice(None))
        assert float(alpha.sum()) == pytest.approx(math.pi * ru_px * rv_px, rel=0.03)
        assert 0 <= float(alpha.min()) and float(alpha.max()) == 1


def test_dataset_items_equal_make_streets(streets):
    data = ToyStreets(256, seed=0)
    assert len(data) == 256 and data.num_classes == NUM_CLASSES and data.ignore_index == 255
    for index in [0, 1, 63, 64, 200, 255, -1]:
        image, mask = data[index]
        assert image.shape == (3, 64, 128) and image.dtype == torch.float32 and mask.dtype == torch.int64
        assert torch.equal(image, streets.images[index])
        assert torch.equal(mask, streets.masks[index])
    assert sorted(data._blocks) == [0, 1, 3]  # drawn lazily, a block of 64 at a time, then cached
    images, masks = next(iter(DataLoader(data, batch_size=8)))
    assert torch.equal(images, streets.images[:8]) and torch.equal(masks, streets.masks[:8])
    assert repr(data) == "ToyStreets(num_images=256, size=(64, 128), seed=0)"
    assert colorize(masks, STREET_PALETTE).shape == (8, 64, 128, 3)


def test_dataset_applies_transforms_jointly(streets):
    flip = segmentation_transforms(scale=None, hflip=1.0, color_jitter=None)
    image, mask = ToyStreets(10, transforms=flip)[3]
    assert torch.equal(image, streets.images[3].flip(-1)) and torch.equal(mask, streets.masks[3].flip(-1))
    crop = segmentation_transforms(crop=(32, 48))
    torch.manual_seed(0)
    first = ToyStreets(10, transforms=crop)[3]
    torch.manual_seed(0)
    second = ToyStreets(10, transforms=crop)[3]
    assert first[0].shape == (3, 32, 48) and first[1].shape == (32, 48)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert "transforms=JointTransform(" in repr(ToyStreets(10, transforms=crop))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_images": 0}, "num_images 0 given; num_images must be an integer >= 1"),
        ({"num_images": 2.5}, "num_images 2.5 given"),
        ({"size": 8}, r"size 8 given; size must be an integer between 16 and 1024 or a pair \(H, W\)"),
        ({"size": (64, 8)}, r"size \(64, 8\) given"),
        ({"size": (64, 2048)}, r"size \(64, 2048\) given"),
        ({"size": "big"}, "size 'big' given"),
        ({"seed": -1}, "seed -1 given"),
    ],
)
def test_bad_arguments_raise_teaching_errors(kwargs, message):
    arguments = {"num_images": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_streets(**arguments)
    with pytest.raises(ValueError, match=message):
        ToyStreets(**arguments)


def test_bad_start_index_and_transforms():
    with pytest.raises(ValueError, match="start -1 given"):
        make_streets(4, start=-1)
    with pytest.raises(ValueError, match="transforms 'flip' given; transforms must be None or a callable"):
        ToyStreets(4, transforms="flip")
    data = ToyStreets(10)
    with pytest.raises(IndexError, match="index 10 given; this data set has 10 scenes"):
        data[10]
    with pytest.raises(TypeError, match="index 1.5 given"):
        data[1.5]
