"""FCN's skips, stride by stride: the coarse scores at 32, 16 and 8, and what each becomes upsampled.

An FCN scores every 32×32 block of the image (``score_fr``, stride 32); FCN-16s upsamples those
scores 2× and adds scores predicted from pool4 (stride 16), FCN-8s does it once more with pool3
(stride 8). Each score map is then upsampled bilinearly to the image size and its argmax is the
prediction. Side by side, one image shows what each skip buys: the stride-32 map is a grid of
blocks whose upsampled argmax rounds every corner and drops thin parts; each finer stride
brings the outline closer, which the boundary accuracy (a trimap band a few pixels wide around
the true outlines) measures better than the mean IoU.

The pictures are the model's own numbers: the image is padded to a multiple of 32 and run
through ``model(x, return_scores=True)`` as :class:`~segviz.models.FCN` does; the finest score
map goes through the model's own head (so that panel is exactly ``model(image)``), and the
coarser ones through the fixed bilinear transposed convolution that an FCN-32s or FCN-16s uses
as its head (:class:`~segviz.models.BilinearConvTranspose2d`).

``compute_fcn_skips`` is pure; ``figure_fcn_skips`` draws a result once; ``update_fcn_skips``
moves an existing figure to another result in place. :func:`fit_score_layers` gives an FCN with
a random encoder usable score layers in a fraction of a second (least squares), for demos.

Reference:
    Long, Shelhamer and Darrell, "Fully Convolutional Networks for Semantic Segmentation",
    CVPR 2015, §4.2 and Fig. 4.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from plotly.subplots import make_subplots
from torch import Tensor, nn

from ..data import SYNTHETIC_CLASSES, SYNTHETIC_PALETTE, to_uint8_image
from ..metrics import boundary_accuracy, confusion_matrix, segmentation_scores, trimap_mask
from ..models import FCN, BilinearConvTranspose2d
from ..validation import check_int, check_number
from ._state import apply_changes
from .predictions import (
    as_label_map,
    check_mask_labels,
    check_names_palette,
    drawn_labels,
    format_percent,
    format_score,
    label_colorscale,
    label_names,
    legend_traces,
)

__all__ = [
    "STRIDES", "FCNSkipResult", "compute_fcn_skips", "figure_fcn_skips", "update_fcn_skips", "fit_score_layers",
    "check_fcn_model",
]

STRIDES = (32, 16, 8)  # the columns of the figure
_SOURCES = {32: "score_fr on fc7 (after pool5)", 16: "2× up + pool4 scores", 8: "2× up + pool3 scores"}
_SKIP_LAYER = {16: "pool4", 8: "pool3"}


@dataclass(frozen=True)
class FCNSkipResult:
    """One image through an FCN, stride by stride.

    Attributes:
        image: uint8 ``[H, W, 3]``.
        mask: int64 ``[H, W]`` ground truth, or ``None``.
        num_classes: the model's number of classes.
        strides: the strides the model scores at: ``(32,)`` for FCN-32s, ``(32, 16)`` for
            FCN-16s, ``(32, 16, 8)`` for FCN-8s. The dicts below are keyed by them.
        coarse_scores: float32 ``[num_classes, ⌈H/s⌉, ⌈W/s⌉]``: the model's ``scores[s]``.
        coarse_labels: int64 ``[⌈H/s⌉, ⌈W/s⌉]``, their argmax over classes.
        logits: float32 ``[num_classes, H, W]``: ``scores[s]`` upsampled ×s and cropped (the
            finest through the model's head, so it equals ``model(image)[0]``).
        predictions: int64 ``[H, W]``, the argmax of ``logits[s]``.
        pixel_accuracy, mean_iou: :func:`~segviz.metrics.segmentation_scores` of each
            prediction against ``mask`` (NaN without a mask).
        boundary_accuracy: :func:`~segviz.metrics.boundary_accuracy` within ``width`` pixels of
            the true boundaries (NaN without a mask or without a boundary).
        trimap: bool ``[H, W]``, :func:`~segviz.metrics.trimap_mask` (``None`` without a mask).
        width, ignore_index: as given.
        show: ``None`` to draw labels, or the class whose score (logit) is drawn.
        note: a teaching note ("" when there is nothing to add).
    """

    image: np.ndarray
    mask: np.ndarray | None
    num_classes: int
    strides: tuple[int, ...]
    coarse_scores: dict[int, np.ndarray]
    coarse_labels: dict[int, np.ndarray]
    logits: dict[int, np.ndarray]
    predictions: dict[int, np.ndarray]
    pixel_accuracy: dict[int, float]
    mean_iou: dict[int, float]
    boundary_accuracy: dict[int, float]
    trimap: np.ndarray | None
    width: int
    ignore_index: int
    show: int | None
    note: str

    @property
    def variant(self) -> str:
        """``"FCN-32s"``, ``"FCN-16s"`` or ``"FCN-8s"``: named after the finest stride."""
        return f"FCN-{min(self.strides)}s"


def check_fcn_model(model: Any) -> nn.Module:
    """Return ``model`` if its ``forward`` takes ``return_scores`` (a segviz FCN), else raise a ``ValueError``."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model of type {type(model).__name__} given; pass a segviz FCN (FCN32s, FCN16s or FCN8s "
                         "from segviz.models), whose forward(x, return_scores=True) returns the score maps per stride")
    try:
        takes_scores = "return_scores" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        takes_scores = False
    if not takes_scores:
        raise ValueError(f"model {type(model).__name__} has no forward(x, return_scores=True); pass a segviz FCN "
                         "(FCN32s, FCN16s or FCN8s from segviz.models), which returns its score maps at strides "
                         "32, 16 and 8 with the logits")
    return model


