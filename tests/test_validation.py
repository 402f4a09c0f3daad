from __future__ import annotations

import numpy as np
import pytest
import torch

from segviz.validation import check_choice, check_int, check_ndim, check_number, check_pair


@pytest.mark.parametrize("value", [3, np.int64(3), torch.tensor(3), np.array(3)])
def test_check_int_accepts_integers_of_any_library(value):
    assert check_int("k", value) == 3 and type(check_int("k", value)) is int


@pytest.mark.parametrize(
    "value, message",
    [
        (0, "stride 0 given; stride must be an integer >= 1"),
        (2.0, "stride 2.0 given; stride must be an integer >= 1"),
        (True, "stride True given; stride must be an integer >= 1"),
        ("2", "stride '2' given; stride must be an integer >= 1"),
        (torch.tensor(2.5), "stride tensor(2.5000) given"),
    ],
)
def test_check_int_message_quotes_input_and_rule(value, message):
    with pytest.raises(ValueError) as info:
        check_int("stride", value, minimum=1)
    assert message in str(info.value)


def test_check_int_bounds_both_sides():
    assert check_int("p", 4, minimum=0, maximum=4) == 4
    with pytest.raises(ValueError, match="p 5 given; p must be an integer between 0 and 4"):
        check_int("p", 5, minimum=0, maximum=4)
    with pytest.raises(ValueError, match="p 9 given; p must be an integer <= 4"):
        check_int("p", 9, maximum=4)


def test_check_number():
    assert check_number("lr", 1) == 1.0
    with pytest.raises(ValueError, match="lr nan given"):
        check_number("lr", float("nan"))
    with pytest.raises(ValueError, match="lr 'fast' given; lr must be a number >= 0"):
        check_number("lr", "fast", minimum=0)


def test_check_choice_lists_choices():
    with pytest.raises(ValueError, match="mode 'x' given; mode must be one of 'a', 'b'"):
        check_choice("mode", "x", ("a", "b"))


def test_check_pair():
    assert check_pair("k", [2, 3], minimum=1) == (2, 3)
    with pytest.raises(ValueError, match=r"k \(1, 2, 3\) given; k must be an integer >= 1 or a pair of them"):
        check_pair("k", (1, 2, 3), minimum=1)
    with pytest.raises(ValueError, match="or a pair of them"):
        check_pair("k", 0, minimum=1)


def test_check_ndim_names_the_layout():
    x = torch.zeros(1, 3, 4, 4)
    assert check_ndim("x", x, (3, 4)) is x
    with pytest.raises(ValueError, match=r"x of shape \(4, 4\) given; x must have 3 or 4 dimensions \[C, H, W\]"):
        check_ndim("x", torch.zeros(4, 4), (3, 4), "[C, H, W]")
    with pytest.raises(ValueError, match="x 5 given; x must be a tensor or array"):
        check_ndim("x", 5, 2)
