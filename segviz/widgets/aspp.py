"""``ASPPExplorer``: where DeepLabV3's ASPP branches look, in features and in pixels, and how many weights see features."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets

from ..arith.atrous import feature_map_size
from ..validation import check_choice, check_int
from ..viz.aspp import (
    MAX_INPUT,
    MAX_RATE,
    MIN_INPUT,
    OUTPUT_STRIDES,
    compute_aspp,
    figure_aspp,
    paper_rates,
    update_aspp,
)
from .base import Explorer

__all__ = ["ASPPExplorer"]

_RATES = ("rate_1", "rate_2", "rate_3")
_PRESETS = [("DeepLabV3: (6, 12, 18) × 16 / output stride", "paper"), ("custom (the rate sliders)", "custom")]


def _giga(macs: int) -> str:
    return f"{macs / 1e9:.1f} G"


class ASPPExplorer(Explorer):
    """Atrous spatial pyramid pooling: each branch's taps around one feature, and their valid weights.

    ``input size`` and ``output stride`` fix the feature map (``⌈H / s⌉`` a side; 513 at output
    stride 16 gives DeepLab's 33×33); ``rates`` either follows the paper (``(6, 12, 18)`` at
    output stride 16, doubled at 8, halved at 32 by the same rule, so every branch keeps its
    field of view in pixels) or the three rate sliders (moving one switches to custom); ``row``
    and ``col`` pick the feature. Panel (a) draws each 3×3 branch's nine taps on the feature map
    (hollow where they read the zero padding), the 1×1 branch and image pooling's whole map;
    panel (b) the same taps on the image (feature ``(i, j)`` at pixel ``(i·s, j·s)``); panel (c)
    the share of the 9 weights that see features, averaged over the map, against the rate
    (DeepLabV3 Fig. 4), with the chosen rates marked. The label compares ASPP's cost at output
    strides 16 and 8.

    Args:
        input_size: side of the square input, 64 to 1024.
        output_stride: 8, 16 or 32.
        rates: three rates (1 to 128) for the custom preset; ``None``: the paper's.
        position: ``(row, col)`` on the feature map; ``None``: its centre.

    Example:
        >>> explorer = ASPPExplorer()
        >>> explorer.result.feature_size, explorer.result.rates
        (33, (6, 12, 18))
        >>> explorer.controls["output_stride"].value = 8
        >>> explorer.result.feature_size, explorer.result.rates, explorer.result.position
        (65, (12, 24, 36), (32, 32))
    """

    def __init__(
        self,
        input_size: int = 513,
        output_stride: int = 16,
        *,
        rates: Sequence[int] | None = None,
        position: Sequence[int] | None = None,
    ):
        input_size = check_int("input_size", input_size, minimum=MIN_INPUT, maximum=MAX_INPUT)
        output_stride = check_choice("output_stride", output_stride, OUTPUT_STRIDES)
        preset = "paper" if rates is None else "custom"
        if rates is None:
            rates = paper_rates(output_stride)
        if isinstance(rates, (str, bytes)) or not isinstance(rates, Sequence) or len(rates) != 3:
            raise ValueError(f"rates {rates!r} given; the explorer has three atrous branches: give three rates, e.g. (6, 12, 18)")
        rates = tuple(check_int("rate", r, minimum=1, maximum=MAX_RATE) for r in rates)
        n = feature_map_size(input_size, output_stride)
        row, col = (n // 2, n // 2) if position is None else position
        row = check_int("row", row, minimum=0, maximum=n - 1)
        col = check_int("col", col, minimum=0, maximum=n - 1)
        self._syncing = False
        style = {"description_width": "initial"}
        narrow = widgets.Layout(width="260px")
        controls: dict[str, widgets.ValueWidget] = {
            "input_size": widgets.IntSlider(value=input_size, min=MIN_INPUT, max=MAX_INPUT, description="input size",
                                            style=style, layout=widgets.Layout(width="340px")),
            "output_stride": widgets.ToggleButtons(options=list(OUTPUT_STRIDES), value=output_stride,
                                                   description="output stride", style={"button_width": "50px"}),
            "preset": widgets.Dropdown(options=_PRESETS, value=preset, description="rates", style=style,
                                       layout=widgets.Layout(width="380px")),
            **{name: widgets.IntSlider(value=rate, min=1, max=MAX_RATE, description=f"rate {k + 1}", style=style,
                                       layout=narrow) for k, (name, rate) in enumerate(zip(_RATES, rates))},
            "row": widgets.IntSlider(value=row, min=0, max=n - 1, description="feature row", style=style, layout=narrow),
            "col": widgets.IntSlider(value=col, min=0, max=n - 1, description="feature col", style=style, layout=narrow),
        }
        c = controls
        box = widgets.VBox([
            widgets.HBox([c["input_size"], c["output_stride"], c["preset"]], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([c[name] for name in _RATES], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([c["row"], c["col"]], layout=widgets.Layout(flex_flow="row wrap")),
        ])
        super().__init__(controls, layout_controls=box)

    # --- the three layers ------------------------------------------------------------------------
    def compute(self, input_size: int, output_stride: int, preset: str, rate_1: int, rate_2: int, rate_3: int,
                row: int, col: int):
        rates = paper_rates(output_stride) if preset == "paper" else (rate_1, rate_2, rate_3)
        return compute_aspp(input_size, output_stride, rates, (row, col))

    def draw(self, result):
        return figure_aspp(result)

    def redraw(self, figure, result, previous) -> None:
        update_aspp(figure, result, previous=previous)

    # --- keeping the controls consistent ---------------------------------------------------------
    def _on_change(self, change: Any = None) -> None:
        if self._syncing:
            return
        owner = change.get("owner") if isinstance(change, dict) else getattr(change, "owner", None)
        if owner is not None and owner in [self.controls[name] for name in _RATES]:
            with self._sync():
                self.controls["preset"].value = "custom"  # the learner took the rates in hand
        self.update()

    @contextmanager
    def _sync(self) -> Iterator[None]:
        """Move controls without each move recomputing the figure."""
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    def update(self) -> None:
        """Fit the position sliders to the feature map (same place in the image) and the rates to the preset."""
        values = self.values()
        n = feature_map_size(values["input_size"], values["output_stride"])
        old = self.result.feature_size
        with self._sync():
            for name in ("row", "col"):
                slider = self.controls[name]
                if n != old:  # keep the feature over the same place in the image
                    value = round(slider.value * (n - 1) / (old - 1)) if old > 1 else (n - 1) // 2
                    slider.max = max(slider.max, n - 1)
                    slider.value = min(value, n - 1)
                    slider.max = n - 1
            if values["preset"] == "paper":
                for name, rate in zip(_RATES, paper_rates(values["output_stride"])):
                    self.controls[name].value = rate
        super().update()

    def describe(self, result) -> str:
        n, s, h = result.feature_size, result.output_stride, result.input_size
        branches = "; ".join(
            f"<b>rate {r}</b>: {span} px, {v} of 9 taps on the map here, {f:.0%} on average"
            for r, span, v, f in zip(result.rates, result.spans, result.valid_here, result.fractions)
        )
        macs, sizes = result.multiply_adds, result.feature_sizes
        costs = ", ".join(
            f"{'<b>' if o == s else ''}output stride {o} ({sizes[o]}×{sizes[o]}): {_giga(macs[o])}{'</b>' if o == s else ''}"
            for o in (16, 8, 32)
        )
        return (
            f"{h}×{h} input at output stride {s} → <b>{n}×{n}</b> features. Tap spans (first to last tap centre, "
            f"2·r·{s} + 1 input pixels) and valid weights: {branches}.<br>Multiply-adds of ASPP's convolutions "
            f"(2048 → 256 channels) on this input: {costs}; output stride 8 costs {macs[8] / macs[16]:.1f}× as much as 16. "
            f"The rates cost nothing: a dense 3×3 convolution multiplies the padding's zeros too."
        )
