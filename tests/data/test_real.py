"""Tests for segviz.data.real: the bundled photos load offline, as uint8 RGB."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import numpy as np
import pytest
import skimage
from skimage.data._registry import registry

from segviz.data import real_images
from segviz.data.real import REAL_IMAGE_FILES

SKIMAGE_DIR = Path(skimage.__file__).parent
ASKED_FOR = {  # the photos the course's lectures name
    "astronaut", "chelsea", "coffee", "horse", "coins", "brick", "grass", "gravel", "camera",
    "rocket", "motorcycle_left", "motorcycle_right",
}  # fmt: skip


@pytest.fixture(scope="module")
def offline_images() -> dict[str, np.ndarray]:
    """All images, loaded while every attempt to open a network connection fails."""

    def refuse(*args, **kwargs):
        raise OSError("network disabled by test_real.py")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        return real_images()


def test_the_lecture_photos_are_listed():
    assert ASKED_FOR <= set(REAL_IMAGE_FILES)


@pytest.mark.parametrize("name", sorted(REAL_IMAGE_FILES))
def test_file_ships_in_the_wheel_with_the_expected_hash(name):
    """skimage reads a file from its install without downloading iff it is there with this hash."""
    relative = REAL_IMAGE_FILES[name]
    path = SKIMAGE_DIR / relative
    assert path.is_file(), f"{name}: {path} is not in the installed scikit-image"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == registry[relative]


def test_all_images_load_offline_as_uint8_rgb(offline_images):
    assert list(offline_images) == list(REAL_IMAGE_FILES)
    for name, image in offline_images.items():
        assert image.dtype == np.uint8, name
        assert image.ndim == 3 and image.shape[2] == 3, (name, image.shape)
        assert min(image.shape[:2]) >= 100, (name, image.shape)
        assert image.flags.c_contiguous and image.flags.writeable, name


def test_known_sizes_and_kinds(offline_images):
    assert offline_images["astronaut"].shape == (512, 512, 3)
    assert offline_images["coins"].shape == (303, 384, 3)
    assert offline_images["horse"].shape == (328, 400, 3)
    camera = offline_images["camera"]
    assert (camera[..., 0] == camera[..., 1]).all() and (camera[..., 1] == camera[..., 2]).all()
    astronaut = offline_images["astronaut"]
    assert (astronaut[..., 0] != astronaut[..., 2]).mean() > 0.5  # a colour photo


def test_boolean_horse_becomes_0_and_255(offline_images):
    values = np.unique(offline_images["horse"])
    assert values.tolist() == [0, 255]


def test_stereo_pair_is_two_different_views(offline_images):
    left, right = offline_images["motorcycle_left"], offline_images["motorcycle_right"]
    assert left.shape == right.shape
    assert not np.array_equal(left, right)


def test_names_select_and_order():
    images = real_images(["coins", "astronaut"])
    assert list(images) == ["coins", "astronaut"]
    assert list(real_images("camera")) == ["camera"]


def test_each_call_returns_fresh_arrays():
    first = real_images("coins")["coins"]
    first[:] = 0
    assert real_images("coins")["coins"].max() > 0


def test_unknown_name_lists_the_available_ones():
    listed = r"image 'lena' given; image must be one of 'astronaut', .*'text'"
    with pytest.raises(ValueError, match=listed):
        real_images("lena")
    with pytest.raises(ValueError, match="image 3 given"):
        real_images([3])
