"""``LossExplorer``: cross-entropy, ENet-weighted and bootstrapped, pixel by pixel on one prediction."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from torch import Tensor, nn

from ..validation import check_choice, check_int, check_number
from ..viz.losses import (
    BOOTSTRAP_MODES,
    KIND_NAMES,
    KINDS,
    compute_losses,
    default_loss_inputs,
    figure_losses,
    loss_inputs,
    update_losses,
)
from .base import Explorer

__all__ = ["LossExplorer"]

C_MIN, C_MAX = 1.01, 2.0  # ENet's constant: 1.02 in the paper; larger c flattens the weights
C_STEP = 0.001  # the c slider's step, in log10(c)


def _log_grid_start(value: float, low: float, step: float = C_STEP) -> float:
    """The exponent where a log slider's grid starts, at or above ``log10(low)``, so that ``value`` lies on it.

    The browser snaps a slider to ``min + k·step``; on a grid that starts at ``log10(1.01)``
    ENet's c = 1.02 is no grid point, and the slider would move it to 1.019 as soon as it is
    drawn.

    Example:
        >>> start = _log_grid_start(1.02, 1.01)
        >>> round(10 ** (start + 4 * C_STEP), 12), 1.01 <= 10 ** start < 1.01 * 10 ** C_STEP
        (1.02, True)
    """
    top, bottom = math.log10(value), math.log10(low)
    return top - math.floor((top - bottom) / step + 1e-9) * step


class LossExplorer(Explorer):
    """Where each segmentation loss puts its weight: per-pixel maps of one prediction, and the split by class.

    With no arguments: a synthetic scene (a cross, two disks and a thin bar) and a half-trained
    network's logits for it (confident inside regions, unsure at boundaries, and weak on the
    rare bar class; :func:`segviz.viz.losses.half_trained_logits`). ``loss`` picks plain,
    ENet-weighted or bootstrapped cross-entropy; ``c`` is ENet's constant in
    ``w = 1 / ln(c + p_class)`` (weights from this image's labels); bootstrapping keeps the
    top-k fraction of the hardest pixels, or those with ``p(true) < t`` but at least ``min_k``.
    Top: image, ground truth, prediction. Bottom: the per-pixel loss (one logarithmic colour
    scale for all three losses; grey: the pixel does not count), the pixels that count, and
    each class's share of the loss next to plain cross-entropy's and to its share of the pixels.
    The figure's title is the scalar loss from :mod:`segviz.losses`.

    Args:
        logits: your logits ``[C, H, W]`` or ``[1, C, H, W]`` (with ``target``).
        target: class indices ``[H, W]`` or ``[1, H, W]`` (255: ignored).
        model: instead of ``logits``: a network run on ``image`` (eval mode, no gradients).
        image: float ``[3, H, W]`` in ``[0, 1]`` (needed with ``model``, optional with ``logits``).
        class_names: a name per class (default: the synthetic classes when ``C = 7``).
        kind: ``"cross_entropy"``, ``"weighted"`` or ``"bootstrapped"``.
        c: ENet's constant, 1.01 to 2.
        mode: ``"top_k"`` or ``"threshold"``.
        top_k: the fraction of pixels bootstrapping keeps, 0.01 to 1.
        threshold: ``t``, 0.05 to 0.99: keep the pixels with ``p(true) < t``.
        min_k: the least number of pixels the threshold form keeps (default: 1/16 of the labelled).

    Example:
        >>> explorer = LossExplorer()
        >>> explorer.controls["kind"].value = "weighted"
        >>> round(explorer.result.loss, 4)
        0.2219
    """

    def __init__(
        self,
        logits: Tensor | None = None,
        target: Tensor | None = None,
        *,
        model: nn.Module | None = None,
        image: Any = None,
        class_names: Sequence[str] | None = None,
        kind: str = "cross_entropy",
        c: float = 1.02,
        mode: str = "top_k",
        top_k: float = 0.1,
        threshold: float = 0.7,
        min_k: int | None = None,
    ):
        if logits is None and target is None and model is None and image is None:
            self.inputs = default_loss_inputs()
        else:
            self.inputs = loss_inputs(logits, target, model=model, image=image, class_names=class_names)
        n_valid = int((self.inputs.target != 255).sum())
        kind = check_choice("kind", kind, KINDS)
        mode = check_choice("mode", mode, BOOTSTRAP_MODES)
        c = check_number("c", c, minimum=C_MIN, maximum=C_MAX)
        top_k = check_number("top_k", top_k, minimum=0.01, maximum=1)
        threshold = check_number("threshold", threshold, minimum=0.05, maximum=0.99)
        min_k = max(1, n_valid // 16) if min_k is None else check_int("min_k", min_k, minimum=1, maximum=n_valid)
        style = {"description_width": "initial"}
        narrow = widgets.Layout(width="300px")
        controls: dict[str, widgets.ValueWidget] = {
            "kind": widgets.Dropdown(options=[(KIND_NAMES[k], k) for k in KINDS], value=kind, description="loss",
                                     style=style, layout=widgets.Layout(width="340px")),
            "c": widgets.FloatLogSlider(value=c, base=10, min=_log_grid_start(c, C_MIN), max=math.log10(C_MAX), step=C_STEP,
                                        readout_format=".3f", description="ENet c in 1/ln(c + p)", style=style,
                                        layout=widgets.Layout(width="380px")),
            "mode": widgets.ToggleButtons(options=[("top-k", "top_k"), ("threshold", "threshold")], value=mode,
                                          description="bootstrap", style={"button_width": "90px"}),
            "top_k": widgets.FloatSlider(value=top_k, min=0.01, max=1.0, step=0.01, readout_format=".0%",
                                         description="keep the hardest", style=style, layout=narrow),
            "threshold": widgets.FloatSlider(value=threshold, min=0.05, max=0.99, step=0.01, readout_format=".2f",
                                             description="keep if p(true) <", style=style, layout=narrow),
            "min_k": widgets.IntSlider(value=min_k, min=1, max=n_valid, description="but at least (pixels)",
                                       style=style, layout=narrow),
        }
        c_ = controls
        box = widgets.VBox([
            widgets.HBox([c_["kind"], c_["c"]], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([c_["mode"], c_["top_k"], c_["threshold"], c_["min_k"]], layout=widgets.Layout(flex_flow="row wrap")),
        ])
        super().__init__(controls, layout_controls=box)
        self._enable()

    def compute(self, kind: str, c: float, mode: str, top_k: float, threshold: float, min_k: int):
        return compute_losses(self.inputs, kind, c=c, mode=mode, top_k=top_k, threshold=threshold, min_k=min_k)

    def draw(self, result):
        return figure_losses(result)

    def redraw(self, figure, result, previous) -> None:
        update_losses(figure, result, previous=previous)

    def update(self) -> None:
        """Recompute, update the figure, and grey out the controls the chosen loss does not use."""
        super().update()
        self._enable()

    def _enable(self) -> None:
        kind, mode = self.controls["kind"].value, self.controls["mode"].value
        boot = kind == "bootstrapped"
        self.controls["c"].disabled = kind != "weighted"
        self.controls["mode"].disabled = not boot
        self.controls["top_k"].disabled = not (boot and mode == "top_k")
        self.controls["threshold"].disabled = self.controls["min_k"].disabled = not (boot and mode == "threshold")

    def describe(self, result) -> str:
        inputs = result.inputs
        present = list(result.present)
        pixels = result.class_pixels / result.class_pixels.sum()
        weights = ", ".join(f"{inputs.class_names[k]} <b>{result.weights[k]:.2f}</b> ({pixels[k]:.1%})" for k in present)
        rare = inputs.rare_class if inputs.rare_class in present else present[int(np.argmin(result.class_pixels[present]))]
        name = inputs.class_names[rare]
        return (
            f"<b>{KIND_NAMES[result.kind]}</b>: L = <b>{result.loss:.4f}</b>, over {result.num_counted} pixels. "
            f"The rarest class, <b>{name}</b> ({pixels[rare]:.1%} of the pixels), carries "
            f"{result.ce_shares[rare]:.0%} of plain cross-entropy and <b>{result.shares[rare]:.0%}</b> of this loss."
            f"<br>ENet weights 1/ln(c + p) at c = {result.c:.3f} (class share p): {weights}"
            + ("" if result.kind == "weighted" else " (used by the weighted loss only)")
        )
