"""What a lab's check cells call: compare a student's answer with the reference on seeded cases.

A check prints one short, deterministic line per check, e.g. ``q2 conv_transpose_via_matrix:
PASS 12/12``. nbval compares that line with the one stored in the master, and the grader maps
it to the exercise's points. The cases are drawn from a seed: the ``seed`` argument, unless the
grader sets ``SEGVIZ_GRADING_SEED`` (it draws a fresh one per grading run, so an answer
hard-coded to the visible cases of one seed fails the hidden checks of another).
"""

from __future__ import annotations

import contextlib
import io
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

    def _ipython_display_(self) -> None:
        """Show nothing when a check is a cell's last expression: the printed line says it all."""

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
    return f"{type(error).__name__}: {text[:240]}" if text else type(error).__name__


def _compare(got: Any, want: Any, atol: float, rtol: float) -> str:
    """Empty when ``got`` matches ``want``; else a one-line reason.

    Types are checked before values, so an object that claims to equal everything (``__eq__``
    returning True) or a tensor subclass that overrides comparisons never passes.
    """
    if isinstance(want, torch.Tensor):
        if type(got) not in (torch.Tensor, torch.nn.Parameter):
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
        if type(got) not in (tuple, list) or len(got) != len(want):
            return f"returned {_show(got)}, expected {len(want)} items"
        for i, (g, w) in enumerate(zip(got, want)):
            reason = _compare(g, w, atol, rtol)
            if reason:
                return f"item {i}: {reason}"
        return ""
    if isinstance(want, float):
        ok = type(got) in (int, float) and abs(got - want) <= atol + rtol * abs(want)
        return "" if ok else f"returned {_show(got)}, expected {want:.6g}"
    if isinstance(want, bool) or want is None:
        return "" if got is want else f"returned {_show(got)}, expected {want!r}"
    if isinstance(want, int):
        return "" if type(got) is int and got == want else f"returned {_show(got)}, expected {want!r}"
    if type(got) is not type(want):
        return f"returned {type(got).__name__}, expected {type(want).__name__}"
    return "" if got == want else f"returned {_show(got)}, expected {_show(want)}"


def _safe_compare(got: Any, want: Any, atol: float, rtol: float) -> str:
    try:
        return _compare(got, want, atol, rtol)
    except Exception as error:  # e.g. a tensor on another device: a failed case, not a crashed check
        return f"could not compare ({_short(error)})"


def _show(value: Any) -> str:
    """A short repr that cannot run a student's ``__repr__`` (which could print or loop)."""
    if type(value) in (int, float, bool, str, type(None)):
        return repr(value)[:40]
    return f"a {type(value).__name__}"


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
        try:
            # the student runs first and on copies, so nothing it does can see or change the answer;
            # what it prints is swallowed, so debugging prints cannot spoil the check's line
            with contextlib.redirect_stdout(io.StringIO()):
                got = student(*_clone(args), **_clone(kwargs))
        except NotImplementedError as error:
            passed, reason = 0, _short(error)
            break
        except Exception as error:  # a student's bug is a failed case, never a crashed check
            reason = reason or f"case {index}: {_short(error)}"
            continue
        want = reference(*args, **kwargs)
        problem = _safe_compare(got, want, atol, rtol)
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
    problem = _safe_compare(student, expected, atol, rtol)
    result = CheckResult(exercise, name, 0 if problem else 1, 1, problem)
    if not quiet:
        print(result.line())
    return result