def _image_batch(image: Any) -> Tensor:
    """``[3, H, W]`` / ``[1, 3, H, W]`` float tensor or uint8 ``[H, W, 3]`` array → float ``[1, C, H, W]``."""
    if isinstance(image, Tensor) and image.dtype.is_floating_point and image.ndim in (3, 4):
        if image.ndim == 4 and image.shape[0] != 1:
            raise ValueError(f"image of shape {tuple(image.shape)} given; pass one image [3, H, W] (or [1, 3, H, W]), "
                             "e.g. images[0]")
        return image if image.ndim == 4 else image[None]
    rgb = to_uint8_image(image)  # raises a ValueError that says what works
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].to(torch.float32) / 255


def _model_device(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    parameter = next(model.parameters(), None)
    if parameter is None:
        return torch.device("cpu"), torch.float32
    return parameter.device, parameter.dtype


def _scores(model: nn.Module, x: Tensor) -> tuple[Tensor, dict[int, Tensor]]:
    """``model(x padded to ×32, return_scores=True)``: full (uncropped) score maps, as FCN computes them."""
    h, w = x.shape[-2:]
    padded = F.pad(x, (0, -w % 32, 0, -h % 32))  # what FCN.forward does: bottom and right, zeros
    out = model(padded, return_scores=True)
    if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict) and 32 in out[1]
            and set(out[1]) <= set(STRIDES)):
        raise ValueError(f"model {type(model).__name__}(x, return_scores=True) did not return (logits, "
                         "{32: …, 16: …, 8: …}); pass a segviz FCN (FCN32s, FCN16s or FCN8s)")
    return out


