"""Reproducibility and device helpers shared by lectures, labs, tests and benches."""

from __future__ import annotations

import os
import random

from typing import TYPE_CHECKING

from .validation import check_int

if TYPE_CHECKING:  # torch is imported on first use, so `import segviz` and `segviz --version` stay light
    import torch

__all__ = ["seed_everything", "default_device"]


def seed_everything(seed: int = 0, *, deterministic: bool = True) -> int:
    """Seed Python, NumPy and PyTorch (CPU and every CUDA device) in one call.

    With ``deterministic=True`` PyTorch is also asked for deterministic algorithms where they
    exist (``warn_only``, so an op without one warns instead of failing a lecture), cuDNN
    autotuning is switched off, and ``CUBLAS_WORKSPACE_CONFIG`` is set as CUDA's docs require.
    Results are then repeatable run to run on the same machine and library versions; across
    CPU/GPU or versions only rounded values should be compared.

    Args:
        seed: a non-negative integer below 2**32.
        deterministic: also request deterministic kernels.

    Returns:
        The seed, so a notebook can print what it used.

    Example:
        >>> import torch
        >>> _ = seed_everything(7)
        >>> a = torch.rand(3)
        >>> _ = seed_everything(7)
        >>> bool(torch.equal(a, torch.rand(3)))
        True
    """
    import numpy as np
    import torch

    seed = check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds every CUDA device too
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    return seed


def default_device() -> torch.device:
    """The device segviz computes on: the first CUDA GPU when one is usable, else the CPU.

    Set ``SEGVIZ_DEVICE`` (``cpu``, ``cuda``, ``cuda:1`` …) to override; an override naming an
    unavailable device raises instead of silently falling back.

    Example:
        >>> default_device().type in {"cpu", "cuda"}
        True
    """
    import torch

    wanted = os.environ.get("SEGVIZ_DEVICE", "").strip()
    if wanted:
        try:
            device = torch.device(wanted)
        except RuntimeError:
            raise ValueError(
                f"SEGVIZ_DEVICE={wanted!r} given; use 'cpu', 'cuda' or 'cuda:<index>'"
            ) from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"SEGVIZ_DEVICE={wanted!r} given but CUDA is not available here; "
                "unset it or use 'cpu'"
            )
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
