"""Toy streets: procedurally rendered road scenes with Cityscapes-like classes and exact masks.

Cityscapes (Cordts et al., CVPR 2016) is the benchmark of street-scene segmentation, but it is
11 GB behind a login. ``ToyStreets`` is a stand-in that is drawn on the fly (about 1.5 ms of CPU
per 64x128 image) and has the same *structure*: a camera at driver height looks down a street,
so the road fills the bottom of the image and narrows towards a vanishing point, sidewalks and
building facades run along both sides, the sky is above, and cars, people and trees stand in the
street at every depth, smaller the farther they are. Seven of the 19 Cityscapes classes appear,
numbered in Cityscapes' own ``trainId`` order (so ``STREET_TO_CITYSCAPES`` is increasing):

==========  ==  ===============================================================================
class       id  how it is drawn
==========  ==  ===============================================================================
road        0   asphalt plane to the horizon, dashed lane markings, zebra crossings, side
                streets between buildings, shadows under cars
sidewalk    1   paved strips on both sides (tile joints), kerb stone along the road
building    2   facades of varying height, colour and window grid along both sidewalks
vegetation  3   trees on the sidewalks (trunk and crown), hedges at the foot of facades, parks
sky         4   vertical gradient, blue or overcast, with clouds
person      5   pedestrians on the sidewalks (legs, clothes, head), seen from front or back
car         6   boxes with cabin, windows, wheels and lights, in the lanes or parked
void        255 the bonnet of the recording car at the bottom of 40 % of the images (Cityscapes
                labels it "ego vehicle", which evaluation ignores): train with ``ignore_index=255``
==========  ==  ===============================================================================

The scene is rendered with a pinhole camera, not drawn in image space: every object has a depth
``z`` in metres, its size and position follow from it, and nearer objects occlude farther ones.
Colour alone does not tell the classes apart: road, sidewalk, facades, cars and an overcast sky can
all be the same grey, cars take any colour, clothes too, and every surface carries noise; what
separates them is position (sky above the horizon, road at the bottom), shape and texture (tile
joints, window grids, lane markings, leaves).

Every image is fixed by ``(seed, index)``: images are drawn in blocks of 64 (one random generator
per block, seeded from ``seed`` and the block number, as in :mod:`segviz.data.synthetic`), so image
``i`` is the same whether you ask for 10 images or 10,000. All geometry is in units of the image
height and width for a 1:2 (height:width) frame, so ``size=(128, 256)`` renders the same streets
as ``(64, 128)``, sharper, and a square ``size=64`` renders them squeezed sideways; only the pixel
noise depends on the size. Images are stored as 8-bit values (``k / 255``), like photographs.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..validation import check_int, check_pair
from .palettes import CITYSCAPES_PALETTE
from .synthetic import _block_generator, _smooth_basis

__all__ = [
    "STREET_CLASSES",
    "STREET_PALETTE",
    "STREET_TO_CITYSCAPES",
    "Streets",
    "make_streets",
    "ToyStreets",
]

STREET_CLASSES: tuple[str, ...] = (
    "road", "sidewalk", "building", "vegetation", "sky", "person", "car",
)  # fmt: skip

#: The Cityscapes ``trainId`` of each street class: street id ``k`` is Cityscapes class
#: ``STREET_TO_CITYSCAPES[k]`` (an index into :data:`CITYSCAPES_CLASSES`).
STREET_TO_CITYSCAPES: tuple[int, ...] = (0, 1, 2, 8, 10, 11, 13)

#: Colours for drawing street masks: the Cityscapes colour of each class (road purple, sidewalk
#: pink, building grey, vegetation olive, sky blue, person red, car dark blue), 256 rows, all
#: others black, so the void label 255 is drawn black as in Cityscapes.
STREET_PALETTE: np.ndarray = np.zeros((256, 3), dtype=np.uint8)
STREET_PALETTE[: len(STREET_TO_CITYSCAPES)] = CITYSCAPES_PALETTE[list(STREET_TO_CITYSCAPES)]
STREET_PALETTE.setflags(write=False)

Array = np.ndarray

ROAD, SIDEWALK, BUILDING, VEGETATION, SKY, PERSON, CAR = range(7)
VOID = 255

_CHUNK = 64  # images per random generator: image i lives in block i // 64
_NOISE_GROUP = 8  # images per noise generator
#: strength of the texture noise per label: road 0.07 ... leaves 0.25, sky 0.012, void 0.01
_TEXTURE = torch.full((256,), 0.01)
_TEXTURE[:7] = torch.tensor([0.07, 0.05, 0.05, 0.25, 0.012, 0.05, 0.03])
_ASPECT = 2.0  # the design frame is twice as wide as high
_SEGMENTS = 10  # building lots per side of the street
_MAX_CARS, _MAX_PERSONS, _MAX_TREES = 6, 6, 6  # 0 to 6 of each per scene, equally likely


@dataclass(frozen=True, repr=False)
class Streets:
    """A batch of toy street scenes, as returned by :func:`make_streets`.

    Attributes:
        images: RGB in [0, 1], ``float32`` ``Tensor[N, 3, H, W]``.
        masks: class ids (index into ``class_names``) or 255 (void), ``int64`` ``Tensor[N, H, W]``.
        class_names: the class of each id, :data:`STREET_CLASSES`.
    """

    images: Tensor
    masks: Tensor
    class_names: tuple[str, ...] = STREET_CLASSES

    @property
    def num_classes(self) -> int:
        """Number of classes (void not counted)."""
        return len(self.class_names)

    def __len__(self) -> int:
        return self.images.shape[0]

    def __repr__(self) -> str:
        n, _, h, w = self.images.shape
        return (
            f"Streets(images=Tensor[{n}, 3, {h}, {w}] float32, masks=Tensor[{n}, {h}, {w}] int64, "
            f"num_classes={self.num_classes}, void=255)"
        )


# ----------------------------------------------------------------------------------------------
# Parameters: everything random about a block of 64 scenes, in metres and design units.
# ----------------------------------------------------------------------------------------------


class _Draw:
    """Random draws from one block generator, in a fixed order, as float32 NumPy arrays.

    Uniform numbers are drawn in batches of 2**16 and handed out in turn; every other draw is
    made from them. The few hundred small arrays of a block's parameters are cheaper to compute
    in NumPy than as small tensors.
    """

    _BATCH = 1 << 16

    def __init__(self, g: torch.Generator) -> None:
        self.g, self.pool, self.used = g, np.empty(0, dtype=np.float32), 0

    def _take(self, shape: tuple[int, ...]) -> np.ndarray:
        count = math.prod(shape)
        if self.used + count > len(self.pool):
            self.pool, self.used = torch.rand(max(self._BATCH, count), generator=self.g).numpy(), 0
        self.used += count
        return self.pool[self.used - count : self.used].reshape(shape)

    def uniform(self, *shape: int, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
        return self._take(shape) * np.float32(hi - lo) + np.float32(lo)

    def chance(self, p: float, *shape: int) -> np.ndarray:
        return (self._take(shape) < p).astype(np.float32)

    def integers(self, low: int, high: int, *shape: int) -> np.ndarray:
        return np.minimum((self._take(shape) * (high - low + 1)).astype(np.int64), high - low) + low

    def colour(
        self, *shape: int, hue: tuple[float, float], sat: tuple[float, float], val: tuple[float, float]
    ) -> np.ndarray:
        """HSV drawn uniformly in the given ranges (hue wraps), as RGB ``[*shape, 3]``."""
        h = self.uniform(*shape, lo=hue[0], hi=hue[1]) % 1
        s, v = self.uniform(*shape, lo=sat[0], hi=sat[1]), self.uniform(*shape, lo=val[0], hi=val[1])
        k = (np.array([5, 3, 1], dtype=np.float32) + h[..., None] * 6) % 6  # R, G, B
        return v[..., None] * (1 - s[..., None] * np.clip(np.minimum(k, 4 - k), 0, 1))


def _pick(mask: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """``a`` where ``mask`` (0/1 float, broadcast over a trailing colour axis if needed), else ``b``."""
    while mask.ndim < a.ndim:
        mask = mask[..., None]
    return b + mask * (a - b)


def _draw_parameters(g: torch.Generator) -> dict[str, Tensor]:
    """All random parameters of the 64 scenes of a block, ``[B, ...]`` tensors."""
    d, b = _Draw(g), _CHUNK
    p: dict[str, np.ndarray] = {}

    # camera: horizon row, vanishing point column, focal length (image heights), height (m)
    p["horizon"] = d.uniform(b, lo=0.36, hi=0.5)
    p["vanish"] = d.uniform(b, lo=0.4, hi=0.6)
    p["focal"] = d.uniform(b, lo=1.0, hi=1.5)
    p["cam_height"] = d.uniform(b, lo=1.2, hi=1.6)

    # street cross-section (metres, camera at x = 0, x grows to the right)
    lanes = d.integers(2, 4, b).astype(np.float32)
    lane_width = d.uniform(b, lo=2.9, hi=3.7)
    ego_lane = np.floor(d.uniform(b) * lanes)
    road_left = -(ego_lane + 0.5 + d.uniform(b, lo=-0.25, hi=0.25)) * lane_width
    p["lanes"], p["lane_width"], p["road_left"] = lanes, lane_width, road_left
    p["road_right"] = road_left + lanes * lane_width
    p["walk_left"] = d.uniform(b, lo=2.0, hi=5.5)  # sidewalk widths
    p["walk_right"] = d.uniform(b, lo=2.0, hi=5.5)
    p["kerb"] = d.uniform(b, lo=0.15, hi=0.3)
    p["dash_period"] = d.uniform(b, lo=6.0, hi=12.0)
    p["dash_duty"] = d.uniform(b, lo=0.3, hi=0.6)
    p["dash_phase"] = d.uniform(b)
    p["line_width"] = d.uniform(b, lo=0.1, hi=0.16)
    p["edge_lines"] = d.chance(0.5, b)
    p["crossing"] = d.chance(0.25, b)  # a zebra crossing ...
    p["crossing_z"] = d.uniform(b, lo=8.0, hi=40.0)  # ... this far ahead
    p["tile"] = d.uniform(b, lo=0.4, hi=1.2)  # sidewalk paving

    # colours
    overcast = d.chance(0.35, b)
    sky_top = _pick(overcast, d.colour(b, hue=(0.0, 1.0), sat=(0.0, 0.06), val=(0.55, 0.85)),
                    d.colour(b, hue=(0.54, 0.63), sat=(0.35, 0.75), val=(0.7, 1.0)))  # fmt: skip
    p["sky_top"] = sky_top
    p["sky_horizon"] = sky_top + (1 - sky_top) * d.uniform(b, 1, lo=0.3, hi=0.7)
    p["clouds"] = d.uniform(b, lo=0.0, hi=1.0) * (1 - overcast * 0.5)
    p["cloud_grid"] = d.uniform(b, 6, 10)
    p["cloud_colour"] = sky_top + (1 - sky_top) * d.uniform(b, 1, lo=0.6, hi=0.95)
    p["road_colour"] = d.colour(b, hue=(0.0, 1.0), sat=(0.0, 0.08), val=(0.22, 0.52))
    p["line_colour"] = _pick(d.chance(0.15, b), d.colour(b, hue=(0.12, 0.15), sat=(0.6, 0.9), val=(0.75, 0.95)),
                             d.colour(b, hue=(0.0, 1.0), sat=(0.0, 0.05), val=(0.75, 0.98)))  # fmt: skip
    p["walk_colour"] = d.colour(b, hue=(-0.02, 0.12), sat=(0.0, 0.3), val=(0.4, 0.75))
    p["kerb_colour"] = p["walk_colour"] + (1 - p["walk_colour"]) * d.uniform(b, 1, lo=0.1, hi=0.4)

    # building lots along each side [B, 2, S]: start (m along the street), kind, height, colours
    gaps = d.uniform(b, 2, _SEGMENTS, lo=8.0, hi=30.0)
    start = d.uniform(b, 2, 1, lo=-30.0, hi=0.0) + np.cumsum(gaps, axis=2) - gaps
    start[:, :, 0] = -1e9  # the first lot reaches back past the camera
    p["lot_start"] = start
    kind = d.uniform(b, 2, _SEGMENTS)  # < 0.1: side street (nothing), < 0.22: park, else building
    p["lot_park"] = ((kind >= 0.1) & (kind < 0.22)).astype(np.float32)
    p["lot_open"] = (kind < 0.1).astype(np.float32)
    p["lot_height"] = d.uniform(b, 2, _SEGMENTS, lo=6.0, hi=28.0)
    park_colour = d.colour(b, 2, _SEGMENTS, hue=(0.18, 0.33), sat=(0.35, 0.75), val=(0.18, 0.45))
    grey = d.chance(0.3, b, 2, _SEGMENTS)
    facade = _pick(grey, d.colour(b, 2, _SEGMENTS, hue=(0.5, 0.7), sat=(0.0, 0.15), val=(0.35, 0.85)),
                   d.colour(b, 2, _SEGMENTS, hue=(0.0, 0.15), sat=(0.08, 0.5), val=(0.35, 0.9)))  # fmt: skip
    p["lot_colour"] = _pick(p["lot_park"], park_colour, facade)
    p["park_height"] = d.uniform(b, 2, _SEGMENTS, lo=3.0, hi=9.0)
    p["park_bumps"] = d.uniform(b, 2, _SEGMENTS, lo=0.15, hi=0.5)  # crown bumps per metre
    p["floor_height"] = d.uniform(b, 2, _SEGMENTS, lo=2.8, hi=3.8)
    p["window_spacing"] = d.uniform(b, 2, _SEGMENTS, lo=2.2, hi=4.0)
    p["window_width"] = d.uniform(b, 2, _SEGMENTS, lo=0.35, hi=0.7)  # fraction of the spacing
    p["window_height"] = d.uniform(b, 2, _SEGMENTS, lo=0.4, hi=0.65)  # fraction of the floor
    p["window_colour"] = d.colour(b, 2, _SEGMENTS, hue=(0.5, 0.7), sat=(0.0, 0.35), val=(0.08, 0.4))
    p["hedge"] = d.chance(0.25, b, 2, _SEGMENTS) * d.uniform(b, 2, _SEGMENTS, lo=0.6, hi=1.5)
    p["hedge_colour"] = d.colour(b, 2, _SEGMENTS, hue=(0.2, 0.33), sat=(0.4, 0.8), val=(0.2, 0.45))
    p["side_light"] = d.uniform(b, 2, lo=0.7, hi=1.1)  # the sun lights one side more

    # cars: in a lane (either direction) or parked along a kerb, 6 to 14 m apart in depth
    n = _MAX_CARS
    p["car_count"] = d.integers(0, n, b)
    spacing = d.uniform(b, 1, lo=7.0, hi=14.0)
    p["car_z"] = 5.0 + spacing * np.arange(n) + d.uniform(b, n, lo=0.0, hi=5.0)
    place = np.floor(d.uniform(b, n) * (lanes[:, None] + 2))  # lane 0..L-1, L: parked left, L+1: right
    lane_x = road_left[:, None] + (place + 0.5) * lane_width[:, None] + d.uniform(b, n, lo=-0.3, hi=0.3)
    parked_left = road_left[:, None] + d.uniform(b, n, lo=1.0, hi=1.3)
    parked_right = p["road_right"][:, None] - d.uniform(b, n, lo=1.0, hi=1.3)
    p["car_x"] = np.where(place == lanes[:, None], parked_left,
                          np.where(place == lanes[:, None] + 1, parked_right, lane_x))  # fmt: skip
    oncoming = (place < lanes[:, None]) & (p["car_x"] < -lane_width[:, None] / 2)
    p["car_front"] = oncoming * d.chance(0.8, b, n)  # we see its front: white lights
    p["car_width"] = d.uniform(b, n, lo=1.65, hi=1.95)
    p["car_length"] = d.uniform(b, n, lo=3.8, hi=4.9)
    tall = d.chance(0.2, b, n)  # vans and SUVs
    p["car_body"] = d.uniform(b, n, lo=0.8, hi=1.0) + tall * 0.25  # top of the body (m)
    p["car_roof"] = p["car_body"] + d.uniform(b, n, lo=0.45, hi=0.6) + tall * 0.2
    p["car_cabin"] = d.uniform(b, n, 2, lo=0.15, hi=0.3)  # cabin starts/ends this far in (fraction)
    chromatic = d.chance(0.4, b, n)
    p["car_colour"] = _pick(chromatic, d.colour(b, n, hue=(0.0, 1.0), sat=(0.45, 0.9), val=(0.3, 0.85)),
                            d.colour(b, n, hue=(0.0, 1.0), sat=(0.0, 0.06), val=(0.05, 0.95)))  # fmt: skip
    p["glass_colour"] = d.colour(b, n, hue=(0.5, 0.65), sat=(0.0, 0.3), val=(0.06, 0.3))

    # pedestrians on the sidewalks, seen from the front or the back
    n = _MAX_PERSONS
    p["person_count"] = d.integers(0, n, b)
    left_side = d.chance(0.5, b, n)
    across = d.uniform(b, n, lo=0.35, hi=0.9)  # position across the sidewalk
    x_left = road_left[:, None] - 0.3 - across * (p["walk_left"][:, None] - 0.6)
    x_right = p["road_right"][:, None] + 0.3 + across * (p["walk_right"][:, None] - 0.6)
    p["person_x"] = _pick(left_side, x_left, x_right)
    p["person_z"] = np.exp(d.uniform(b, n, lo=math.log(3.5), hi=math.log(35.0)))
    child = d.chance(0.1, b, n)
    p["person_height"] = _pick(child, d.uniform(b, n, lo=1.0, hi=1.4), d.uniform(b, n, lo=1.55, hi=1.95))
    p["person_bulk"] = d.uniform(b, n, lo=0.85, hi=1.25)  # width / typical width
    p["person_stance"] = d.uniform(b, n, lo=0.02, hi=0.14)  # half gap between the legs (m)
    p["skin"] = d.colour(b, n, hue=(0.03, 0.1), sat=(0.25, 0.6), val=(0.3, 0.95))
    p["hair"] = d.colour(b, n, hue=(0.05, 0.12), sat=(0.1, 0.7), val=(0.05, 0.65))
    p["shirt"] = d.colour(b, n, hue=(0.0, 1.0), sat=(0.0, 0.9), val=(0.1, 0.95))
    dark = d.chance(0.6, b, n)
    p["trousers"] = _pick(dark, d.colour(b, n, hue=(0.55, 0.7), sat=(0.0, 0.6), val=(0.08, 0.4)),
                          d.colour(b, n, hue=(0.0, 1.0), sat=(0.0, 0.6), val=(0.2, 0.8)))  # fmt: skip
    p["facing_away"] = d.chance(0.5, b, n)

    # trees: a row on each side, near the kerb or the facades
    n = _MAX_TREES
    p["tree_count"] = d.integers(0, n, b)
    left_side = d.chance(0.5, b, n)
    row_spacing = d.uniform(b, 1, lo=8.0, hi=16.0)
    p["tree_z"] = d.uniform(b, 1, lo=4.0, hi=12.0) + row_spacing * np.arange(n) + d.uniform(b, n, lo=0.0, hi=3.0)
    inset = d.uniform(b, 1, lo=0.6, hi=1.2)
    p["tree_x"] = _pick(left_side, road_left[:, None] - inset, p["road_right"][:, None] + inset)
    p["trunk_height"] = d.uniform(b, n, lo=1.5, hi=3.0)
    p["trunk_width"] = d.uniform(b, n, lo=0.2, hi=0.4)
    p["crown"] = d.uniform(b, n, lo=1.2, hi=2.6)  # crown radius (m)
    p["crown_stretch"] = d.uniform(b, n, lo=0.9, hi=1.4)
    p["crown_shift"] = d.uniform(b, n, lo=-0.5, hi=0.5)
    autumn = d.chance(0.15, b, n)
    p["leaves"] = _pick(autumn, d.colour(b, n, hue=(0.06, 0.14), sat=(0.5, 0.85), val=(0.3, 0.65)),
                        d.colour(b, n, hue=(0.17, 0.33), sat=(0.35, 0.8), val=(0.15, 0.5)))  # fmt: skip
    p["bark"] = d.colour(b, n, hue=(0.05, 0.1), sat=(0.15, 0.5), val=(0.12, 0.35))

    # the recording car's bonnet (void), light, colour balance, haze
    p["hood"] = d.chance(0.4, b) * d.uniform(b, lo=0.05, hi=0.12)
    p["hood_curve"] = d.uniform(b, lo=0.2, hi=0.8) * p["hood"]  # it spans the bottom row
    p["hood_colour"] = d.colour(b, hue=(0.0, 1.0), sat=(0.0, 0.4), val=(0.05, 0.45))
    p["brightness"] = d.uniform(b, lo=-0.08, hi=0.08)
    p["contrast"] = d.uniform(b, lo=0.8, hi=1.15)
    p["gain"] = d.uniform(b, 3, lo=0.92, hi=1.08)
    p["haze"] = d.uniform(b, lo=0.0, hi=0.35)
    p["noise"] = d.uniform(b, lo=0.6, hi=1.4)  # texture strength
    groups = _CHUNK // _NOISE_GROUP  # pixel noise: one seed per group of 8 scenes
    p["grain_seed"] = d.integers(0, 2**24 - 1, groups) << 24 | d.integers(0, 2**24 - 1, groups)
    return {
        key: torch.from_numpy(np.ascontiguousarray(value if value.dtype == np.int64 else value.astype(np.float32)))
        for key, value in p.items()
    }


# ----------------------------------------------------------------------------------------------
# Objects. Each kind (car, person, tree) is a list of primitives whose geometry is computed for
# all objects of a block at once, [B, K] per number, in design units (v down, u right, both in
# [0, 1]); the renderer then paints object k of every scene together.
# ----------------------------------------------------------------------------------------------


def _coverage(lo: Array, hi: Array, centres: Array, pixels: int) -> Array:
    """How much of each pixel ``[c - 1/2, c + 1/2]`` the interval ``[lo, hi]`` covers (box filter).

    ``lo``, ``hi``: ``[B, K]`` in design units; ``centres``: ``[P]`` or ``[B, K, P]``; returns
    ``[B, K, P]`` in [0, 1].
    """
    c = centres * pixels
    lo, hi = lo[..., None] * pixels, hi[..., None] * pixels
    return np.clip(np.minimum(c + 0.5, hi) - np.maximum(c - 0.5, lo), 0, 1)


# Every shape is separable, or nearly: its coverage of pixel (row i, column j) is built from a
# row factor [B, K, H] and a column factor [B, K, W], computed once for all objects of a kind (in
# NumPy: hundreds of small arrays); only the last step, per object slot, touches pixels (in
# torch): the [n, R, C] window the n objects cover.


def _rect_factors(v: Array, u: Array, height: int, width: int, top: Array, bottom: Array,
                  left: Array, right: Array) -> tuple[Array, ...]:  # fmt: skip
    """Axis-aligned rectangle: coverage = row coverage x column coverage (exact box filter)."""
    return _coverage(top, bottom, v, height), _coverage(left, right, u, width)


def _pair_factors(v: Array, u: Array, height: int, width: int, top: Array, bottom: Array,
                  centre: Array, inner: Array, outer: Array) -> tuple[Array, ...]:  # fmt: skip
    """Two rectangles mirrored about column ``centre``: ``inner <= |u - centre| <= outer``."""
    offset = u - centre[..., None]  # [B, K, W]
    cols = _coverage(inner, outer, offset, width) + _coverage(-outer, -inner, offset, width)
    return _coverage(top, bottom, v, height), cols


def _product(factors: tuple[Tensor, ...], n: int, k: int, rows_: slice, cols_: slice) -> Tensor:
    rows, cols = factors
    return rows[:n, k, rows_, None] * cols[:n, k, None, cols_]


def _ellipse_factors(v: Array, u: Array, height: int, width: int, cu: Array, cv: Array,
                     ru: Array, rv: Array) -> tuple[Array, ...]:  # fmt: skip
    """Filled ellipse, antialiased over one pixel: ``clamp(1/2 + (1 - q) r / 2)``, where ``q`` is 1
    on the outline (slope ``2 / r`` per pixel), is a column term minus a row term."""
    half_radius = 0.5 * np.minimum(ru * width, rv * height)  # [B, K]
    fade = np.minimum(2 * half_radius, 1)  # sub-pixel ellipses fade out (scaling before the clamp
    # to [0, 1] equals scaling after it, as the clamp at 1 never binds for them)
    slope = (fade * half_radius)[..., None]
    cols = (fade * (half_radius + 0.5))[..., None] - slope * ((u - cu[..., None]) / ru[..., None]) ** 2
    rows = slope * ((v - cv[..., None]) / rv[..., None]) ** 2
    return rows, cols


def _ellipse_alpha(factors: tuple[Tensor, ...], n: int, k: int, rows_: slice, cols_: slice) -> Tensor:
    rows, cols = factors
    return (cols[:n, k, None, cols_] - rows[:n, k, rows_, None]).clamp_(0, 1)


def _wedge_factors(v: Array, u: Array, height: int, width: int, left: Array, right: Array,
                   top_a: Array, top_b: Array, bottom_a: Array,
                   bottom_b: Array) -> tuple[Array, ...]:  # fmt: skip
    """Columns ``left..right``, rows between two lines ``v = a + b u``: a side face seen at an angle."""
    top = (top_a[..., None] + top_b[..., None] * u) * height  # [B, K, W], in pixels
    bottom = (bottom_a[..., None] + bottom_b[..., None] * u) * height
    return v * height, top, bottom, _coverage(left, right, u, width)


def _wedge_alpha(factors: tuple[Tensor, ...], n: int, k: int, rows_: slice, cols_: slice) -> Tensor:
    v, top, bottom, cols = factors
    v = v[rows_, None]  # [R, 1]
    alpha = torch.minimum(v + 0.5, bottom[:n, k, None, cols_])
    alpha.sub_(torch.maximum(v - 0.5, top[:n, k, None, cols_]))
    return alpha.clamp_(0, 1).mul_(cols[:n, k, None, cols_])


_SHAPES: dict[str, tuple[Callable[..., tuple[Array, ...]], Callable[..., Tensor]]] = {
    "rect": (_rect_factors, _product),
    "pair": (_pair_factors, _product),
    "ellipse": (_ellipse_factors, _ellipse_alpha),
    "wedge": (_wedge_factors, _wedge_alpha),
}


def _factors(shape: str, v: Array, u: Array, height: int, width: int, geometry: tuple[Array, ...]) -> tuple[Tensor, ...]:
    """The factors of one shape for all objects of a kind, as float32 tensors."""
    return tuple(
        torch.from_numpy(np.ascontiguousarray(f, dtype=np.float32))
        for f in _SHAPES[shape][0](v, u, height, width, *geometry)
    )


@dataclass
class _Primitive:
    """One part of an object, for all objects of a kind: ``geometry`` numbers ``[B, K]`` each."""

    shape: str  # a key of _SHAPES
    geometry: tuple[Array, ...]
    colour: Array  # [B, K, 3]
    solid: bool = True  # False: a shadow, which darkens what is below and keeps its label
    opacity: float = 1.0


class _Camera:
    """Pinhole projection, ``[B, 1]`` per scene: ``x`` right, ``y`` up, ``z`` ahead (metres)."""

    def __init__(self, p: dict[str, Array]) -> None:
        self.h, self.u0 = p["horizon"][:, None], p["vanish"][:, None]
        self.fv, self.cam = p["focal"][:, None], p["cam_height"][:, None]
        self.fu = self.fv / _ASPECT

    def u(self, x: Array, z: Array) -> Array:
        return self.u0 + self.fu * x / z

    def v(self, y: Array | float, z: Array) -> Array:
        return self.h + self.fv * (self.cam - y) / z

    def line(self, x: Array, y: Array | float) -> tuple[Array, Array]:
        """The image line ``v = a + b u`` of the points ``(x, y, any z)`` (it meets the vanishing point)."""
        x = np.where(np.abs(x) < 0.01, np.float32(0.01), x)  # a plane through the camera
        slope = (self.fv * (self.cam - y)) / (self.fu * x)
        return self.h - slope * self.u0, slope


def _shadow(cam: _Camera, x: Array, z: Array, half_width: Array, near: Array, far: Array) -> _Primitive:
    top, bottom = cam.v(0.0, far), cam.v(0.0, near)
    geometry = (cam.u(x, z), (top + bottom) / 2, cam.fu * half_width / z, (bottom - top) / 2 + 0.004)
    return _Primitive("ellipse", geometry, np.zeros((*x.shape, 3), np.float32), solid=False, opacity=0.55)


def _grey(like: Array, value: float) -> Array:
    return np.full((*like.shape, 3), value, np.float32)


def _car(cam: _Camera, q: dict[str, Array]) -> list[_Primitive]:
    """A box seen from behind (or the front), the side facing the road's axis and the roof."""
    x, z, w, length = q["car_x"], q["car_z"], q["car_width"], q["car_length"]
    body, roof, colour, glass = q["car_body"], q["car_roof"], q["car_colour"], q["glass_colour"]
    cabin_back = z + q["car_cabin"][..., 0] * length
    cabin_front = z + (1 - q["car_cabin"][..., 1]) * length
    towards = np.where(x < 0, np.float32(1), np.float32(-1))  # from the car towards the camera's axis
    side_x = x + towards * w / 2  # the side we see
    cabin_x = side_x - towards * 0.12
    clearance, wheel = 0.22, 0.33
    parts = [_shadow(cam, x, z + length / 2, w / 2 + 0.25, z - 0.3, z + length)]

    def side_face(plane: Array, near: Array, far: Array, low: float | Array, high: Array) -> tuple:
        """The wedge of the plane x = plane between depths near and far, heights low to high."""
        u_near, u_far = cam.u(plane, near), cam.u(plane, far)
        left, right = np.minimum(u_near, u_far), np.maximum(u_near, u_far)
        return (left, right, *cam.line(plane, high), *cam.line(plane, low))

    parts.append(_Primitive("wedge", side_face(side_x, z, z + length, clearance, body), colour * 0.78))
    parts.append(_Primitive("wedge", side_face(cabin_x, cabin_back, cabin_front, body, roof), glass))
    for wz in (z + 0.8, z + length - 0.8):  # back and front wheel on the visible side
        half = np.abs(cam.u(side_x, wz - wheel) - cam.u(side_x, wz + wheel)) / 2 + 0.002
        geometry = (cam.u(side_x, wz), cam.v(wheel, wz), half, cam.fv * wheel / wz)
        parts.append(_Primitive("ellipse", geometry, _grey(x, 0.06)))
    u_mid, scale = cam.u(x, z), cam.fu / z
    geometry = (cam.v(0.42, z), cam.v(0.0, z), u_mid, (w / 2 - 0.42) * scale, (w / 2 - 0.08) * scale)
    parts.append(_Primitive("pair", geometry, _grey(x, 0.05)))  # rear wheels
    geometry = (cam.v(body, z), cam.v(clearance, z), cam.u(x - w / 2, z), cam.u(x + w / 2, z))
    parts.append(_Primitive("rect", geometry, colour))
    u_cab, scale_cab = cam.u(x, cabin_back), cam.fu / cabin_back
    for inset, lift, paint in ((0.12, 0.0, colour), (0.22, 0.06, glass)):  # cabin, rear window
        geometry = (cam.v(roof - lift, cabin_back), cam.v(body + lift * 0.6, cabin_back),
                    u_cab - (w / 2 - inset) * scale_cab, u_cab + (w / 2 - inset) * scale_cab)  # fmt: skip
        parts.append(_Primitive("rect", geometry, paint))
    front = q["car_front"][..., None] > 0  # white headlights, else red tail lights
    lights = np.where(front, np.float32([0.95, 0.95, 0.85]), np.float32([0.8, 0.05, 0.05]))
    geometry = (cam.v(body - 0.08, z), cam.v(body - 0.25, z), u_mid,
                (w / 2 - 0.32) * scale, (w / 2 - 0.06) * scale)  # fmt: skip
    parts.append(_Primitive("pair", geometry, lights))
    return parts


