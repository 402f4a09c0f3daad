"""ReceptiveFieldExplorer without a browser: set controls, compare the drawn window with
compose / receptive_field, and check the controls stay consistent."""

from __future__ import annotations

import pytest
import torch
import torchvision

from segviz.arith import compose, receptive_field
import segviz.viz.receptive_field as viz
from segviz.viz.receptive_field import IMAGE, SEEN, WINDOW, model_steps, stack_steps
from segviz.widgets.receptive_field import ReceptiveFieldExplorer


def _window(widget) -> tuple[float, float, float, float]:
    """(row0, row1, col0, col1) of the drawn window, in pixel indices (edges ±0.5 removed)."""
    trace = widget.figure.data[WINDOW]
    return min(trace.y) + 0.5, max(trace.y) - 0.5, min(trace.x) + 0.5, max(trace.x) - 0.5


def _select(widget, name: str) -> None:
    """Pick a layer by its name in the dropdown."""
    widget.controls["layer"].value = next(v for label, v in widget.controls["layer"].options
                                          if label.split(" ")[0] == name)


@pytest.fixture(scope="module")
def vgg():
    widget = ReceptiveFieldExplorer(source="model", model="vgg16")
    return widget


def test_vgg16_features30_unit_00_sees_rows_minus90_to_121(vgg):
    with torch.device("meta"):
        features = torchvision.models.vgg16(weights=None).features
    field = compose(features)  # the textbook recurrence, not the widget's traced table
    _select(vgg, "features.30")
    vgg.controls["unit_row"].value = 0
    vgg.controls["unit_col"].value = 0
    first = 0 * field.stride - field.padding
    assert _window(vgg) == (first, first + field.size - 1, first, first + field.size - 1) == (-90, 121, -90, 121)
    seen = vgg.figure.data[SEEN]
    assert (min(seen.y), max(seen.y)) == (-0.5, 121.5)  # clipped to the image
    assert vgg.controls["unit_row"].max == 6 and vgg.controls["unit_col"].max == 6
    assert ("layer features.30 (MaxPool2d): output 7×7, receptive field 212×212, stride 32, padding 90 — "
            "unit (0, 0) sees rows −90…121, cols −90…121") in vgg.label.value
    assert vgg.message.value == ""


@pytest.mark.parametrize("unit", [(3, 3), (6, 0), (2, 5)])
def test_units_move_by_one_jump(vgg, unit):
    _select(vgg, "features.30")
    vgg.controls["unit_row"].value, vgg.controls["unit_col"].value = unit
    r, c = unit
    assert _window(vgg) == (32 * r - 90, 32 * r + 121, 32 * c - 90, 32 * c + 121)
    assert f"unit ({r}, {c}) sees rows {32 * r - 90}…{32 * r + 121}".replace("-", "−") in vgg.label.value


@pytest.mark.parametrize("model, layer, size", [("resnet18", "layer3.1", 224), ("googlenet", "inception4a", 224),
                                                ("inception_v3", "Mixed_5b", 299)])
def test_every_model_draws_receptive_field(model, layer, size):
    widget = ReceptiveFieldExplorer(source="model", model="alexnet")
    widget.controls["model"].value = model
    _select(widget, layer)
    widget.controls["unit_row"].value, widget.controls["unit_col"].value = 1, 2
    kwargs = {"init_weights": False, "aux_logits": False} if model in ("googlenet", "inception_v3") else {}
    with torch.device("meta"):
        net = getattr(torchvision.models, model)(weights=None, **kwargs)
    field = receptive_field(net, layer, (1, 3, size, size))
    assert _window(widget) == (field.stride - field.padding, field.stride - field.padding + field.size - 1,
                               2 * field.stride - field.padding, 2 * field.stride - field.padding + field.size - 1)
    border = widget.figure.layout.shapes[0]
    assert (border.x1, border.y1) == (size - 0.5, size - 0.5)  # the photograph at the model's input size


def test_the_seed_preset_is_one_11x11_convolution():
    widget = ReceptiveFieldExplorer(preset="3x3")
    widget.controls["preset"].value = "seed"
    assert widget.controls["layers"].value == 2 and widget.controls["layer"].value == 1
    assert [widget.controls[k].value for k in ("kernel", "stride", "padding", "dilation")] == [3, 2, 0, 1]
    row0, row1, col0, col1 = _window(widget)
    assert row1 - row0 + 1 == col1 - col0 + 1 == 11
    r, c = widget.result.unit
    assert (row0, col0) == (6 * r, 6 * c)  # stride 6, no padding
    assert "receptive field 11×11, stride 6, padding 0" in widget.label.value
    assert "one convolution</b> with kernel 11, stride 6" in widget.label.value


