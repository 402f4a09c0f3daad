"""Tests for segviz.data.synthetic: determinism, label consistency, and honesty of the data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from segviz.data import (
    SYNTHETIC_CLASSES,
    SYNTHETIC_PALETTE,
    Scenes,
    SyntheticScenes,
    colorize,
    make_scenes,
)
from segviz.data.synthetic import _signed_distance

NUM_CLASSES = len(SYNTHETIC_CLASSES)


@pytest.fixture(scope="module")
def scenes() -> Scenes:
    return make_scenes(300, seed=0)


def test_classes_and_palette():
    assert SYNTHETIC_CLASSES[0] == "background"
    assert set(SYNTHETIC_CLASSES[1:]) == {"disk", "square", "triangle", "ring", "bar", "cross"}
    assert len({tuple(c) for c in SYNTHETIC_PALETTE[:NUM_CLASSES]}) == NUM_CLASSES
    assert tuple(SYNTHETIC_PALETTE[0]) == (0, 0, 0)


def test_shapes_dtypes_and_ranges(scenes):
    assert scenes.images.shape == (300, 3, 64, 64) and scenes.images.dtype == torch.float32
    assert scenes.masks.shape == (300, 64, 64) and scenes.masks.dtype == torch.int64
    assert scenes.instances.shape == (300, 64, 64) and scenes.instances.dtype == torch.int64
    assert scenes.class_names == SYNTHETIC_CLASSES and scenes.num_classes == NUM_CLASSES
    assert len(scenes) == 300
    assert 0 <= scenes.images.min() and scenes.images.max() <= 1
    eight_bit = scenes.images * 255
    torch.testing.assert_close(eight_bit, eight_bit.round(), atol=1e-4, rtol=0)
    assert 0 <= scenes.masks.min() and scenes.masks.max() < NUM_CLASSES
    assert "Scenes(images=Tensor[300, 3, 64, 64] float32" in repr(scenes)


def test_same_seed_same_scenes_different_seed_different_scenes(scenes):
    again = make_scenes(100, seed=0)
    assert torch.equal(again.images, scenes.images[:100])
    assert torch.equal(again.masks, scenes.masks[:100])
    assert torch.equal(again.instances, scenes.instances[:100])
    other = make_scenes(100, seed=1)
    # every scene differs, not just some: no scene of seed 1 equals scene i of seed 0
    same_mask = (other.masks == scenes.masks[:100]).flatten(1).all(1)
    same_image = (other.images == scenes.images[:100]).flatten(1).all(1)
    assert not same_image.any() and same_mask.float().mean() < 0.05


def test_scene_depends_on_seed_and_index_only(scenes):
    for start, count in [(0, 1), (5, 3), (63, 2), (100, 150), (299, 1)]:
        part = make_scenes(count, seed=0, start=start)
        assert torch.equal(part.images, scenes.images[start : start + count]), (start, count)
        assert torch.equal(part.masks, scenes.masks[start : start + count]), (start, count)


def test_scenes_within_a_set_are_all_different(scenes):
    flat = scenes.masks.flatten(1)
    assert len({tuple(row.tolist()) for row in flat}) == len(flat)


def test_layout_does_not_depend_on_size(scenes):
    large = make_scenes(64, size=128, seed=0)
    # a 64-pixel centre lies between two 128-pixel centres: labels agree except along edges
    agree = (large.masks[:, ::2, ::2] == scenes.masks[:64]).float().mean()
    assert agree > 0.97


def test_every_class_appears_with_reasonable_frequency(scenes):
    pixels = torch.bincount(scenes.masks.flatten(), minlength=NUM_CLASSES).double()
    pixels /= pixels.sum()
    present = torch.stack([(scenes.masks == k).flatten(1).any(1) for k in range(NUM_CLASSES)], 1)
    share = present.double().mean(0)
    # measured on 300 scenes: object classes cover 2.0-3.3 % of pixels, each is in about a
    # third of the scenes; background about 82 %
    assert 0.7 < pixels[0] < 0.9
    for k in range(1, NUM_CLASSES):
        assert 0.01 < pixels[k] < 0.06, (SYNTHETIC_CLASSES[k], float(pixels[k]))
        assert 0.2 < share[k] < 0.5, (SYNTHETIC_CLASSES[k], float(share[k]))


def test_each_instance_has_one_class_and_background_has_none(scenes):
    masks, instances = scenes.masks, scenes.instances
    assert torch.equal(masks == 0, instances == 0)
    assert instances.max() <= 4
    pair = instances * NUM_CLASSES + masks  # one id per (instance, class) combination
    for i in range(len(masks)):
        ids = torch.unique(instances[i])
        pairs = torch.unique(pair[i])
        assert len(ids) == len(pairs), f"scene {i}: an instance holds two classes"


def test_number_of_objects_is_respected():
    empty = make_scenes(64, seed=3, num_objects=(0, 0))
    assert (empty.masks == 0).all() and (empty.instances == 0).all()
    three = make_scenes(64, seed=3, num_objects=(3, 3))
    visible = torch.tensor([len(torch.unique(m)) - 1 for m in three.instances])
    assert visible.max() == 3 and (visible == 3).float().mean() > 0.6  # a few are hidden
    assert three.instances.max() == 3


def test_objects_occlude_each_other(scenes):
    ids = scenes.instances
    touching = torch.zeros(len(ids), dtype=torch.bool)
    for a, b in [(ids[:, :, 1:], ids[:, :, :-1]), (ids[:, 1:, :], ids[:, :-1, :])]:
        touching |= ((a != b) & (a > 0) & (b > 0)).flatten(1).any(1)
    several = ids.flatten(1).amax(1) >= 2
    # convex shapes that touch almost always overlap; measured: about 70 % of such scenes
    assert touching[several].float().mean() > 0.3


def test_signed_distance_hand_values():
    def at(name, px, py, angle_deg=0.0, r=10.0):
        t = math.radians(angle_deg)
        dx, dy, cos, sin, radius = (
            torch.tensor([[[v]]], dtype=torch.float32) for v in (px, py, math.cos(t), math.sin(t), r)
        )
        return float(_signed_distance(SYNTHETIC_CLASSES.index(name), dx, dy, cos, sin, radius))

    assert at("disk", 3.0, 4.0) == pytest.approx(9.0 - 5.0)  # radius 0.9 r
    assert at("ring", 0.0, 0.0) < 0 < at("ring", 7.75, 0.0)  # hole in the middle
    assert at("ring", 7.75, 0.0) == pytest.approx(2.25)
    assert at("square", 8.0, 0.0) == pytest.approx(0.0, abs=1e-5)  # half side 0.8 r
    assert at("square", 8.0, 0.0, 45) == pytest.approx(8.0 - 8.0 / math.sqrt(2), abs=1e-5)
    assert at("bar", 15.0, 0.0) > 0 > at("bar", 0.0, 3.0)  # long along u, thin across
    assert at("bar", 0.0, 15.0, 90) > 0
    assert at("cross", 9.0, 0.0) > 0 and at("cross", 0.0, 9.0) > 0 > at("cross", 6.0, 6.0)
    assert at("triangle", 0.0, 0.0) == pytest.approx(6.5)  # inradius 0.65 r


def test_colour_alone_cannot_label_the_objects():
    """A per-pixel nearest-colour-mean classifier, fitted on 200 scenes, is right on far fewer
    object pixels than a shape-aware model can be (measured: 0.45 mean per-class accuracy over
    the six object classes)."""
    train, test = make_scenes(200, seed=10), make_scenes(200, seed=11)

    def pixels(s):
        return s.images.permute(0, 2, 3, 1).reshape(-1, 3), s.masks.flatten()

    x, y = pixels(train)
    means = torch.stack([x[y == k].mean(0) for k in range(NUM_CLASSES)])
    x, y = pixels(test)
    predicted = torch.cdist(x, means).argmin(1)
    recall = [float((predicted[y == k] == k).float().mean()) for k in range(1, NUM_CLASSES)]
    assert np.mean(recall) < 0.6, recall
    assert max(recall) < 0.75, recall
    # ... but colour is not pure noise either (chance would be 1/7)
    assert np.mean(recall) > 0.2, recall


def test_dataset_items_equal_make_scenes(scenes):
    data = SyntheticScenes(300, seed=0)
    assert len(data) == 300 and data.num_classes == NUM_CLASSES
    for index in [0, 1, 63, 64, 250, 299, -1]:
        image, mask = data[index]
        assert image.shape == (3, 64, 64) and image.dtype == torch.float32
        assert mask.dtype == torch.int64
        assert torch.equal(image, scenes.images[index])
        assert torch.equal(mask, scenes.masks[index])
    assert len(data._blocks) == 4  # drawn lazily, one block of 64 at a time, then cached


def test_dataset_with_instances_and_dataloader(scenes):
    data = SyntheticScenes(300, seed=0, with_instances=True)
    image, mask, instances = data[70]
    assert torch.equal(instances, scenes.instances[70])
    images, masks, ids = next(iter(DataLoader(data, batch_size=8)))
    assert images.shape == (8, 3, 64, 64) and masks.shape == ids.shape == (8, 64, 64)
    assert torch.equal(images, scenes.images[:8])
    assert "SyntheticScenes(num_images=300" in repr(data)


def test_dataset_colorizes():
    _, mask = SyntheticScenes(4, size=32, seed=2)[0]
    assert colorize(mask, SYNTHETIC_PALETTE).shape == (32, 32, 3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_images": 0}, "num_images 0 given; num_images must be an integer >= 1"),
        ({"num_images": 2.5}, "num_images 2.5 given"),
        ({"size": 8}, "size 8 given; size must be an integer between 16 and 1024"),
        ({"seed": -1}, "seed -1 given"),
        ({"num_objects": (3, 2)}, r"num_objects \(3, 2\) given; num_objects must be a pair"),
        ({"num_objects": 4}, "num_objects 4 given"),
        ({"num_objects": (1, 40)}, r"num_objects \(1, 40\) given"),
    ],
)
def test_bad_arguments_raise_teaching_errors(kwargs, message):
    arguments = {"num_images": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_scenes(**arguments)
    with pytest.raises(ValueError, match=message):
        SyntheticScenes(**arguments)


def test_bad_start_index_and_flag():
    with pytest.raises(ValueError, match="start -1 given"):
        make_scenes(4, start=-1)
    with pytest.raises(ValueError, match="with_instances 'yes' given"):
        SyntheticScenes(4, with_instances="yes")
    data = SyntheticScenes(10)
    with pytest.raises(IndexError, match="index 10 given; this data set has 10 scenes"):
        data[10]
    with pytest.raises(TypeError, match="index 1.5 given"):
        data[1.5]
