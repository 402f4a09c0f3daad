"""Where a loss lives: per-pixel cross-entropy, ENet-weighted and bootstrapped, on one prediction.

A segmentation loss is a sum over pixels, and which pixels carry it decides what the network
learns. This figure shows, for one image and one prediction, the per-pixel map of each loss of
:mod:`segviz.losses` (the maps come from :func:`~segviz.losses.pixel_losses`, the scalar in the
title from :func:`~segviz.losses.cross_entropy` / :func:`~segviz.losses.bootstrapped_cross_entropy`):

* **cross-entropy**: ``−ln p_true`` at every labelled pixel, averaged over them;
* **weighted** (ENet): ``w[y]·(−ln p_true)`` with ``w = 1 / ln(c + p_class)`` from this image's
  own labels (:func:`~segviz.losses.class_weights`), divided by the summed weights;
* **bootstrapped**: ``−ln p_true`` averaged over the hardest pixels only: the top-k fraction,
  or those whose true class gets a probability below ``t`` (loss above ``−ln t``), at least
  ``min_k`` of them.

The per-class bars split the scalar loss into what each class's pixels contribute (they sum to
100 %), next to plain cross-entropy's split and each class's share of the pixels: weighting
lifts the rare class, bootstrapping moves the loss to boundaries and to the under-predicted class.

Colour scale of the loss map, the same for all three kinds so they can be compared: ``log10``
of the pixel's term in nats, clipped to ``[0.01, 100]`` (``10^LOG_FLOOR … 10^LOG_CEIL``); a
pixel that does not count (ignored, or dropped by bootstrapping) is grey.

``default_loss_inputs`` builds the default content (a synthetic scene and a half-trained
network's logits, :func:`half_trained_logits`); :func:`loss_inputs` takes yours (logits and a
target, or a model, an image and a target). ``compute_losses`` is pure; ``figure_losses``
draws a result once; ``update_losses`` moves an existing figure to a new result in place.

References:
    Paszke et al., "ENet", arXiv:1606.02147, 2016 (class weights); Wu, Shen and van den Hengel,
    "Bridging Category-level and Instance-level Semantic Image Segmentation", arXiv:1605.06885,
    2016 (online bootstrapping).
"""

from __future__ import annotations

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

from ..data import SYNTHETIC_CLASSES, SYNTHETIC_PALETTE, make_scenes, to_uint8_image
from ..losses import bootstrapped_cross_entropy, class_counts, class_weights, cross_entropy, pixel_losses
from ..losses.bootstrapped import check_selection, hard_pixel_mask  # the selection pixel_losses itself uses
from ..validation import check_choice, check_int, check_number
from ._state import apply_changes

__all__ = [
    "KINDS", "BOOTSTRAP_MODES", "LossInputs", "LossResult", "half_trained_logits", "loss_inputs",
    "default_loss_inputs", "compute_losses", "figure_losses", "update_losses",
]

KINDS = ("cross_entropy", "weighted", "bootstrapped")
KIND_NAMES = {"cross_entropy": "cross-entropy", "weighted": "weighted cross-entropy (ENet)",
              "bootstrapped": "bootstrapped cross-entropy"}
BOOTSTRAP_MODES = ("top_k", "threshold")
IGNORE_INDEX = 255
LOG_FLOOR, LOG_CEIL = -2.0, 2.0  # the loss map's colour range: log10 of 0.01 … 100 nats
NOT_COUNTED = -2.6  # the loss map's value at pixels that do not count (drawn grey)
DEFAULT_SCENE = dict(seed=1, index=15, size=64)  # cross, disk and a thin bar: the bar is the rare class


