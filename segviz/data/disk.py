"""PASCAL VOC 2012 and Cityscapes, read from a folder you downloaded them to (never downloaded here).

The two benchmarks of the course's papers are large (2 GB and 11 GB) and Cityscapes needs an
account, so segviz never fetches them: the course runs on :class:`~segviz.data.ToyStreets` and
the synthetic scenes, and these loaders are for learners who have the real data. They are thin
wrappers over ``torchvision.datasets.VOCSegmentation`` and ``torchvision.datasets.Cityscapes``
(always with ``download=False``) that

* check the folder first and, when something is missing, raise :class:`DatasetNotFoundError`
  saying what to download, from where, and which layout torchvision expects under ``root``;
* return tensors, not PIL images: ``image`` ``float32 [3, H, W]`` in [0, 1] and ``mask``
  ``int64 [H, W]``;
* keep VOC's label 255 (the "void" outline drawn around every object, and hard regions) as 255;
* map Cityscapes' 34 label ids to the 19 ``trainId`` classes of :data:`CITYSCAPES_CLASSES`, every
  other label (ego vehicle, rectification border, parking, guard rail, ...) to 255;
* apply an optional joint ``transforms(image, mask)``, e.g. :func:`segmentation_transforms`.

Train with ``ignore_index=255`` so the void pixels do not count.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..validation import check_choice, check_int
from .palettes import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE, VOC_CLASSES, VOC_PALETTE

__all__ = [
    "DatasetNotFoundError",
    "VOC",
    "Cityscapes",
    "CITYSCAPES_TRAIN_IDS",
    "cityscapes_to_train_ids",
]

VOC_URL = "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar"
CITYSCAPES_URL = "https://www.cityscapes-dataset.com/downloads/"

#: Cityscapes label id -> trainId, for the 19 evaluated classes (``cityscapesscripts/helpers/
#: labels.py``); every other id is ignored (255).
CITYSCAPES_TRAIN_IDS: dict[int, int] = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9,
    23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18,
}  # fmt: skip

_TRAIN_ID_TABLE = torch.full((256,), 255, dtype=torch.int64)
for _id, _train_id in CITYSCAPES_TRAIN_IDS.items():
    _TRAIN_ID_TABLE[_id] = _train_id


class DatasetNotFoundError(FileNotFoundError):
    """A data set is not (completely) under the given root; the message says what to download,
    from where, and how the folder must look.

    A ``FileNotFoundError``, so ``except FileNotFoundError`` catches it too.

    Example:
        >>> issubclass(DatasetNotFoundError, FileNotFoundError)
        True
    """


def cityscapes_to_train_ids(label_ids: Any) -> Tensor:
    """Map Cityscapes label ids (``*_gtFine_labelIds.png``) to the 19 training classes.

    Args:
        label_ids: integer ids 0 to 33 (-1, the licence plate, and anything else count as void),
            a tensor or numpy array of any shape.

    Returns:
        ``int64`` tensor of the same shape: ``trainId`` 0 to 18 (the index into
        :data:`CITYSCAPES_CLASSES`) or 255 for ignored labels.

    Example:
        >>> cityscapes_to_train_ids(torch.tensor([[7, 8, 26], [0, 1, 33]])).tolist()
        [[0, 1, 13], [255, 255, 18]]
    """
    ids = torch.as_tensor(np.asarray(label_ids) if not isinstance(label_ids, Tensor) else label_ids)
    if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
        raise ValueError(f"label_ids of dtype {ids.dtype} given; label ids must be integers (0 to 33)")
    ids = ids.long()
    outside = (ids < 0) | (ids > 255)
    return torch.where(outside, torch.full_like(ids, 255), _TRAIN_ID_TABLE[ids.clamp(0, 255)])


def _check_root(root: Any) -> Path:
    if not isinstance(root, (str, os.PathLike)):
        raise ValueError(f"root {root!r} given; root must be a folder path (a str or pathlib.Path)")
    return Path(root).expanduser()


def _check_transforms(transforms: Any) -> Callable | None:
    if transforms is not None and not callable(transforms):
        raise ValueError(
            f"transforms {transforms!r} given; transforms must be None or a callable "
            "(image, mask) -> (image, mask), e.g. segmentation_transforms()"
        )
    return transforms


def _image_tensor(image: Any) -> Tensor:
    """PIL RGB image -> ``float32 [3, H, W]`` in [0, 1]."""
    array = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(array.copy()).permute(2, 0, 1).to(torch.float32).div_(255)


class _OnDisk(Dataset):
    """What VOC and Cityscapes share: a torchvision data set, tensors out, optional transforms."""

    class_names: tuple[str, ...]
    palette: np.ndarray
    ignore_index: int = 255

    def __init__(self, root: Path, split: str, dataset: Any, transforms: Callable | None) -> None:
        self.root, self.split, self.transforms = root, split, transforms
        self._dataset = dataset

    @property
    def num_classes(self) -> int:
        """Number of classes (void not counted)."""
        return len(self.class_names)

    @property
    def images(self) -> list[str]:
        """The image files, in item order."""
        return list(self._dataset.images)

    def __len__(self) -> int:
        return len(self._dataset)

    def _mask(self, target: Any) -> Tensor:  # pragma: no cover - overridden
        raise NotImplementedError

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        try:
            index = check_int("index", index)
        except ValueError:
            raise TypeError(f"index {index!r} given; index must be an integer") from None
        if not -len(self) <= index < len(self):
            raise IndexError(
                f"index {index} given; this data set has {len(self)} images, "
                f"so index must be between {-len(self)} and {len(self) - 1}"
            )
        image, target = self._dataset[index % len(self)]
        image, mask = _image_tensor(image), self._mask(target)
        if self.transforms is not None:
            image, mask = self.transforms(image, mask)
        return image, mask

    def __repr__(self) -> str:
        extra = f", transforms={self.transforms!r}" if self.transforms is not None else ""
        return f"{type(self).__name__}(root='{self.root}', split='{self.split}'{extra}): {len(self)} images"


class VOC(_OnDisk):
    """PASCAL VOC 2012 segmentation (Everingham et al., IJCV 2010) from a folder on disk.

    The ``train`` split has 1,464 images, ``val`` 1,449, ``trainval`` both; 21 classes
    (:data:`VOC_CLASSES`, background included) and the void label 255 on object outlines.

    Args:
        root: the folder that holds ``VOCdevkit/`` (where ``VOCtrainval_11-May-2012.tar`` was
            extracted).
        split: ``"train"``, ``"val"`` or ``"trainval"``.
        transforms: optional joint ``(image, mask) -> (image, mask)``.

    Raises:
        DatasetNotFoundError: a required folder or split file is missing; the message says what
            to download and the layout expected.

    Returns (per item):
        ``(image, mask)``: ``float32`` in [0, 1] and ``int64`` ids 0 to 20 or 255.

    Shape:
        ``image [3, H, W]``, ``mask [H, W]`` (about 500 x 375, it varies; before ``transforms``).

    Example:
        >>> VOC("/no/such/folder")
        Traceback (most recent call last):
        ...
        segviz.data.disk.DatasetNotFoundError: PASCAL VOC 2012 not found under '/no/such/folder' ...
    """

    class_names = VOC_CLASSES
    palette = VOC_PALETTE

    def __init__(self, root: str | os.PathLike, split: str = "train", transforms: Callable | None = None) -> None:
        root = _check_root(root)
        split = check_choice("split", split, ("train", "val", "trainval"))
        transforms = _check_transforms(transforms)
        base = root / "VOCdevkit" / "VOC2012"
        needed = [
            base / "JPEGImages",
            base / "SegmentationClass",
            base / "ImageSets" / "Segmentation" / f"{split}.txt",
        ]
        missing = [path for path in needed if not path.exists()]
        if missing:
            raise DatasetNotFoundError(_voc_message(root, missing[0]))
        from torchvision.datasets import VOCSegmentation

        dataset = VOCSegmentation(str(root), year="2012", image_set=split, download=False)
        super().__init__(root, split, dataset, transforms)

    @property
    def masks(self) -> list[str]:
        """The mask files (``SegmentationClass/*.png``), in item order."""
        return list(self._dataset.masks)

    def _mask(self, target: Any) -> Tensor:
        # the PNGs are palette images: the pixel values are the class ids (255 = void)
        return torch.from_numpy(np.array(target, dtype=np.int64))


def _voc_message(root: Path, missing: Path) -> str:
    return (
        f"PASCAL VOC 2012 not found under '{root}' (missing: {missing}).\n"
        "segviz never downloads data sets. To use VOC:\n"
        f"  1. download VOCtrainval_11-May-2012.tar (about 2 GB) from\n     {VOC_URL}\n"
        f"  2. extract it into the root:  tar -xf VOCtrainval_11-May-2012.tar -C '{root}'\n"
        "so that the root holds (the layout torchvision.datasets.VOCSegmentation reads):\n"
        f"  {root}/VOCdevkit/VOC2012/JPEGImages/<name>.jpg\n"
        f"  {root}/VOCdevkit/VOC2012/SegmentationClass/<name>.png\n"
        f"  {root}/VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt, val.txt, trainval.txt"
    )


class Cityscapes(_OnDisk):
    """Cityscapes fine annotations (Cordts et al., CVPR 2016) from a folder on disk.

    The ``train`` split has 2,975 images of 1024 x 2048, ``val`` 500, ``test`` 1,525 (whose
    public masks are all void). Masks are mapped from the label ids of
    ``*_gtFine_labelIds.png`` to the 19 training classes (:data:`CITYSCAPES_CLASSES`), every
    other label to 255; items come in sorted file order.

    Args:
        root: the folder that holds ``leftImg8bit/`` and ``gtFine/``.
        split: ``"train"``, ``"val"`` or ``"test"``.
        transforms: optional joint ``(image, mask) -> (image, mask)``.

    Raises:
        DatasetNotFoundError: ``leftImg8bit/<split>`` or ``gtFine/<split>`` is missing; the message
            says what to download and the layout expected.

    Returns (per item):
        ``(image, mask)``: ``float32`` in [0, 1] and ``int64`` ids 0 to 18 or 255.

    Shape:
        ``image [3, 1024, 2048]``, ``mask [1024, 2048]`` (before ``transforms``).

    Example:
        >>> Cityscapes("/no/such/folder", split="val")
        Traceback (most recent call last):
        ...
        segviz.data.disk.DatasetNotFoundError: Cityscapes not found under '/no/such/folder' ...
    """

    class_names = CITYSCAPES_CLASSES
    palette = CITYSCAPES_PALETTE

    def __init__(self, root: str | os.PathLike, split: str = "train", transforms: Callable | None = None) -> None:
        root = _check_root(root)
        split = check_choice("split", split, ("train", "val", "test"))
        transforms = _check_transforms(transforms)
        missing = [path for path in (root / "leftImg8bit" / split, root / "gtFine" / split) if not path.is_dir()]
        if missing:
            raise DatasetNotFoundError(_cityscapes_message(root, missing[0]))
        from torchvision.datasets import Cityscapes as TorchvisionCityscapes

        dataset = TorchvisionCityscapes(str(root), split=split, mode="fine", target_type="semantic")
        if dataset.images:  # torchvision lists the files in directory order; sort them
            dataset.images, dataset.targets = (list(t) for t in zip(*sorted(zip(dataset.images, dataset.targets))))
        super().__init__(root, split, dataset, transforms)

    @property
    def masks(self) -> list[str]:
        """The label-id files (``gtFine/<split>/<city>/*_gtFine_labelIds.png``), in item order."""
        return [targets[0] for targets in self._dataset.targets]

    def _mask(self, target: Any) -> Tensor:
        return cityscapes_to_train_ids(np.array(target))


def _cityscapes_message(root: Path, missing: Path) -> str:
    zips = [name for name in ("leftImg8bit_trainvaltest.zip", "gtFine_trainvaltest.zip") if (root / name).is_file()]
    found = f"(found {' and '.join(zips)} in the root: unzip, step 3)\n" if zips else ""
    return (
        f"Cityscapes not found under '{root}' (missing: {missing}).\n"
        f"{found}"
        "segviz never downloads data sets. To use Cityscapes:\n"
        "  1. register at https://www.cityscapes-dataset.com and log in (downloads need an account)\n"
        f"  2. download leftImg8bit_trainvaltest.zip (11 GB) and gtFine_trainvaltest.zip (241 MB) from\n"
        f"     {CITYSCAPES_URL}\n"
        f"  3. unzip both into the root:  unzip leftImg8bit_trainvaltest.zip -d '{root}' and\n"
        f"     unzip gtFine_trainvaltest.zip -d '{root}'\n"
        "so that the root holds (the layout torchvision.datasets.Cityscapes reads):\n"
        f"  {root}/leftImg8bit/train|val|test/<city>/<city>_<seq>_<frame>_leftImg8bit.png\n"
        f"  {root}/gtFine/train|val|test/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png"
    )