def compute_fcn_skips(
    model: nn.Module,
    image: Any,
    mask: Any = None,
    *,
    width: int = 3,
    ignore_index: int = 255,
    show: int | None = None,
) -> FCNSkipResult:
    """Run one image through an FCN and keep every stride's scores, upsampled logits and scores.

    Pure: under ``torch.no_grad`` and in eval mode, and the model's mode is restored.

    Args:
        model: a segviz :class:`~segviz.models.FCN` (``FCN32s``, ``FCN16s`` or ``FCN8s``).
        image: ``Tensor[3, H, W]`` (or ``[1, 3, H, W]``) floats in [0, 1], or uint8 ``[H, W, 3]``.
        mask: ground truth ``[H, W]`` (classes, or ``ignore_index``), or ``None``.
        width: half-width in pixels of the trimap band of the boundary accuracy, ``≥ 0``.
        ignore_index: the ground-truth label of unlabelled pixels.
        show: ``None`` (draw labels) or a class id whose score the figure draws.

    Returns:
        An :class:`FCNSkipResult`.

    Raises:
        ValueError: for a model without ``return_scores`` (not a segviz FCN), a bad image or
            mask, or ``show`` outside the classes.

    Shape:
        ``scores[s]``: ``[num_classes, ⌈H/s⌉, ⌈W/s⌉]``; ``logits[s]``: ``[num_classes, H, W]``.

    Example:
        >>> from segviz.models import FCN16s
        >>> model = FCN16s(num_classes=3, channels=(4, 4, 8, 8, 8), num_convs=1, fc_channels=8)
        >>> r = compute_fcn_skips(model, torch.rand(3, 40, 70), torch.zeros(40, 70, dtype=torch.long))
        >>> r.variant, {s: m.shape for s, m in r.coarse_scores.items()}, r.logits[16].shape
        ('FCN-16s', {32: (3, 2, 3), 16: (3, 3, 5)}, (3, 40, 70))
    """
    model = check_fcn_model(model)
    width = check_int("width", width, minimum=0)
    ignore_index = check_int("ignore_index", ignore_index)
    x = _image_batch(image)
    h, w = x.shape[-2:]
    device, dtype = _model_device(model)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits, scores = _scores(model, x.to(device, dtype))
            strides = tuple(s for s in STRIDES if s in scores)
            finest = strides[-1]
            num_classes = scores[32].shape[1]
            coarse, upsampled = {}, {}
            for s in strides:
                coarse[s] = scores[s][0, :, : math.ceil(h / s), : math.ceil(w / s)]  # as FCN crops its scores
                if s == finest:
                    upsampled[s] = logits[0, :, :h, :w]  # the model's own head
                else:  # the fixed bilinear head an FCN-{s}s would have
                    head = BilinearConvTranspose2d(num_classes, s, trainable=False).to(device, dtype)
                    upsampled[s] = head(scores[s])[0, :, :h, :w]  # [num_classes, H, W]
    finally:
        model.train(was_training)
    if show is not None:
        show = check_int("show", show, minimum=0, maximum=num_classes - 1)
    coarse_np = {s: m.float().cpu().numpy() for s, m in coarse.items()}
    logits_np = {s: m.float().cpu().numpy() for s, m in upsampled.items()}
    predictions = {s: upsampled[s].argmax(0).cpu() for s in strides}  # [H, W]
    nan = dict.fromkeys(strides, math.nan)
    accuracy, iou, boundary, trimap, truth = dict(nan), dict(nan), dict(nan), None, None
    if mask is not None:
        truth = as_label_map("mask", mask)
        if truth.shape != (h, w):
            raise ValueError(f"mask of shape {truth.shape} given for an image of {h}×{w}; the mask must be [H, W] "
                             "with the image's size")
        check_mask_labels(truth, num_classes, ignore_index, fix="use a model with that many classes")
        target = torch.from_numpy(truth)
        for s in strides:
            scores_s = segmentation_scores(confusion_matrix(predictions[s], target, num_classes, ignore_index))
            accuracy[s], iou[s] = scores_s["pixel_accuracy"], scores_s["mean_iou"]
            boundary[s] = boundary_accuracy(predictions[s], target, width, ignore_index)
        trimap = trimap_mask(target, width, ignore_index).numpy()
    missing = [s for s in STRIDES if s not in strides]
    notes = []
    if missing:
        names = " and ".join(f"stride {s} ({_SKIP_LAYER[s]} skip)" for s in missing)
        notes.append(f"this FCN-{strides[-1]}s has no {names}: those panels stay empty "
                     "(FCN-16s adds pool4's scores, FCN-8s also pool3's).")
    if h % 32 or w % 32:
        notes.append(f"{h}×{w} is not a multiple of 32: FCN pads the image with zeros at the bottom and right, "
                     "so the last units there partly see padding (their blocks are cut at the image edge).")
    note = " ".join(notes)
    return FCNSkipResult(
        image=to_uint8_image(x[0]), mask=truth, num_classes=num_classes, strides=strides,
        coarse_scores=coarse_np, coarse_labels={s: m.argmax(0) for s, m in coarse_np.items()},
        logits=logits_np, predictions={s: p.numpy().astype(np.int64) for s, p in predictions.items()},
        pixel_accuracy=accuracy, mean_iou=iou, boundary_accuracy=boundary, trimap=trimap,
        width=width, ignore_index=ignore_index, show=show, note=note,
    )


