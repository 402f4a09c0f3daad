"""``DilationExplorer``: dilated kernels, the receptive field of a stack, and gridding."""

from __future__ import annotations


import ipywidgets as widgets

from ..viz.dilation import (
    MAX_DILATION,
    MAX_INPUT,
    MAX_KERNEL,
    MAX_LAYERS,
    MIN_INPUT,
    compute_dilation,
    figure_dilation,
    update_dilation,
)
from .base import Explorer

__all__ = ["DilationExplorer"]

_SCHEDULES = [
    ("constant: d, d, d, …", "constant"),
    ("exponential: 1, d, d², … (Yu & Koltun)", "exponential"),
    ("hybrid: 1, 2, …, d, 1, 2, … (HDC)", "hybrid"),
]


class DilationExplorer(Explorer):
    """Dilated convolutions: more context for the same taps, and the holes it can leave.

    Left: one ``k×k`` kernel with dilation ``d`` (:func:`segviz.dilate_kernel`), on a canvas
    wide enough for dilation 4, so the taps visibly spread as ``d`` grows. Middle: the input
    pixels that reach the centre output of ``layers`` stacked dilated convolutions, found by
    back-propagating through ``F.conv2d`` (the colour counts the chains of taps; white pixels
    inside the dotted receptive field are never read: gridding). Right: receptive field
    ``1 + Σ (k − 1)·r_i`` against depth for the three rate schedules.

    Args:
        kernel_size, dilation, layers, schedule, input_size: initial values of the controls.
    """

    def __init__(
        self,
        kernel_size: int = 3,
        dilation: int = 2,
        *,
        layers: int = 3,
        schedule: str = "constant",
        input_size: int = 33,
    ):
        style = {"description_width": "initial"}
        controls = {
            "kernel_size": widgets.IntSlider(value=kernel_size, min=1, max=MAX_KERNEL, description="kernel", style=style),
            "dilation": widgets.IntSlider(value=dilation, min=1, max=MAX_DILATION, description="dilation d", style=style),
            "layers": widgets.IntSlider(value=layers, min=1, max=MAX_LAYERS, description="layers", style=style),
            "schedule": widgets.Dropdown(options=_SCHEDULES, value=schedule, description="rates", style=style),
            "input_size": widgets.IntSlider(value=input_size, min=MIN_INPUT, max=MAX_INPUT, step=2,
                                            description="input size", style=style),
        }
        super().__init__(controls)

    def compute(self, kernel_size: int, dilation: int, layers: int, schedule: str, input_size: int):
        return compute_dilation(kernel_size, dilation, layers, schedule, input_size)

    def draw(self, result):
        return figure_dilation(result)

    def redraw(self, figure, result, previous) -> None:
        update_dilation(figure, result, previous=previous)

    def describe(self, result) -> str:
        k, rf = result.kernel_size, result.receptive_field
        rates = ", ".join(str(r) for r in result.rates)
        terms = " + ".join(str(r) for r in result.rates)
        plain = 1 + (k - 1) * result.layers
        return (
            f"Rates <b>{rates}</b>: receptive field <b>{rf}×{rf}</b> = 1 + ({k}−1)·({terms}), with "
            f"{result.layers * k * k} weights per channel pair ({result.layers} × {k}×{k}); without dilation "
            f"the same stack sees {plain}×{plain}. <b>{result.contributing}</b> of {rf * rf} pixels reach the output "
            f"(<b>{result.coverage:.0%}</b>). A {result.input_size}×{result.input_size} input gives a "
            f"{result.output_size}×{result.output_size} output."
        )