def _person(cam: _Camera, q: dict[str, Array]) -> list[_Primitive]:
    """Legs, a torso with arms, and a head: skin if they walk towards us, hair if away."""
    x, z, h, bulk = q["person_x"], q["person_z"], q["person_height"], q["person_bulk"]
    scale, u_mid = cam.fu / z, cam.u(x, z)
    hip, shoulder = 0.47 * h, 0.82 * h
    stance, leg = q["person_stance"], 0.075 * h * bulk
    parts = [_shadow(cam, x, z, 0.35 * bulk, z - 0.3, z + 0.3)]
    geometry = (cam.v(hip, z), cam.v(0.0, z), u_mid, stance * scale, (stance + leg) * scale)
    parts.append(_Primitive("pair", geometry, q["trousers"]))
    half = (stance + leg + 0.045 * h * bulk) * scale
    geometry = (cam.v(shoulder, z), cam.v(hip - 0.03 * h, z), u_mid - half, u_mid + half)
    parts.append(_Primitive("rect", geometry, q["shirt"]))
    head_u, head_v = cam.fu * 0.062 * h / z, cam.fv * 0.075 * h / z
    head = _pick(q["facing_away"], q["hair"], q["skin"])
    parts.append(_Primitive("ellipse", (u_mid, cam.v(0.9 * h, z), head_u, head_v), head))
    return parts