def _ridge(features: Tensor, target: Tensor, weight: Tensor, penalty: float) -> tuple[Tensor, Tensor]:
    """Weighted ridge regression of ``target [N, K, h, w]`` on ``features [N, D, h, w]``, per position.

    Features are standardised (so ``penalty`` is scale-free), then the solution is folded back
    into a 1×1 convolution: weight ``[K, D]``, bias ``[K]``.
    """
    x = features.permute(0, 2, 3, 1).reshape(-1, features.shape[1]).double()  # [P, D]
    y = target.permute(0, 2, 3, 1).reshape(-1, target.shape[1]).double()  # [P, K]
    w = weight.reshape(-1, 1).double()
    w = w / w.sum().clamp_min(1e-12)
    mean = (w * x).sum(0)
    std = (w * (x - mean) ** 2).sum(0).sqrt() + 1e-6
    xs = (x - mean) / std
    y_mean = (w * y).sum(0)
    gram = xs.T @ (w * xs) + penalty * torch.eye(x.shape[1], dtype=torch.float64)  # [D, D]
    solution = torch.linalg.solve(gram, xs.T @ (w * (y - y_mean)))  # [D, K]
    return (solution / std[:, None]).T, y_mean - (mean / std) @ solution


def fit_score_layers(
    model: FCN, images: Tensor, masks: Tensor, *, penalty: float = 1e-3, balance: float = 0.5,
    ignore_index: int = 255,
) -> FCN:
    """Fit an FCN's 1×1 score layers by least squares, stride after stride, keeping the encoder.

    A demo model in a fraction of a second, not training: with the encoder fixed (random, or
    pretrained), ``score_fr`` is fitted to the class shares of each 32×32 block, then
    ``score_pool4`` to what the 2×-upsampled stride-32 scores still miss at stride 16, then
    ``score_pool3`` likewise at stride 8: the residual each skip is there to add. Positions are
    weighted by ``(Σ_k share_k / frequency_k)^balance`` so that rare classes count.

    Args:
        model: a segviz FCN (any variant); changed in place.
        images: ``Tensor[N, 3, H, W]``.
        masks: ``Tensor[N, H, W]`` labels (``ignore_index`` pixels count for no class).
        penalty: ridge penalty on the standardised features.
        balance: 0 weights all positions alike, 1 by full inverse class frequency.
        ignore_index: the label of unlabelled pixels.

    Returns:
        ``model``.

    Example:
        >>> from segviz.models import FCN8s
        >>> from segviz.data import make_scenes
        >>> scenes = make_scenes(4, size=64)
        >>> model = FCN8s(num_classes=7, channels=(4, 8, 8, 16, 16), num_convs=1, fc_channels=32)
        >>> fit_score_layers(model, scenes.images, scenes.masks) is model
        True
        >>> model.decoder.score_pool3.weight.abs().sum().item() > 0  # the skips are no longer zero
        True
    """
    if not isinstance(model, FCN):
        raise ValueError(f"model of type {type(model).__name__} given; fit_score_layers fits a segviz FCN "
                         "(FCN32s, FCN16s or FCN8s)")
    penalty = check_number("penalty", penalty, minimum=0)
    balance = check_number("balance", balance, minimum=0, maximum=1)
    if not (isinstance(images, Tensor) and images.ndim == 4 and isinstance(masks, Tensor) and masks.ndim == 3
            and masks.shape == images.shape[:1] + images.shape[2:]):
        raise ValueError(f"images {tuple(getattr(images, 'shape', ()))} and masks {tuple(getattr(masks, 'shape', ()))} "
                         "given; pass images Tensor[N, 3, H, W] and masks Tensor[N, H, W] of the same N, H, W")
    device, dtype = _model_device(model)
    h, w = images.shape[-2:]
    x = F.pad(images, (0, -w % 32, 0, -h % 32)).to(device, dtype)
    labels = F.pad(masks.long(), (0, -w % 32, 0, -h % 32), value=ignore_index).to(device)
    num_classes = model.num_classes
    valid = (labels >= 0) & (labels < num_classes)
    onehot = F.one_hot(labels.where(valid, 0), num_classes).permute(0, 3, 1, 2).to(dtype)  # [N, K, H, W]
    onehot = onehot * valid[:, None]
    frequency = onehot.mean((0, 2, 3)).clamp_min(1e-3)  # [K]
    decoder = model.decoder
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            features = model.encoder(x)
            layers = [("fc7", decoder.score_fr, 32, None)]
            if hasattr(decoder, "score_pool4"):
                layers.append(("pool4", decoder.score_pool4, 16, decoder.upscore2))
            if hasattr(decoder, "score_pool3"):
                layers.append(("pool3", decoder.score_pool3, 8, decoder.upscore_pool4))
            scores = None
            for name, layer, stride, upsample in layers:
                shares = F.avg_pool2d(onehot, stride)  # [N, K, H/s, W/s]
                base = torch.zeros_like(shares) if upsample is None else upsample(scores)
                weight = (shares / frequency[:, None, None]).sum(1) ** balance  # [N, H/s, W/s]
                kernel, bias = _ridge(features[name], shares - base, weight, penalty)
                layer.weight.copy_(kernel.to(dtype)[:, :, None, None])
                layer.bias.copy_(bias.to(dtype))
                scores = base + layer(features[name])
    finally:
        model.train(was_training)
    return model


