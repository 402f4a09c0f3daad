"""Tests for segviz.data.palettes: class lists, official colours, and ``colorize``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import segviz.data
from segviz.data import (
    CITYSCAPES_CATEGORIES,
    CITYSCAPES_CLASSES,
    CITYSCAPES_PALETTE,
    VOC_CLASSES,
    VOC_PALETTE,
    colorize,
)
from segviz.data.palettes import voc_colormap

# Colours as published with the benchmarks (VOC devkit figures / Cityscapes labels.py), typed by
# hand, not computed.
VOC_KNOWN = {
    "background": (0, 0, 0),
    "aeroplane": (128, 0, 0),
    "bicycle": (0, 128, 0),
    "bird": (128, 128, 0),
    "boat": (0, 0, 128),
    "bus": (0, 128, 128),
    "car": (128, 128, 128),
    "cat": (64, 0, 0),
    "dog": (64, 0, 128),
    "horse": (192, 0, 128),
    "person": (192, 128, 128),
    "tvmonitor": (0, 64, 128),
}
CITYSCAPES_KNOWN = {
    "road": (128, 64, 128),
    "sidewalk": (244, 35, 232),
    "building": (70, 70, 70),
    "vegetation": (107, 142, 35),
    "sky": (70, 130, 180),
    "person": (220, 20, 60),
    "car": (0, 0, 142),
    "bicycle": (119, 11, 32),
}


def test_voc_classes_are_the_official_21_in_order():
    assert len(VOC_CLASSES) == 21
    assert VOC_CLASSES[0] == "background"
    assert VOC_CLASSES[1:6] == ("aeroplane", "bicycle", "bird", "boat", "bottle")
    assert VOC_CLASSES[15] == "person"
    assert VOC_CLASSES[20] == "tvmonitor"


@pytest.mark.parametrize("name", sorted(VOC_KNOWN))
def test_voc_palette_has_the_official_colours(name):
    assert tuple(VOC_PALETTE[VOC_CLASSES.index(name)]) == VOC_KNOWN[name]


def test_voc_void_label_is_cream():
    assert tuple(VOC_PALETTE[255]) == (224, 224, 192)


def test_voc_palette_is_256_distinct_read_only_colours():
    assert VOC_PALETTE.shape == (256, 3) and VOC_PALETTE.dtype == np.uint8
    assert len({tuple(row) for row in VOC_PALETTE}) == 256
    with pytest.raises(ValueError):
        VOC_PALETTE[0, 0] = 1


def test_voc_colormap_prefix_matches_the_full_map():
    np.testing.assert_array_equal(voc_colormap(21), VOC_PALETTE[:21])


def test_voc_colormap_rejects_bad_sizes():
    with pytest.raises(ValueError, match="num_colors 0 given"):
        voc_colormap(0)


def test_cityscapes_classes_are_the_19_train_ids_in_order():
    assert len(CITYSCAPES_CLASSES) == 19
    assert CITYSCAPES_CLASSES[0] == "road"
    assert CITYSCAPES_CLASSES[10] == "sky"
    assert CITYSCAPES_CLASSES[13] == "car"
    assert CITYSCAPES_CLASSES[18] == "bicycle"


@pytest.mark.parametrize("name", sorted(CITYSCAPES_KNOWN))
def test_cityscapes_palette_has_the_official_colours(name):
    assert tuple(CITYSCAPES_PALETTE[CITYSCAPES_CLASSES.index(name)]) == CITYSCAPES_KNOWN[name]


def test_cityscapes_ignore_label_is_black_and_train_colours_distinct():
    assert CITYSCAPES_PALETTE.shape == (256, 3)
    assert tuple(CITYSCAPES_PALETTE[255]) == (0, 0, 0)
    assert len({tuple(row) for row in CITYSCAPES_PALETTE[:19]}) == 19


def test_cityscapes_categories_cover_every_class():
    assert set(CITYSCAPES_CATEGORIES) == set(CITYSCAPES_CLASSES)
    assert set(CITYSCAPES_CATEGORIES.values()) == {
        "flat", "construction", "object", "nature", "sky", "human", "vehicle",
    }  # fmt: skip
    assert CITYSCAPES_CATEGORIES["road"] == "flat"
    assert CITYSCAPES_CATEGORIES["traffic sign"] == "object"
    assert CITYSCAPES_CATEGORIES["rider"] == "human"
    assert CITYSCAPES_CATEGORIES["train"] == "vehicle"


def test_colorize_hand_computed():
    mask = np.array([[0, 1], [15, 255]])
    expected = np.array([[[0, 0, 0], [128, 0, 0]], [[192, 128, 128], [224, 224, 192]]], np.uint8)
    out = colorize(mask)
    assert out.dtype == np.uint8 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize(
    "dtype", [np.uint8, np.int16, np.int32, np.int64, torch.uint8, torch.int32, torch.int64]
)
def test_colorize_accepts_numpy_and_torch_integer_masks(dtype):
    labels = [[0, 7], [13, 2]]
    if isinstance(dtype, torch.dtype):
        mask = torch.tensor(labels, dtype=dtype)
    else:
        mask = np.array(labels, dtype)
    known = VOC_KNOWN
    expected = np.array([[known["background"], known["car"]], [known["horse"], known["bicycle"]]])
    np.testing.assert_array_equal(colorize(mask), expected)


def test_colorize_batch_and_bool_and_torch_palette():
    batch = torch.randint(0, 19, (4, 5, 6))
    out = colorize(batch, CITYSCAPES_PALETTE)
    assert out.shape == (4, 5, 6, 3)
    torch_palette = torch.from_numpy(CITYSCAPES_PALETTE.copy())
    np.testing.assert_array_equal(out[2], colorize(batch[2], torch_palette))
    np.testing.assert_array_equal(colorize(np.array([[True, False]])), [[(128, 0, 0), (0, 0, 0)]])


def test_colorize_rejects_float_masks_with_a_hint():
    with pytest.raises(ValueError, match=r"dtype torch.float32 given.*integer.*argmax"):
        colorize(torch.zeros(2, 2))
    with pytest.raises(ValueError, match=r"dtype float64 given"):
        colorize(np.zeros((2, 2)))


def test_colorize_names_the_label_beyond_the_palette():
    with pytest.raises(ValueError, match=r"label 19 but the palette has 19 rows \(labels 0 to 18\)"):
        colorize(np.array([[0, 19]]), CITYSCAPES_PALETTE[:19])
    with pytest.raises(ValueError, match=r"label -1 but the palette has 256 rows"):
        colorize(np.array([[-1, 3]]))


def test_colorize_rejects_bad_shapes_and_palettes():
    with pytest.raises(ValueError, match=r"mask of shape \(5,\) given"):
        colorize(np.zeros(5, np.int64))
    with pytest.raises(ValueError, match=r"palette of shape \(4,\) given"):
        colorize(np.zeros((2, 2), np.int64), np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match=r"mask of type list given"):
        colorize([[0, 1]])


def test_public_names():
    for name in segviz.data.__all__:
        assert hasattr(segviz.data, name), name
    assert {"colorize", "make_scenes", "SyntheticScenes", "real_images"} <= set(segviz.data.__all__)

