"""Tests for segviz.data.disk: VOC and Cityscapes read from tiny fake trees, never downloaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.datasets.utils
import torchvision.datasets.voc
from PIL import Image
from torch.utils.data import DataLoader
from torchvision.datasets import Cityscapes as TorchvisionCityscapes

from segviz.data import (
    CITYSCAPES_CLASSES,
    CITYSCAPES_PALETTE,
    VOC,
    VOC_CLASSES,
    VOC_PALETTE,
    Cityscapes,
    DatasetNotFoundError,
    cityscapes_to_train_ids,
    segmentation_transforms,
)

VOC_NAMES = ["2007_000032", "2007_000039", "2007_000063"]


@pytest.fixture(autouse=True)
def _no_downloads(monkeypatch):
    """Any attempt to download fails the test loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a download was attempted: {args} {kwargs}")

    for module in (torchvision.datasets.utils, torchvision.datasets.voc):
        for name in ("download_url", "download_and_extract_archive"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, refuse)


def voc_mask(index: int) -> np.ndarray:
    """Background, one object of class ``index + 1`` with the 255 outline VOC draws around it."""
    mask = np.zeros((20, 30), dtype=np.uint8)
    mask[4:16, 6:20] = 255
    mask[5:15, 7:19] = index + 1
    return mask


def voc_image(index: int) -> np.ndarray:
    image = np.zeros((20, 30, 3), dtype=np.uint8)
    image[..., index % 3] = 200  # a flat colour survives JPEG almost exactly
    return image


@pytest.fixture
def voc_root(tmp_path: Path) -> Path:
    base = tmp_path / "VOCdevkit" / "VOC2012"
    for folder in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (base / folder).mkdir(parents=True)
    for index, name in enumerate(VOC_NAMES):
        Image.fromarray(voc_image(index)).save(base / "JPEGImages" / f"{name}.jpg", quality=100)
        png = Image.fromarray(voc_mask(index), mode="P")
        png.putpalette(VOC_PALETTE.flatten().tolist())  # as in the real files
        png.save(base / "SegmentationClass" / f"{name}.png")
    (base / "ImageSets/Segmentation/train.txt").write_text("\n".join(VOC_NAMES[:2]) + "\n")
    (base / "ImageSets/Segmentation/val.txt").write_text(VOC_NAMES[2] + "\n")
    (base / "ImageSets/Segmentation/trainval.txt").write_text("\n".join(VOC_NAMES) + "\n")
    return tmp_path


# label ids of the fake Cityscapes masks -> the trainIds expected (cityscapesscripts labels.py)
CITYSCAPES_IDS = [7, 8, 26, 0, 9, 33, 24, 23, 1, 4]
EXPECTED_TRAIN_IDS = [0, 1, 13, 255, 255, 18, 11, 10, 255, 255]


def cityscapes_files(root: Path, split: str, city: str, frame: int) -> tuple[np.ndarray, np.ndarray]:
    stem = f"{city}_000000_{frame:06d}"
    rng = np.random.default_rng(frame)
    image = rng.integers(0, 256, size=(8, 16, 3), dtype=np.uint8)
    ids = np.array(CITYSCAPES_IDS, dtype=np.uint8)[rng.integers(0, len(CITYSCAPES_IDS), size=(8, 16))]
    for folder, name, array in (("leftImg8bit", "leftImg8bit", image), ("gtFine", "gtFine_labelIds", ids)):
        (root / folder / split / city).mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(root / folder / split / city / f"{stem}_{name}.png")
    return image, ids


@pytest.fixture
def cityscapes_root(tmp_path: Path) -> tuple[Path, dict[str, tuple[np.ndarray, np.ndarray]]]:
    files = {}
    for city, frame in [("zurich", 19), ("aachen", 21), ("aachen", 3)]:
        files[f"{city}_{frame}"] = cityscapes_files(tmp_path, "train", city, frame)
    cityscapes_files(tmp_path, "val", "lindau", 5)
    return tmp_path, files


