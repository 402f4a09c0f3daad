from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from segviz.utils import default_device, seed_everything


def _draw():
    return random.random(), float(np.random.rand()), torch.rand(4).tolist()


def test_seed_everything_repeats_python_numpy_and_torch():
    seed_everything(123)
    first = _draw()
    seed_everything(123)
    assert _draw() == first
    seed_everything(124)
    assert _draw() != first


def test_seed_everything_asks_for_deterministic_kernels():
    seed_everything(0)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()
    seed_everything(0, deterministic=False)  # leaves the flag as it was: only requests, never revokes
    assert seed_everything(5) == 5


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "3", True, None])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed .* given; seed must be an integer between 0 and 4294967295"):
        seed_everything(bad)


def test_default_device_is_cuda_exactly_when_available(monkeypatch):
    monkeypatch.delenv("SEGVIZ_DEVICE", raising=False)
    assert default_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_device() == torch.device("cpu")


def test_default_device_override(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("SEGVIZ_DEVICE", "cpu")
    assert default_device() == torch.device("cpu")
    monkeypatch.setenv("SEGVIZ_DEVICE", "cuda")
    with pytest.raises(ValueError, match="CUDA is not available here; unset it or use 'cpu'"):
        default_device()
    monkeypatch.setenv("SEGVIZ_DEVICE", "gpu0")
    with pytest.raises(ValueError, match="use 'cpu', 'cuda' or 'cuda:<index>'"):
        default_device()
