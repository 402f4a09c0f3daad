from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from segviz.grading.checks import SEED_VARIABLE, check_function, check_value, grading_seed
from segviz.ops import conv_transpose2d_scatter


def conv_case(g):
    x = torch.randn(1, 2, 3, 4, generator=g, dtype=torch.float64)
    w = torch.randn(2, 1, 3, 3, generator=g, dtype=torch.float64)
    stride = int(torch.randint(1, 4, (1,), generator=g))
    return (x, w), {"stride": stride}


def test_reference_against_itself_passes_every_case(capsys):
    result = check_function("q2", "conv_transpose2d", conv_transpose2d_scatter, F.conv_transpose2d, conv_case)
    assert result.ok and (result.passed, result.total) == (12, 12)
    assert capsys.readouterr().out == "q2 conv_transpose2d: PASS 12/12\n"


def test_wrong_answers_fail_with_a_reason():
    def ignores_stride(x, w, stride=1):
        return F.conv_transpose2d(x, w)

    result = check_function("q2", "t", ignores_stride, F.conv_transpose2d, conv_case, quiet=True)
    assert 0 < result.passed < 12  # right only where the drawn stride is 1
    assert result.line().startswith(f"q2 t: FAIL {result.passed}/12 (case ") and "shape" in result.reason

    off_by_a_bit = lambda x, w, stride=1: F.conv_transpose2d(x, w, stride=stride) + 1e-3  # noqa: E731
    result = check_function("q2", "t", off_by_a_bit, F.conv_transpose2d, conv_case, quiet=True)
    assert result.passed == 0 and "largest difference 0.001" in result.reason


def test_stub_is_not_done_and_exceptions_do_not_escape():
    def stub(*args, **kwargs):
        raise NotImplementedError("scatter one kernel copy per input pixel")

    line = check_function("q2", "t", stub, F.conv_transpose2d, conv_case, quiet=True).line()
    assert line == "q2 t: NOT DONE 0/12 (NotImplementedError: scatter one kernel copy per input pixel)"
    crash = check_function("q2", "t", lambda *a, **k: 1 / 0, F.conv_transpose2d, conv_case, quiet=True)
    assert crash.passed == 0 and crash.reason == "case 1: ZeroDivisionError: division by zero"


def test_inplace_edits_by_the_student_cannot_change_the_reference_inputs():
    def vandal(x, w, stride=1):
        out = F.conv_transpose2d(x, w, stride=stride)
        x.zero_()
        return out

    assert check_function("q2", "t", vandal, F.conv_transpose2d, conv_case, quiet=True).ok


def test_seed_comes_from_the_grader_when_set(monkeypatch):
    seen = []

    def record(g):
        seen.append(float(torch.rand(1, generator=g)))
        return (1,), {}

    monkeypatch.delenv(SEED_VARIABLE, raising=False)
    check_function("q", "n", abs, abs, record, cases=1, seed=3, quiet=True)
    check_function("q", "n", abs, abs, record, cases=1, seed=3, quiet=True)
    monkeypatch.setenv(SEED_VARIABLE, "12345")
    check_function("q", "n", abs, abs, record, cases=1, seed=3, quiet=True)
    assert seen[0] == seen[1] != seen[2]
    assert grading_seed(3) == 12345
    monkeypatch.setenv(SEED_VARIABLE, "x")
    with pytest.raises(ValueError, match="SEGVIZ_GRADING_SEED='x' given; it must be a non-negative integer"):
        grading_seed(3)


def test_answers_hard_coded_for_one_seed_fail_under_another(monkeypatch):
    monkeypatch.delenv(SEED_VARIABLE, raising=False)
    cases = []
    check_function("q", "n", lambda x: x.sum(), lambda x: x.sum(),
                   lambda g: (cases.append(torch.randn(3, generator=g)) or (cases[-1],), {}), cases=3, quiet=True)
    memorised = {tuple(c.tolist()): c.sum() for c in cases}
    cheat = lambda x: memorised.get(tuple(x.tolist()), torch.tensor(0.0))  # noqa: E731
    make = lambda g: ((torch.randn(3, generator=g),), {})  # noqa: E731
    assert check_function("q", "n", cheat, lambda x: x.sum(), make, cases=3, quiet=True).ok
    monkeypatch.setenv(SEED_VARIABLE, "99")
    assert not check_function("q", "n", cheat, lambda x: x.sum(), make, cases=3, quiet=True).ok


@pytest.mark.parametrize(
    "student, expected, ok",
    [(11, 11, True), (11.0000001, 11.0, True), ((2, 3), (2, 3), True), ((2, 3), (3, 2), False),
     (torch.ones(2), torch.ones(2), True), (torch.ones(3), torch.ones(2), False), ([1], (1, 2), False)],
)
def test_check_value(student, expected, ok):
    assert check_value("q", "v", student, expected, quiet=True).ok is ok
