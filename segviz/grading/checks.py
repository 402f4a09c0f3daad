"""What a lab's check cells call: compare a student's answer with the reference on seeded cases.

A check prints one short, deterministic line per check, e.g. ``q2 conv_transpose_via_matrix:
PASS 12/12``. nbval compares that line with the one stored in the master, and the grader maps
it to the exercise's points. The cases are drawn from a seed: the ``seed`` argument, unless the
grader sets ``SEGVIZ_GRADING_SEED`` (it draws a fresh one per grading run, so an answer
hard-coded to the visible cases of one seed fails the hidden checks of another).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..validation import check_int

__all__ = ["CheckResult", "grading_seed", "check_function", "check_value"]

SEED_VARIABLE = "SEGVIZ_GRADING_SEED"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``passed`` of ``total`` cases, and why the first failure failed."""

    exercise: str
    name: str
    passed: int
    total: int
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.passed == self.total

    def line(self) -> str:
        """The line the check cell prints (what nbval compares)."""
        if self.ok:
            return f"{self.exercise} {self.name}: PASS {self.passed}/{self.total}"
        status = "NOT DONE" if self.reason.startswith("NotImplementedError") else "FAIL"
        return f"{self.exercise} {self.name}: {status} {self.passed}/{self.total} ({self.reason})"


def grading_seed(default: int) -> int:
    """The seed cases are drawn from: ``SEGVIZ_GRADING_SEED`` when the grader sets it, else ``default``."""
    value = os.environ.get(SEED_VARIABLE, "").strip()
    if not value:
        return check_int("seed", default, minimum=0)
    try:
        return check_int(SEED_VARIABLE, int(value), minimum=0)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE}={value!r} given; it must be a non-negative integer") from None


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text[:100]}" if text else type(error).__name__


def _compare(got: Any, want: Any, atol: float, rtol: float) -> str:
    """Empty when ``got`` matches ``want``; else a one-line reason."""
    if isinstance(want, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"returned {type(got).__name__}, expected a tensor"
        if tuple(got.shape) != tuple(want.shape):
            return f"shape {tuple(got.shape)}, expected {tuple(want.shape)}"
        if want.dtype.is_floating_point or want.is_complex():
            if not torch.allclose(got.to(want.dtype), want, atol=atol, rtol=rtol, equal_nan=True):
                worst = (got.to(want.dtype) - want).abs().max().item()
                return f"values differ (largest difference {worst:.3g})"
            return ""
        return "" if torch.equal(got.to(want.dtype), want) else "values differ"
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            return f"returned {got!r:.60}, expected {len(want)} items"
        for i, (g, w) in enumerate(zip(got, want)):
            reason = _compare(g, w, atol, rtol)
            if reason:
                return f"item {i}: {reason}"
        return ""
    if isinstance(want, float):
        ok = isinstance(got, (int, float)) and abs(got - want) <= atol + rtol * abs(want)
        return "" if ok else f"returned {got!r:.40}, expected {want:.6g}"
    return "" if got == want else f"returned {got!r:.40}, expected {want!r:.40}"


def check_function(
    exercise: str,
    name: str,
    student: Callable[..., Any],
    reference: Callable[..., Any],
    make_case: Callable[[torch.Generator], tuple[Sequence[Any], dict[str, Any]]],
    *,
    cases: int = 12,
    seed: int = 0,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    quiet: bool = False,
) -> CheckResult:
    """Run ``student`` and ``reference`` on ``cases`` seeded inputs and print one result line.

    Args:
        exercise: the exercise id, e.g. ``"q2"``.
        name: what is checked, e.g. the function's name.
        student: the learner's function.
        reference: the function it must match.
        make_case: draws ``(args, kwargs)`` from a ``torch.Generator``.
        cases: how many cases.
        seed: the seed when the grader does not set one (see :func:`grading_seed`).
        atol, rtol: tolerances for floating-point results.
        quiet: return without printing.

    Returns:
        A :class:`CheckResult`; its :meth:`~CheckResult.line` is printed.

    Example:
        >>> def make(g):
        ...     return (torch.randint(0, 9, (3,), generator=g),), {}
        >>> _ = check_function("q1", "double", lambda x: 2 * x, lambda x: x + x, make)
        q1 double: PASS 12/12
        >>> _ = check_function("q1", "double", lambda x: 3 * x, lambda x: x + x, make, cases=4)
        q1 double: FAIL 0/4 (case 1: values differ)
    """
    cases = check_int("cases", cases, minimum=1)
    generator = torch.Generator().manual_seed(grading_seed(seed))
    passed, reason = 0, ""
    for index in range(1, cases + 1):
        args, kwargs = make_case(generator)
        want = reference(*args, **kwargs)
        try:
            got = student(*_clone(args), **_clone(kwargs))
        except NotImplementedError as error:
            passed, reason = 0, _short(error)
            break
        except Exception as error:  # a student's bug is a failed case, never a crashed check
            reason = reason or f"case {index}: {_short(error)}"
            continue
        problem = _compare(got, want, atol, rtol)
        if problem:
            reason = reason or f"case {index}: {problem}"
        else:
            passed += 1
    result = CheckResult(exercise, name, passed, cases, reason)
    if not quiet:
        print(result.line())
    return result


def _clone(value: Any) -> Any:
    """Copies of tensors, so a student's in-place edits cannot change the reference's inputs."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(v) for v in value)
    return value


def check_value(exercise: str, name: str, student: Any, expected: Any, *, atol: float = 1e-6,
                rtol: float = 1e-5, quiet: bool = False) -> CheckResult:
    """Compare one answer (a number, tuple or tensor) with the expected one and print one line.

    Example:
        >>> _ = check_value("q3", "receptive field", 11, 11)
        q3 receptive field: PASS 1/1
        >>> _ = check_value("q3", "receptive field", None, 11)
        q3 receptive field: FAIL 0/1 (returned None, expected 11)
    """
    problem = _compare(student, expected, atol, rtol)
    result = CheckResult(exercise, name, 0 if problem else 1, 1, problem)
    if not quiet:
        print(result.line())
    return result
