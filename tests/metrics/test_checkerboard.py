from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from segviz.metrics import checkerboard_energy


def test_equals_nyquist_share_of_the_dft():
    x = torch.randn(3, 2, 8, 6, dtype=torch.float64)
    spectrum = torch.fft.fft2(x).abs() ** 2  # [..., H, W]
    nyquist = spectrum[..., 4, 0] + spectrum[..., 0, 3] + spectrum[..., 4, 3]
    non_constant = spectrum.sum((-2, -1)) - spectrum[..., 0, 0]
    torch.testing.assert_close(checkerboard_energy(x), nyquist / non_constant)


def test_pure_patterns_and_smooth_images():
    i, j = torch.meshgrid(torch.arange(6), torch.arange(8), indexing="ij")
    for pattern in (i % 2, j % 2, (i + j) % 2):
        assert checkerboard_energy(pattern.double() * 5 + 3).item() == pytest.approx(1.0)
    smooth = F.interpolate(torch.rand(1, 1, 4, 4), size=(32, 32), mode="bilinear", align_corners=True)
    assert checkerboard_energy(smooth).item() < 0.01
    assert checkerboard_energy(torch.full((4, 4), 7.0)).item() == 0.0


def test_transposed_conv_overlap_is_checkerboard_and_resize_conv_is_not():
    ones = torch.ones(1, 1, 8, 8)
    uneven = F.conv_transpose2d(ones, torch.ones(1, 1, 3, 3), stride=2)[..., 1:-2, 1:-2]  # interior, even size
    even = F.conv_transpose2d(ones, torch.ones(1, 1, 4, 4), stride=2)[..., 2:-2, 2:-2]
    assert checkerboard_energy(uneven).item() > 0.9
    assert checkerboard_energy(even).item() == 0.0


def test_bad_input():
    with pytest.raises(ValueError, match=r"x of shape \(5, 4\) given; H and W must be even"):
        checkerboard_energy(torch.zeros(5, 4))
    with pytest.raises(ValueError, match="must have"):
        checkerboard_energy(torch.zeros(4))
