"""LossExplorer without a browser: set a control, compare the figure with the pure function and F.cross_entropy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from segviz.viz._state import get_value
from segviz.viz.losses import LOSS_MAP, _state, compute_losses
from segviz.widgets.losses import LossExplorer
from tests.widgets.helpers import set_controls


@pytest.fixture(scope="module")
def explorer():
    return LossExplorer()


def _assert_figure_is(explorer, expected) -> None:
    """Every property the update writes holds ``expected``'s value."""
    for key, value in _state(expected).items():
        shown = get_value(explorer.figure, key)
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(np.asarray(shown), value, err_msg=key)
        else:
            assert shown == value, key


@pytest.mark.parametrize("values", [
    dict(kind="weighted", c=1.02),
    dict(kind="weighted", c=1.5),
    dict(kind="bootstrapped", mode="top_k", top_k=0.3),
    dict(kind="bootstrapped", mode="threshold", threshold=0.6, min_k=50),
    dict(kind="cross_entropy"),
])
def test_figure_follows_the_controls(explorer, values):
    set_controls(explorer, **values)
    v = explorer.values()
    expected = compute_losses(explorer.inputs, v["kind"], v["c"], v["mode"], v["top_k"], v["threshold"], v["min_k"])
    _assert_figure_is(explorer, expected)
    assert explorer.result.loss == expected.loss
    logits, target = explorer.inputs.logits, explorer.inputs.target
    per_pixel = F.cross_entropy(logits, target, ignore_index=255, reduction="none")[0].numpy()
    if v["kind"] == "cross_entropy":
        assert explorer.result.loss == pytest.approx(float(F.cross_entropy(logits, target)), abs=1e-6)
    elif v["kind"] == "bootstrapped":
        kept = explorer.result.counted
        assert explorer.result.loss == pytest.approx(per_pixel[kept].mean(), abs=1e-6)
    # the colours of the map: log10 of PyTorch's per-pixel loss where the pixel counts
    z = np.asarray(explorer.figure.data[LOSS_MAP].z)
    counted = explorer.result.counted
    weight = explorer.result.weights[target[0].numpy()] if v["kind"] == "weighted" else 1.0
    expected_z = np.log10(np.clip(per_pixel * weight, 0.01, 100))
    np.testing.assert_allclose(z[counted], expected_z[counted], rtol=1e-5, atol=1e-6)
    assert f"L = {expected.loss:.4f}" in explorer.figure.layout.title.text
    assert f"L = <b>{expected.loss:.4f}</b>" in explorer.label.value


def test_only_the_controls_of_the_chosen_loss_are_enabled(explorer):
    enabled = lambda: {name for name, control in explorer.controls.items() if not control.disabled}  # noqa: E731
    set_controls(explorer, kind="cross_entropy")
    assert enabled() == {"kind"}
    set_controls(explorer, kind="weighted")
    assert enabled() == {"kind", "c"}
    set_controls(explorer, kind="bootstrapped", mode="top_k")
    assert enabled() == {"kind", "mode", "top_k"}
    set_controls(explorer, mode="threshold")
    assert enabled() == {"kind", "mode", "threshold", "min_k"}


def test_weighting_lifts_the_rare_class_in_the_label(explorer):
    set_controls(explorer, kind="cross_entropy")
    assert "The rarest class, <b>bar</b> (2.2% of the pixels), carries 40% of plain cross-entropy and <b>40%</b>" \
        in explorer.label.value
    set_controls(explorer, kind="weighted", c=1.02)
    assert "carries 40% of plain cross-entropy and <b>82%</b> of this loss" in explorer.label.value
    set_controls(explorer, c=2.0)  # a larger c flattens the weights: the bar's share falls back
    assert explorer.result.shares[5] < 0.6


def test_threshold_below_min_k_explains_itself(explorer):
    set_controls(explorer, kind="bootstrapped", mode="threshold", threshold=0.7, min_k=explorer.controls["min_k"].max)
    assert "fewer than min_k = 4096: the 4096 hardest are kept instead" in explorer.message.value
    assert explorer.result.num_counted == 4096
    set_controls(explorer, min_k=1)
    assert explorer.message.value == "" and explorer.result.num_counted == explorer.result.num_below


def test_own_logits_and_a_model():
    g = torch.Generator().manual_seed(0)
    logits, target = torch.randn(4, 9, 11, generator=g), torch.randint(0, 4, (9, 11), generator=g)
    target[0] = 255
    widget = LossExplorer(logits, target, kind="bootstrapped", top_k=0.5)
    assert widget.controls["min_k"].max == 88  # the labelled pixels
    per_pixel = F.cross_entropy(logits[None].double(), target[None], ignore_index=255, reduction="none")[0, 1:]
    assert widget.result.loss == pytest.approx(float(per_pixel.flatten().sort().values[-44:].mean()))  # top 50%
    model = nn.Conv2d(3, 2, 1)
    image = torch.rand(3, 6, 6)
    widget = LossExplorer(model=model, image=image, target=torch.randint(0, 2, (6, 6)), class_names=["sky", "ground"])
    assert widget.result.inputs.class_names == ("sky", "ground") and widget.result.inputs.image.shape == (6, 6, 3)
    with pytest.raises(ValueError, match="c 3 given; c must be a number between 1.01 and 2"):
        LossExplorer(c=3)
    with pytest.raises(ValueError, match="min_k 89 given"):
        LossExplorer(logits, target, min_k=89)


def test_the_figure_is_built_once(explorer):
    figure = explorer.figure
    set_controls(explorer, kind="bootstrapped", mode="top_k", top_k=0.05)
    set_controls(explorer, kind="weighted", c=1.1)
    assert explorer.figure is figure and explorer.children[-1] is figure
    assert math.isfinite(explorer.result.loss)


def test_float_sliders_at_their_ends_keep_every_number_finite(explorer):
    # tests/widgets/test_all_widgets.py moves integer sliders only; c, top_k and threshold are floats
    for name, kind, mode in [("c", "weighted", "top_k"), ("top_k", "bootstrapped", "top_k"),
                             ("threshold", "bootstrapped", "threshold")]:
        set_controls(explorer, kind=kind, mode=mode)
        control = explorer.controls[name]
        for value in (control.min, control.max):  # a FloatLogSlider's min and max are exponents
            control.value = 10**value if name == "c" else value
            assert "⚠" not in explorer.message.value, (name, value)
            assert math.isfinite(explorer.result.loss) and np.isfinite(explorer.result.shares).all()
            for trace in explorer.figure.data:
                for prop in ("z", "y", "customdata"):
                    values = trace[prop] if prop in trace else None
                    if values is not None and np.asarray(values).dtype.kind == "f":
                        assert np.isfinite(np.asarray(values, dtype=float)).all(), (name, value, prop)
