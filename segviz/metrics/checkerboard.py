"""How much of an image is checkerboard: the share of its variation that repeats every 2 pixels."""

from __future__ import annotations

import torch
from torch import Tensor

from ..validation import check_ndim

__all__ = ["checkerboard_energy"]


def checkerboard_energy(x: Tensor) -> Tensor:
    """Share of an image's variance carried by the three period-2 patterns.

    The artifacts of a transposed convolution whose kernel is not divisible by its stride
    repeat with the stride; at stride 2 they are the patterns ``(−1)^i`` (rows), ``(−1)^j``
    (columns) and ``(−1)^(i+j)`` (a checkerboard). Projecting the mean-free image on each
    (they are orthogonal) and dividing the summed energy by the image's total energy gives a
    number in [0, 1]: 1 for a pure checkerboard, about 3/(H·W) for white noise, close to 0 for
    smooth images. It is the squared magnitude of the image's 2-D DFT at the three Nyquist
    frequencies, as a fraction of all non-constant frequencies (Parseval).

    Args:
        x: ``Tensor[..., H, W]`` with even ``H`` and ``W`` (one value per image and channel).

    Returns:
        ``Tensor[...]`` of energies in [0, 1] (0 for a constant image).

    Shape:
        ``[..., H, W] → [...]``.

    Reference:
        Odena, Dumoulin and Olah, "Deconvolution and Checkerboard Artifacts", Distill 2016.

    Example:
        >>> i, j = torch.meshgrid(torch.arange(4), torch.arange(4), indexing="ij")
        >>> checkerboard_energy(((i + j) % 2).double())
        tensor(1., dtype=torch.float64)
        >>> ramp = torch.linspace(0, 1, 16)
        >>> round(checkerboard_energy(ramp[:, None] + ramp[None, :]).item(), 3)  # a smooth 16×16 gradient
        0.012
    """
    check_ndim("x", x, tuple(range(2, 9)), "[..., H, W]")
    height, width = x.shape[-2:]
    if height % 2 or width % 2:
        raise ValueError(f"x of shape {tuple(x.shape)} given; H and W must be even for period-2 patterns (crop one row/column)")
    x = x.to(torch.promote_types(x.dtype, torch.float32))
    centred = x - x.mean(dim=(-2, -1), keepdim=True)
    rows = 1 - 2 * (torch.arange(height, device=x.device) % 2).to(x.dtype)  # +1, −1, +1, …
    cols = 1 - 2 * (torch.arange(width, device=x.device) % 2).to(x.dtype)
    patterns = torch.stack([rows[:, None].expand(height, width), cols[None, :].expand(height, width), rows[:, None] * cols[None, :]])
    # Each pattern has squared norm H·W, so the energy it carries is <x, p>² / (H·W).
    coefficients = torch.einsum("...hw,phw->...p", centred, patterns)
    periodic = (coefficients**2).sum(-1) / (height * width)
    total = (centred**2).sum(dim=(-2, -1))
    return torch.where(total > 0, periodic / total.clamp_min(torch.finfo(x.dtype).tiny), torch.zeros_like(total))
