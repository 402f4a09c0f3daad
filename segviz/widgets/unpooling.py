"""``UnpoolingExplorer``: nearest, bed of nails and max unpooling of the same input, side by side."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from ..viz.unpooling import MAX_SCALE, MAX_SIZE, compute_unpooling, figure_unpooling, update_unpooling
from .base import Explorer

__all__ = ["UnpoolingExplorer"]

_PRESETS = [("slides: 2×2 → 4×4 (CS231n)", "slides"), ("random digits", "random")]


class UnpoolingExplorer(Explorer):
    """Three ways to undo pooling, on the same input.

    Top row: the encoder's map, its ``s×s`` max pooling and the *switches* (where each maximum
    was, as ``F.max_pool2d(..., return_indices=True)`` returns them). Bottom row: the decoder's
    input unpooled by nearest neighbour (every value fills its block), bed of nails (every value
    in the top-left corner, zeros elsewhere) and max unpooling (every value back at its switch).

    Controls: ``preset`` (the slides' example, or random digits), ``seed``, ``size`` (side of the
    pooled map) and ``scale`` (window = stride = upsampling factor). The slides' preset is 2×2
    unpooled ×2; moving ``seed``, ``size`` or ``scale`` switches to random digits, and picking
    the slides again sets size and scale back to 2.

    Args:
        preset: ``"slides"`` or ``"random"``.
        seed, size, scale: initial values of the controls.
    """

    def __init__(self, preset: str = "slides", *, seed: int = 0, size: int = 2, scale: int = 2):
        style = {"description_width": "initial"}
        controls = {
            "preset": widgets.Dropdown(options=_PRESETS, value=preset, description="preset", style=style),
            "seed": widgets.IntSlider(value=seed, min=0, max=99, description="seed", style=style),
            "size": widgets.IntSlider(value=size, min=1, max=MAX_SIZE, description="pooled size", style=style),
            "scale": widgets.IntSlider(value=scale, min=1, max=MAX_SCALE, description="scale", style=style),
        }
        self._syncing = False
        super().__init__(controls)

    def compute(self, preset: str, seed: int, size: int, scale: int):
        return compute_unpooling(preset, seed, size, scale)

    def draw(self, result):
        return figure_unpooling(result)

    def redraw(self, figure, result, previous) -> None:
        update_unpooling(figure, result, previous=previous)

    def describe(self, result) -> str:
        n, s = result.size, result.scale
        big = n * s
        zeros = big * big - n * n
        return (
            f"{n}×{n} → {big}×{big} (×{s}). <b>Nearest</b> copies each value {s * s}×; "
            f"<b>bed of nails</b> and <b>max unpooling</b> keep {n * n} values and leave "
            f"<b>{zeros}</b> of {big * big} pixels at 0. Bed of nails writes to the top-left corner, "
            f"which is where the maximum was in <b>{result.corner_hits} of {n * n}</b> windows; max "
            f"unpooling uses the switches, so every value lands where the encoder found its maximum."
        )

    # --- keep the slides' preset and the sliders consistent: one update per learner action ------
    def _on_change(self, change: Any = None) -> None:
        if self._syncing:
            return
        preset, seed, size, scale = (self.controls[k] for k in ("preset", "seed", "size", "scale"))
        owner = getattr(change, "owner", None)
        self._syncing = True
        try:
            if owner is preset and preset.value == "slides":
                size.value, scale.value = 2, 2
            elif owner in (seed, size, scale) and preset.value == "slides":
                preset.value = "random"  # the slides' example has no seed and one size
        finally:
            self._syncing = False
        self.update()