# --- drawing ---------------------------------------------------------------------------------
# Trace order: 0 image, 1–3 coarse maps (stride 32, 16, 8), 4 ground truth, 5 trimap band,
# 6–8 full-resolution maps, then the legend entries. Layout annotations 0–7 are the panel titles
# (row by row), 8–13 the notes inside empty panels (coarse 32, 16, 8, then full 32, 16, 8).
_COARSE = {32: 1, 16: 2, 8: 3}
_FULL = {32: 6, 16: 7, 8: 8}
_SCORES = "RdBu_r"
_BAND = [[0.0, "rgba(255,255,255,0)"], [1.0, "rgba(255,255,255,0.45)"]]
_LEGEND = 9  # the first legend entry; entry num_classes is the void label
_WIDTH, _HEIGHT = 1120, 760


def _coarse_text(labels: np.ndarray, stride: int, names: np.ndarray) -> np.ndarray:
    rows, cols = np.indices(labels.shape)
    return np.array([f"unit ({i}, {j}): pixels {stride * i}–{stride * i + stride - 1} × {stride * j}–"
                     f"{stride * j + stride - 1}<br>argmax {names[k]}"
                     for i, j, k in zip(rows.ravel(), cols.ravel(), labels.ravel())]).reshape(labels.shape)


def _titles(r: FCNSkipResult) -> list[str]:
    h, w = r.image.shape[:2]
    small = "<br><span style='font-size:11px'>{}</span>"
    top = [f"image ({h}×{w})" + small.format("the model's input")]
    bottom = ["ground truth" + (small.format(f"pale band: within {r.width} px of a boundary") if r.mask is not None
                                else small.format("none given"))]
    for s in STRIDES:
        if s not in r.strides:
            top.append(f"stride {s}: none")
            bottom.append(f"stride {s}: none")
            continue
        hs, ws = r.coarse_labels[s].shape
        top.append(f"stride {s}: {hs}×{ws} scores" + small.format(_SOURCES[s]))
        head = "model's head" if s == r.strides[-1] else f"bilinear ×{s}"
        if r.mask is None:
            numbers = "no ground truth: no scores"
        else:
            numbers = (f"acc {format_percent(r.pixel_accuracy[s])} · mIoU {format_score(r.mean_iou[s])} · "
                       f"boundary {format_percent(r.boundary_accuracy[s])}")
        bottom.append(f"stride {s} → {h}×{w} ({head})" + small.format(numbers))
    return top + bottom