def _tree(cam: _Camera, q: dict[str, Array]) -> list[_Primitive]:
    """A trunk and a crown of three overlapping lobes, lit from one side."""
    x, z, trunk, r = q["tree_x"], q["tree_z"], q["trunk_height"], q["crown"]
    scale, u_mid = cam.fu / z, cam.u(x, z)
    centre = trunk + r * q["crown_stretch"] * 0.8
    parts = [_shadow(cam, x, z, r, z - r * 0.7, z + r * 0.7)]
    half = q["trunk_width"] / 2 * scale
    geometry = (cam.v(centre, z), cam.v(0.0, z), u_mid - half, u_mid + half)
    parts.append(_Primitive("rect", geometry, q["bark"]))
    for du, dv, size, light in ((0.0, 0.0, 1.0, 0.8), (-0.45, 0.3, 0.7, 1.0), (0.45, 0.25, 0.65, 1.15)):
        shift = (q["crown_shift"] + du) * r
        geometry = (cam.u(x + shift, z), cam.v(centre + dv * r, z), scale * r * size,
                    cam.fv * r * size * q["crown_stretch"] / z)  # fmt: skip
        parts.append(_Primitive("ellipse", geometry, np.clip(q["leaves"] * light, 0, 1)))
    return parts


def _extent(cam: _Camera, q: dict[str, Array], kind: str) -> tuple[Array, Array, Array, Array]:
    """Top, bottom, left and right (design units) of what an object can cover, ``[B, K]`` each."""
    if kind == "car":
        x, z, length, roof = q["car_x"], q["car_z"], q["car_length"], q["car_roof"]
        reach = q["car_width"] / 2 + 0.3
        far = cam.u(x - np.sign(x) * reach, z + length)
        return (np.minimum(cam.v(roof, z), cam.v(roof, z + length)), cam.v(0.0, z - 0.3),
                np.minimum(cam.u(x - reach, z), far), np.maximum(cam.u(x + reach, z), far))  # fmt: skip
    if kind == "person":
        x, z = q["person_x"], q["person_z"]
        return cam.v(q["person_height"], z), cam.v(0.0, z - 0.3), cam.u(x - 0.5, z), cam.u(x + 0.5, z)
    x, z, r = q["tree_x"], q["tree_z"], q["crown"]
    top = q["trunk_height"] + r * (q["crown_stretch"] * 1.9 + 0.3)
    return cam.v(top, z), cam.v(0.0, z - r * 0.7), cam.u(x - 1.7 * r, z), cam.u(x + 1.7 * r, z)


