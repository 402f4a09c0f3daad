"""bilinear_kernel: FCN's upsampling initialisation is bilinear interpolation, away from the border."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from segviz.ops import bilinear_kernel, conv_transpose2d_scatter


def fcn_upsample(x: torch.Tensor, factor: int) -> torch.Tensor:
    """FCN's layer: kernel 2f - f % 2 (2f for even f), stride f, padding f // 2."""
    weight = bilinear_kernel(x.shape[1], 2 * factor - factor % 2, dtype=x.dtype)
    return F.conv_transpose2d(x, weight, stride=factor, padding=factor // 2)


def border_mask(height: int, width: int, border: int) -> torch.Tensor:
    """True on the ``border`` outermost rows and columns."""
    mask = torch.ones(height, width, dtype=torch.bool)
    mask[border : height - border, border : width - border] = False
    return mask


def test_smoke_both_call_forms():
    assert bilinear_kernel(21, 64).shape == (21, 21, 64, 64)  # FCN-32s
    assert bilinear_kernel(3, 5, 4).shape == (3, 5, 4, 4)
    assert bilinear_kernel(2, kernel_size=(4, 3)).shape == (2, 2, 4, 3)
    assert bilinear_kernel(1, 4).dtype == torch.float32
    assert bilinear_kernel(1, 4, dtype=torch.float64).dtype == torch.float64


def test_tents_by_hand():
    # k = 4: factor 2, center 1.5 -> 1 - |x - 1.5| / 2; k = 3: factor 2, center 1 -> 1 - |x - 1| / 2.
    assert bilinear_kernel(1, 4)[0, 0, 1].tolist() == [0.1875, 0.5625, 0.5625, 0.1875]  # 0.75 · tent
    assert bilinear_kernel(1, (1, 4))[0, 0, 0].tolist() == [0.25, 0.75, 0.75, 0.25]
    assert bilinear_kernel(1, (1, 3))[0, 0, 0].tolist() == [0.5, 1.0, 0.5]
    assert bilinear_kernel(1, (1, 5))[0, 0, 0].tolist() == pytest.approx([1 / 3, 2 / 3, 1, 2 / 3, 1 / 3])


def test_diagonal_across_channels():
    weight = bilinear_kernel(3, 4, 4)
    for c_in in range(3):
        for c_out in range(4):
            assert weight[c_in, c_out].any() == (c_in == c_out)


@pytest.mark.parametrize("factor, size", [(2, (5, 7)), (3, (4, 4)), (4, (3, 6)), (8, (4, 5)), (32, (3, 3))])
def test_equals_bilinear_interpolate_except_border_of_width_factor_over_2(factor, size):
    # FCN's configurations: k=4, s=2, p=1; k=16, s=8, p=4; k=64, s=32, p=16 (and odd f, k = 2f - 1).
    x = torch.randn(2, 3, *size, dtype=torch.float64)
    ours = fcn_upsample(x, factor)
    expected = F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)
    assert ours.shape == expected.shape == (2, 3, size[0] * factor, size[1] * factor)
    b = factor // 2
    assert_close(ours[..., b:-b, b:-b], expected[..., b:-b, b:-b])
    # ... and exactly the border of width f // 2 differs: every pixel of it, in every image and channel.
    differs = ~torch.isclose(ours, expected).flatten(0, 1)  # [N·C, H·f, W·f]
    border = border_mask(*ours.shape[2:], b)
    assert torch.equal(differs.any(0), border) and torch.equal(differs.all(0), border)


def test_why_the_border_differs():
    # Inside, the copies' weights sum to 1 at every pixel (a partition of unity), so a constant image
    # stays constant. In the border of width f // 2 one neighbour lies beyond the edge: interpolate
    # clamps to the edge pixel, the transposed convolution sees a zero there, so weights sum to < 1.
    ones = torch.ones(1, 1, 4, 4, dtype=torch.float64)
    for factor in (2, 4, 8):
        total = fcn_upsample(ones, factor)[0, 0]
        b = factor // 2
        assert_close(total[b:-b, b:-b], torch.ones_like(total[b:-b, b:-b]))
        assert (total[border_mask(*total.shape, b)] < 1).all()
    # For f = 2 the corner pixel gets 0.75 · 0.75 of its value, the other edge pixels 0.75.
    assert fcn_upsample(ones, 2)[0, 0, 0, :3].tolist() == [0.5625, 0.75, 0.75]


def test_scatter_view_agrees():
    x = torch.randn(1, 2, 3, 3, dtype=torch.float64)
    weight = bilinear_kernel(2, 4, dtype=torch.float64)
    assert_close(conv_transpose2d_scatter(x, weight, stride=2, padding=1), fcn_upsample(x, 2))


@pytest.mark.parametrize(
    "call, message",
    [
        pytest.param(lambda: bilinear_kernel(3), "kernel_size missing; call bilinear_kernel", id="no-kernel"),
        pytest.param(lambda: bilinear_kernel(0, 4), "in_channels 0 given; in_channels must be an integer >= 1",
                     id="channels-0"),
        pytest.param(lambda: bilinear_kernel(3, 2, 0), "kernel_size 0 given", id="kernel-0"),
        pytest.param(lambda: bilinear_kernel(3, 4, dtype=torch.int64), "dtype torch.int64 given; dtype must be a "
                     "floating-point dtype", id="dtype"),
    ],
)
def test_bad_input_raises_teaching_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