def test_editing_a_layer_recomposes_the_stack_and_marks_it_custom():
    widget = ReceptiveFieldExplorer(preset="seed", input_size=96)
    widget.controls["layer"].value = 0
    assert [widget.controls[k].value for k in ("kernel", "stride")] == [5, 3]  # sliders show layer 1
    widget.controls["kernel"].value = 7
    widget.controls["dilation"].value = 2
    assert widget.controls["preset"].value == "custom"
    field = compose([(7, 3, 0, 2)])
    assert widget.result.step.size == (field.size, field.size) == (13, 13)
    widget.controls["layer"].value = 1
    assert [widget.controls[k].value for k in ("kernel", "stride", "dilation")] == [3, 2, 1]
    whole = compose([(7, 3, 0, 2), (3, 2, 0, 1)])
    assert widget.result.step.size == (whole.size, whole.size)
    row0, row1, _, _ = _window(widget)
    assert row1 - row0 + 1 == whole.size
    widget.controls["layers"].value = 4  # two default 3×3 layers appended
    assert len(widget.controls["layer"].options) == 4 and widget.controls["layer"].value == 3
    expected = stack_steps([(7, 3, 0, 2), (3, 2, 0, 1), (3, 1, 1, 1), (3, 1, 1, 1)], 96)[-1]
    assert widget.result.step == expected


def test_unit_sliders_follow_the_layer_grid_and_the_place_in_the_image():
    widget = ReceptiveFieldExplorer(source="model", model="vgg16")
    _select(widget, "features.30")
    widget.controls["unit_row"].value, widget.controls["unit_col"].value = 5, 1
    before = widget.result.centre
    _select(widget, "features.16")  # 28×28 units, stride 8
    assert widget.controls["unit_row"].max == 27 and widget.controls["unit_col"].max == 27
    after = widget.result.centre
    assert abs(after[0] - before[0]) <= 4 and abs(after[1] - before[1]) <= 4  # within half a jump
    _select(widget, "features.30")
    assert widget.controls["unit_row"].max == 6 and widget.result.unit == (5, 1)


def test_invalid_stack_shows_the_message_and_keeps_the_last_result():
    widget = ReceptiveFieldExplorer(preset="seed", input_size=96)
    figure, before = widget.figure, widget.result
    window = _window(widget)
    widget.controls["input"].value = 10
    assert "layer 2 (k3 s2 p0) gets a 2×2 input" in widget.message.value
    assert "needs an input of at least 11×11" in widget.message.value
    assert widget.result is before and _window(widget) == window and widget.figure is figure
    widget.controls["input"].value = 11
    assert widget.message.value == "" and widget.result.step.output == (1, 1)
    assert widget.controls["unit_row"].max == 0 and widget.result.unit == (0, 0)


def test_unit_out_of_range_shows_the_message():
    widget = ReceptiveFieldExplorer(source="model", model="resnet18")
    _select(widget, "layer4.1")
    before = widget.result
    widget.controls["unit_row"].max = 20  # only a program (or a test) can get past the clamp
    widget.controls["unit_row"].value = 9
    assert "unit row 9 given; layer layer4.1 outputs 7×7 units" in widget.message.value
    assert widget.result is before


def test_switching_source_and_model_updates_the_controls():
    widget = ReceptiveFieldExplorer()
    assert widget.controls["model"].layout.display == "none" and widget.controls["kernel"].layout.display is None
    widget.controls["source"].value = "model"
    assert widget.controls["kernel"].layout.display == "none" and widget.controls["model"].layout.display is None
    assert widget.result.step.name == "features.30"  # VGG16's deepest layer that sees less than everything
    source = widget.figure.data[IMAGE].source
    widget.controls["model"].value = "inception_v3"
    assert len(widget.controls["layer"].options) == len(model_steps("inception_v3"))
    assert widget.figure.data[IMAGE].source != source  # 299×299 now
    widget.controls["source"].value = "stack"
    assert widget.result.step.name == "layer 2" and widget.result.image_size == (96, 96)


def test_the_image_is_sent_only_when_it_changes(monkeypatch):
    widget = ReceptiveFieldExplorer(source="model", model="resnet50")
    encoded = []
    encode = viz.image_data_uri
    monkeypatch.setattr(viz, "image_data_uri", lambda image: encoded.append(image.shape) or encode(image))
    sent = []
    original = widget.figure._send_update_msg

    def record(restyle_data, relayout_data, trace_indexes=None, source_view_id=None):
        sent.append((dict(restyle_data or {}), list(trace_indexes or [])))
        return original(restyle_data, relayout_data, trace_indexes, source_view_id)

    widget.figure._send_update_msg = record
    for value in range(0, 5):
        widget.controls["unit_col"].value = value
    widget.controls["layer"].value = 3
    assert sent and all("source" not in data for data, _ in sent)
    assert encoded == []  # not even encoded again
    widget.controls["image"].value = "chelsea"
    assert any("source" in data and IMAGE in traces for data, traces in sent)
    assert encoded == [(224, 224, 3)]


def test_the_figure_is_built_once():
    widget = ReceptiveFieldExplorer()
    figure = widget.figure
    widget.controls["unit_col"].value = 3
    widget.controls["preset"].value = "dilated"
    widget.controls["source"].value = "model"
    widget.controls["model"].value = "resnet18"
    assert widget.figure is figure and widget.children[-1] is figure


def test_bad_arguments():
    with pytest.raises(ValueError, match="model 'vgg19' given"):
        ReceptiveFieldExplorer(model="vgg19")
    with pytest.raises(ValueError, match="input_size 4 given"):
        ReceptiveFieldExplorer(input_size=4)
