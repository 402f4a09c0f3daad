"""U-Net: shared model tests (padded), the paper's valid version (572 -> 388) and its size rules."""

from __future__ import annotations

import re
from functools import partial

import pytest
import torch

from segviz.models import UNet, unet_output_size, unet_valid_sizes
from tests.models.base import ModelTests


class TestUNet(ModelTests):
    model_factory = staticmethod(partial(UNet, base_channels=4, depth=3))
    input_size = (48, 40)
    invalid_size = (50, 40)
    invalid_message = re.escape(
        "input of size 50x40 given; UNet(depth=3, padding=True) cannot take H = 50: with padded convolutions "
        "every max pool sees an even size only if the size is divisible by 2^3 = 8; the nearest valid sizes are 48 and 56"
    )
    max_parameters = 50_000


class TestUNetDepth2(ModelTests):
    model_factory = staticmethod(partial(UNet, base_channels=4, depth=2, batch_norm=False))
    input_size = (12, 20)
    invalid_size = (12, 18)
    invalid_message = "cannot take W = 18: .* divisible by 2\\^2 = 4; the nearest valid sizes are 16 and 20"
    max_parameters = 10_000


def by_hand(size: int, depth: int = 4) -> int:
    """The paper's arithmetic, written out: 4 pixels lost per double convolution, pools halve."""
    for _ in range(depth):
        assert (size - 4) % 2 == 0
        size = (size - 4) // 2
    size -= 4
    for _ in range(depth):
        size = 2 * size - 4
    return size


def test_paper_unet_maps_572_to_388():
    assert unet_output_size(572) == by_hand(572) == 388
    assert unet_output_size((572, 572)) == (388, 388)
    with torch.device("meta"):  # the 31-million-parameter network, shapes only
        paper = UNet.paper()
        out = paper(torch.empty(1, 1, 572, 572))
    assert out.shape == (1, 2, 388, 388)
    assert paper.encoder.blocks[-1][0].conv.out_channels == 1024  # 64 -> 1024 over 4 pools
    assert paper.output_size(572) == 388
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in paper.modules())


def test_valid_unet_computes_572_to_388_and_crops_the_skips():
    narrow = UNet(1, 2, base_channels=2, padding=False, batch_norm=False).eval()
    with torch.no_grad():
        assert narrow(torch.randn(1, 1, 572, 572)).shape == (1, 2, 388, 388)


def test_valid_unet_tiles_seamlessly():
    # the overlap-tile strategy: with valid convolutions an output pixel depends only on the input
    # around it, so the prediction for a tile cut from an image is a piece of the whole prediction
    torch.manual_seed(0)
    net = UNet(1, 2, base_channels=2, depth=2, padding=False, batch_norm=False).eval()
    image = torch.randn(1, 1, 76, 92)  # 76 -> 72 -> 36 -> 32 -> 16 -> 12 -> 20 -> 36
    margin = (76 - unet_output_size(76, depth=2)) // 2  # input pixels lost on each side
    with torch.no_grad():
        whole = net(image)
        tile = net(image[..., 8 : 8 + 60, 12 : 12 + 60])  # tiles start at multiples of 2^depth = 4
    assert margin == 20 and whole.shape[-2:] == (36, 52) and tile.shape[-2:] == (20, 20)
    # output pixel j of the tile sees input pixel 8 + j + margin, i.e. output pixel 8 + j of the whole
    torch.testing.assert_close(tile, whole[..., 8 : 8 + 20, 12 : 12 + 20])


def test_valid_sizes_follow_the_overlap_tile_rule():
    sizes = unet_valid_sizes(depth=4, min_size=100, max_size=700)
    assert 572 in sizes and 570 not in sizes
    assert sizes == [n for n in range(188, 701, 16)]  # 16·b + 124 for bottom sizes b ≥ 4
    assert unet_valid_sizes(depth=3, max_size=40, padding=True) == [8, 16, 24, 32, 40]
    for n in sizes[:5]:
        assert unet_output_size(n) == by_hand(n)


@pytest.mark.parametrize(
    "size, message",
    [
        (570, "input size 570 given; with depth=4 and padding=False, max pool 2 would see an odd size "
              "(570 → 566 → 283 → 279) and drop its last row, which no up-convolution gives back; "
              "the nearest valid sizes are 556 and 572"),
        (100, "the smallest valid size is 188"),
        (172, "the valid convolutions leave nothing"),
    ],
)
def test_invalid_valid_sizes_name_the_nearest_ones(size, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        unet_output_size(size)


def test_paper_unet_refuses_570_with_the_nearest_valid_sizes():
    net = UNet(1, 2, base_channels=2, padding=False)
    with pytest.raises(ValueError, match=re.escape("cannot take H = 570:") + ".*" + re.escape("556 and 572")):
        net(torch.zeros(1, 1, 570, 572))


def test_skips_concatenate_features():
    net = UNet(3, 2, base_channels=4, depth=2)
    assert [block[0].conv.in_channels for block in net.decoder.blocks] == [16, 8]  # 2·C: skip ⊕ upsampled
    assert [up.stride for up in net.decoder.up] == [(2, 2), (2, 2)]


def test_bad_arguments():
    with pytest.raises(ValueError, match="depth 0 given; depth must be an integer >= 1"):
        UNet(3, 2, depth=0)
    with pytest.raises(ValueError, match="max_size 5 given; max_size must be an integer >= 10"):
        unet_valid_sizes(min_size=10, max_size=5)
    with pytest.raises(ValueError, match=re.escape("input_size (1, 2, 3) given; input_size must be H or (H, W)")):
        unet_output_size((1, 2, 3))
