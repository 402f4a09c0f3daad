"""``TransposedConvExplorer``: stamp a weighted kernel copy per input pixel and watch the sum grow."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from ..validation import check_int
from ..viz.transposed_conv import (
    compute_transposed_conv,
    describe_stamp,
    figure_transposed_conv,
    update_transposed_conv,
)
from .base import Explorer

__all__ = ["TransposedConvExplorer"]

STYLE = {"description_width": "initial"}


class StepControl:
    """A ``step`` slider with a ▶ ``Play`` button linked to it, whose range follows the layer.

    The Play button ticks the slider (``widgets.link`` runs in the kernel, so a test, or a
    learner's code, that sets either one moves both). :meth:`fit` changes the range when the layer
    changes; while it does, :attr:`busy` is set so the explorer can ignore the value changes the
    clamping causes (one layer change is one figure update).
    """

    def __init__(self, value: int, maximum: int, *, minimum: int = 0, interval: int = 700):
        self.slider = widgets.IntSlider(value=value, min=minimum, max=maximum, description="step", style=STYLE,
                                        layout=widgets.Layout(width="420px"))
        self.play = widgets.Play(value=value, min=minimum, max=maximum, interval=interval, description="play")
        self.link = widgets.link((self.play, "value"), (self.slider, "value"))
        self.busy = False

    def fit(self, maximum: int, *, keep_end: bool) -> None:
        """Set the largest step; with ``keep_end`` a slider at its old end moves to the new end."""
        if self.slider.max == maximum:
            return
        at_end = self.slider.value == self.slider.max
        self.busy = True
        try:
            for control in (self.slider, self.play):  # a lower max clamps the value
                control.max = maximum
            if keep_end and at_end:
                self.slider.value = maximum
        finally:
            self.busy = False

    def box(self) -> widgets.HBox:
        return widgets.HBox([self.play, self.slider])


class TransposedConvExplorer(Explorer):
    """A transposed convolution, one stamp at a time.

    Each input pixel ``x[i, j]`` puts a copy of the kernel, scaled by its value, on the output
    canvas with its corner at ``(i·s, j·s)``; where copies overlap, they add up. ``padding``
    crops the canvas on every side, ``output_padding`` adds room at the bottom and right. Press ▶
    (or move ``step``) to add the stamps one by one: the canvas shows the running sum with the
    latest stamp outlined, and after the last stamp it is exactly ``F.conv_transpose2d``. The
    overlap count (how many stamps touch each pixel) shows where the checkerboard of transposed
    convolutions comes from. Inputs and kernel are small integers, so every sum can be checked by
    hand.

    Args:
        input_size: ``H`` (1 … 8).
        kernel_size: ``k`` (1 … 7).
        stride: ``s`` (1 … 4).
        padding: ``p`` (0 … 3).
        output_padding: ``op`` (0 … 3; PyTorch wants ``op < max(s, d)``).
        dilation: ``d`` (1 … 3).
        step: the initial number of stamps (default: all of them).
        seed: draws the small integers.
        interval: milliseconds between two stamps when playing.

    Example:
        >>> explorer = TransposedConvExplorer()
        >>> explorer.result.output.shape, explorer.result.step
        ((4, 4), 4)
        >>> explorer.controls["stride"].value = 1  # output_padding 1 needs a stride of 2 or more
        >>> explorer.result.output.shape, "output_padding must be smaller" in explorer.message.value
        ((4, 4), True)
        >>> explorer.controls["output_padding"].value = 0
        >>> explorer.result.output.shape, explorer.message.value
        ((2, 2), '')
    """

    def __init__(
        self,
        input_size: int = 2,
        kernel_size: int = 3,
        stride: int = 2,
        padding: int = 1,
        output_padding: int = 1,
        dilation: int = 1,
        *,
        step: int | None = None,
        seed: int = 0,
        interval: int = 700,
    ):
        self.seed = int(seed)
        input_size = check_int("input_size", input_size, minimum=1, maximum=8)
        steps = input_size * input_size
        step = steps if step is None else check_int("step", step, minimum=0, maximum=steps)
        sliders = {
            "input_size": widgets.IntSlider(value=input_size, min=1, max=8, description="input size", style=STYLE),
            "kernel_size": widgets.IntSlider(value=check_int("kernel_size", kernel_size, minimum=1, maximum=7),
                                             min=1, max=7, description="kernel", style=STYLE),
            "stride": widgets.IntSlider(value=check_int("stride", stride, minimum=1, maximum=4),
                                        min=1, max=4, description="stride", style=STYLE),
            "padding": widgets.IntSlider(value=check_int("padding", padding, minimum=0, maximum=3),
                                         min=0, max=3, description="padding", style=STYLE),
            "output_padding": widgets.IntSlider(value=check_int("output_padding", output_padding, minimum=0, maximum=3),
                                                min=0, max=3, description="output_padding", style=STYLE),
            "dilation": widgets.IntSlider(value=check_int("dilation", dilation, minimum=1, maximum=3),
                                          min=1, max=3, description="dilation", style=STYLE),
        }
        self.stepper = StepControl(step, steps, interval=interval)
        self.play = self.stepper.play
        controls = {**sliders, "step": self.stepper.slider}
        box = widgets.VBox([
            widgets.HBox(list(sliders.values()), layout=widgets.Layout(flex_flow="row wrap")),
            self.stepper.box(),
        ])
        super().__init__(controls, layout_controls=box)

    def compute(self, **values: Any):
        return compute_transposed_conv(**values, seed=self.seed)

    def draw(self, result):
        return figure_transposed_conv(result)

    def redraw(self, figure, result, previous) -> None:
        update_transposed_conv(figure, result, previous=previous)  # send only what changed

    def update(self) -> None:
        """Fit the step range to the input size, then recompute and update the figure."""
        if self.stepper.busy:
            return
        self.stepper.fit(self.controls["input_size"].value ** 2, keep_end=True)
        super().update()

    def describe(self, result) -> str:
        n, h = result.input_size, result.output_size
        return (f"stride {result.stride}: {n}×{n} input → {h}×{h} output; {result.formula()}<br>"
                f"{describe_stamp(result)}")