# kind -> (drawing function, class id, the parameters it reads, [B, K, ...] each)
_KINDS: dict[str, tuple[Callable[[_Camera, dict[str, Array]], list[_Primitive]], int, tuple[str, ...]]] = {
    "car": (_car, CAR, ("car_x", "car_z", "car_width", "car_length", "car_body", "car_roof",
                        "car_cabin", "car_colour", "glass_colour", "car_front")),
    "person": (_person, PERSON, ("person_x", "person_z", "person_height", "person_bulk",
                                 "person_stance", "skin", "hair", "shirt", "trousers", "facing_away")),
    "tree": (_tree, VEGETATION, ("tree_x", "tree_z", "trunk_height", "trunk_width", "crown",
                                 "crown_stretch", "crown_shift", "leaves", "bark")),
}  # fmt: skip

# ----------------------------------------------------------------------------------------------
# The renderer
# ----------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _linear_basis(size: int, knots: int) -> Tensor:
    """Linear interpolation weights ``[size, knots]`` from ``knots`` samples spread over
    ``[0, 1]`` (the first and last at the ends) to the ``size`` pixel centres."""
    position = ((torch.arange(size, dtype=torch.float32) + 0.5) / size * (knots - 1)).clamp(0, knots - 1)
    return (1 - (position[:, None] - torch.arange(knots)).abs()).clamp(min=0)


