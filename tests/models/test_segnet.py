"""SegNet and DeconvNet: shared model tests, and the decoder really uses the pooling switches."""

from __future__ import annotations

import re
from functools import partial

import pytest
import torch
import torch.nn.functional as F

from segviz.models import DeconvNet, SegNet, UnpoolingDecoder, VGGEncoder
from tests.models.base import ModelTests

TINY = dict(channels=(4, 8, 8, 16), num_convs=(1, 1, 2, 2))


class TestSegNet(ModelTests):
    model_factory = staticmethod(partial(SegNet, **TINY))
    input_size = (32, 48)
    odd_sizes = ((37, 45), (16, 16), (17, 31))
    invalid_size = (15, 40)
    invalid_message = re.escape(
        "input of size 15x40 given; SegNet with 4 pooling stages needs H and W of at least 16 "
        "(each 2x2 max pool halves the size, rounding down, and 2^4 = 16)"
    )
    max_parameters = 20_000


class TestDeconvNet(ModelTests):
    model_factory = staticmethod(partial(DeconvNet, fc_channels=16, **TINY))
    input_size = (32, 48)
    odd_sizes = ((37, 45), (33, 63))
    invalid_size = (31, 64)
    invalid_message = re.escape("needs H and W of at least 32 (fc6 is a valid 2x2 convolution of pool4")
    max_parameters = 20_000


@pytest.mark.parametrize("cls", [SegNet, DeconvNet])
def test_decoder_unpools_with_the_encoders_switches(cls):
    torch.manual_seed(0)
    model = cls(3, **TINY).train()  # batch statistics: untrained, eval-mode activations fade to ~0
    x, other = torch.randn(2, 2, 3, 32, 32).unbind()
    bridge = getattr(model, "fc", torch.nn.Identity())  # DeconvNet's fc6, fc7, deconv-fc6
    with torch.no_grad():
        features, others = model.encoder(x), model.encoder(other)
        bottom = bridge(features.outputs[-1])
        own = model.head(model.decoder(bottom, features.indices, features.sizes))
        swapped = model.head(model.decoder(bottom, others.indices, features.sizes))
        assert torch.equal(own, model(x))
        assert not torch.allclose(own, swapped, atol=1e-2)  # same features, other switches: other output


def test_unpooling_puts_values_back_at_the_maxima():
    torch.manual_seed(0)
    model = SegNet(3, **TINY).eval()
    x = torch.randn(1, 3, 32, 32)
    unpooled = {}
    model.decoder.stages[-1].unpool.register_forward_hook(lambda m, args, out: unpooled.setdefault("map", out))
    with torch.no_grad():
        model(x)
        switches = model.encoder(x).indices[0]  # the finest pool's maxima
    nonzero = unpooled["map"].flatten(2) != 0  # [N, C, H·W]
    at_maxima = torch.zeros_like(nonzero).scatter_(2, switches.flatten(2), True)
    assert not (nonzero & ~at_maxima).any()  # values only where the encoder found its maxima ...
    assert nonzero.sum() > at_maxima.sum() // 4  # ... (some are 0 after the decoder's ReLUs)


def test_decoder_mirrors_the_encoder():
    model = SegNet(3, channels=(4, 8, 16), num_convs=(1, 2, 3))
    assert [len(stage.convs) for stage in model.decoder.stages] == [3, 2, 1]
    assert [stage.convs[-1].conv.out_channels for stage in model.decoder.stages] == [8, 4, 4]
    assert isinstance(DeconvNet(3, **TINY).decoder.stages[0].convs[0].conv, torch.nn.ConvTranspose2d)


def test_odd_sizes_come_back_without_cropping():
    # 37 pools to 18, which also comes from 36; the recorded size says which one to restore
    encoder = VGGEncoder(3, (4, 8), num_convs=1, return_indices=True)
    features = encoder(torch.randn(1, 3, 37, 36))
    assert features.sizes == [(37, 36), (18, 18)]
    out = UnpoolingDecoder((4, 8), num_convs=1)(features.outputs[-1], features.indices, features.sizes)
    assert out.shape[-2:] == (37, 36)


def test_decoder_needs_one_switch_per_stage():
    decoder = UnpoolingDecoder((4, 8), num_convs=1)
    x = torch.zeros(1, 8, 4, 4)
    with pytest.raises(ValueError, match="1 switches and 1 sizes given; this decoder has 2 stages"):
        decoder(x, [torch.zeros(1, 8, 4, 4, dtype=torch.long)], [(8, 8)])


def test_deconvnet_fc6_summarises_pool5():
    model = DeconvNet(3, channels=(4, 8), num_convs=1, fc_channels=16, fc_kernel_size=4).eval()
    pool = model.encoder(torch.randn(1, 3, 17, 16)).outputs[-1]
    assert pool.shape[-2:] == (4, 4)
    assert model.fc[0](pool).shape[-2:] == (1, 1)  # one vector for the whole image, as in the paper
    assert model.fc(pool).shape[-2:] == (4, 4)  # deconv-fc6 brings the pool size back


def test_deconvnet_batch_of_one_in_training_explains_batch_norm():
    model = DeconvNet(3, **TINY, fc_channels=16).train()
    with pytest.raises(ValueError, match="a batch of 1 given in training mode .* call model.eval\\(\\)"):
        model(torch.randn(1, 3, 32, 32))
    assert model.eval()(torch.randn(1, 3, 32, 32)).shape == (1, 3, 32, 32)


def test_bad_arguments():
    with pytest.raises(ValueError, match=re.escape("num_convs (1, 2) given; num_convs must be 4 integers >= 1")):
        SegNet(3, channels=(4, 8, 8, 16), num_convs=(1, 2))
    with pytest.raises(ValueError, match="channels 'wide' given; channels must be one or more integers >= 1"):
        DeconvNet(3, channels="wide")
    with pytest.raises(ValueError, match="fc_kernel_size 0 given"):
        DeconvNet(3, fc_kernel_size=0)


def test_training_step_reduces_the_loss():
    torch.manual_seed(0)
    model = SegNet(2, **TINY)
    x = torch.randn(4, 3, 32, 32)
    target = (x[:, 0] > 0).long()  # learnable from the pixel itself
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