def _empty_note(r: FCNSkipResult, s: int) -> str:
    if s in r.strides:
        return ""
    return f"this {r.variant} has<br>no stride-{s} scores<br>(no {_SKIP_LAYER[s]} skip)"


def _state(r: FCNSkipResult, class_names: Sequence[str], palette: np.ndarray) -> dict[str, Any]:
    """The value of every property the update touches, keyed ``trace_index.path`` / ``layout.path``."""
    names = label_names(class_names[: r.num_classes], r.ignore_index)
    h, w = r.image.shape[:2]
    labels_scale = label_colorscale(palette, r.num_classes, r.ignore_index)
    if r.show is None:
        peak = 1.0
    else:
        peak = max([float(np.abs(m[r.show]).max()) for m in (*r.coarse_scores.values(), *r.logits.values())] + [1e-6])
    empty_int, empty_text = np.zeros((0, 0), np.int64), np.zeros((0, 0), dtype=str)
    state: dict[str, Any] = {"0.z": r.image}
    if r.mask is None:
        state.update({"4.z": empty_int, "4.text": empty_text, "5.z": np.zeros((0, 0), np.uint8)})
    else:
        drawn = drawn_labels(r.mask, r.num_classes, r.ignore_index)
        state.update({"4.z": drawn, "4.text": names[drawn], "5.z": r.trimap.astype(np.uint8)})
    for s in STRIDES:
        coarse, full = str(_COARSE[s]), str(_FULL[s])
        if s not in r.strides:
            for k in (coarse, full):
                state.update({f"{k}.z": empty_int, f"{k}.text": empty_text, f"{k}.colorscale": labels_scale,
                              f"{k}.zmin": -0.5, f"{k}.zmax": r.num_classes + 0.5,
                              f"{k}.hovertemplate": "<extra></extra>"})
            state[f"{full}.showscale"] = False
            continue
        coarse_text = _coarse_text(r.coarse_labels[s], s, names)
        full_text = names[r.predictions[s]]
        if r.show is None:
            state.update({
                f"{coarse}.z": r.coarse_labels[s], f"{full}.z": r.predictions[s],
                f"{coarse}.hovertemplate": f"%{{text}}<extra>stride {s}</extra>",
                f"{full}.hovertemplate": f"row %{{y}}, col %{{x}}: %{{text}}<extra>stride {s}</extra>",
            })
            for k in (coarse, full):
                state.update({f"{k}.colorscale": labels_scale, f"{k}.zmin": -0.5, f"{k}.zmax": r.num_classes + 0.5})
        else:
            name = class_names[r.show]
            state.update({
                f"{coarse}.z": r.coarse_scores[s][r.show], f"{full}.z": r.logits[s][r.show],
                f"{coarse}.hovertemplate": f"%{{text}}<br>score of {name}: %{{z:.2f}}<extra>stride {s}</extra>",
                f"{full}.hovertemplate": (f"row %{{y}}, col %{{x}}: score of {name} %{{z:.2f}}"
                                          f"<br>argmax %{{text}}<extra>stride {s}</extra>"),
            })
            for k in (coarse, full):
                state.update({f"{k}.colorscale": _SCORES, f"{k}.zmin": -peak, f"{k}.zmax": peak})
        state.update({
            f"{coarse}.text": coarse_text, f"{full}.text": full_text,
            f"{coarse}.x0": (s - 1) / 2, f"{coarse}.y0": (s - 1) / 2, f"{coarse}.dx": s, f"{coarse}.dy": s,
        })
        state[f"{full}.showscale"] = r.show is not None and s == 32  # one colour bar, on stride 32's panel
    state[f"{_LEGEND + r.num_classes}.showlegend"] = r.mask is not None and bool((r.mask == r.ignore_index).any())
    state[f"{_LEGEND + r.num_classes + 1}.showlegend"] = r.mask is not None  # the trimap band
    state["6.colorbar.title.text"] = "" if r.show is None else f"score of<br>{class_names[r.show]}"
    for k, text in enumerate(_titles(r)):
        state[f"layout.annotations.{k}.text"] = text
    for k, s in enumerate(STRIDES):
        for note in (8 + k, 11 + k):  # centred in the coarse and the full panel of stride s
            state.update({f"layout.annotations.{note}.text": _empty_note(r, s),
                          f"layout.annotations.{note}.x": (w - 1) / 2, f"layout.annotations.{note}.y": (h - 1) / 2})
    for axis in range(1, 9):
        suffix = "" if axis == 1 else str(axis)
        state[f"layout.xaxis{suffix}.range"] = [-0.5, w - 0.5]
        state[f"layout.yaxis{suffix}.range"] = [h - 0.5, -0.5]
    return state