def half_trained_logits(
    target: Tensor,
    num_classes: int,
    rare_class: int | None = None,
    *,
    confidence: float = 6.0,
    rare_scale: float = 0.3,
    blur: int = 3,
    noise: float = 0.0,
    seed: int = 0,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Logits like a half-trained network's: right inside regions, unsure at boundaries, weak on a rare class.

    ``confidence · box_blur(one_hot(target))``, with the rare class's channel scaled by
    ``rare_scale`` before the product (so the network calls many of its pixels something else),
    plus Gaussian noise of standard deviation ``noise``. Deep inside a region the true class
    leads by ``confidence`` (``p ≈ 0.985`` for 6 with 7 classes); at a boundary the blur mixes the
    neighbours' classes and the prediction is unsure. Ignored pixels get no class (all-zero
    one-hot). Lecture 07 builds the same prediction by hand.

    Args:
        target: class indices ``[N, H, W]`` or ``[H, W]`` (``ignore_index`` allowed).
        num_classes: ``C``.
        rare_class: the class to under-predict; ``None``: the least frequent class present.
        confidence: the logit of a class covering the whole blur window.
        rare_scale: the factor on the rare class's channel, in ``[0, 1]``.
        blur: side of the box blur (odd, ≥ 1; 1: no blur).
        noise: standard deviation of the added noise (0: none).
        seed: seeds the noise.
        ignore_index: the target value of unlabelled pixels.

    Returns:
        float64 logits ``[N, C, H, W]`` (``N = 1`` for a ``[H, W]`` target).

    Example:
        >>> target = torch.tensor([[0, 0, 0, 1]])  # one row: three pixels of class 0, one of class 1
        >>> half_trained_logits(target, 2, rare_scale=1.0)[0, :, 0].tolist()  # blur 3 along the row
        [[6.0, 6.0, 4.0, 3.0], [0.0, 0.0, 2.0, 3.0]]
    """
    num_classes = check_int("num_classes", num_classes, minimum=1)
    blur = check_int("blur", blur, minimum=1)
    if blur % 2 == 0:
        raise ValueError(f"blur {blur} given; blur must be odd (1, 3, 5, …) so the blurred map keeps the target's size")
    confidence = check_number("confidence", confidence, minimum=0)
    rare_scale = check_number("rare_scale", rare_scale, minimum=0, maximum=1)
    noise = check_number("noise", noise, minimum=0)
    if not isinstance(target, Tensor) or target.ndim not in (2, 3) or target.dtype.is_floating_point:
        raise ValueError("target must be an integer Tensor [N, H, W] or [H, W] of class indices")
    target = target[None] if target.ndim == 2 else target
    target = target.long()
    valid = target != ignore_index
    counts = class_counts(target, num_classes, ignore_index)  # [C]; checks the labels' range
    if rare_class is None:
        present = torch.nonzero(counts).flatten()
        rare_class = int(present[counts[present].argmin()]) if len(present) else 0
    rare_class = check_int("rare_class", rare_class, minimum=0, maximum=num_classes - 1)
    one_hot = F.one_hot(torch.where(valid, target, 0), num_classes).permute(0, 3, 1, 2).double()  # [N, C, H, W]
    one_hot = one_hot * valid[:, None]  # ignored pixels: no class
    blurred = F.avg_pool2d(one_hot, blur, stride=1, padding=blur // 2, count_include_pad=False)  # [N, C, H, W]
    blurred[:, rare_class] *= rare_scale
    logits = confidence * blurred
    if noise > 0:
        generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
        logits = logits + noise * torch.randn(logits.shape, generator=generator, dtype=torch.float64)
    return logits


@dataclass(frozen=True)
class LossInputs:
    """What the losses are computed on: one image's logits and target (and the image, to look at).

    Attributes:
        logits: float64 ``[1, C, H, W]``.
        target: int64 ``[1, H, W]``; ``255`` marks ignored pixels.
        image: uint8 ``[H, W, 3]``, or ``None`` when none was given.
        class_names: one name per class.
        palette: uint8 ``[P, 3]`` with a row per class and one for 255 (the void colour).
        rare_class: the class the default prediction under-predicts (``None`` for given logits).
    """

    logits: Tensor
    target: Tensor
    image: np.ndarray | None
    class_names: tuple[str, ...]
    palette: np.ndarray
    rare_class: int | None = None

    @property
    def num_classes(self) -> int:
        return self.logits.shape[1]


def loss_inputs(
    logits: Tensor | None = None,
    target: Tensor | None = None,
    *,
    model: nn.Module | None = None,
    image: Any = None,
    class_names: Sequence[str] | None = None,
) -> LossInputs:
    """Check and normalise one image's logits and target, given directly or through a model.

    Either ``logits`` and ``target``, or ``model``, ``image`` and ``target`` (the model is run
    on the image in eval mode without gradients; its mode is restored afterwards).

    Args:
        logits: ``[C, H, W]`` or ``[1, C, H, W]`` raw scores.
        target: class indices ``[H, W]`` or ``[1, H, W]`` (255: ignored).
        model: a segmentation network returning ``[1, C, H, W]`` logits at the image's size.
        image: float ``[3, H, W]`` in ``[0, 1]`` (the model's input) or uint8 ``[H, W, 3]``;
            optional with ``logits`` (only drawn).
        class_names: a name per class; ``None``: the synthetic classes for ``C = 7``, else
            ``"class 0"``, ``"class 1"``, ….

    Returns:
        :class:`LossInputs`.

    Example:
        >>> inputs = loss_inputs(torch.zeros(3, 2, 2), torch.tensor([[0, 1], [2, 255]]))
        >>> inputs.logits.shape, inputs.class_names
        (torch.Size([1, 3, 2, 2]), ('class 0', 'class 1', 'class 2'))
    """
    if model is not None:
        if logits is not None:
            raise ValueError("logits and model given; give either logits (and target) or a model, an image and a target")
        if image is None or not isinstance(image, Tensor) or image.ndim not in (3, 4) or not image.dtype.is_floating_point:
            raise ValueError("model given without a float image Tensor[3, H, W]; the model needs the image it segments")
        x = image[None] if image.ndim == 3 else image
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                logits = model(x)
        finally:
            model.train(was_training)
        image = x[0]
    if logits is None or target is None:
        raise ValueError("give logits and target, or model, image and target (e.g. LossExplorer(model=net, image=x, target=y))")
    if not isinstance(logits, Tensor) or logits.ndim not in (3, 4):
        raise ValueError(f"logits of type {type(logits).__name__} given; logits must be a Tensor [C, H, W] or [1, C, H, W]")
    if logits.ndim == 4 and logits.shape[0] != 1:
        raise ValueError(f"logits of shape {tuple(logits.shape)} given; the explorer shows one image: pass logits[i:i + 1]")
    logits = (logits[None] if logits.ndim == 3 else logits).detach().cpu().double()
    if not isinstance(target, Tensor) or target.ndim not in (2, 3):
        raise ValueError(f"target of type {type(target).__name__} given; target must be a Tensor [H, W] or [1, H, W]")
    target = (target[None] if target.ndim == 2 else target).detach().cpu()
    # the losses' own checks: shapes, label range, integer labels
    cross_entropy(logits, target, IGNORE_INDEX)
    target = target.long()
    if not bool((target != IGNORE_INDEX).any()):
        raise ValueError("target has no labelled pixel (every pixel is 255); the losses need at least one")
    c = logits.shape[1]
    if class_names is None:
        class_names = SYNTHETIC_CLASSES if c == len(SYNTHETIC_CLASSES) else tuple(f"class {k}" for k in range(c))
    if isinstance(class_names, str) or len(class_names) != c:
        raise ValueError(f"{1 if isinstance(class_names, str) else len(class_names)} class names given for {c} classes; "
                         f"give one name per class")
    rgb = None
    if image is not None:
        rgb = to_uint8_image(image)
        if rgb.shape[:2] != tuple(target.shape[1:]):
            raise ValueError(f"image of size {rgb.shape[0]}x{rgb.shape[1]} given for a {target.shape[1]}x{target.shape[2]} "
                             f"target; they must be the same size")
    if c > 255:
        raise ValueError(f"{c} classes given; the figure draws at most 255 (label 255 is the ignore label)")
    return LossInputs(logits, target, rgb, tuple(str(n) for n in class_names), np.asarray(SYNTHETIC_PALETTE))


def default_loss_inputs() -> LossInputs:
    """Scene 15 of ``make_scenes(seed=1)`` (64×64; a cross, a disk and a thin bar) and :func:`half_trained_logits` for it.

    The bar (91 of 4096 pixels) is the rare, under-predicted class.

    Example:
        >>> inputs = default_loss_inputs()
        >>> inputs.logits.shape, inputs.class_names[inputs.rare_class]
        (torch.Size([1, 7, 64, 64]), 'bar')
    """
    scene = make_scenes(1, DEFAULT_SCENE["size"], seed=DEFAULT_SCENE["seed"], start=DEFAULT_SCENE["index"])
    target = scene.masks  # [1, H, W]
    rare = SYNTHETIC_CLASSES.index("bar")
    logits = half_trained_logits(target, len(SYNTHETIC_CLASSES), rare, noise=0.3)
    inputs = loss_inputs(logits, target, image=scene.images[0])
    return LossInputs(inputs.logits, inputs.target, inputs.image, inputs.class_names, inputs.palette, rare)


@dataclass(frozen=True)
class LossResult:
    """One loss on one prediction: the per-pixel map, what counts, the scalar and its split by class.

    Attributes:
        inputs: the :class:`LossInputs`.
        kind, c, mode, top_k, threshold, min_k: the configuration (``threshold`` is the
            probability ``t``: bootstrapping keeps pixels with ``p_true < t``, i.e. a loss above
            ``−ln t``).
        valid: bool ``[H, W]``, the labelled pixels.
        prediction: int64 ``[H, W]``, the arg-max class.
        p_true: ``[H, W]``, the probability of the true class (0 where ignored).
        ce_map: ``[H, W]``, ``−ln p_true`` (0 where ignored): plain cross-entropy's map.
        loss_map: ``[H, W]``, :func:`~segviz.losses.pixel_losses` for ``kind``.
        counted: bool ``[H, W]``, the pixels that enter the loss (all labelled ones, or the kept ones).
        weights: ``[C]``, ENet's ``1 / ln(c + p_class)`` for this image (used by ``"weighted"``).
        loss: the scalar, from :mod:`segviz.losses`.
        denominator: what the map's sum is divided by: labelled pixels, summed weights, or kept pixels.
        present: the classes with labelled pixels, in order.
        class_pixels: ``[C]`` labelled pixels per class.
        contributions: ``[C]``, each class's part of ``loss`` (sum of its counted map values over
            ``denominator``); they sum to ``loss``.
        shares: ``[C]``, ``contributions / loss``; ``ce_shares``: the same for plain cross-entropy.
        num_below: labelled pixels with ``p_true < threshold`` (what the threshold form keeps before ``min_k``).
        note: a teaching remark for the message line ("" when there is nothing to add).
    """

    inputs: LossInputs
    kind: str
    c: float
    mode: str
    top_k: float
    threshold: float
    min_k: int
    valid: np.ndarray
    prediction: np.ndarray
    p_true: np.ndarray
    ce_map: np.ndarray
    loss_map: np.ndarray
    counted: np.ndarray
    weights: np.ndarray
    loss: float
    denominator: float
    present: tuple[int, ...]
    class_pixels: np.ndarray
    contributions: np.ndarray
    shares: np.ndarray
    ce_shares: np.ndarray
    num_below: int
    note: str

    @property
    def num_counted(self) -> int:
        return int(self.counted.sum())


def _split(loss_map: np.ndarray, target: np.ndarray, counted: np.ndarray, denominator: float, c: int) -> np.ndarray:
    """Each class's part of the loss: the sum of its counted pixels' terms over ``denominator``; ``[C]``."""
    sums = np.bincount(target[counted], weights=loss_map[counted], minlength=c)[:c]
    return sums / denominator


def compute_losses(
    inputs: LossInputs,
    kind: str = "cross_entropy",
    c: float = 1.02,
    mode: str = "top_k",
    top_k: float = 0.1,
    threshold: float = 0.7,
    min_k: int | None = None,
) -> LossResult:
    """One loss's per-pixel map, scalar and per-class split for ``inputs``.

    Args:
        inputs: from :func:`loss_inputs` or :func:`default_loss_inputs`.
        kind: ``"cross_entropy"``, ``"weighted"`` or ``"bootstrapped"``.
        c: ENet's constant (> 1) for ``"weighted"``.
        mode: ``"top_k"`` or ``"threshold"`` for ``"bootstrapped"``.
        top_k: the fraction of labelled pixels kept, in ``(0, 1]`` (mode ``"top_k"``).
        threshold: the probability ``t`` in ``(0, 1)``: keep pixels with ``p_true < t`` (mode ``"threshold"``).
        min_k: the least number of pixels kept (mode ``"threshold"``); ``None``: 1/16 of the labelled.

    Returns:
        A :class:`LossResult`.

    Shape:
        maps ``[H, W]``; per-class arrays ``[C]``.

    Example:
        >>> inputs = default_loss_inputs()
        >>> plain, weighted = compute_losses(inputs), compute_losses(inputs, "weighted")
        >>> round(plain.loss, 4), round(weighted.loss, 4)
        (0.0699, 0.2219)
        >>> bar = inputs.class_names.index("bar")  # the rare class's share of the loss
        >>> f"{plain.shares[bar]:.0%} → {weighted.shares[bar]:.0%}"
        '40% → 82%'
    """
    kind = check_choice("kind", kind, KINDS)
    mode = check_choice("mode", mode, BOOTSTRAP_MODES)
    top_k = check_number("top_k", top_k, minimum=0.001, maximum=1)
    threshold = check_number("threshold", threshold, minimum=0.001, maximum=0.999)
    logits, target = inputs.logits, inputs.target
    num_classes = inputs.num_classes
    valid_t = target != IGNORE_INDEX
    n_valid = int(valid_t.sum())
    min_k = max(1, n_valid // 16) if min_k is None else check_int("min_k", min_k, minimum=1)
    weights = class_weights(target, num_classes, c=c)  # [C]; refuses c <= 1 with ENet's explanation
    ce = cross_entropy(logits, target, IGNORE_INDEX, reduction="none")  # [1, H, W]
    options: dict[str, Any] = {}
    if kind == "weighted":
        options = {"weight": weights.double()}
        loss = cross_entropy(logits, target, IGNORE_INDEX, weight=weights.double())
    elif kind == "bootstrapped":
        options = ({"top_k": top_k} if mode == "top_k" else {"threshold": -math.log(threshold), "min_k": min_k})
        loss = bootstrapped_cross_entropy(logits, target, **options, ignore_index=IGNORE_INDEX)
    else:
        loss = cross_entropy(logits, target, IGNORE_INDEX)
    loss_map = pixel_losses(logits, target, kind, **options, ignore_index=IGNORE_INDEX)  # [1, H, W]

    valid = valid_t[0].numpy()
    target_np = np.where(valid, target[0].numpy(), 0)
    ce_np = ce[0].numpy()
    map_np = loss_map[0].numpy()
    if kind == "bootstrapped":
        # the kept pixels: those bootstrapping's selection keeps (pixel_losses zeroes the rest)
        counted = hard_pixel_mask(ce, valid_t, check_selection(options.get("top_k"), options.get("threshold"),
                                                               options.get("min_k")))[0].numpy()
        denominator = float(counted.sum())
    elif kind == "weighted":
        counted = valid
        denominator = float(weights.double().numpy()[target_np][valid].sum())  # Σ w[y] over the labelled pixels
    else:
        counted = valid
        denominator = float(n_valid)
    contributions = _split(map_np, target_np, counted, denominator, num_classes)
    ce_contributions = _split(ce_np, target_np, valid, float(n_valid), num_classes)
    loss = float(loss)
    ce_total = float(ce_contributions.sum())
    pixels = np.bincount(target_np[valid], minlength=num_classes)[:num_classes]

    notes = []
    above = int((valid & (ce_np > -math.log(threshold))).sum())
    if kind == "bootstrapped" and mode == "threshold":
        if above < min(min_k, n_valid):
            notes.append(f"only {above} pixels have p(true) < {threshold:.2f}, fewer than min_k = {min_k}: "
                         f"the {min(min_k, n_valid)} hardest are kept instead.")
    return LossResult(
        inputs=inputs, kind=kind, c=float(c), mode=mode, top_k=top_k, threshold=threshold, min_k=min_k,
        valid=valid, prediction=logits[0].argmax(0).numpy(), p_true=np.where(valid, np.exp(-ce_np), 0.0),
        ce_map=ce_np, loss_map=map_np, counted=counted, weights=weights.double().numpy(), loss=loss,
        denominator=denominator, present=tuple(int(k) for k in np.flatnonzero(pixels)), class_pixels=pixels,
        contributions=contributions, shares=contributions / loss if loss > 0 else np.zeros(num_classes),
        ce_shares=ce_contributions / ce_total if ce_total > 0 else np.zeros(num_classes), num_below=above,
        note=" ".join(notes),
    )


# --- drawing ---------------------------------------------------------------------------------
_WIDTH, _HEIGHT = 1200, 830
_GREY = "#ced4da"  # pixels that do not count
_INK, _MUTED = "#212529", "#868e96"
# log10(loss): grey below LOG_FLOOR (not counted), then pale yellow → dark red
_SPAN = LOG_CEIL - NOT_COUNTED
_EDGE = (LOG_FLOOR - 0.05 - NOT_COUNTED) / _SPAN
_LOSS_SCALE = [[0.0, _GREY], [_EDGE, _GREY], [_EDGE + 1e-6, "#ffffcc"], [_EDGE + 0.25 * (1 - _EDGE), "#fed976"],
               [_EDGE + 0.5 * (1 - _EDGE), "#fd8d3c"], [_EDGE + 0.75 * (1 - _EDGE), "#e31a1c"], [1.0, "#67000d"]]
# trace indices
IMAGE, TRUTH, PREDICTION, LOSS_MAP, COUNTED, BARS, CE_BARS, PIXEL_SHARE = range(8)


def _hex(rgb: Sequence[int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb))


def _formula(r: LossResult) -> str:
    n_valid = int(r.valid.sum())
    if r.kind == "cross_entropy":
        return f"mean of −ln p(true) over the {n_valid} labelled pixels"
    if r.kind == "weighted":
        return f"Σ w[class]·(−ln p(true)) / Σ w[class] over the {n_valid} labelled pixels, c = {r.c:.3f}"
    if r.mode == "top_k":
        return f"mean of −ln p(true) over the {r.num_counted} hardest pixels (top {r.top_k:.0%})"
    if r.num_counted > r.num_below:
        return (f"mean of −ln p(true) over the {r.num_counted} hardest pixels (only {r.num_below} have "
                f"p(true) < {r.threshold:.2f}; min_k = {r.min_k})")
    return f"mean of −ln p(true) over the {r.num_counted} pixels with p(true) < {r.threshold:.2f} (min_k = {r.min_k})"


def _titles(r: LossResult) -> tuple[str, ...]:
    n_valid = int(r.valid.sum())
    kept = {
        "cross_entropy": f"every labelled pixel counts once ({n_valid})",
        "weighted": f"every labelled pixel counts, × its class weight",
        "bootstrapped": f"kept: {r.num_counted} of {n_valid} ({r.num_counted / n_valid:.0%}), the hardest",
    }[r.kind]
    return (
        "<b>image</b>" if r.inputs.image is not None else "<b>image</b> (none given: the ground truth)",
        "<b>ground truth</b>",
        "<b>prediction</b> (arg-max of the logits)",
        f"<b>per-pixel loss</b>: {KIND_NAMES[r.kind]}<br>log colour scale, the same for every loss",
        f"<b>pixels that count</b><br>{kept}",
        f"<b>share of the loss by class</b><br>coloured: {KIND_NAMES[r.kind]} (sums to 100 %)",
    )


def _base_rgb(r: LossResult) -> np.ndarray:
    image = r.inputs.image
    if image is None:  # nothing to show: the ground truth, lightened
        image = r.inputs.palette[np.where(r.valid, r.inputs.target[0].numpy(), IGNORE_INDEX)]
    return image.astype(np.float32)


def _counted_rgb(r: LossResult) -> np.ndarray:
    """The image where pixels count; a pale grey copy where they do not; the void colour where ignored."""
    base = _base_rgb(r)
    grey = base @ np.array([0.299, 0.587, 0.114], np.float32)
    dim = np.repeat((170 + 0.3 * grey)[..., None], 3, axis=2)
    out = np.where(r.counted[..., None], base, dim)
    out[~r.valid] = r.inputs.palette[IGNORE_INDEX]
    return out.round().astype(np.uint8)


def _loss_z(r: LossResult) -> np.ndarray:
    z = np.log10(np.clip(r.loss_map, 10.0**LOG_FLOOR, 10.0**LOG_CEIL))
    return np.where(r.counted, z, NOT_COUNTED).astype(np.float32)


def _state(r: LossResult) -> dict[str, Any]:
    """The value of every property the update touches, keyed ``trace_index.path`` / ``layout.path``."""
    present = list(r.present)
    names = [r.inputs.class_names[k] for k in present]
    custom = np.stack([r.p_true, r.ce_map, np.where(r.counted, r.loss_map, 0.0)], axis=-1).astype(np.float32)
    weight = r.weights[present]
    labels = np.where(r.counted, r.inputs.target[0].numpy(), -1)  # [H, W]: class of each counted pixel
    counted = np.bincount(labels[labels >= 0], minlength=r.inputs.num_classes)
    hover = [
        f"<b>{name}</b>: {100 * s:.1f}% of the loss<br>= {part:.4f} of L = {r.loss:.4f}<br>"
        f"{int(r.class_pixels[k])} pixels ({int(counted[k])} counted)" + (f", weight {w:.2f}" if r.kind == "weighted" else "")
        for k, name, s, part, w in zip(present, names, r.shares[present], r.contributions[present], weight)
    ]
    state: dict[str, Any] = {
        f"{LOSS_MAP}.z": _loss_z(r),
        f"{LOSS_MAP}.customdata": custom,
        f"{COUNTED}.z": _counted_rgb(r),
        f"{BARS}.y": r.shares[present].astype(np.float32),
        f"{BARS}.hovertext": np.array(hover, dtype=object),
        f"{BARS}.name": f"{KIND_NAMES[r.kind]}",
        "layout.title.text": f"<b>{KIND_NAMES[r.kind]}: L = {r.loss:.4f}</b> = {_formula(r)}",
    }
    for k, title in enumerate(_titles(r)):
        state[f"layout.annotations.{k}.text"] = title
    return state


def figure_losses(r: LossResult) -> go.Figure:
    """Image, ground truth, prediction (top); loss map, pixels that count, share of the loss by class (bottom).

    Traces: 0 image, 1 ground truth, 2 prediction (``go.Image``; hover names the class), 3 the
    loss map (heatmap of ``log10`` nats, clipped to 0.01 … 100; grey: not counted; hover: the
    true class, ``p(true)``, ``−ln p(true)`` and the term this loss gives the pixel), 4 the
    pixels that count (the image; dimmed where a pixel does not count, void colour where it is
    ignored), 5 this loss's share per class, 6 plain cross-entropy's share (for comparison),
    7 each class's share of the labelled pixels; then one legend entry per class. Layout
    annotations 0–5 are the panel titles; the figure title holds the scalar loss.

    Example:
        >>> fig = figure_losses(compute_losses(default_loss_inputs(), "bootstrapped"))
        >>> fig.layout.title.text.startswith("<b>bootstrapped cross-entropy: L = ")
        True
    """
    st = _state(r)
    inputs = r.inputs
    palette = inputs.palette
    truth = np.where(r.valid, inputs.target[0].numpy(), IGNORE_INDEX)
    names = np.array([*inputs.class_names, *[""] * (IGNORE_INDEX - inputs.num_classes), "ignored (255)"], dtype=object)
    fig = make_subplots(rows=2, cols=3, subplot_titles=_titles(r), horizontal_spacing=0.07, vertical_spacing=0.12)
    pixel = "row %{y}, col %{x}"
    fig.add_trace(go.Image(z=_base_rgb(r).astype(np.uint8), name="image", hovertemplate=pixel + "<extra></extra>"), 1, 1)
    fig.add_trace(go.Image(z=palette[truth], name="ground truth", hovertext=names[truth],
                           hovertemplate=pixel + "<br>true class: %{hovertext}<extra></extra>"), 1, 2)
    fig.add_trace(go.Image(z=palette[r.prediction], name="prediction", hovertext=names[r.prediction],
                           hovertemplate=pixel + "<br>predicted: %{hovertext}<extra></extra>"), 1, 3)
    fig.add_trace(go.Heatmap(z=st[f"{LOSS_MAP}.z"], zmin=NOT_COUNTED, zmax=LOG_CEIL, colorscale=_LOSS_SCALE,
                             customdata=st[f"{LOSS_MAP}.customdata"], text=names[truth], name="loss map",
                             hovertemplate=pixel + "<br>true class: %{text}<br>p(true) = %{customdata[0]:.3f}, "
                             "−ln p(true) = %{customdata[1]:.3f}<br>this loss gives it %{customdata[2]:.3f}"
                             "<extra></extra>",
                             colorbar=dict(orientation="h", x=0.143, xanchor="center", y=-0.015, yanchor="top",
                                           len=0.28, thickness=12, tickangle=0, tickfont=dict(size=11),
                                           title=dict(text="loss of the pixel, nats (grey: does not count)", side="top"),
                                           tickvals=[-2, -1, 0, 1, 2], ticktext=["≤0.01", "0.1", "1", "10", "≥100"])), 2, 1)
    fig.add_trace(go.Image(z=st[f"{COUNTED}.z"], name="pixels that count", hovertemplate=pixel + "<extra></extra>"), 2, 2)
    present = list(r.present)
    labels = [inputs.class_names[k] for k in present]
    colours = [_hex(palette[k]) for k in present]
    fig.add_trace(go.Bar(x=labels, y=st[f"{BARS}.y"], name=st[f"{BARS}.name"], marker=dict(color=colours, line=dict(
        color=_INK, width=1)), hovertext=st[f"{BARS}.hovertext"], hoverinfo="text", offsetgroup="this",
                         showlegend=False), 2, 3)
    fig.add_trace(go.Bar(x=labels, y=r.ce_shares[present].astype(np.float32), name="plain cross-entropy, for comparison",
                         marker=dict(color="rgba(173,181,189,0.35)", line=dict(color=_MUTED, width=1)),
                         offsetgroup="plain", legend="legend2",
                         hovertemplate="%{x}: %{y:.1%} of plain cross-entropy<extra></extra>"), 2, 3)
    pixel_share = (r.class_pixels[present] / r.class_pixels.sum()).astype(np.float32)
    fig.add_trace(go.Scatter(x=labels, y=pixel_share, mode="markers", name="the class's share of the pixels",
                             legend="legend2", marker=dict(symbol="line-ew-open", size=26, color=_INK, line=dict(width=3)),
                             hovertemplate="%{x}: %{y:.1%} of the labelled pixels<extra></extra>"), 2, 3)
    for k in sorted(set(present) | set(np.unique(r.prediction).tolist())):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=inputs.class_names[k],
                                 marker=dict(symbol="square", size=12, color=_hex(palette[k]), line=dict(width=1, color=_INK)),
                                 hoverinfo="skip"), 1, 3)
    if not r.valid.all():
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="ignored (255)", hoverinfo="skip",
                                 marker=dict(symbol="square", size=12, color=_hex(palette[IGNORE_INDEX]),
                                             line=dict(width=1, color=_INK))), 1, 3)
    for row, col in ((1, 1), (1, 2), (1, 3), (2, 1), (2, 2)):
        anchor = f"x{'' if (row, col) == (1, 1) else (row - 1) * 3 + col}"
        fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain",
                         row=row, col=col)
        fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain", autorange="reversed",
                         scaleanchor=anchor, row=row, col=col)
    fig.update_yaxes(range=[0, 1], tickformat=".0%", gridcolor="#eeeeee", title_text="share of the loss", row=2, col=3)
    fig.update_annotations(font_size=13, yshift=4)
    fig.update_layout(width=_WIDTH, height=_HEIGHT, margin=dict(l=20, r=130, t=90, b=70), plot_bgcolor="white",
                      barmode="group", bargap=0.25, title=dict(text=st["layout.title.text"], x=0.01, font=dict(size=15)),
                      legend=dict(title=dict(text="classes"), x=1.01, y=1.0, xanchor="left", yanchor="top",
                                  font=dict(size=11)),
                      legend2=dict(x=1.0, y=0.43, xanchor="right", yanchor="top", font=dict(size=11),
                                   bgcolor="rgba(255,255,255,0.85)"))
    for k, title in enumerate(_titles(r)):
        fig.layout.annotations[k].text = title
    return fig


def update_losses(fig: go.Figure, r: LossResult, previous: LossResult | None = None) -> None:
    """Move ``fig`` (from :func:`figure_losses`, same inputs) to ``r`` in place, touching only what changed.

    Args:
        fig: the figure to update.
        r: the new result.
        previous: the result ``fig`` shows now, if known (then nothing is read back from the figure).
    """
    apply_changes(fig, _state(r), _state(previous) if previous is not None else None)
