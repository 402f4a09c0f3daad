"""Synthetic scenes: procedurally drawn shapes on textured backgrounds, with exact masks.

The course trains FCN, U-Net and DeepLab in seconds on a laptop CPU, so it needs a data set that
is small, instant and *honest*: a network should have to look at shape and context, not only at a
pixel's colour, to label it. Each scene is a textured background (smooth colour noise plus
stripes) on which a few objects (1 to 4 by default) are painted in turn, so later ones occlude earlier ones. The six
object classes differ in **geometry**:

==========  ===============================================================================
class       what tells it apart
==========  ===============================================================================
disk        filled circle
square      filled square
triangle    filled equilateral triangle
ring        circle with a hole: the same outline and colours as a disk, the inside differs
bar         thin rectangle, long and narrow
cross       plus sign
==========  ===============================================================================

Colour is only a weak cue: each class has a preferred hue, but hues are jittered so widely that
neighbouring classes overlap, saturation and brightness vary, a quarter of the objects take any
hue, objects are shaded, and the background takes every colour too. A classifier that looks at
one pixel's colour alone labels fewer than half of each class's pixels correctly (the tests
measure it); a small CNN that sees the shape does far better.

Every scene is fixed by ``(seed, index)`` (and ``num_objects``): the scenes are drawn in blocks of 64 (one random
generator per block, seeded from ``seed`` and the block number), so scene ``i`` is the same
whether you ask for 10 scenes or 10,000, and all geometry is drawn in units of the image size,
so ``size=128`` renders the same layouts as ``size=64``, sharper (only the pixel grain differs).
Images are stored as 8-bit values (``k / 255``), like photographs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..validation import check_int
from .palettes import VOC_PALETTE

__all__ = ["SYNTHETIC_CLASSES", "SYNTHETIC_PALETTE", "Scenes", "make_scenes", "SyntheticScenes"]

SYNTHETIC_CLASSES: tuple[str, ...] = (
    "background", "disk", "square", "triangle", "ring", "bar", "cross",
)  # fmt: skip

#: Colours for drawing synthetic masks: the VOC colour map (256 rows, so 255 = "ignore" is drawn
#: too): background black, disk maroon, square green, triangle olive, ring navy, bar purple,
#: cross teal.
SYNTHETIC_PALETTE: np.ndarray = VOC_PALETTE.copy()
SYNTHETIC_PALETTE.setflags(write=False)

_CHUNK = 64  # scenes per random generator: scene i lives in block i // 64
_MAX_OBJECTS = 16

# Preferred hue of each object class (fraction of the colour wheel, 1/6 apart), so that every
# class has neighbours on the wheel it is confused with. Index = class id (0 = background, unused).
_CLASS_HUE = torch.tensor([0.0, 0 / 6, 2 / 6, 1 / 6, 4 / 6, 3 / 6, 5 / 6])
_HUE_JITTER = 0.11  # standard deviation of the hue around the class's preference
_FREE_HUE = 0.25  # fraction of objects whose hue ignores the class altogether
_SQRT3_2 = math.sqrt(3) / 2


@dataclass(frozen=True, repr=False)
class Scenes:
    """A batch of synthetic scenes, as returned by :func:`make_scenes`.

    Attributes:
        images: RGB in [0, 1], ``float32`` ``Tensor[N, 3, H, W]``.
        masks: class ids (index into ``class_names``), ``int64`` ``Tensor[N, H, W]``.
        instances: ``int64`` ``Tensor[N, H, W]``; 0 = background, ``1..k`` = the image's objects
            in paint order (an object hidden entirely by later ones leaves no pixels).
        class_names: the class of each id, :data:`SYNTHETIC_CLASSES`.
    """

    images: Tensor
    masks: Tensor
    instances: Tensor
    class_names: tuple[str, ...] = SYNTHETIC_CLASSES

    @property
    def num_classes(self) -> int:
        """Number of classes, background included."""
        return len(self.class_names)

    def __len__(self) -> int:
        return self.images.shape[0]

    def __repr__(self) -> str:
        n, _, h, w = self.images.shape
        return (
            f"Scenes(images=Tensor[{n}, 3, {h}, {w}] float32, masks=Tensor[{n}, {h}, {w}] int64, "
            f"instances=Tensor[{n}, {h}, {w}] int64, num_classes={self.num_classes})"
        )


def _check_num_objects(num_objects: Any) -> tuple[int, int]:
    rule = f"a pair (min, max) of integers with 0 <= min <= max <= {_MAX_OBJECTS}"
    if isinstance(num_objects, Sequence) and not isinstance(num_objects, str) and len(num_objects) == 2:
        try:
            low = check_int("num_objects", num_objects[0], minimum=0, maximum=_MAX_OBJECTS)
            high = check_int("num_objects", num_objects[1], minimum=0, maximum=_MAX_OBJECTS)
        except ValueError:
            pass
        else:
            if low <= high:
                return low, high
    raise ValueError(f"num_objects {num_objects!r} given; num_objects must be {rule}, e.g. (1, 4)")


def _block_generator(seed: int, block: int) -> torch.Generator:
    """A generator for block ``block`` of seed ``seed``; SeedSequence mixes the two well."""
    words = np.random.SeedSequence([seed, block]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(words[0]) << 32 | int(words[1]))


def _hsv_to_rgb(hue: Tensor, sat: Tensor, val: Tensor) -> Tensor:
    """HSV in [0, 1] -> RGB in [0, 1]; ``[...]`` -> ``[..., 3]``."""
    n = torch.tensor([5.0, 3.0, 1.0])  # R, G, B
    k = (n + hue[..., None] * 6) % 6
    ramp = torch.clamp(torch.minimum(k, 4 - k), 0, 1)
    return val[..., None] * (1 - sat[..., None] * ramp)


def _signed_distance(
    class_id: int, dx: Tensor, dy: Tensor, cos: Tensor, sin: Tensor, r: Tensor
) -> Tensor:
    """Signed distance in pixels from each pixel centre to one shape's outline, > 0 inside.

    Args:
        class_id: which shape (index into :data:`SYNTHETIC_CLASSES`, 1 or more).
        dx: ``x - centre_x`` in pixels, ``[n, 1, S]``.
        dy: ``y - centre_y`` in pixels, ``[n, S, 1]``.
        cos, sin: the objects' rotations, ``[n, 1, 1]``.
        r: the objects' radii in pixels, ``[n, 1, 1]``.

    Every term is a sum of an ``[n, 1, S]`` and an ``[n, S, 1]`` tensor (rotation and distance
    are separable in x and y), so each costs one pass over the ``[n, S, S]`` pixels. Polygons
    take the max/min of their edges' distances: exact inside, close enough outside for
    antialiasing.

    Shape:
        ``[n, S, S]``.
    """
    name = SYNTHETIC_CLASSES[class_id]
    if name in ("disk", "ring"):
        rho = torch.sqrt(dx * dx + dy * dy)  # rotation-free
        if name == "disk":  # radius 0.9 r
            return 0.9 * r - rho
        return 0.225 * r - (rho - 0.775 * r).abs()  # outer radius r, inner 0.55 r
    if name == "triangle":  # equilateral, circumradius 1.3 r: three edges at inradius 0.65 r
        e0 = dx * (-sin) + dy * cos  # edge normals at the object angle + 90, 210, 330 degrees
        e1 = dx * (sin * 0.5 - cos * _SQRT3_2) + dy * (-cos * 0.5 - sin * _SQRT3_2)
        e2 = dx * (sin * 0.5 + cos * _SQRT3_2) + dy * (-cos * 0.5 + sin * _SQRT3_2)
        return 0.65 * r - torch.maximum(torch.maximum(e0, e1), e2)
    u = (dx * cos + dy * sin).abs_()  # along the object's axis
    v = (dy * cos - dx * sin).abs_()  # across it
    if name == "square":  # half side 0.8 r
        return 0.8 * r - torch.maximum(u, v)
    if name == "bar":  # 3.2 r long, 0.5 r wide
        return torch.minimum(1.6 * r - u, 0.25 * r - v)
    if name == "cross":  # two arms 2 r long, 0.6 r wide
        arm_u = torch.minimum(r - u, 0.3 * r - v)
        arm_v = torch.minimum(r - v, 0.3 * r - u)
        return torch.maximum(arm_u, arm_v)
    raise ValueError(f"class id {class_id} has no shape")  # pragma: no cover


def _smooth_basis(size: int, knots: int) -> Tensor:
    """Interpolation weights ``[size, knots]`` from a coarse grid to pixels (Gaussian bumps,
    each row summing to 1, so the field is a convex mix of the grid values)."""
    pixel = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    knot = torch.linspace(-0.1, 1.1, knots)
    weight = torch.exp(-0.5 * ((pixel[:, None] - knot[None, :]) / 0.18) ** 2)
    return weight / weight.sum(dim=1, keepdim=True)


def _render_block(
    seed: int, block: int, size: int, num_objects: tuple[int, int], first: int = 0, stop: int = _CHUNK
) -> tuple[Tensor, Tensor, Tensor]:
    """Draw scenes ``first .. stop - 1`` of the 64 scenes of one block.

    The parameters of all 64 scenes are drawn (a few KB), the pixels only for those asked for;
    each scene's pixel grain has its own generator, so a scene does not depend on which of its
    neighbours are drawn with it.

    Returns:
        ``(images uint8 [B, 3, S, S], masks uint8 [B, S, S], instances uint8 [B, S, S])`` with
        ``B = stop - first``.
    """
    g = _block_generator(seed, block)
    b, s, (low, high) = _CHUNK, size, num_objects
    num_classes, knots = len(SYNTHETIC_CLASSES), 5

    def uniform(*shape: int, lo: float = 0.0, hi: float = 1.0) -> Tensor:
        return lo + (hi - lo) * torch.rand(shape, generator=g)

    # --- every random parameter first, in units of the image side, so that layouts do not
    # depend on `size` (only the pixel grain, drawn last, does) ---------------------- [B, M]
    m = max(high, 1)
    count = torch.randint(low, high + 1, (b,), generator=g)  # objects per scene
    cls = torch.randint(1, num_classes, (b, m), generator=g)
    centre_x, centre_y = uniform(b, m, lo=0.1, hi=0.9), uniform(b, m, lo=0.1, hi=0.9)
    radius = uniform(b, m, lo=0.11, hi=0.27)
    angle = uniform(b, m, hi=2 * math.pi)
    hue = _CLASS_HUE[cls] + _HUE_JITTER * torch.randn((b, m), generator=g)
    hue = torch.where(uniform(b, m) < _FREE_HUE, uniform(b, m), hue) % 1
    colour = _hsv_to_rgb(hue, uniform(b, m, lo=0.3, hi=1.0), uniform(b, m, lo=0.4, hi=1.0))
    shading = uniform(b, m, lo=-0.25, hi=0.25)  # brightness change per radius, across the object
    grid = uniform(b, 3, knots, knots, lo=0.1, hi=0.9)  # coarse background colour field
    greyness = uniform(b, 1, 1, 1, hi=0.8)  # pull the background towards grey
    stripe_angle = uniform(b, 1, hi=math.pi)
    stripe_freq = uniform(b, 1, lo=3.0, hi=10.0)  # cycles per image side
    stripe_phase = uniform(b, 1, hi=2 * math.pi)
    stripe_amp = uniform(b, 1, 1, hi=0.35) * (uniform(b, 1, 1) < 0.75)  # a quarter: no stripes
    stripe_colour = uniform(b, 3, 1, lo=-1.0, hi=1.0)
    grain_amp = uniform(b, 1, 1, 1, lo=0.02, hi=0.1)
    grain_seed = torch.randint(0, 2**62, (b,), generator=g)

    # Keep the scenes asked for, and render those with the most objects first: then the scenes
    # that use object slot k are a prefix, and each slot works on a contiguous view. The order
    # is undone at the end.
    b = stop - first
    order = first + torch.argsort(count[first:stop], descending=True, stable=True)
    (count, cls, centre_x, centre_y, radius, angle, colour, shading, grid, greyness,
     stripe_angle, stripe_freq, stripe_phase, stripe_amp, stripe_colour, grain_amp, grain_seed) = (
        t[order] for t in (count, cls, centre_x, centre_y, radius, angle, colour, shading, grid,
                           greyness, stripe_angle, stripe_freq, stripe_phase, stripe_amp,
                           stripe_colour, grain_amp, grain_seed)
    )  # fmt: skip

    # --- background: smooth colour field + stripes, both separable in x and y, so one batched
    # matrix product draws them:  bg_c = Wy grid_c Wx^T + a_c sin(kx x + ky y + phase)
    # with sin(p + q) = sin p cos q + cos p sin q ----------------------------- [B, 3, S, S]
    pixel = (torch.arange(s, dtype=torch.float32) + 0.5) / s  # pixel centres in (0, 1)
    basis = _smooth_basis(s, knots)  # [S, G]
    grid = torch.lerp(grid, grid.mean(dim=1, keepdim=True), greyness)
    along_x = 2 * math.pi * stripe_freq * torch.cos(stripe_angle) * pixel + stripe_phase  # [B, S]
    along_y = 2 * math.pi * stripe_freq * torch.sin(stripe_angle) * pixel  # [B, S]
    left = torch.cat(  # [B, 1, S, G + 2]
        [basis.expand(b, s, knots), torch.cos(along_y)[..., None], torch.sin(along_y)[..., None]],
        dim=2,
    )[:, None]
    right = torch.cat(  # [B, 3, G + 2, S]
        [
            grid @ basis.T,
            (stripe_amp * stripe_colour * torch.sin(along_x)[:, None])[:, :, None],
            (stripe_amp * stripe_colour * torch.cos(along_x)[:, None])[:, :, None],
        ],
        dim=2,
    )
    images = left @ right  # [B, 3, S, S]
    masks = torch.zeros(b, s, s, dtype=torch.uint8)
    instances = torch.zeros(b, s, s, dtype=torch.uint8)

    # --- objects, slot by slot, so that later objects occlude earlier ones -------- [n, S, S]
    x_px, y_px = (pixel * s).view(1, 1, s), (pixel * s).view(1, s, 1)
    for slot in range(high):
        n = int((count > slot).sum())  # scenes 0..n-1 have an object in this slot
        if n == 0:
            break
        kind, r = cls[:n, slot], (radius[:n, slot] * s).view(n, 1, 1)
        cx, cy = (centre_x[:n, slot] * s).view(n, 1, 1), (centre_y[:n, slot] * s).view(n, 1, 1)
        cos, sin = torch.cos(angle[:n, slot]).view(n, 1, 1), torch.sin(angle[:n, slot]).view(n, 1, 1)
        dx, dy = x_px - cx, y_px - cy  # [n, 1, S], [n, S, 1]
        distance = torch.empty(n, s, s)
        for class_id in range(1, num_classes):  # one vectorised call per shape
            idx = torch.nonzero(kind == class_id).flatten()
            if idx.numel():
                part = _signed_distance(class_id, dx[idx], dy[idx], cos[idx], sin[idx], r[idx])
                distance.index_copy_(0, idx, part)
        inside = distance > 0  # the label: is the pixel centre inside the shape?
        alpha = distance.add_(0.5).clamp_(0, 1)[:, None]  # antialiased coverage  [n, 1, S, S]
        # paint = colour * (1 + shading * (position along the object's axis) / r), separable
        tilt = shading[:n, slot].view(n, 1, 1) / r
        paint_x = colour[:n, slot].view(n, 3, 1, 1) * (1 + tilt * (dx * cos)).view(n, 1, 1, s)
        paint_y = colour[:n, slot].view(n, 3, 1, 1) * (tilt * (dy * sin)).view(n, 1, s, 1)
        images[:n].lerp_(paint_x + paint_y, alpha)
        masks[:n] = torch.where(inside, kind.to(torch.uint8).view(n, 1, 1), masks[:n])
        instances[:n].masked_fill_(inside, slot + 1)

    # --- sensor grain, 8-bit quantisation, original order -------------------------------------
    grain = torch.empty(b, 1, s, s)
    for i, one_seed in enumerate(grain_seed.tolist()):
        torch.rand((1, s, s), generator=torch.Generator().manual_seed(one_seed), out=grain[i])
    images += grain_amp * (grain - 0.5)
    images = images.mul_(255).add_(0.5).clamp_(0, 255).to(torch.uint8)
    restore = torch.argsort(order)
    return images[restore], masks[restore], instances[restore]


def _validate(
    num_images: Any, size: Any, seed: Any, num_objects: Any
) -> tuple[int, int, int, tuple[int, int]]:
    """The checks make_scenes and SyntheticScenes share."""
    return (
        check_int("num_images", num_images, minimum=1),
        check_int("size", size, minimum=16, maximum=1024),
        check_int("seed", seed, minimum=0, maximum=2**63 - 1),
        _check_num_objects(num_objects),
    )


def make_scenes(
    num_images: int,
    size: int = 64,
    *,
    seed: int = 0,
    num_objects: tuple[int, int] = (1, 4),
    start: int = 0,
) -> Scenes:
    """Draw scenes ``start .. start + num_images - 1`` of the synthetic data set ``seed``.

    Vectorised over whole blocks of scenes: coordinate grids and per-object parameter tensors,
    with a Python loop only over object slots and shapes. A few thousand scenes/s at 64x64 on
    two CPU cores (``bench/data.py``), so a training set is drawn in about a second, never stored.
    The cost is proportional to ``num_images``: ``make_scenes(1)`` draws one scene only.

    Args:
        num_images: how many scenes, >= 1.
        size: side of the square images in pixels, 16 to 1024.
        seed: which data set; scene ``i`` depends only on ``(seed, i, num_objects)``, so use
            different seeds for training and validation.
        num_objects: ``(min, max)`` objects per scene, each count equally likely.
        start: index of the first scene (for reading a large set in pieces).

    Returns:
        :class:`Scenes` with ``images`` ``float32`` in [0, 1] (multiples of 1/255), ``masks``
        and ``instances`` ``int64``, and ``class_names`` = :data:`SYNTHETIC_CLASSES`.

    Shape:
        ``images [N, 3, size, size]``, ``masks [N, size, size]``, ``instances [N, size, size]``
        with ``N = num_images``.

    Example:
        >>> scenes = make_scenes(8, size=32, seed=0)
        >>> scenes
        Scenes(images=Tensor[8, 3, 32, 32] float32, masks=Tensor[8, 32, 32] int64,
               instances=Tensor[8, 32, 32] int64, num_classes=7)
        >>> bool(torch.equal(scenes.images[5], make_scenes(3, size=32, start=4).images[1]))
        True
        >>> make_scenes(8, num_objects=(3, 2))
        Traceback (most recent call last):
        ...
        ValueError: num_objects (3, 2) given; num_objects must be a pair (min, max) of integers
        with 0 <= min <= max <= 16, e.g. (1, 4)
    """
    num_images, size, seed, num_objects = _validate(num_images, size, seed, num_objects)
    start = check_int("start", start, minimum=0)
    first, last = start // _CHUNK, (start + num_images - 1) // _CHUNK
    stop = start + num_images
    blocks = [
        _render_block(seed, block, size, num_objects,
                      first=max(start - block * _CHUNK, 0), stop=min(stop - block * _CHUNK, _CHUNK))
        for block in range(first, last + 1)
    ]  # fmt: skip
    images, masks, instances = (torch.cat(parts) for parts in zip(*blocks))
    return Scenes(
        images=images.to(torch.float32).div_(255),
        masks=masks.to(torch.int64),
        instances=instances.to(torch.int64),
    )


class SyntheticScenes(Dataset):
    """The synthetic scenes of :func:`make_scenes` as a ``torch.utils.data.Dataset``.

    Scenes are drawn lazily, a block of 64 at a time, the first time one of them is asked for, and
    cached as 8-bit tensors (about 20 KB per 64x64 scene with instances, so 200 MB for 10,000); item
    ``i`` equals scene ``i`` of ``make_scenes(..., seed=seed)``. With ``DataLoader(num_workers>0)``
    each worker keeps its own cache.

    Args:
        num_images: length of the data set, >= 1.
        size: side of the square images in pixels.
        num_objects: ``(min, max)`` objects per scene.
        seed: which data set (use another seed for validation).
        with_instances: also return the instance map.
        transforms: optional callable applied to every item, ``(image, mask) -> (image, mask)``
            (``(image, mask, instances) -> ...`` with ``with_instances``), e.g.
            :func:`~segviz.data.segmentation_transforms`.

    Returns (per item):
        ``(image, mask)``, or ``(image, mask, instances)`` with ``with_instances=True``.

    Shape:
        ``image [3, size, size]`` ``float32``, ``mask`` and ``instances [size, size]`` ``int64``
        (before ``transforms``).

    Example:
        >>> data = SyntheticScenes(100, size=32, seed=1)
        >>> image, mask = data[7]
        >>> len(data), tuple(image.shape), tuple(mask.shape), mask.dtype
        (100, (3, 32, 32), (32, 32), torch.int64)
        >>> bool(torch.equal(mask, make_scenes(8, size=32, seed=1).masks[7]))
        True
    """

    class_names: tuple[str, ...] = SYNTHETIC_CLASSES
    palette: np.ndarray = SYNTHETIC_PALETTE

    def __init__(
        self,
        num_images: int,
        size: int = 64,
        num_objects: tuple[int, int] = (1, 4),
        seed: int = 0,
        with_instances: bool = False,
        transforms: Callable[..., tuple[Tensor, ...]] | None = None,
    ) -> None:
        self.num_images, self.size, self.seed, self.num_objects = _validate(
            num_images, size, seed, num_objects
        )
        if not isinstance(with_instances, bool):
            raise ValueError(
                f"with_instances {with_instances!r} given; with_instances must be True or False"
            )
        self.with_instances = with_instances
        if transforms is not None and not callable(transforms):
            raise ValueError(
                f"transforms {transforms!r} given; transforms must be None or a callable "
                "(image, mask) -> (image, mask), e.g. segmentation_transforms()"
            )
        self.transforms = transforms
        self._blocks: dict[int, tuple[Tensor, Tensor, Tensor]] = {}

    @property
    def num_classes(self) -> int:
        """Number of classes, background included."""
        return len(self.class_names)

    def __len__(self) -> int:
        return self.num_images

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        try:
            index = check_int("index", index)
        except ValueError:
            raise TypeError(f"index {index!r} given; index must be an integer") from None
        if not -self.num_images <= index < self.num_images:
            raise IndexError(
                f"index {index} given; this data set has {self.num_images} scenes, "
                f"so index must be between {-self.num_images} and {self.num_images - 1}"
            )
        block, offset = divmod(index % self.num_images, _CHUNK)
        if block not in self._blocks:
            self._blocks[block] = _render_block(self.seed, block, self.size, self.num_objects)
        images, masks, instances = self._blocks[block]
        image = images[offset].to(torch.float32).div_(255)
        item = (image, masks[offset].long()) + ((instances[offset].long(),) if self.with_instances else ())
        return tuple(self.transforms(*item)) if self.transforms is not None else item

    def __repr__(self) -> str:
        return (
            f"SyntheticScenes(num_images={self.num_images}, size={self.size}, "
            f"num_objects={self.num_objects}, seed={self.seed}, "
            f"with_instances={self.with_instances}"
            + (f", transforms={self.transforms!r})" if self.transforms is not None else ")")
        )
