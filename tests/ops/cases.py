"""Inputs shared by the ops tests: seeded float64 tensors and valid transposed-convolution cases."""

from __future__ import annotations

import torch
from hypothesis import strategies as st


def randn(*shape: int, seed: int) -> torch.Tensor:
    """A float64 tensor drawn from its own generator (reproducible whatever else ran before)."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@st.composite
def conv_transpose_cases(draw):
    """A valid F.conv_transpose2d configuration: non-square everything, output_padding < max(s, d)."""
    pair = lambda lo, hi: (draw(st.integers(lo, hi)), draw(st.integers(lo, hi)))  # noqa: E731
    kernel, stride, dilation, size = pair(1, 4), pair(1, 3), pair(1, 3), pair(1, 4)
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    # padding crops (H - 1)s + d(k - 1) + 1 + output_padding; keep at least one row and column
    padding = tuple(
        min(draw(st.integers(0, 3)), ((n - 1) * s + d * (k - 1) + op) // 2)
        for n, k, s, d, op in zip(size, kernel, stride, dilation, output_padding)
    )
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    return dict(
        input=randn(n, c_in, *size, seed=seed),
        weight=randn(c_in, c_out, *kernel, seed=seed + 1),
        bias=randn(c_out, seed=seed + 2) if draw(st.booleans()) else None,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
    )
