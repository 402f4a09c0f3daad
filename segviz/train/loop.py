"""Train, evaluate and predict: the loop every lecture and lab shares.

:func:`fit` is the plain supervised loop (batch → logits → per-pixel loss → step), with the few
extras a course needs: it is seeded (same seed, same run on a CPU), it evaluates FCN's four
scores on validation data, it stops at a target score or a time budget and reports how long the
target took (:meth:`History.time_to`), it keeps the best weights in a checkpoint, and it shows
a progress bar and, in a notebook, a live plot of the curves. :func:`evaluate` accumulates one
confusion matrix over the whole data set (never averaging per-batch scores), and
:func:`predict` returns label maps.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..metrics import confusion_matrix, segmentation_scores
from ..utils import default_device, seed_everything
from ..validation import check_choice, check_int, check_number
from ._data import Batches, as_batches, check_labels
from .checkpoint import save_checkpoint
from .history import METRICS, History

__all__ = ["fit", "evaluate", "predict", "schedule_factor", "SCHEDULERS"]

#: Learning-rate schedules :func:`fit` builds by name, stepped once per optimizer step.
SCHEDULERS: tuple[str, ...] = ("onecycle", "cosine")

LossFunction = Callable[[Tensor, Tensor], Tensor]


# --- small helpers -----------------------------------------------------------------------------


def _check_model(model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise ValueError(
            f"model of type {type(model).__name__} given; model must be a torch.nn.Module that maps "
            "images [N, C, H, W] to logits [N, num_classes, H, W], e.g. segviz.FCN8s(num_classes=7)"
        )
    return model


def _check_device(device: Any) -> torch.device:
    if device is None:
        return default_device()
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device {device!r} given; device must be 'cpu', 'cuda', 'cuda:<index>' or None") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} given but CUDA is not available here; use 'cpu' or None")
    return device


def _check_positive(name: str, value: Any, example: str) -> float:
    """A number > 0 (``check_number`` bounds are inclusive, and 0 is no learning rate or budget)."""
    value = check_number(name, value)
    if value <= 0 or math.isinf(value):
        raise ValueError(f"{name} {value:g} given; {name} must be a number > 0, e.g. {example}")
    return value


def _check_flag(name: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{name} {value!r} given; {name} must be True, False or None (automatic)")
    return value


def _logits(model: nn.Module, images: Tensor, masks: Tensor | None = None) -> Tensor:
    """The model's logits; a dict output (torchvision's segmentation models) gives its ``"out"``."""
    out = model(images)
    if isinstance(out, Mapping):
        if "out" not in out:
            raise ValueError(
                f"model returned a dict with keys {sorted(out)}; fit expects logits, or a dict with "
                "the logits under 'out' (as torchvision's segmentation models return)"
            )
        out = out["out"]
    elif isinstance(out, (tuple, list)):
        out = out[0]  # (logits, extras), e.g. FCN(..., return_scores=True)
    if not isinstance(out, Tensor) or out.ndim != 4 or out.shape[0] != images.shape[0]:
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(
            f"model output {shape} for images of shape {tuple(images.shape)}; the model must return "
            "logits Tensor[N, num_classes, H, W]"
        )
    if masks is not None and out.shape[-2:] != masks.shape[-2:]:
        raise ValueError(
            f"model output of size {tuple(out.shape[-2:])} for masks of size {tuple(masks.shape[-2:])}; "
            "the logits must have the masks' H × W (upsample them inside the model)"
        )
    return out


def _running_under_pytest() -> bool:
    return "PYTEST_CURRENT_TEST" in os.environ


def _in_notebook_kernel() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQInteractiveShell); IPython is not imported here."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _auto(flag: bool | None, variable: str, notebook_only: bool) -> bool:
    if flag is not None:
        return flag
    if os.environ.get(variable, "").strip() == "0" or _running_under_pytest():
        return False
    return _in_notebook_kernel() if notebook_only else True


def schedule_factor(name: str, progress: float) -> float:
    """The learning rate of schedule ``name`` as a fraction of its peak, at ``progress`` ∈ [0, 1].

    ``"onecycle"`` (Smith and Topin, 2019): a linear warm-up from 1/25 of the peak to the peak
    over the first quarter, then a cosine down to 1/250,000 of it. ``"cosine"``: a cosine from
    the peak to 0.

    Example:
        >>> [round(schedule_factor("onecycle", p), 3) for p in (0, 0.25, 0.625, 1)]
        [0.04, 1.0, 0.5, 0.0]
        >>> schedule_factor("cosine", 0.5)
        0.5
    """
    progress = min(max(progress, 0.0), 1.0)
    if name == "cosine":
        return 0.5 * (1 + math.cos(math.pi * progress))
    warm, start, end = 0.25, 1 / 25, 1 / 25 / 1e4
    if progress < warm:
        return start + (1 - start) * progress / warm
    return end + (1 - end) * 0.5 * (1 + math.cos(math.pi * (progress - warm) / (1 - warm)))


class _NamedSchedule:
    """Sets every group's learning rate to ``peak · schedule_factor(name, progress)`` before a step.

    Progress is the share of the run done: ``step / (total_steps − 1)``, or, with a time limit,
    the share of ``time_limit`` used if that is larger, so the schedule always ends with the run.
    """

    def __init__(self, name: str, optimizer: torch.optim.Optimizer, total_steps: int, time_limit: float | None):
        self.name, self.optimizer, self.time_limit = name, optimizer, time_limit
        self.last_step = max(total_steps - 1, 1)
        self.peaks = [group["lr"] for group in optimizer.param_groups]

    def before_step(self, step: int, seconds: float) -> None:
        progress = step / self.last_step
        if self.time_limit is not None:
            progress = max(progress, seconds / self.time_limit)
        factor = schedule_factor(self.name, progress)
        for group, peak in zip(self.optimizer.param_groups, self.peaks):
            group["lr"] = peak * factor


def _run_evaluation(
    model: nn.Module,
    batches: Batches,
    num_classes: int,
    batch_size: int,
    device: torch.device,
    ignore_index: int,
    loss: LossFunction | None = None,
) -> dict[str, Any]:
    """Scores from one confusion matrix over all of ``batches``, plus the mean loss if asked."""
    was_training = model.training
    model.eval()
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    loss_sum, count = 0.0, 0
    with torch.no_grad():
        for images, masks in batches.iterate(batch_size, shuffle=False):
            check_labels(batches.name, masks, num_classes, ignore_index)
            images, masks = images.to(device), masks.to(device)
            logits = _logits(model, images, masks)
            if logits.shape[1] != num_classes:
                raise ValueError(
                    f"model output {logits.shape[1]} channels with num_classes={num_classes}; the model "
                    f"must output one score map per class"
                )
            confusion += confusion_matrix(logits.argmax(1), masks, num_classes, ignore_index).cpu()
            if loss is not None:
                loss_sum += float(loss(logits, masks)) * images.shape[0]
                count += images.shape[0]
    model.train(was_training)
    result: dict[str, Any] = dict(segmentation_scores(confusion))
    result["confusion"] = confusion
    if loss is not None:
        result["loss"] = loss_sum / count
    return result


# --- public functions --------------------------------------------------------------------------


def evaluate(
    model: nn.Module,
    data: Any,
    num_classes: int,
    *,
    batch_size: int = 64,
    device: Any = None,
    ignore_index: int = 255,
) -> dict[str, Any]:
    """FCN's four scores of ``model`` on ``data``, from one confusion matrix over all of it.

    The model runs in eval mode (batch norm uses its running statistics, dropout is off) and
    is put back in the mode it was in. The confusion matrix is accumulated over every batch and
    scored once (:func:`~segviz.metrics.segmentation_scores`), so the result does not depend on
    ``batch_size``.

    Args:
        model: maps images ``[N, C, H, W]`` to logits ``[N, num_classes, H, W]`` (a dict with
            the logits under ``"out"``, as torchvision's segmentation models return, works too).
        data: ``(images, masks)`` tensors, a :class:`~segviz.data.Scenes`, or a Dataset of
            ``(image, mask)`` pairs such as :class:`~segviz.data.SyntheticScenes`.
        num_classes: the number of classes.
        batch_size: images per forward pass (memory only; the scores do not change).
        device: where to compute; ``None``: :func:`~segviz.default_device`. The model is moved there.
        ignore_index: the mask value of unlabelled pixels, left out of every score.

    Returns:
        ``{"pixel_accuracy", "mean_accuracy", "mean_iou", "fw_iou"}`` as floats, and
        ``"confusion"``, the int64 ``Tensor[num_classes, num_classes]`` (rows ground truth).

    Shape:
        - images ``[N, C, H, W]``, masks ``[N, H, W]``
        - ``confusion``: ``[num_classes, num_classes]``

    Example:
        >>> class Oracle(nn.Module):  # "predicts" class 1 on the left half, 0 on the right
        ...     def forward(self, x):
        ...         left = torch.zeros(x.shape[0], 1, *x.shape[2:]); left[..., :2] = 1
        ...         return torch.cat([1 - left, left], dim=1)
        >>> masks = torch.tensor([[[1, 1, 0, 0], [1, 0, 0, 255]]])
        >>> scores = evaluate(Oracle(), (torch.zeros(1, 3, 2, 4), masks), num_classes=2, device="cpu")
        >>> scores["pixel_accuracy"], scores["confusion"].tolist()
        (0.8571428571428571, [[3, 1], [0, 3]])
    """
    model = _check_model(model)
    batches = as_batches("data", data)
    num_classes = check_int("num_classes", num_classes, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    ignore_index = check_int("ignore_index", ignore_index)
    device = _check_device(device)
    if batches.tensors is not None:
        check_labels("data", batches.tensors[1], num_classes, ignore_index)
    model.to(device)
    return _run_evaluation(model, batches, num_classes, batch_size, device, ignore_index)


def predict(model: nn.Module, images: Tensor, *, batch_size: int = 64, device: Any = None) -> Tensor:
    """The label map ``model`` predicts for each image: the argmax of its logits.

    Runs in eval mode without gradients, ``batch_size`` images at a time, and puts the model
    back in the mode it was in.

    Args:
        model: maps images ``[N, C, H, W]`` to logits ``[N, num_classes, H, W]`` (or a dict
            with them under ``"out"``).
        images: ``Tensor[N, C, H, W]``, or one image ``Tensor[C, H, W]``.
        batch_size: images per forward pass.
        device: where to compute; ``None``: :func:`~segviz.default_device`.

    Returns:
        ``int64`` class ids on the CPU, ``Tensor[N, H, W]`` (``[H, W]`` for one image).

    Shape:
        ``[N, C, H, W] → [N, H, W]``.

    Example:
        >>> model = nn.Conv2d(3, 4, kernel_size=1)  # a per-pixel classifier with 4 classes
        >>> labels = predict(model, torch.rand(5, 3, 8, 6), device="cpu")
        >>> labels.shape, labels.dtype
        (torch.Size([5, 8, 6]), torch.int64)
    """
    model = _check_model(model)
    if not isinstance(images, Tensor) or images.ndim not in (3, 4) or not images.is_floating_point():
        described = (
            f"of shape {tuple(images.shape)} and dtype {images.dtype}" if isinstance(images, Tensor)
            else f"of type {type(images).__name__}"
        )
        raise ValueError(
            f"images {described} given; images must be a floating Tensor[N, C, H, W] or one image [C, H, W]"
        )
    batch_size = check_int("batch_size", batch_size, minimum=1)
    device = _check_device(device)
    single = images.ndim == 3
    batch = images[None] if single else images
    was_training = model.training
    model.to(device).eval()
    with torch.no_grad():
        labels = [_logits(model, batch[i : i + batch_size].to(device)).argmax(1).cpu()
                  for i in range(0, batch.shape[0], batch_size)]  # fmt: skip
    model.train(was_training)
    out = torch.cat(labels) if labels else torch.zeros(0, *batch.shape[-2:], dtype=torch.int64)
    return out[0] if single else out


def fit(
    model: nn.Module,
    train_data: Any,
    val_data: Any = None,
    *,
    epochs: int = 10,
    batch_size: int = 16,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: str | Callable[[torch.optim.Optimizer, int], Any] | None = None,
    loss: LossFunction | None = None,
    num_classes: int | None = None,
    device: Any = None,
    seed: int = 0,
    target: float | None = None,
    target_metric: str = "mean_iou",
    time_limit: float | None = None,
    eval_every: int | None = None,
    eval_batch_size: int = 64,
    checkpoint: str | os.PathLike | None = None,
    progress: bool | None = None,
    live: bool | None = None,
) -> History:
    """Train a segmentation model with per-pixel cross-entropy and record how it went.

    Each step takes a batch, computes the logits ``[N, num_classes, H, W]``, the loss against
    the masks ``[N, H, W]`` (pixels labelled 255 are ignored), and takes an optimizer step.
    Every ``eval_every`` steps (by default at the end of each epoch) the model is evaluated on
    ``val_data`` with :func:`evaluate`, and a record joins the :class:`History`. The run stops
    after ``epochs`` epochs, as soon as ``target_metric`` reaches ``target``, or at the first
    evaluation after the training time passes ``time_limit`` (the step that crosses it
    finishes, then the model is evaluated). ``seconds`` counts training steps only, never
    evaluation, so time-to-target compares models fairly.

    Everything random is seeded from ``seed`` (:func:`~segviz.seed_everything`: shuffling,
    dropout): on a CPU the same seed and the same initial weights give bit-identical losses,
    scores and weights, so the same :class:`History` but for its wall-clock ``seconds`` (build
    the model after ``seed_everything(seed)`` too). ``time_limit`` makes a run depend on the
    machine's speed, of course.

    The model is trained in place and left as it is at the end (not the best weights; those are
    in ``checkpoint``, see :func:`load_checkpoint`).

    Args:
        model: maps images ``[N, C, H, W]`` to logits ``[N, num_classes, H, W]`` (or a dict
            with them under ``"out"``, as torchvision's segmentation models return).
        train_data: ``(images, masks)`` tensors, a :class:`~segviz.data.Scenes`, or a Dataset
            of ``(image, mask)`` pairs such as :class:`~segviz.data.SyntheticScenes`. Tensors
            are batched by slicing with a seeded permutation; the last incomplete batch of an
            epoch is dropped (unless it is the only one).
        val_data: the same kinds, for the scores; ``None``: record the training loss only.
        epochs: passes over ``train_data``, >= 1.
        batch_size: images per step.
        lr: learning rate of the default optimizer (and peak of ``"onecycle"``).
        weight_decay: of the default optimizer.
        optimizer: ``None``: ``torch.optim.AdamW(model.parameters(), lr, weight_decay=...)``;
            an optimizer you built replaces it (``lr`` and ``weight_decay`` are then unused).
        scheduler: ``None`` (constant learning rate), ``"onecycle"`` (warm up to ``lr``, then
            anneal to almost 0; Smith's one-cycle policy), ``"cosine"`` (``lr`` down to 0), see
            :func:`schedule_factor`. A named schedule spans the whole run: ``epochs`` epochs, or
            ``time_limit`` seconds if they run out first (the schedule then follows the clock,
            so a budgeted run always ends annealed). Or ``f(optimizer, total_steps)`` returning
            a PyTorch scheduler, stepped after every optimizer step.
        loss: ``loss(logits, masks) -> scalar``; ``None``: :func:`~segviz.losses.cross_entropy`
            (ignoring 255).
        num_classes: ``None``: the model's output channels, read on the first batch.
        device: ``None``: :func:`~segviz.default_device` (the GPU when there is one).
        seed: seeds everything, see above.
        target: stop as soon as ``target_metric`` reaches it (scores: in (0, 1]).
        target_metric: the score that ``target``, the checkpoint and :attr:`History.reached_target`
            use: ``"mean_iou"``, ``"pixel_accuracy"``, ``"mean_accuracy"``, ``"fw_iou"``, or
            ``"val_loss"`` (lower is better).
        time_limit: seconds of training after which to stop (evaluating once more).
        eval_every: steps between evaluations; ``None``: once per epoch.
        eval_batch_size: images per forward pass when evaluating.
        checkpoint: a file path: whenever ``target_metric`` reaches a new best, the model, the
            optimizer and the history are saved there (:func:`save_checkpoint`).
        progress: a ``tqdm.auto`` progress bar; ``None``: on, except under pytest or with the
            environment variable ``SEGVIZ_PROGRESS=0``.
        live: a live plot of the loss and mean IU curves (plotly, :class:`~segviz.viz.training.LiveHistory`);
            ``None``: on in a Jupyter kernel, unless ``SEGVIZ_LIVE=0`` or under pytest. The same
            curves after the run: ``segviz.figure_history(history)``.

    Returns:
        The :class:`History`: one record per evaluation, and why the run stopped.

    Example:
        >>> from segviz.data import make_scenes
        >>> from segviz.models import FCN8s
        >>> _ = seed_everything(0)
        >>> model = FCN8s(num_classes=7, channels=(4, 4, 8, 8, 8), num_convs=1, fc_channels=16)
        >>> history = fit(model, make_scenes(8, size=32), make_scenes(4, size=32, seed=1),
        ...               epochs=2, batch_size=4, device="cpu")
        >>> len(history), history.stopped_because, history.final["step"]
        (2, 'epochs', 4)
    """
    # --- check every argument before any work ---------------------------------------------------
    model = _check_model(model)
    train = as_batches("train_data", train_data)
    val = None if val_data is None else as_batches("val_data", val_data)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    eval_batch_size = check_int("eval_batch_size", eval_batch_size, minimum=1)
    lr = _check_positive("lr", lr, "1e-3")
    weight_decay = check_number("weight_decay", weight_decay, minimum=0)
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(
            f"optimizer of type {type(optimizer).__name__} given; optimizer must be a torch.optim.Optimizer "
            "built on model.parameters(), or None for AdamW(lr, weight_decay)"
        )
    if scheduler is not None and not callable(scheduler):
        check_choice("scheduler", scheduler, SCHEDULERS)
    if loss is not None and not callable(loss):
        raise ValueError(f"loss of type {type(loss).__name__} given; loss must be a function loss(logits, masks) -> scalar")
    if num_classes is not None:
        num_classes = check_int("num_classes", num_classes, minimum=1)
    device = _check_device(device)
    seed = check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    target_metric = check_choice("target_metric", target_metric, METRICS)
    if target_metric != "train_loss" and val is None and target is not None:
        raise ValueError(
            f"target {target!r} given without val_data; {target_metric} is measured on validation data, "
            "so pass val_data (or leave target out)"
        )
    if target is not None:
        if target_metric.endswith("loss"):
            target = _check_positive("target", target, "0.5")
        else:
            target = check_number("target", target, minimum=0, maximum=1)
            if target == 0:
                raise ValueError(f"target 0 given; a {target_metric} target must be in (0, 1], e.g. 0.85")
    if time_limit is not None:
        time_limit = _check_positive("time_limit", time_limit, "30 (seconds), or None")
    if eval_every is not None:
        eval_every = check_int("eval_every", eval_every, minimum=1)
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        raise ValueError(f"checkpoint of type {type(checkpoint).__name__} given; checkpoint must be a file path or None")
    show_progress = _auto(_check_flag("progress", progress), "SEGVIZ_PROGRESS", notebook_only=False)
    show_live = _auto(_check_flag("live", live), "SEGVIZ_LIVE", notebook_only=True)

    # --- set up ----------------------------------------------------------------------------------
    if loss is None:
        from ..losses import cross_entropy as loss
    seed_everything(seed)
    shuffle_generator = torch.Generator().manual_seed(seed)
    model.to(device)
    if optimizer is None:
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = train.batches_per_epoch(batch_size, drop_last=True)
    total_steps = epochs * steps_per_epoch
    named_schedule = lr_scheduler = None
    if isinstance(scheduler, str):
        named_schedule = _NamedSchedule(scheduler, optimizer, total_steps, time_limit)
    elif scheduler is not None:
        lr_scheduler = scheduler(optimizer, total_steps)
    history = History(target=target, target_metric=target_metric)
    bar = None
    if show_progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * steps_per_epoch, unit="step", desc="fit", leave=True)
    view = None
    if show_live:
        from ..viz.training import LiveHistory

        view = LiveHistory(target=target)
    if train.tensors is not None and num_classes is not None:
        check_labels("train_data", train.tensors[1], num_classes)

    step, seconds = 0, 0.0
    loss_sum, loss_count = 0.0, 0
    best: float | None = None
    stopped_because = "epochs"

    def record(epoch: int) -> bool:
        """Evaluate, append a record, save a checkpoint on a new best; True when it is time to stop."""
        nonlocal loss_sum, loss_count, best
        entry: dict[str, Any] = {
            "step": step, "epoch": epoch, "seconds": seconds,
            "train_loss": loss_sum / loss_count if loss_count else None,
        }  # fmt: skip
        loss_sum, loss_count = 0.0, 0
        if val is not None:
            result = _run_evaluation(model, val, num_classes, eval_batch_size, device, 255, loss)
            entry["val_loss"] = result["loss"]
            entry.update({key: result[key] for key in ("pixel_accuracy", "mean_accuracy", "mean_iou", "fw_iou")})
        history.append(entry)
        value = history.final[target_metric]
        if checkpoint is not None:
            lower = target_metric.endswith("loss")
            if value is None or (
                isinstance(value, float) and not math.isnan(value)
                and (best is None or (value < best if lower else value > best))
            ):
                best = value
                save_checkpoint(checkpoint, model, optimizer, history)
        if bar is not None:
            shown = {"loss": f"{entry['train_loss']:.3f}"} if entry["train_loss"] is not None else {}
            if entry.get("mean_iou") is not None:
                shown["mIoU"] = f"{entry['mean_iou']:.3f}"
            bar.set_postfix(shown, refresh=True)
        if view is not None:
            view.update(history)
        return target is not None and history.reached_target

    # --- train -------------------------------------------------------------------------------
    try:
        model.train()
        for epoch in range(1, epochs + 1):
            for images, masks in train.iterate(batch_size, shuffle=True, generator=shuffle_generator, drop_last=True):
                start = time.perf_counter()
                if named_schedule is not None:
                    named_schedule.before_step(step, seconds)
                images, masks = images.to(device, non_blocking=True), masks.to(device, non_blocking=True)
                logits = _logits(model, images, masks)
                if num_classes is None:
                    num_classes = logits.shape[1]
                    if train.tensors is not None:
                        check_labels("train_data", train.tensors[1], num_classes)
                elif logits.shape[1] != num_classes:
                    raise ValueError(
                        f"model output {logits.shape[1]} channels with num_classes={num_classes}; the model "
                        "must output one score map per class"
                    )
                if train.tensors is None:
                    check_labels("train_data", masks, num_classes)
                if step == 0 and val is not None and val.tensors is not None:
                    check_labels("val_data", val.tensors[1], num_classes)
                batch_loss = loss(logits, masks)
                optimizer.zero_grad(set_to_none=True)
                batch_loss.backward()
                optimizer.step()
                if lr_scheduler is not None:
                    lr_scheduler.step()
                loss_sum += batch_loss.item() * images.shape[0]  # .item() waits for the GPU: honest timing
                loss_count += images.shape[0]
                seconds += time.perf_counter() - start
                step += 1
                if bar is not None:
                    bar.update(1)
                out_of_time = time_limit is not None and seconds >= time_limit
                due = eval_every is not None and step % eval_every == 0
                if due or out_of_time:
                    if record(epoch):
                        stopped_because = "target"
                        break
                    if out_of_time:
                        stopped_because = "time_limit"
                        break
            else:
                if eval_every is None or step % eval_every != 0:
                    if eval_every is None or epoch == epochs:
                        if record(epoch):
                            stopped_because = "target"
                            break
                continue
            break
    finally:
        if bar is not None:
            bar.close()
    history.stopped_because = stopped_because
    if checkpoint is not None:
        _finish_checkpoint(Path(checkpoint), history)
    if view is not None:
        view.update(history)
    return history


def _finish_checkpoint(path: Path, history: History) -> None:
    """Store the complete history (with ``stopped_because``) next to the best weights."""
    if not path.exists():
        return
    state = torch.load(path, map_location="cpu", weights_only=False)
    state["history"] = history.to_dict()
    torch.save(state, path)