def test_voc_absent_says_what_to_download_and_where(tmp_path):
    with pytest.raises(DatasetNotFoundError) as error:
        VOC(tmp_path / "voc")
    message = str(error.value)
    assert isinstance(error.value, FileNotFoundError)
    for needed in (
        f"PASCAL VOC 2012 not found under '{tmp_path / 'voc'}'",
        "never downloads",
        "VOCtrainval_11-May-2012.tar",
        "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
        "tar -xf VOCtrainval_11-May-2012.tar",
        "VOCdevkit/VOC2012/JPEGImages/<name>.jpg",
        "VOCdevkit/VOC2012/SegmentationClass/<name>.png",
        "VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt",
    ):
        assert needed in message, needed
    assert not (tmp_path / "voc").exists()  # nothing created, nothing fetched


def test_voc_partial_tree_names_what_is_missing(voc_root):
    (voc_root / "VOCdevkit/VOC2012/ImageSets/Segmentation/val.txt").unlink()
    VOC(voc_root, split="train")  # the train split is complete
    with pytest.raises(DatasetNotFoundError, match=r"missing: .*ImageSets/Segmentation/val\.txt"):
        VOC(voc_root, split="val")


def test_voc_items_from_a_fake_tree(voc_root):
    data = VOC(voc_root, split="train")
    assert len(data) == 2 and data.num_classes == 21 and data.class_names == VOC_CLASSES
    assert data.ignore_index == 255 and data.palette is VOC_PALETTE
    assert [Path(f).stem for f in data.images] == VOC_NAMES[:2] == [Path(f).stem for f in data.masks]
    for index in range(2):
        image, mask = data[index]
        assert image.shape == (3, 20, 30) and image.dtype == torch.float32
        assert mask.shape == (20, 30) and mask.dtype == torch.int64
        assert torch.equal(mask, torch.from_numpy(voc_mask(index)).long())  # 255 outline kept
        expected = torch.from_numpy(voc_image(index)).permute(2, 0, 1).float() / 255
        torch.testing.assert_close(image, expected, atol=3 / 255, rtol=0)  # JPEG
    assert len(VOC(voc_root, split="trainval")) == 3
    assert repr(data) == f"VOC(root='{voc_root}', split='train'): 2 images"
    assert data[-1][1].max() == 255


def test_voc_applies_transforms_jointly(voc_root):
    plain = VOC(voc_root, split="val")[0]
    flipped = VOC(voc_root, split="val", transforms=segmentation_transforms(scale=None, hflip=1.0, color_jitter=None))[0]
    assert torch.equal(flipped[0], plain[0].flip(-1)) and torch.equal(flipped[1], plain[1].flip(-1))
    crop = VOC(voc_root, split="trainval", transforms=segmentation_transforms(crop=(16, 16)))
    images, masks = next(iter(DataLoader(crop, batch_size=3)))
    assert images.shape == (3, 3, 16, 16) and masks.shape == (3, 16, 16)
    assert set(masks.unique().tolist()) <= {0, 1, 2, 3, 255}


def test_cityscapes_absent_says_what_to_download_and_where(tmp_path):
    with pytest.raises(DatasetNotFoundError) as error:
        Cityscapes(tmp_path, split="val")
    message = str(error.value)
    for needed in (
        f"Cityscapes not found under '{tmp_path}' (missing: {tmp_path / 'leftImg8bit' / 'val'})",
        "never downloads",
        "https://www.cityscapes-dataset.com",
        "account",
        "leftImg8bit_trainvaltest.zip",
        "gtFine_trainvaltest.zip",
        "https://www.cityscapes-dataset.com/downloads/",
        "leftImg8bit/train|val|test/<city>/<city>_<seq>_<frame>_leftImg8bit.png",
        "gtFine/train|val|test/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png",
    ):
        assert needed in message, needed
    assert "found" not in message.split("\n")[1]


