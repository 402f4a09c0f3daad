"""The tests every segmentation model passes; each model's test file subclasses ModelTests.

A subclass sets ``model_factory`` (called as ``model_factory(num_classes=..., in_channels=...)``,
wrapped in ``staticmethod``), ``input_size`` and the other attributes below, with small
channel counts so the whole set runs in seconds on a CPU.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
import torch
import torch.nn.functional as F
from torch import nn


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class ModelTests:
    """Shared checks: sizes, gradients, num_classes, batch of 1, bad inputs, determinism, size.

    Attributes:
        model_factory: builds the model from keyword arguments ``num_classes`` and ``in_channels``.
        input_size: an ``(H, W)`` the model maps to an output of the same size.
        num_classes: classes of the model under test.
        in_channels: image channels.
        batch_size: batch used in training mode (batch norm needs 2 for some 1x1 maps).
        odd_sizes: other sizes (odd, not multiples of the stride) whose output has the input's size.
        invalid_size: an ``(H, W)`` the model must refuse, or ``None``.
        invalid_message: a regular expression the refusal's message must match.
        max_parameters: a bound that keeps the test model CPU-sized.
    """

    model_factory: ClassVar[Callable[..., nn.Module]]
    input_size: ClassVar[tuple[int, int]] = (64, 64)
    num_classes: ClassVar[int] = 5
    in_channels: ClassVar[int] = 3
    batch_size: ClassVar[int] = 2
    odd_sizes: ClassVar[tuple[tuple[int, int], ...]] = ()
    invalid_size: ClassVar[tuple[int, int] | None] = None
    invalid_message: ClassVar[str] = ""
    max_parameters: ClassVar[int] = 200_000

    def make(self, seed: int = 0, **kwargs: Any) -> nn.Module:
        """The model under test, built from its own seed (so every test sees the same weights)."""
        kwargs = {"num_classes": self.num_classes, "in_channels": self.in_channels, **kwargs}
        torch.manual_seed(seed)
        return self.model_factory(**kwargs)

    def images(self, size: tuple[int, int] | None = None, batch: int | None = None, channels: int | None = None,
               seed: int = 1) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        shape = (batch or self.batch_size, channels or self.in_channels, *(size or self.input_size))
        return torch.randn(*shape, generator=generator)

    # ---- sizes -----------------------------------------------------------------------------

    def test_output_has_input_size_and_num_classes(self):
        out = self.make()(self.images())
        assert out.shape == (self.batch_size, self.num_classes, *self.input_size)
        assert out.dtype == torch.float32 and torch.isfinite(out).all()

    def test_odd_sizes_are_handled_or_refused_with_a_useful_message(self):
        assert self.odd_sizes or self.invalid_size, "declare the sizes the model handles or one it refuses"
        model = self.make().eval()
        for size in self.odd_sizes:  # handled: the output keeps the input's size
            assert model(self.images(size, batch=1)).shape[-2:] == size, size
        if self.invalid_size is not None:  # refused: the message says what would work
            with pytest.raises(ValueError, match=self.invalid_message):
                model(self.images(self.invalid_size, batch=1))

    @pytest.mark.parametrize("num_classes", [2, 7])
    def test_num_classes_is_honoured(self, num_classes):
        out = self.make(num_classes=num_classes).eval()(self.images(batch=1))
        assert out.shape[1] == num_classes

    # ---- training ----------------------------------------------------------------------------

    def test_backward_reaches_every_trainable_parameter(self):
        model = self.make().train()
        out = model(self.images())
        target = torch.randint(0, self.num_classes, (out.shape[0], *out.shape[2:]),
                               generator=torch.Generator().manual_seed(2))
        F.cross_entropy(out, target).backward()
        trainable = {name: p for name, p in model.named_parameters() if p.requires_grad}
        assert trainable
        missing = [name for name, p in trainable.items() if p.grad is None or not p.grad.abs().sum() > 0]
        assert not missing, f"no gradient reaches {missing}"
        frozen = [name for name, p in model.named_parameters() if not p.requires_grad and p.grad is not None]
        assert not frozen, f"frozen parameters got gradients: {frozen}"

    def test_deterministic_under_a_fixed_seed(self):
        outputs = []
        for _ in range(2):
            model = self.make(seed=3).train()  # training mode: dropout draws random numbers too
            torch.manual_seed(4)
            outputs.append(model(self.images()))
        assert torch.equal(outputs[0], outputs[1])
        other = self.make(seed=5).train()
        torch.manual_seed(4)
        assert not torch.equal(other(self.images()), outputs[0])  # the seed matters

    # ---- prediction --------------------------------------------------------------------------

    def test_batch_of_one_in_eval_mode(self):
        model = self.make().eval()
        x = self.images()
        with torch.no_grad():
            single = model(x[:1])
            batched = model(x)
        assert single.shape == (1, self.num_classes, *self.input_size)
        torch.testing.assert_close(single, batched[:1], rtol=1e-4, atol=1e-5)  # no image sees another

    # ---- bad input ---------------------------------------------------------------------------

    def test_wrong_channel_count_is_refused(self):
        model = self.make().eval()
        wrong = self.in_channels + 1
        with pytest.raises(ValueError, match=re.escape(f"in_channels={self.in_channels}")) as info:
            model(self.images(batch=1, channels=wrong))
        assert f"{wrong}" in str(info.value)

    def test_other_in_channels(self):
        model = self.make(in_channels=1).eval()
        assert model(self.images(batch=1, channels=1)).shape[1] == self.num_classes

    def test_not_a_batch_of_images_is_refused(self):
        model = self.make().eval()
        with pytest.raises(ValueError, match=re.escape(f"must have 4 dimensions [N, {self.in_channels}, H, W]")):
            model(self.images()[0])
        with pytest.raises(ValueError, match="torch.Tensor"):
            model(self.images().numpy())

    # ---- size --------------------------------------------------------------------------------

    def test_small_enough_for_a_cpu(self):
        count = parameter_count(self.make())
        assert 0 < count <= self.max_parameters, f"{count} parameters; the test model should have at most {self.max_parameters}"
