"""``CheckerboardExplorer``: where the checkerboard artifacts of transposed convolutions come from."""

from __future__ import annotations


import ipywidgets as widgets
import numpy as np

from ..viz.checkerboard import compute_checkerboard, figure_checkerboard, format_ratio, update_checkerboard
from .base import Explorer

__all__ = ["CheckerboardExplorer"]


def _energy(value: float) -> str:
    return "–" if np.isnan(value) else f"{value:.2f}"


class CheckerboardExplorer(Explorer):
    """Uneven overlap of transposed convolutions, in 1-D and 2-D, stacked, and its remedy.

    Feed a constant image through ``layers`` transposed convolutions with all-ones kernels: the
    output counts how many filter copies land on each pixel. The top panel shows the copies and
    the counts along one row; bottom left, the 2-D counts (a row pattern times a column pattern,
    so the unevenness is squared); bottom right, the input gradient of the matching strided
    convolutions, computed by autograd, which shows the same pattern. ``resize`` swaps the
    upsampler for nearest resizing plus a stride-1 convolution: every interior pixel then sums
    the same number of taps.

    The label reads the unevenness as numbers: max/min of the interior counts (1.00 is even) and
    std/mean.

    Args:
        kernel_size, stride, layers, input_size, resize: initial values of the controls.
    """

    def __init__(
        self, kernel_size: int = 3, stride: int = 2, *, layers: int = 1, input_size: int = 4, resize: bool = False
    ):
        style = {"description_width": "initial"}
        controls = {
            "kernel_size": widgets.IntSlider(value=kernel_size, min=1, max=7, description="kernel", style=style),
            "stride": widgets.IntSlider(value=stride, min=1, max=4, description="stride", style=style),
            "layers": widgets.IntSlider(value=layers, min=1, max=3, description="layers", style=style),
            "input_size": widgets.IntSlider(value=input_size, min=1, max=8, description="input size", style=style),
            "resize": widgets.Checkbox(value=resize, description="resize, then convolve", indent=False),
        }
        super().__init__(controls)

    def compute(self, kernel_size: int, stride: int, layers: int, input_size: int, resize: bool):
        return compute_checkerboard(kernel_size, stride, layers, input_size, resize)

    def draw(self, result):
        return figure_checkerboard(result)

    def redraw(self, figure, result, previous) -> None:
        update_checkerboard(figure, result, previous=previous)

    def describe(self, result) -> str:
        k, s = result.kernel_size, result.stride
        one, two = format_ratio(result.unevenness_1d), format_ratio(result.unevenness_2d)
        per_layer = " → ".join(format_ratio(u) for u in result.layer_unevenness)
        stack = f" Layer by layer (1-D): <b>{per_layer}</b>." if result.layers > 1 else ""
        if result.resize:
            head = (f"Resize ×{s}, then a {k}×{k} conv: interior max/min <b>{two}</b> in 2-D "
                    f"(std/mean {result.variation_2d:.2f}, checkerboard energy {_energy(result.energy_2d)})")
            head += ": every interior pixel sums the same taps, no checkerboard." if two == "1.00" else "."
        else:
            if k < s:
                why = f"{k} < {s}: the copies leave gaps"
            elif k % s == 0:
                why = f"{k} is a multiple of {s}: even overlap"
            else:
                why = f"{k} is not a multiple of {s}: uneven overlap"
            squared = f" (= {one}²)" if one not in ("∞", "–") else ""
            head = (f"Kernel {k}, stride {s} ({why}). Interior max/min: 1-D <b>{one}</b>, 2-D <b>{two}</b>"
                    f"{squared}; std/mean 1-D {result.variation_1d:.2f}, 2-D {result.variation_2d:.2f}; "
                    f"checkerboard energy {_energy(result.energy_2d)}.")
        if not result.resize:
            same = np.array_equal(result.gradient_2d, result.counts_2d)
            tail = (" The strided conv's input gradient is the same map "
                    f"({'identical' if same else 'different'}): its backward pass is a transposed conv.")
        else:
            tail = " Right: the strided conv's gradient still shows the transposed conv's pattern."
        return head + stack + tail
