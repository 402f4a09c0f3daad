"""Real photographs for the lectures, from inside the scikit-image wheel (no download, ever).

``skimage.data`` serves two kinds of images: a few dozen small ones that ship in the wheel, and
larger ones that it downloads on first use with ``pooch``. The course must run offline, so only
the first kind is listed here; ``tests/data/test_real.py`` checks that every file below is in the
installed wheel, with the hash scikit-image expects, and loads them all with the network cut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

__all__ = ["real_images", "REAL_IMAGE_FILES"]

#: name -> (``skimage.data`` function, which of its outputs (for ``stereo_motorcycle``), the file
#: it reads, relative to the ``skimage`` package).
_SOURCES: dict[str, tuple[str, int | None, str]] = {
    "astronaut": ("astronaut", None, "data/astronaut.png"),
    "brick": ("brick", None, "data/brick.png"),
    "camera": ("camera", None, "data/camera.png"),
    "cell": ("cell", None, "data/cell.png"),
    "chelsea": ("chelsea", None, "data/chelsea.png"),
    "clock": ("clock", None, "data/clock_motion.png"),
    "coffee": ("coffee", None, "data/coffee.png"),
    "coins": ("coins", None, "data/coins.png"),
    "colorwheel": ("colorwheel", None, "data/color.png"),
    "grass": ("grass", None, "data/grass.png"),
    "gravel": ("gravel", None, "data/gravel.png"),
    "horse": ("horse", None, "data/horse.png"),
    "hubble_deep_field": ("hubble_deep_field", None, "data/hubble_deep_field.jpg"),
    "immunohistochemistry": ("immunohistochemistry", None, "data/ihc.png"),
    "moon": ("moon", None, "data/moon.png"),
    "motorcycle_left": ("stereo_motorcycle", 0, "data/motorcycle_left.png"),
    "motorcycle_right": ("stereo_motorcycle", 1, "data/motorcycle_right.png"),
    "page": ("page", None, "data/page.png"),
    "retina": ("retina", None, "data/retina.jpg"),
    "rocket": ("rocket", None, "data/rocket.jpg"),
    "text": ("text", None, "data/text.png"),
}

#: The file each image is read from, relative to the installed ``skimage`` package.
REAL_IMAGE_FILES: dict[str, str] = {name: source[2] for name, source in _SOURCES.items()}


def _to_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Grey ``[H, W]`` -> stacked ``[H, W, 3]``; boolean -> 0/255; always ``uint8`` RGB."""
    if image.dtype == np.bool_:
        image = image.astype(np.uint8) * 255
    if image.dtype != np.uint8:  # pragma: no cover - every bundled image is uint8 or bool
        raise TypeError(f"unexpected dtype {image.dtype} from skimage.data")
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


def real_images(names: str | Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Photographs shipped inside the scikit-image wheel, as RGB arrays, without any download.

    Includes colour photos (astronaut, chelsea the cat, coffee, rocket, the left and right views
    of the Middlebury stereo motorcycle), textures for texture segmentation (brick, grass,
    gravel), grey classics (camera, coins, moon, page, text), a binary silhouette (horse),
    microscopy (cell, immunohistochemistry, retina) and more; see ``REAL_IMAGE_FILES``.

    Args:
        names: one name, several, or ``None`` for all of them.

    Returns:
        ``{name: image}`` in the order asked for; each image is a fresh ``uint8`` array
        ``[H, W, 3]`` (grey images repeated over the three channels, the boolean horse as
        0/255).

    Raises:
        ValueError: for an unknown name; the message lists the available ones.

    Shape:
        Each value ``[H, W, 3]``; sizes differ per photo (astronaut ``[512, 512, 3]``).

    Example:
        >>> images = real_images(["astronaut", "coins"])
        >>> {name: (image.shape, str(image.dtype)) for name, image in images.items()}
        {'astronaut': ((512, 512, 3), 'uint8'), 'coins': ((303, 384, 3), 'uint8')}
        >>> real_images("lena")
        Traceback (most recent call last):
        ...
        ValueError: image 'lena' given; image must be one of 'astronaut', 'brick', ...
    """
    from skimage import data  # imported here: `import segviz.data` stays light

    if names is None:
        wanted = list(_SOURCES)
    elif isinstance(names, str):
        wanted = [names]
    else:
        wanted = list(names)
    for name in wanted:
        if not isinstance(name, str) or name not in _SOURCES:
            available = ", ".join(repr(n) for n in _SOURCES)
            raise ValueError(f"image {name!r} given; image must be one of {available}")

    loaded: dict[str, Any] = {}  # one call per skimage function (stereo_motorcycle gives both)
    result: dict[str, np.ndarray] = {}
    for name in wanted:
        function, part, _ = _SOURCES[name]
        if function not in loaded:
            loader: Callable[[], Any] = getattr(data, function)
            loaded[function] = loader()
        image = loaded[function] if part is None else loaded[function][part]
        result[name] = _to_rgb_uint8(np.array(image))  # a copy: callers may edit it freely
    return result
