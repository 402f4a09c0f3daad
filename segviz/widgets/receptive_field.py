"""``ReceptiveFieldExplorer``: build a stack of layers, or pick a real network, and see what one unit sees."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from ..validation import check_choice, check_int
from ..viz.receptive_field import (
    MODELS,
    STACK_PRESETS,
    compute_receptive_field_view,
    describe_receptive_field,
    figure_receptive_field,
    model_steps,
    square_image,
    stack_steps,
    update_receptive_field,
    update_receptive_field_image,
)
from .base import Explorer

__all__ = ["ReceptiveFieldExplorer"]

MAX_LAYERS = 6
_NEW_LAYER = (3, 1, 1, 1)  # a 3×3 convolution that keeps the size
_GEOMETRY = ("kernel", "stride", "padding", "dilation")
_IMAGES = ("astronaut", "chelsea", "coffee", "rocket")


class ReceptiveFieldExplorer(Explorer):
    """The input window one output unit sees, layer after layer, on a real photograph.

    Two sources (``source``):

    * ``"stack"``: up to six convolutions. ``preset`` loads a stack (the lecture's
      ``k5 s3`` then ``k3 s2``, whose compound kernel is 11; 3×3 convolutions; a VGG block; a
      dilated stack; the AlexNet stem); ``layers`` sets how many; ``layer`` picks the one that
      ``kernel``, ``stride``, ``padding`` and ``dilation`` edit, and whose output units are shown;
      ``input`` is the side of the (square) input image. Editing switches the preset to custom.
    * ``"model"``: a torchvision classifier built without weights (``model``); ``layer`` walks
      its main path (convolutions, poolings, residual and inception blocks).

    ``unit_row`` and ``unit_col`` pick the unit in the selected layer's output grid; when the
    layer changes they move to the unit that looks at the same place in the image, within the
    new grid. The left panel outlines that unit's window on the image (dashed and hatched where
    it hangs over the zero padding), the next unit's window one jump further, and the centres of
    all units; the right panel shows how size, padding and jump grow with depth.

    Args:
        source: ``"stack"`` or ``"model"``.
        preset: a key of :data:`segviz.viz.receptive_field.STACK_PRESETS` (``"seed"``, ``"3x3"``,
            ``"vgg_block"``, ``"dilated"``, ``"alexnet_stem"``).
        model: a key of :data:`segviz.viz.receptive_field.MODELS` (``"vgg16"``, ``"resnet50"``, …).
        image: the photograph (``"astronaut"``, ``"chelsea"``, ``"coffee"``, ``"rocket"``).
        input_size: side of the input in ``"stack"`` mode (models use their own: 224 or 299).
    """

    def __init__(self, source: str = "stack", *, preset: str = "seed", model: str = "vgg16",
                 image: str = "astronaut", input_size: int = 96):
        source = check_choice("source", source, ["stack", "model"])
        preset = check_choice("preset", preset, list(STACK_PRESETS))
        model = check_choice("model", model, list(MODELS))
        image = check_choice("image", image, list(_IMAGES))
        input_size = check_int("input_size", input_size, minimum=8, maximum=256)
        self._specs: list[tuple[int, int, int, int]] = _padded(STACK_PRESETS[preset][1])
        self._syncing = False
        self._image_key: tuple[str, int] | None = None
        n = len(STACK_PRESETS[preset][1])
        style = {"description_width": "initial"}
        narrow = widgets.Layout(width="250px")
        first = self._specs[n - 1]
        controls: dict[str, widgets.ValueWidget] = {
            "source": widgets.ToggleButtons(options=[("stack of layers", "stack"), ("real network", "model")],
                                            value=source, description="source", style={"button_width": "130px"}),
            "preset": widgets.Dropdown(options=[*[(title, key) for key, (title, _) in STACK_PRESETS.items()],
                                                ("custom", "custom")], value=preset, description="preset",
                                       style=style, layout=widgets.Layout(width="330px")),
            "model": widgets.Dropdown(options=[(spec.title, key) for key, spec in MODELS.items()], value=model,
                                      description="model", style=style, layout=widgets.Layout(width="220px")),
            "image": widgets.Dropdown(options=list(_IMAGES), value=image, description="image", style=style,
                                      layout=widgets.Layout(width="200px")),
            "layers": widgets.IntSlider(value=n, min=1, max=MAX_LAYERS, description="number of layers",
                                        style=style, layout=narrow),
            "input": widgets.IntSlider(value=input_size, min=8, max=256, description="input size", style=style,
                                       layout=narrow),
            "layer": widgets.Dropdown(options=[("?", 0)], value=0, description="layer", style=style,
                                      layout=widgets.Layout(width="330px")),
            "kernel": widgets.IntSlider(value=first[0], min=1, max=11, description="kernel", style=style,
                                        layout=narrow),
            "stride": widgets.IntSlider(value=first[1], min=1, max=4, description="stride", style=style,
                                        layout=narrow),
            "padding": widgets.IntSlider(value=first[2], min=0, max=5, description="padding", style=style,
                                         layout=narrow),
            "dilation": widgets.IntSlider(value=first[3], min=1, max=4, description="dilation", style=style,
                                          layout=narrow),
            "unit_row": widgets.IntSlider(value=0, min=0, max=0, description="unit row", style=style,
                                          layout=narrow),
            "unit_col": widgets.IntSlider(value=0, min=0, max=0, description="unit col", style=style,
                                          layout=narrow),
        }
        self.controls = controls
        steps = self._steps(source, n, input_size, model)
        index = n - 1 if source == "stack" else _default_layer(steps)
        self._set_layer_options(steps, index)
        self._fit_units(steps[index], None)
        c = controls
        rows = widgets.VBox([
            widgets.HBox([c["source"], c["preset"], c["model"], c["image"]]),
            widgets.HBox([c["layers"], c["input"], c["layer"]], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([c["kernel"], c["stride"], c["padding"], c["dilation"]],
                         layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([c["unit_row"], c["unit_col"]]),
        ])
        super().__init__(controls, layout_controls=rows)
        self._show_source_controls()

    # --- the three layers ------------------------------------------------------------------------
    def compute(self, source: str, preset: str, model: str, image: str, layers: int, input: int, layer: int,
                kernel: int, stride: int, padding: int, dilation: int, unit_row: int, unit_col: int):
        steps = self._steps(source, layers, input, model)
        size = input if source == "stack" else MODELS[model].input_size
        title = f"{layers}-layer stack" if source == "stack" else MODELS[model].title
        return compute_receptive_field_view(steps, layer, unit_row, unit_col, size, title=title)

    def draw(self, result):
        key = self._wanted_image()
        self._image_key = key
        return figure_receptive_field(square_image(*key), result)

    def redraw(self, figure, result, previous) -> None:
        key = self._wanted_image()
        if key != self._image_key:  # a new photograph or input size: the only time it is sent
            update_receptive_field_image(figure, square_image(*key))
            self._image_key = key
        update_receptive_field(figure, result, previous)

    def describe(self, result) -> str:
        text = html.escape(describe_receptive_field(result))
        step = result.step
        if self.controls["source"].value == "stack" and len(result.steps) > 1 and result.index > 0:
            text += (f"<br>Layers 1–{result.index + 1} act like <b>one convolution</b> with kernel "
                     f"{step.size[0]}, stride {step.stride[0]} and padding {step.padding[0]}.")
        if step.covers_input:
            h, w = result.image_size
            text += f"<br>Every unit of this layer can see the whole {h}×{w} input."
        return text

    # --- helpers -----------------------------------------------------------------------------------
    def _steps(self, source: str, layers: int, input_size: int, model: str):
        if source == "stack":
            return stack_steps(self._specs[:layers], input_size)
        return model_steps(model)

    def _wanted_image(self) -> tuple[str, int]:
        c = self.controls
        size = c["input"].value if c["source"].value == "stack" else MODELS[c["model"].value].input_size
        return c["image"].value, size

    def _set_layer_options(self, steps, index: int) -> None:
        if self.controls["source"].value == "stack":
            options = [(f"{s.name}: {s.kind}", i) for i, s in enumerate(steps)]
        else:
            options = [(f"{s.name} ({s.kind}) → {s.output[0]}×{s.output[1]}", i) for i, s in enumerate(steps)]
        layer = self.controls["layer"]
        if list(layer.options) != options:
            layer.options = options
        layer.value = index

    def _fit_units(self, step, previous, image_size: tuple[int, int] | None = None) -> None:
        """Unit sliders span the layer's output grid; keep looking at the same place in the image."""
        rows, cols = (self.controls["unit_row"], self.controls["unit_col"])
        units = []
        for a, n in enumerate(step.output):
            if previous is None:
                units.append((n - 1) // 2)
                continue
            # the previous unit's centre, in input pixels of the new input size
            scale = 1.0 if image_size is None else image_size[a] / previous.image_size[a]
            centre = (previous.centre[a] + 0.5) * scale - 0.5
            unit = round((centre + step.padding[a] - (step.size[a] - 1) / 2) / step.stride[a])
            units.append(min(max(int(unit), 0), n - 1))
        rows.max, cols.max = step.output[0] - 1, step.output[1] - 1
        rows.value, cols.value = units

    def _show_source_controls(self) -> None:
        stack = self.controls["source"].value == "stack"
        for name in ("preset", "layers", "input", *_GEOMETRY):
            self.controls[name].layout.display = None if stack else "none"
        self.controls["model"].layout.display = "none" if stack else None

    def _load_layer_sliders(self) -> None:
        spec = self._specs[self.controls["layer"].value]
        for name, value in zip(_GEOMETRY, spec):
            self.controls[name].value = value

    # --- keep the controls consistent: one update per learner action --------------------------------
    def _on_change(self, change: Any = None) -> None:
        if self._syncing:
            return
        c = self.controls
        owner = getattr(change, "owner", None)
        self._syncing = True
        try:
            if owner is c["preset"] and c["preset"].value != "custom":
                layers = STACK_PRESETS[c["preset"].value][1]
                self._specs = _padded(layers)
                c["layers"].value = len(layers)
            elif owner is c["layers"] or owner in [c[name] for name in _GEOMETRY]:
                if owner is not c["layers"]:
                    self._specs[c["layer"].value] = tuple(c[name].value for name in _GEOMETRY)
                if c["preset"].value != "custom":
                    c["preset"].value = "custom"
            if owner is c["source"]:
                self._show_source_controls()
            if owner is not c["unit_row"] and owner is not c["unit_col"]:
                self._follow_layer(owner)
        finally:
            self._syncing = False
        self.update()

    def _follow_layer(self, owner: Any) -> None:
        """After anything but a unit change: refresh the layer list and fit the unit sliders."""
        c = self.controls
        try:
            steps = self._steps(c["source"].value, c["layers"].value, c["input"].value, c["model"].value)
        except ValueError:
            return  # compute raises it again, and the message says what is wrong
        stack = c["source"].value == "stack"
        if owner is c["source"] or owner is c["model"]:
            index = len(steps) - 1 if stack else _default_layer(steps)
        elif owner is c["preset"] or owner is c["layers"]:
            index = len(steps) - 1  # the whole stack
        else:
            index = min(c["layer"].value, len(steps) - 1)
        self._set_layer_options(steps, index)
        if stack:
            self._load_layer_sliders()
        size = self._wanted_image()[1]
        self._fit_units(steps[index], self.result, (size, size))


def _padded(layers) -> list[tuple[int, int, int, int]]:
    """A preset's layers, then default 3×3 layers up to ``MAX_LAYERS`` (for the ``layers`` slider)."""
    return [tuple(layer) for layer in layers] + [_NEW_LAYER] * (MAX_LAYERS - len(layers))


def _default_layer(steps) -> int:
    """The deepest layer whose units see less than the whole image (adaptive pooling skipped)."""
    for i in range(len(steps) - 1, -1, -1):
        if not steps[i].covers_input and not steps[i].kind.startswith("Adaptive"):
            return i
    return len(steps) - 1