def _noise(seeds: Tensor, scene: Tensor, height: int, width: int) -> tuple[Tensor, Tensor]:
    """Uniform noise for the scenes ``scene`` (positions in the block): fine ``[B, H, W]`` and
    coarse ``[B, H // 4 + 2, W // 4 + 2]``. One generator per group of 8 scenes (seeded from
    ``seeds[group]``) draws the noise of all 8, so a scene's noise does not depend on which
    other scenes are drawn, and only the groups asked for are drawn."""
    shape = (_NOISE_GROUP, height * width + (height // 4 + 2) * (width // 4 + 2))
    position = scene.numpy()
    noise = np.empty((len(position), shape[1]), dtype=np.float32)
    for group in np.unique(position // _NOISE_GROUP):
        # NumPy's SFC64 draws float32 three times faster than torch.rand here
        drawn = np.random.Generator(np.random.SFC64(int(seeds[group]))).random(shape, dtype=np.float32)
        members = np.flatnonzero(position // _NOISE_GROUP == group)
        noise[members] = drawn[position[members] % _NOISE_GROUP]
    noise = torch.from_numpy(noise)
    fine = noise[:, : height * width].view(-1, height, width)
    return fine, noise[:, height * width :].view(-1, height // 4 + 2, width // 4 + 2)


def _render_block(
    seed: int, block: int, size: tuple[int, int], first: int = 0, stop: int = _CHUNK
) -> tuple[Tensor, Tensor]:
    """Draw scenes ``first .. stop - 1`` of the 64 scenes of one block.

    The parameters of all 64 scenes are drawn (a few hundred KB), the pixels only for those asked
    for; the pixel noise is drawn per group of 8 scenes, so a scene does not depend on which of
    its neighbours are drawn with it. Most terms are separable: a per-row factor ``[B, H, 1]``
    and a per-column factor ``[B, 1, W]`` meet in one broadcast operation.

    Returns:
        ``(images uint8 [B, 3, H, W], masks uint8 [B, H, W])`` with ``B = stop - first``.
    """
    full = _draw_parameters(_block_generator(seed, block))
    # the scenes asked for, those with the most cars first (see the object loop); the scene at
    # position i is scene[i] of the block, and the output is put back in order at the end
    scene = first + torch.argsort(full["car_count"][first:stop], descending=True, stable=True)
    p = {key: value[scene] for key, value in full.items() if key != "grain_seed"}
    b, (height, width) = stop - first, size
    v = (torch.arange(height, dtype=torch.float32) + 0.5) / height  # row centres
    u = (torch.arange(width, dtype=torch.float32) + 0.5) / width  # column centres
    v_px = (v * height).view(1, height, 1)  # row centres in pixels
    horizon, vanish = p["horizon"].view(b, 1, 1), p["vanish"].view(b, 1, 1)
    fv, cam = p["focal"].view(b, 1, 1), p["cam_height"].view(b, 1, 1)
    fu = fv / _ASPECT

    def col(t: Tensor) -> Tensor:  # [B, 3] -> [B, 3, 1, 1]
        return t.view(b, 3, 1, 1)

    def scalar(t: Tensor) -> Tensor:  # [B] -> [B, 1, 1]
        return t.view(b, 1, 1)

    # --- sky: gradient from the top to the horizon, clouds above the horizon --------- [B, 3, H, W]
    t = (v.view(1, height, 1) / horizon).clamp_(max=1).pow_(0.7)  # [B, H, 1]
    sky = col(p["sky_top"]) + (col(p["sky_horizon"]) - col(p["sky_top"])) * t[:, None]
    image = sky.expand(b, 3, height, width).contiguous()
    c1 = min(height, int(math.ceil(float(p["horizon"].max()) * height)))
    field = _smooth_basis(height, 6)[:c1] @ p["cloud_grid"] @ _smooth_basis(width, 10).T  # [B, c1, W]
    clouds = field.sub_(0.52).mul_(6).clamp_(0, 1).mul_(scalar(p["clouds"]))
    image[:, :, :c1].lerp_(col(p["cloud_colour"]), clouds[:, None])
    label = torch.full((b, height, width), float(SKY))

    # --- ground: rows below the highest horizon ----------------------------------------------
    # A ground point x metres right of the camera, seen in row v, is at depth z(v) and column
    # u = vanish + fu x / z(v): in pixels from the vanishing point, x * scale(v).
    g0 = max(0, int(float(p["horizon"].min()) * height))
    below = (v[g0:].view(1, -1, 1) - horizon).clamp(min=1e-4)  # [B, G, 1]
    depth = fv * cam / below  # metres to the ground seen in each row
    scale = fu * width / depth  # pixels per metre across the street, per row
    col_px = (u.view(1, 1, width) - vanish) * width  # [B, 1, W] pixels right of the vanishing point
    lo_px, hi_px = col_px - 0.5, col_px + 0.5

    def strip(a: Tensor, b_: Tensor) -> Tensor:
        """Coverage of the strip ``a <= x <= b_`` (metres) on the ground, box-filtered: [B, G, W]."""
        return torch.minimum(hi_px, b_ * scale).sub_(torch.maximum(lo_px, a * scale)).clamp_(0, 1)

    road_left, road_right, kerb = scalar(p["road_left"]), scalar(p["road_right"]), scalar(p["kerb"])
    walk = strip(road_left - scalar(p["walk_left"]), road_left)
    walk.add_(strip(road_right, road_right + scalar(p["walk_right"])))
    kerbs = strip(road_left - kerb, road_left).add_(strip(road_right, road_right + kerb))
    road_colour, walk_colour = col(p["road_colour"]), col(p["walk_colour"])
    ground = torch.addcmul(road_colour, walk[:, None], walk_colour - road_colour)  # [B, 3, G, W]
    ground.addcmul_(kerbs[:, None], col(p["kerb_colour"]) - walk_colour)
    # paving joints every `tile` metres, across and along the sidewalk
    tile = scalar(p["tile"])
    per_tile = scale * tile  # pixels per tile across
    joint = 0.02 / tile  # half a joint, in tiles
    across = torch.mul(col_px, 1 / per_tile).frac_().abs_().sub_(0.5).abs_()  # 0.5 - distance to a joint
    across = across.add_(joint - 0.5).mul_(per_tile).add_(0.5)
    across = torch.minimum(across, 2 * joint * per_tile).clamp_(0, 1)
    along = (depth / tile).frac_().sub_(0.5).abs_()  # [B, G, 1]
    along_px = fv * cam * height / depth**2 * tile  # pixels per tile along the street
    along = ((along + joint - 0.5) * along_px + 0.5).clamp_(0, 1)
    joints = torch.maximum(across, along).mul_(walk)
    ground.mul_(joints.mul_(-0.3).add_(1)[:, None])
    # lane markings every lane width, dashed inside the road, solid (if any) at its edges
    lane_width = scalar(p["lane_width"])
    lane = torch.addcmul(-road_left / lane_width, col_px, 1 / (scale * lane_width))  # [B, G, W]
    index = lane.round()
    per_lane = scale * lane_width  # pixels per lane width
    half = scalar(p["line_width"]) / 2 / lane_width
    lines = (lane - index).abs_().mul_(-per_lane).add_(half * per_lane + 0.5)
    lines = torch.minimum(lines, 2 * half * per_lane).clamp_(0, 1)
    inner = torch.minimum(index, scalar(p["lanes"]) - index).clamp_(0, 1)  # 1 for lines 1 .. L-1
    dash = ((depth / scalar(p["dash_period"]) + scalar(p["dash_phase"])).frac() < scalar(p["dash_duty"])).float()
    edge_lines = scalar(p["edge_lines"])
    road = strip(road_left - 0.1, road_right + 0.1)
    lines.mul_(inner.mul_(dash - edge_lines).add_(edge_lines)).mul_(road)
    # zebra crossings: 3 m deep, stripes 0.5 m wide across the road, on their rows only
    crossing = p["crossing"] > 0
    if bool(crossing.any()):
        near_row = p["horizon"] + p["focal"] * p["cam_height"] / p["crossing_z"]
        far_row = p["horizon"] + p["focal"] * p["cam_height"] / (p["crossing_z"] + 3)
        c0 = max(g0, int(float(far_row[crossing].min()) * height))
        c1 = min(height, int(math.ceil(float(near_row[crossing].max()) * height)) + 1)
        if c1 > c0:
            rows = slice(c0 - g0, c1 - g0)
            d = depth[:, rows]
            near = scalar(p["crossing_z"])
            on = ((d - near).clamp(0, 1) * (near + 3 - d).clamp(0, 1)).mul_(scalar(p["crossing"]))
            # 0.5 - distance from a stripe's axis, in metres (stripes 0.5 m wide, 1 m apart)
            stripes = torch.mul(col_px, 1 / scale[:, rows]).frac_().abs_().sub_(0.5).abs_()
            stripes = stripes.sub_(0.25).mul_(scale[:, rows]).add_(0.5).clamp_(0, 1).mul_(on).mul_(road[:, rows])
            ground[:, :, rows].lerp_(torch.tensor(0.88), stripes[:, None])  # always white
    ground.lerp_(col(p["line_colour"]), lines[:, None])
    on_ground = ((v_px[:, g0:] - horizon * height) + 0.5).clamp_(0, 1)  # [B, G, 1]
    image[:, :, g0:].lerp_(ground, on_ground[:, None])
    label[:, g0:].lerp_(walk.round(), on_ground.round())

    # --- facades (and parks, and side streets) on both sides: per column ----------------------
    left = (u < p["vanish"][:, None]).float()  # [B, W]
    side = 1 - left  # 0 = left side, 1 = right side
    wall_left = p["road_left"][:, None] - p["walk_left"][:, None]  # x of the facades (m)
    wall = _pick(left, wall_left, p["road_right"][:, None] + p["walk_right"][:, None])
    offset = u[None, :] - p["vanish"][:, None]  # < 0 on the left, > 0 on the right
    offset = _pick(left, offset.clamp(max=-1e-4), offset.clamp(min=1e-4))
    z_col = (p["focal"][:, None] / _ASPECT * wall / offset).clamp(0.05, 1e5)  # [B, W] depth of the wall
    starts = p["lot_start"]  # [B, 2, S]
    lot_left = torch.searchsorted(starts[:, 0].contiguous(), z_col, right=True) - 1
    lot_right = torch.searchsorted(starts[:, 1].contiguous(), z_col, right=True) - 1
    lot = (side * _SEGMENTS + _pick(left, lot_left.float(), lot_right.float())).long()  # [B, W]

    def per_column(t: Tensor) -> Tensor:  # [B, 2, S, ...] -> [B, 1, W] or [B, 3, 1, W]
        flat = t.reshape(b, 2 * _SEGMENTS, -1)
        out = torch.gather(flat, 1, lot[:, :, None].expand(b, width, flat.shape[2]))  # [B, W, C]
        if flat.shape[2] == 3:  # contiguous: a strided operand makes the big lerps 30 times slower
            return out.permute(0, 2, 1).contiguous()[:, :, None, :]
        return out.view(b, 1, width)

    z_wall = z_col.view(b, 1, width)
    park, open_lot = per_column(p["lot_park"]), per_column(p["lot_open"])
    along_lot = z_wall - per_column(starts)
    bumps = (along_lot * per_column(p["park_bumps"]) * math.pi).sin().abs()
    top = _pick(park, per_column(p["park_height"]) * (0.75 + 0.35 * bumps), per_column(p["lot_height"]))
    top = top * (1 - open_lot)  # a side street: nothing stands there

    def row_px(y: Tensor | float) -> Tensor:
        """Image row (pixels) of height ``y`` (m) on the wall, per column ``[B, 1, W]``."""
        return (horizon + fv * (cam - y) / z_wall) * height

    def between(upper: Tensor, lower: Tensor) -> Tensor:
        """Coverage of the rows between ``upper`` and ``lower`` (pixels, per column): [B, H, W]."""
        return torch.minimum(v_px - upper, lower - v_px).add_(0.5).clamp_(0, 1)

    ground_px = row_px(0.0)
    facade = between(row_px(top), ground_px)  # [B, H, W]
    light = torch.gather(p["side_light"], 1, side.long()).view(b, 1, 1, width)
    image.lerp_(per_column(p["lot_colour"]) * light, facade[:, None])
    label.lerp_(BUILDING + (VEGETATION - BUILDING) * park, facade.round())
    # windows: a grid on the wall, in floors up and bays along; none on the ground floor
    floor = per_column(p["floor_height"])
    per_floor = fv * height * floor / z_wall  # pixels per floor
    floors = torch.addcmul(cam / floor, v.view(1, height, 1) - horizon, -z_wall / (fv * floor))  # [B, H, W]
    pane = per_column(p["window_height"]) / 2
    windows = floors.frac_().sub_(0.5).abs_().mul_(-per_floor).add_(pane * per_floor + 0.5).clamp_(0, 1)
    spacing = per_column(p["window_spacing"])
    in_bay = (along_lot / spacing).frac().sub_(0.5).abs_()
    per_bay = fu * width * wall.abs().view(b, 1, width) / z_wall**2 * spacing  # pixels per bay
    bays = ((per_column(p["window_width"]) / 2 - in_bay) * per_bay + 0.5).clamp_(0, 1)
    bays = bays * (1 - park) * (1 - open_lot)  # windows on buildings only
    windows.mul_(between(row_px(top - 0.8), row_px(2.8))).mul_(bays)
    image.lerp_(per_column(p["window_colour"]) * light, windows[:, None])
    # hedges at the foot of some facades
    hedge_height = per_column(p["hedge"] * (1 - p["lot_park"])) * (1 - open_lot)
    if bool((hedge_height > 0).any()):
        hedge = between(row_px(hedge_height), ground_px).mul_((hedge_height > 0).float())
        image.lerp_(per_column(p["hedge_colour"]), hedge[:, None])
        label.lerp_(torch.tensor(float(VEGETATION)), hedge.round())

    # --- objects: cars, people and trees ------------------------------------------------------
    # Object k of each kind is painted for all scenes together, on the window of rows and columns
    # those objects can cover. Cars come first, farthest first (car k + 1 is always behind car
    # k), so they simply paint over each other; then a depth buffer decides per pixel: a part of
    # a person or a tree is painted where nothing nearer has been. The scenes are reordered for
    # each kind so that those with an object k come first (a prefix 0 .. n - 1).
    depth_buffer = torch.full((b, height, width), 1e6)
    position = torch.arange(b)  # the position in p of the scene each position now holds
    for kind, (draw, class_id, keys) in _KINDS.items():
        count = p[f"{kind}_count"][position]
        if int(count.max()) == 0:
            continue
        if not bool((count[:-1] >= count[1:]).all()):  # cars already are
            reorder = torch.argsort(count, descending=True, stable=True)
            image, label, depth_buffer = (t.index_select(0, reorder) for t in (image, label, depth_buffer))
            position, count = position[reorder], count[reorder]
        order = position.numpy()
        q = {key: p[key].numpy()[order] for key in keys}
        cam = _Camera({key: p[key].numpy()[order] for key in ("horizon", "vanish", "focal", "cam_height")})
        parts = draw(cam, q)
        factors = [_factors(part.shape, v.numpy(), u.numpy(), height, width, part.geometry) for part in parts]
        colours = [torch.from_numpy(np.ascontiguousarray(part.colour, dtype=np.float32)) for part in parts]
        top, bottom, left, right = _extent(cam, q, kind)
        z_all = torch.from_numpy(np.ascontiguousarray(q[f"{kind}_z"], dtype=np.float32))
        counts = count.numpy()
        for k in reversed(range(int(counts.max()))):
            n = int((counts > k).sum())
            r0 = max(0, math.floor(top[:n, k].min() * height) - 1)
            r1 = min(height, math.ceil(bottom[:n, k].max() * height) + 1)
            c0 = max(0, math.floor(left[:n, k].min() * width) - 1)
            c1 = min(width, math.ceil(right[:n, k].max() * width) + 1)
            if r1 <= r0 or c1 <= c0:
                continue
            rows, cols = slice(r0, r1), slice(c0, c1)
            window = (slice(0, n), rows, cols)
            z = z_all[:n, k].view(n, 1, 1)
            visible = None if kind == "car" else (depth_buffer[window] - z).mul_(1e3).add_(1).clamp_(0, 1)
            cover = torch.zeros(n, r1 - r0, c1 - c0)  # the object's coverage, all parts
            canvas = image[:n, :, rows, cols]
            for part, factor, colour in zip(parts, factors, colours):
                alpha = _SHAPES[part.shape][1](factor, n, k, rows, cols)
                if visible is not None:
                    alpha.mul_(visible)
                if part.opacity != 1:
                    alpha.mul_(part.opacity)
                canvas.lerp_(colour[:n, k].view(n, 3, 1, 1), alpha[:, None])
                if part.solid:
                    torch.maximum(cover, alpha, out=cover)
            inside = cover.round()
            label[window].lerp_(torch.tensor(float(class_id)), inside)
            depth_buffer[window].lerp_(z, inside)
    image, label = (t.index_select(0, torch.argsort(position)) for t in (image, label))

    # --- the recording car's bonnet (void) ---------------------------------------------------
    hood = p["hood"]
    if bool((hood > 0).any()):
        h0 = max(0, int((1 - float(hood.max())) * height) - 1)
        edge = (1 - scalar(hood) + scalar(p["hood_curve"]) * (2 * u.view(1, 1, width) - 1) ** 2) * height
        alpha = (v_px[:, h0:] - edge).add_(0.5).clamp_(0, 1).mul_((scalar(hood) > 0).float())  # [B, R, W]
        reach = hood.view(b, 1, 1, 1)  # how far up the image the bonnet reaches
        shine = 1 - (v.view(1, 1, -1, 1)[:, :, h0:] - (1 - reach)) / reach.clamp(min=1e-3)  # sky reflection
        bonnet = col(p["hood_colour"]) + 0.25 * shine.clamp_(0, 1) * col(p["sky_horizon"])  # [B, 3, R, 1]
        image[:, :, h0:].lerp_(bonnet, alpha[:, None])
        label[:, h0:].lerp_(torch.tensor(float(VOID)), alpha.round())

    # --- texture noise; haze towards the horizon, light and colour balance; 8 bits -------------
    masks = label.round_().to(torch.int32).to(torch.uint8)
    texture = _TEXTURE.index_select(0, masks.view(-1).long()).view(b, height, width)  # noise strength
    fine, coarse = _noise(full["grain_seed"], scene, height, width)  # [B, H, W], [B, h, w]
    noise = _linear_basis(height, coarse.shape[1]) @ coarse @ _linear_basis(width, coarse.shape[2]).T
    noise.mul_(1.6).add_(fine).sub_(1.3)  # mean 0: coarse blotches and fine grain
    image.addcmul_(texture.mul_(scalar(p["noise"]))[:, None], noise[:, None])
    # haze, contrast, brightness and gain in one affine map per row and channel: [B, 3, H, 1]
    haze = (scalar(p["haze"]) * torch.exp(-6 * (v.view(1, height, 1) - horizon).abs()))[:, None]
    gain = col(p["gain"]) * 255
    contrast, brightness = p["contrast"].view(b, 1, 1, 1), p["brightness"].view(b, 1, 1, 1)
    scale = gain * contrast * (1 - haze)
    offset = gain * (contrast * haze * col(p["sky_horizon"]) + 0.5 - 0.5 * contrast + brightness) + 0.5
    images = image.mul_(scale).add_(offset).clamp_(0, 255).to(torch.int32).to(torch.uint8)
    restore = torch.argsort(scene)
    return images.index_select(0, restore), masks.index_select(0, restore)


def _check_size(size: Any) -> tuple[int, int]:
    rule = "an integer between 16 and 1024 or a pair (H, W) of them, e.g. (64, 128)"
    try:
        height, width = check_pair("size", size, minimum=16)
    except ValueError:
        raise ValueError(f"size {size!r} given; size must be {rule}") from None
    if height > 1024 or width > 1024:
        raise ValueError(f"size {size!r} given; size must be {rule}")
    return height, width


def _validate(num_images: Any, size: Any, seed: Any) -> tuple[int, tuple[int, int], int]:
    """The checks make_streets and ToyStreets share."""
    return (
        check_int("num_images", num_images, minimum=1),
        _check_size(size),
        check_int("seed", seed, minimum=0, maximum=2**63 - 1),
    )


def make_streets(
    num_images: int, size: int | tuple[int, int] = (64, 128), *, seed: int = 0, start: int = 0
) -> Streets:
    """Draw street scenes ``start .. start + num_images - 1`` of the toy street data set ``seed``.

    Vectorised over blocks of 64 scenes: the ground, the facades and the sky are computed for
    all pixels of all scenes at once, objects kind by kind and slot by slot (object k of every
    scene together), each on the window of pixels it can cover. About 1.5 ms of CPU time per
    64x128 scene on one core (``bench/data.py``), so a training set is drawn in seconds and never
    stored.
    The cost is proportional to ``num_images`` (plus the noise of at most 8 scenes).

    Args:
        num_images: how many scenes, >= 1.
        size: ``(H, W)`` in pixels, each 16 to 1024, or one integer for a square image (the
            streets are designed for ``W = 2 H``; other shapes stretch them).
        seed: which data set; scene ``i`` depends only on ``(seed, i)``, so use different seeds
            for training and validation.
        start: index of the first scene (for reading a large set in pieces).

    Returns:
        :class:`Streets` with ``images`` ``float32`` in [0, 1] (multiples of 1/255), ``masks``
        ``int64`` holding ids 0 to 6 (:data:`STREET_CLASSES`) and 255 for the void bonnet.

    Shape:
        ``images [N, 3, H, W]``, ``masks [N, H, W]`` with ``N = num_images``.

    Example:
        >>> streets = make_streets(8, size=(32, 64), seed=0)
        >>> streets
        Streets(images=Tensor[8, 3, 32, 64] float32, masks=Tensor[8, 32, 64] int64,
                num_classes=7, void=255)
        >>> bool(torch.equal(streets.masks[5], make_streets(3, size=(32, 64), start=4).masks[1]))
        True
        >>> make_streets(8, size=(64, 8))
        Traceback (most recent call last):
        ...
        ValueError: size (64, 8) given; size must be an integer between 16 and 1024 or a pair
        (H, W) of them, e.g. (64, 128)
    """
    num_images, size, seed = _validate(num_images, size, seed)
    start = check_int("start", start, minimum=0)
    first, last = start // _CHUNK, (start + num_images - 1) // _CHUNK
    stop = start + num_images
    blocks = [
        _render_block(seed, block, size,
                      first=max(start - block * _CHUNK, 0), stop=min(stop - block * _CHUNK, _CHUNK))
        for block in range(first, last + 1)
    ]  # fmt: skip
    images, masks = (torch.cat(parts) for parts in zip(*blocks))
    return Streets(images=images.to(torch.float32).div_(255), masks=masks.to(torch.int64))


class ToyStreets(Dataset):
    """The street scenes of :func:`make_streets` as a ``torch.utils.data.Dataset``.

    Scenes are drawn lazily, a block of 64 at a time, the first time one of them is asked for,
    and cached as 8-bit tensors (32 KB per 64x128 scene, so 320 MB for 10,000); item ``i`` equals
    scene ``i`` of ``make_streets(..., seed=seed)`` before ``transforms``. With
    ``DataLoader(num_workers>0)`` each worker keeps its own cache.

    Args:
        num_images: length of the data set, >= 1.
        size: ``(H, W)`` in pixels, or one integer for square images.
        seed: which data set (use another seed for validation).
        transforms: optional callable ``(image, mask) -> (image, mask)`` applied to every item,
            e.g. :func:`~segviz.data.segmentation_transforms` (random crops, flips, colour).

    Returns (per item):
        ``(image, mask)``: ``float32`` in [0, 1] and ``int64`` class ids (255 = void).

    Shape:
        ``image [3, H, W]``, ``mask [H, W]`` (before ``transforms``).

    Example:
        >>> data = ToyStreets(100, size=(32, 64), seed=1)
        >>> image, mask = data[7]
        >>> len(data), tuple(image.shape), tuple(mask.shape), mask.dtype
        (100, (3, 32, 64), (32, 64), torch.int64)
        >>> bool(torch.equal(mask, make_streets(8, size=(32, 64), seed=1).masks[7]))
        True
    """

    class_names: tuple[str, ...] = STREET_CLASSES
    palette: np.ndarray = STREET_PALETTE
    ignore_index: int = VOID

    def __init__(
        self,
        num_images: int,
        size: int | tuple[int, int] = (64, 128),
        seed: int = 0,
        transforms: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]] | None = None,
    ) -> None:
        self.num_images, self.size, self.seed = _validate(num_images, size, seed)
        if transforms is not None and not callable(transforms):
            raise ValueError(
                f"transforms {transforms!r} given; transforms must be None or a callable "
                "(image, mask) -> (image, mask), e.g. segmentation_transforms()"
            )
        self.transforms = transforms
        self._blocks: dict[int, tuple[Tensor, Tensor]] = {}

    @property
    def num_classes(self) -> int:
        """Number of classes (void not counted)."""
        return len(self.class_names)

    def __len__(self) -> int:
        return self.num_images

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
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
            self._blocks[block] = _render_block(self.seed, block, self.size)
        images, masks = self._blocks[block]
        image, mask = images[offset].to(torch.float32).div_(255), masks[offset].long()
        if self.transforms is not None:
            image, mask = self.transforms(image, mask)
        return image, mask

    def __repr__(self) -> str:
        extra = f", transforms={self.transforms!r}" if self.transforms is not None else ""
        return f"ToyStreets(num_images={self.num_images}, size={self.size}, seed={self.seed}{extra})"