def test_cityscapes_zips_are_not_extracted_behind_your_back(tmp_path):
    (tmp_path / "leftImg8bit_trainvaltest.zip").write_bytes(b"PK")
    (tmp_path / "gtFine_trainvaltest.zip").write_bytes(b"PK")
    with pytest.raises(DatasetNotFoundError, match="found leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip in the root: unzip"):
        Cityscapes(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gtFine_trainvaltest.zip", "leftImg8bit_trainvaltest.zip"]


def test_cityscapes_half_a_tree_names_what_is_missing(cityscapes_root):
    root, _ = cityscapes_root
    with pytest.raises(DatasetNotFoundError, match=r"missing: .*leftImg8bit.test"):
        Cityscapes(root, split="test")


def test_cityscapes_items_from_a_fake_tree(cityscapes_root):
    root, files = cityscapes_root
    data = Cityscapes(root, split="train")
    assert len(data) == 3 and data.num_classes == 19 and data.class_names == CITYSCAPES_CLASSES
    assert data.palette is CITYSCAPES_PALETTE and data.ignore_index == 255
    order = ["aachen_3", "aachen_21", "zurich_19"]  # sorted by file name, not directory order
    assert [Path(f).name for f in data.images] == sorted(Path(f).name for f in data.images)
    assert [Path(f).name.replace("leftImg8bit", "gtFine_labelIds") for f in data.images] == [Path(f).name for f in data.masks]
    lookup = dict(zip(CITYSCAPES_IDS, EXPECTED_TRAIN_IDS))
    for index, key in enumerate(order):
        image, mask = data[index]
        written_image, written_ids = files[key]
        assert image.shape == (3, 8, 16) and image.dtype == torch.float32 and mask.dtype == torch.int64
        torch.testing.assert_close(image, torch.from_numpy(written_image).permute(2, 0, 1).float() / 255)
        expected = np.vectorize(lookup.get)(written_ids)
        assert torch.equal(mask, torch.from_numpy(expected).long())
    assert len(Cityscapes(root, split="val")) == 1
    assert repr(data) == f"Cityscapes(root='{root}', split='train'): 3 images"


def test_cityscapes_applies_transforms_jointly(cityscapes_root):
    root, _ = cityscapes_root
    plain = Cityscapes(root)[1]
    flip = segmentation_transforms(scale=None, hflip=1.0, color_jitter=None)
    flipped = Cityscapes(root, transforms=flip)[1]
    assert torch.equal(flipped[0], plain[0].flip(-1)) and torch.equal(flipped[1], plain[1].flip(-1))


def test_train_ids_match_torchvision_and_the_class_list():
    """The mapping agrees with torchvision's copy of cityscapesscripts' label table (the oracle),
    and trainId k is CITYSCAPES_CLASSES[k]."""
    for label in TorchvisionCityscapes.classes:
        if label.id < 0:
            continue
        expected = label.train_id if 0 <= label.train_id < 19 else 255
        assert int(cityscapes_to_train_ids(torch.tensor([label.id]))) == expected, label.name
        if expected != 255:
            assert CITYSCAPES_CLASSES[expected] == label.name
    assert cityscapes_to_train_ids(np.array([[-1, 34, 255]], dtype=np.int64)).tolist() == [[255, 255, 255]]
    with pytest.raises(ValueError, match="label_ids of dtype torch.float32 given"):
        cityscapes_to_train_ids(torch.tensor([7.0]))


@pytest.mark.parametrize("loader, split", [(VOC, "test"), (Cityscapes, "trainval")])
def test_bad_arguments_raise_teaching_errors(tmp_path, loader, split):
    with pytest.raises(ValueError, match=f"split '{split}' given; split must be one of"):
        loader(tmp_path, split=split)
    with pytest.raises(ValueError, match="root 3 given; root must be a folder path"):
        loader(3)
    with pytest.raises(ValueError, match="transforms 'flip' given"):
        loader(tmp_path, transforms="flip")


def test_index_errors(voc_root):
    data = VOC(voc_root)
    with pytest.raises(IndexError, match="index 2 given; this data set has 2 images"):
        data[2]
    with pytest.raises(TypeError, match="index 'a' given"):
        data["a"]
