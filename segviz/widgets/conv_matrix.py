"""``ConvMatrixExplorer``: a convolution as the matrix ``W``, its transpose ``Wᵀ``, one pixel at a time."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from ..validation import check_choice, check_int
from ..viz.conv_matrix import (
    MODES,
    compute_conv_matrix,
    conv_matrix_steps,
    describe_step,
    figure_conv_matrix,
    update_conv_matrix,
)
from .base import Explorer
from .transposed_conv import STYLE, StepControl

__all__ = ["ConvMatrixExplorer"]


class ConvMatrixExplorer(Explorer):
    """Convolution as a matrix product, and the transposed convolution as ``Wᵀ``.

    ``W`` has one row per output pixel and one column per input pixel; each row holds the
    kernel, shifted to that pixel's window (the weights are shared, the matrix is sparse). Move
    ``step`` to pick an output pixel: its window is outlined on the input, its row in ``W`` (that
    row times ``vec(x)`` is the pixel's value, written out in the title) and its column in
    ``Wᵀ``: where a transposed convolution, which multiplies by ``Wᵀ``, puts that pixel back. The
    kernel is numbered ``1 … k²`` row by row, so each number in ``W`` names its tap, as in the
    lecture's ``w₁₁ … w₃₃``.

    Args:
        mode: ``"1D"`` (an input of shape ``(1, n)``) or ``"2D"``.
        input_size: ``n`` (1 … 8).
        kernel_size: ``k`` (1 … 5).
        stride: 1 … 3.
        padding: 0 … 2.
        step: the initial output pixel (row of ``W``).
        seed: draws the input's small integers.
        interval: milliseconds between two pixels when playing.

    Example:
        >>> explorer = ConvMatrixExplorer()
        >>> explorer.result.matrix.shape
        (4, 16)
        >>> explorer.controls["mode"].value = "1D"
        >>> explorer.result.matrix.shape, explorer.controls["step"].max
        ((2, 4), 1)
    """

    def __init__(
        self,
        mode: str = "2D",
        input_size: int = 4,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 0,
        *,
        step: int = 0,
        seed: int = 0,
        interval: int = 900,
    ):
        self.seed = int(seed)
        mode = check_choice("mode", mode, MODES)
        values = dict(
            input_size=check_int("input_size", input_size, minimum=1, maximum=8),
            kernel_size=check_int("kernel_size", kernel_size, minimum=1, maximum=5),
            stride=check_int("stride", stride, minimum=1, maximum=3),
            padding=check_int("padding", padding, minimum=0, maximum=2),
        )
        steps = conv_matrix_steps(mode, **values, seed=self.seed)
        step = check_int("step", step, minimum=0, maximum=steps - 1)
        self.stepper = StepControl(step, steps - 1, interval=interval)
        self.play = self.stepper.play
        controls = {
            "mode": widgets.ToggleButtons(options=list(MODES), value=mode, description="mode", style=STYLE,
                                          layout=widgets.Layout(width="auto")),
            "input_size": widgets.IntSlider(value=values["input_size"], min=1, max=8, description="input size",
                                            style=STYLE),
            "kernel_size": widgets.IntSlider(value=values["kernel_size"], min=1, max=5, description="kernel",
                                             style=STYLE),
            "stride": widgets.IntSlider(value=values["stride"], min=1, max=3, description="stride", style=STYLE),
            "padding": widgets.IntSlider(value=values["padding"], min=0, max=2, description="padding", style=STYLE),
            "step": self.stepper.slider,
        }
        box = widgets.VBox([
            widgets.HBox([controls[name] for name in ("mode", "input_size", "kernel_size", "stride", "padding")],
                         layout=widgets.Layout(flex_flow="row wrap")),
            self.stepper.box(),
        ])
        super().__init__(controls, layout_controls=box)

    def compute(self, **values: Any):
        return compute_conv_matrix(**values, seed=self.seed)

    def draw(self, result):
        return figure_conv_matrix(result)

    def redraw(self, figure, result, previous) -> None:
        update_conv_matrix(figure, result, previous=previous)  # send only what changed

    def update(self) -> None:
        """Fit the step range to the number of output pixels, then recompute and update the figure."""
        if self.stepper.busy:
            return
        values = self.values()
        values.pop("step")
        try:
            steps = conv_matrix_steps(**values, seed=self.seed)
        except ValueError:
            pass  # the update below shows the message
        else:
            self.stepper.fit(steps - 1, keep_end=False)
        super().update()

    def describe(self, result) -> str:
        (h_in, w_in), (h_out, w_out) = result.input_shape, result.output_shape
        rows, cols = result.matrix.shape
        shape = (lambda h, w: f"1×{w}") if result.mode == "1D" else (lambda h, w: f"{h}×{w}")
        return (
            f"{result.mode}: {shape(h_in, w_in)} input, {shape(*result.kernel_shape)} kernel, stride "
            f"{result.stride[1]}, padding {result.padding[1]} → {shape(h_out, w_out)} output. "
            f"W is {rows}×{cols} (output pixels × input pixels); Wᵀ is {cols}×{rows} and maps "
            f"{shape(h_out, w_out)} back to {shape(h_in, w_in)}: a transposed convolution reverses the shape, "
            f"not the values (WᵀW ≠ I).<br>{describe_step(result)}"
        )