def figure_fcn_skips(
    r: FCNSkipResult, class_names: Sequence[str] = SYNTHETIC_CLASSES, palette: Any = SYNTHETIC_PALETTE
) -> go.Figure:
    """Top: the image and the coarse score maps; bottom: the ground truth and the predictions.

    Columns are the strides 32, 16, 8; each coarse map is drawn in image coordinates, one block
    per score (a unit of stride ``s`` centred on pixel ``s·i + (s − 1)/2``), with a gap between
    blocks so the grid shows. Labels use the class palette (hover names the class); with
    ``r.show`` set, every map draws that class's score on one diverging scale.

    Args:
        r: the result to draw.
        class_names: name per class id (at least ``r.num_classes``).
        palette: RGB ``[P, 3]`` with a row per class.
    """
    palette = check_names_palette(class_names, palette, r.num_classes)
    st = _state(r, class_names, palette)
    specs = [[{}, {}, {}, {}], [{}, {}, {}, {}]]
    titles = _titles(r)
    fig = make_subplots(rows=2, cols=4, specs=specs, subplot_titles=titles, horizontal_spacing=0.015,
                        vertical_spacing=0.11)
    fig.add_trace(go.Image(z=st["0.z"], hovertemplate="row %{y}, col %{x}<extra></extra>", name="image"), 1, 1)
    for s in STRIDES:
        k = str(_COARSE[s])
        fig.add_trace(go.Heatmap(z=st[f"{k}.z"], text=st[f"{k}.text"], x0=st.get(f"{k}.x0", 0), dx=st.get(f"{k}.dx", 1),
                                 y0=st.get(f"{k}.y0", 0), dy=st.get(f"{k}.dy", 1), colorscale=st[f"{k}.colorscale"],
                                 zmin=st[f"{k}.zmin"], zmax=st[f"{k}.zmax"], xgap=1, ygap=1, showscale=False,
                                 hovertemplate=st[f"{k}.hovertemplate"], name=f"stride {s} scores"), 1, _COARSE[s] + 1)
    fig.add_trace(go.Heatmap(z=st["4.z"], text=st["4.text"], colorscale=label_colorscale(palette, r.num_classes,
                                                                                         r.ignore_index),
                             zmin=-0.5, zmax=r.num_classes + 0.5, showscale=False, name="ground truth",
                             hovertemplate="row %{y}, col %{x}: %{text}<extra>ground truth</extra>"), 2, 1)
    fig.add_trace(go.Heatmap(z=st["5.z"], colorscale=_BAND, zmin=0, zmax=1, showscale=False, hoverinfo="skip",
                             name="trimap band"), 2, 1)
    for s in STRIDES:
        k = str(_FULL[s])
        fig.add_trace(go.Heatmap(z=st[f"{k}.z"], text=st[f"{k}.text"], colorscale=st[f"{k}.colorscale"],
                                 zmin=st[f"{k}.zmin"], zmax=st[f"{k}.zmax"], showscale=st[f"{k}.showscale"],
                                 colorbar=dict(title=dict(text=st["6.colorbar.title.text"], side="top", font_size=11),
                                               x=1.005,
                                               len=0.8, thickness=14),
                                 hovertemplate=st[f"{k}.hovertemplate"], name=f"stride {s} prediction"),
                      2, _FULL[s] - 4)
    for trace in legend_traces(class_names[: r.num_classes], palette, r.ignore_index,
                               extra=[("band scored by boundary accuracy", "rgb(150,150,150)")]):
        fig.add_trace(trace, 1, 1)
    for row in (1, 2):  # notes inside empty panels: annotations 8–10 (coarse), 11–13 (full)
        for s in STRIDES:
            axis = (row - 1) * 4 + _COARSE[s] + 1
            suffix = "" if axis == 1 else str(axis)
            fig.add_annotation(x=0, y=0, xref=f"x{suffix}", yref=f"y{suffix}", text="", showarrow=False,
                               font=dict(size=12, color="#555"))
    for axis in range(1, 9):
        suffix = "" if axis == 1 else str(axis)
        fig.layout[f"xaxis{suffix}"].update(showticklabels=False, showgrid=False, zeroline=False, constrain="domain",
                                            range=st["layout.xaxis.range"])
        fig.layout[f"yaxis{suffix}"].update(showticklabels=False, showgrid=False, zeroline=False, constrain="domain",
                                            range=st["layout.yaxis.range"], scaleanchor=f"x{suffix}")
    fig.update_annotations(font_size=13)
    for k in range(8, 14):
        fig.layout.annotations[k].font.size = 12
    fig.update_layout(
        width=_WIDTH, height=_HEIGHT, margin=dict(l=10, r=100, t=85, b=10), plot_bgcolor="#f4f4f4",
        legend=dict(orientation="h", x=0.5, xanchor="center", y=-0.01, yanchor="top", font_size=12),
        title=dict(text=f"{r.variant}, stride by stride: coarse scores (top) and what they become at full "
                        "resolution (bottom)", x=0.5, xanchor="center", y=0.985, yanchor="top", font_size=15),
    )
    apply_changes(fig, st)  # the notes and the panel positions
    return fig


def update_fcn_skips(
    fig: go.Figure, r: FCNSkipResult, class_names: Sequence[str] = SYNTHETIC_CLASSES, palette: Any = SYNTHETIC_PALETTE,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Move ``fig`` (from :func:`figure_fcn_skips`) to ``r`` in place, touching only what changed.

    Args:
        fig: the figure to update.
        r, class_names, palette: as for :func:`figure_fcn_skips`.
        previous: the state this function (or nothing, for a fresh figure) returned for what
            ``fig`` shows now; without it the figure's own values are read and compared.

    Returns:
        The state now shown (pass it as ``previous`` next time).
    """
    palette = check_names_palette(class_names, palette, r.num_classes)
    new = _state(r, class_names, palette)
    apply_changes(fig, new, previous if previous is not None and previous.keys() == new.keys() else None)
    return new
