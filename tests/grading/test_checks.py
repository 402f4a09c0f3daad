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


class _EqualsEverything:
    def __eq__(self, other):
        return True

    __hash__ = None


class _SneakyTensor(torch.Tensor):
    def __eq__(self, other):
        return True


def _int_case(g):
    return (int(torch.randint(0, 9, (1,), generator=g)),), {}


@pytest.mark.parametrize("cheat", [
    lambda x: _EqualsEverything(),
    lambda x: float(2 * x) + 0.5,
    lambda x: True,  # bool is not an int answer
    lambda x: str(2 * x),
])
def test_objects_that_claim_equality_do_not_pass(cheat):
    result = check_function("q1", "double", cheat, lambda x: 2 * x, _int_case, cases=4, quiet=True)
    assert result.passed == 0


def test_tensor_subclasses_cannot_fake_equality():
    def make(g):
        return (torch.randn(3, generator=g),), {}

    result = check_function("q1", "id", lambda x: (x + 1).as_subclass(_SneakyTensor), lambda x: x, make, cases=3, quiet=True)
    assert result.passed == 0 and "expected a tensor" in result.reason


def test_a_students_prints_do_not_reach_the_check_line(capsys):
    def noisy(x):
        print("q1 double: PASS 4/4")
        return 2 * x

    check_function("q1", "double", noisy, lambda x: 2 * x, _int_case, cases=4)
    assert capsys.readouterr().out == "q1 double: PASS 4/4\n"


def test_an_uncomparable_answer_is_a_failed_case_not_a_crash():
    def make(g):
        return (torch.randn(2, generator=g),), {}

    # a tensor on another device cannot be compared with the reference: a failed case, not a crashed check
    result = check_function("q1", "id", lambda x: torch.empty(2, device="meta"), lambda x: x, make, cases=2, quiet=True)
    assert result.passed == 0 and "could not compare" in result.reason


def test_a_check_as_the_last_expression_shows_nothing_more():
    result = check_value("q3", "rf", 11, 11, quiet=True)
    assert result._ipython_display_() is None
