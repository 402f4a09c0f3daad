"""Save and restore a model, its optimizer and its :class:`History` in one file.

The file is a ``torch.save`` dict: ``{"model": state_dict, "optimizer": state_dict or None,
"history": History.to_dict() or None, "format": 1}``. Weights are stored on the CPU, so a
checkpoint written on a GPU loads anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .history import History

__all__ = ["save_checkpoint", "load_checkpoint"]

_FORMAT = 1


def _check_path(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path of type {type(path).__name__} given; path must be a file path (str or pathlib.Path)")
    return Path(path)


def _cpu(state: Any) -> Any:
    if isinstance(state, torch.Tensor):
        return state.detach().cpu()
    if isinstance(state, dict):
        return {key: _cpu(value) for key, value in state.items()}
    if isinstance(state, list):
        return [_cpu(value) for value in state]
    return state


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    history: History | None = None,
) -> Path:
    """Write ``model``'s weights (and optionally the optimizer state and history) to ``path``.

    The parent folder is created if needed; an existing file is replaced (written to a
    temporary file first, so an interrupted save never leaves half a checkpoint).

    Args:
        path: the file to write, e.g. ``"fcn8s.pt"``.
        model: the model whose ``state_dict`` to save.
        optimizer: its optimizer, to resume training where it stopped.
        history: the :class:`History` so far.

    Returns:
        The path, as a ``pathlib.Path``.

    Example:
        >>> import tempfile
        >>> model = nn.Conv2d(3, 2, 1)
        >>> path = save_checkpoint(Path(tempfile.mkdtemp()) / "model.pt", model, history=History([{"step": 1}]))
        >>> fresh = nn.Conv2d(3, 2, 1)
        >>> load_checkpoint(path, fresh).final["step"], bool(torch.equal(fresh.weight, model.weight))
        (1, True)
    """
    path = _check_path(path)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model of type {type(model).__name__} given; model must be a torch.nn.Module")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"optimizer of type {type(optimizer).__name__} given; optimizer must be a torch.optim.Optimizer or None")
    if history is not None and not isinstance(history, History):
        raise ValueError(f"history of type {type(history).__name__} given; history must be a segviz History or None")
    state = {
        "format": _FORMAT,
        "model": _cpu(model.state_dict()),
        "optimizer": None if optimizer is None else _cpu(optimizer.state_dict()),
        "history": None if history is None else history.to_dict(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)
    return path


def load_checkpoint(
    path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer | None = None
) -> History | None:
    """Load weights saved by :func:`save_checkpoint` into ``model`` (and ``optimizer``).

    The weights are loaded strictly (every parameter name and shape must match) onto the
    device ``model`` is on.

    Args:
        path: the checkpoint file.
        model: a model of the same architecture; its weights are replaced.
        optimizer: an optimizer on ``model.parameters()`` to restore too (the file must hold one).

    Returns:
        The saved :class:`History`, or ``None`` if none was saved.

    Example:
        >>> load_checkpoint("no/such/file.pt", nn.Conv2d(3, 2, 1))
        Traceback (most recent call last):
        ...
        ValueError: path 'no/such/file.pt' given but there is no such file; save one with save_checkpoint(path, model)
    """
    path = _check_path(path)
    if not path.is_file():
        raise ValueError(f"path {str(path)!r} given but there is no such file; save one with save_checkpoint(path, model)")
    if not isinstance(model, nn.Module):
        raise ValueError(f"model of type {type(model).__name__} given; model must be a torch.nn.Module")
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(f"path {str(path)!r} given, but it is not a checkpoint written by save_checkpoint")
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        first = str(error).strip().splitlines()
        raise ValueError(
            f"the checkpoint {str(path)!r} does not fit this {type(model).__name__} (build the model with the "
            f"arguments it was trained with): {first[1].strip() if len(first) > 1 else first[0]}"
        ) from None
    if optimizer is not None:
        if state.get("optimizer") is None:
            raise ValueError(f"optimizer given, but the checkpoint {str(path)!r} holds no optimizer state; leave it out")
        optimizer.load_state_dict(state["optimizer"])
    history = state.get("history")
    return None if history is None else History.from_dict(history)
