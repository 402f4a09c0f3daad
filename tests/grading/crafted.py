"""Crafted submissions: what a student might hand in, each with the score it deserves.

Each case is built from a lab's master (its solutions) or its released student version (its
stubs), changed the way a student would change it. ``expected_lost`` names the exercises the
case must lose; every other exercise must earn its full points.
"""

from __future__ import annotations

import ast
import copy
import io
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import torch

from segviz.grading.labformat import KEY, release


@dataclass
class Case:
    name: str
    nb: nbformat.NotebookNode | bytes
    lost: dict[str, str]  # exercise -> expected status
    reason: dict[str, str] = field(default_factory=dict)  # exercise -> text the reason must contain


@dataclass
class LabSpec:
    """What differs between labs: a wrong formula, the exercise attacked, a reference import."""

    wrong: tuple[str, str]           # exercise, a plausible but wrong solution
    attacked: str                    # an exercise no other exercise depends on
    imports_reference: str           # a solution for `attacked` that calls segviz's implementation
    dependent: tuple[str, str] | None = None  # (exercise, an exercise that calls it)
    extras: bool = False  # also the cases beyond the list (they cost grading time)
    lean: bool = False  # only LEAN_CASES: the grader-wide attacks are already proven on lab01 and lab02


# What every lab must show (a perfect and an empty submission, a wrong answer that the hidden checks
# catch, a screened attack, a reference import, a crash and its cascade), and what the tests of
# test_grader.py look up by name for every lab (stubs, wrong_formula, hard_coded_visible, os_exit).
LEAN_CASES = ("master", "stubs", "wrong_formula", "print_patched", "hard_coded_visible", "os_exit",
              "imports_reference", "crash_with_dependent")


SPECS = {
    "lab01_arithmetic": LabSpec(
        wrong=("q2", "def conv_transpose_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):\n"
                     "    return (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + 1\n"),
        attacked="q3",
        extras=True,
        imports_reference="from segviz.arith import pool_output_size as _pool\n\n"
                          "def pool_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):\n"
                          "    return _pool(size, kernel_size, stride, padding, dilation, ceil_mode)\n",
    ),
    "lab02_transposed_conv": LabSpec(
        wrong=("q5", "import torch\n\ndef bilinear_kernel(factor):\n    size = 2 * factor - factor % 2\n"
                     "    tent = 1 - (torch.arange(size, dtype=torch.float64) - size / 2).abs() / factor\n"
                     "    return tent[:, None] * tent[None, :]\n"),
        attacked="q6",
        imports_reference="import segviz\n\ndef overlap_count(length, kernel_size, stride):\n"
                          "    return segviz.ops.overlap_count((1, length), (1, kernel_size), (1, stride))[0]\n",
        dependent=("q1", "q2"),
    ),
    "lab03_fcn": LabSpec(
        # absent classes counted as 0 instead of left out (nanmean): right on the visible check, where
        # every class is present; wrong on the hidden one
        wrong=("q5", "import torch\n\ndef segmentation_scores(confusion):\n    n = confusion.to(torch.float64)\n"
                     "    correct, true = n.diagonal(), n.sum(1)\n    union = true + n.sum(0) - correct\n"
                     "    accuracy, iou = correct / true.clamp(min=1), correct / union.clamp(min=1)\n"
                     "    return {'pixel_accuracy': float(correct.sum() / true.sum()), 'mean_accuracy': float(accuracy.mean()),\n"
                     "            'mean_iou': float(iou.mean()), 'fw_iou': float((true * iou).sum() / true.sum())}\n"),
        attacked="q4",
        imports_reference="import segviz\n\ndef confusion_matrix(pred, target, num_classes, ignore_index=255):\n"
                          "    return segviz.confusion_matrix(pred, target, num_classes, ignore_index)\n",
        dependent=("q1", "q2"),
        lean=True,
    ),
    "lab04_deeplab": LabSpec(
        # min_k ignored in the threshold form: right on the visible check, whose thresholds are low
        wrong=("q4", "def bootstrapped_cross_entropy(logits, target, top_k=None, threshold=None, min_k=1, ignore_index=255):\n"
                     "    losses = cross_entropy(logits, target, ignore_index, reduction='none').flatten()\n"
                     "    labelled = losses[(target.long() != ignore_index).flatten()]\n"
                     "    if threshold is not None:\n        return labelled[labelled > threshold].mean()\n"
                     "    return labelled.topk(min(top_k, labelled.numel())).values.mean()\n"),
        attacked="q5",
        imports_reference="from segviz import class_weights as _weights\n\n"
                          "def class_weights(target, num_classes, c=1.02, ignore_index=255):\n"
                          "    return _weights(target, num_classes, c, ignore_index)\n",
        dependent=("q3", "q4"),
        lean=True,
    ),
}


def _solution_cell(nb: nbformat.NotebookNode, exercise: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.get("metadata", {}).get(KEY, {}).get("exercise") == exercise
                and c.metadata[KEY].get("role") == "solution")


def _function_name(source: str) -> str:
    return next(n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef))


def _with_solution(nb: nbformat.NotebookNode, exercise: str, source: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    _solution_cell(nb, exercise).source = source
    return nb


def _wrapped(master: nbformat.NotebookNode, exercise: str, body: str) -> nbformat.NotebookNode:
    """The master's solution of ``exercise``, then its function redefined to run ``body``."""
    source = _solution_cell(master, exercise).source
    name = _function_name(source)
    return _with_solution(master, exercise, f"{source}\n\n\ndef {name}(*args, **kwargs):\n{body}\n")


def _visible_table(master: nbformat.NotebookNode, exercise: str) -> dict[str, object]:
    """The answers to the visible check's cases (drawn with the check's own seed): what a student
    who hard-codes the visible cases would write down."""
    recorded = {}

    def recorder(exercise_id, name, student, reference, make_case, *, cases=12, seed=0, **_):
        recorded.update(reference=reference, make_case=make_case, cases=cases, seed=seed)

    namespace: dict[str, object] = {}
    check = next(c for c in master.cells if c.get("metadata", {}).get(KEY, {}).get("exercise") == exercise
                 and c.metadata[KEY].get("role") == "check" and not c.metadata[KEY].get("hidden"))
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in master.cells:
            if cell.cell_type != "code":
                continue
            role = cell.get("metadata", {}).get(KEY, {}).get("role")
            if role == "check" and cell is not check:
                continue
            if cell is check:
                namespace["check_function"] = recorder
            exec(cell.source, namespace)  # noqa: S102 (our own master)
            if cell is check:
                break
    generator = torch.Generator().manual_seed(recorded["seed"])
    table = {}
    for _ in range(recorded["cases"]):
        args, kwargs = recorded["make_case"](generator)
        want = recorded["reference"](*args, **kwargs)
        table[repr((args, sorted(kwargs.items())))] = want.tolist() if isinstance(want, torch.Tensor) else want
    return table


def cases_for(master_path: Path) -> list[Case]:
    master = nbformat.read(master_path, as_version=4)
    student = release(master)
    spec = SPECS[master_path.stem]
    exercises = [c.metadata[KEY]["exercise"] for c in master.cells
                 if c.get("metadata", {}).get(KEY, {}).get("role") == "solution"]
    everything = {e: "not done" for e in exercises}
    attacked = spec.attacked
    name = _function_name(_solution_cell(master, attacked).source)
    cases = [
        Case("master", master, {}),
        Case("stubs", student, everything, {e: "NotImplementedError" for e in exercises}),
        Case("wrong_formula", _with_solution(master, spec.wrong[0], spec.wrong[1]), {spec.wrong[0]: "failed"}),
    ]

    # stubs whose check cells show the master's PASS lines (visible ones edited, hidden ones pasted in)
    edited = copy.deepcopy(student)
    for cell, original in zip((c for c in edited.cells if c.get("metadata", {}).get(KEY, {}).get("role") == "check"),
                              (c for c in master.cells if c.get("metadata", {}).get(KEY, {}).get("role") == "check"
                               and not c.metadata[KEY].get("hidden"))):
        cell.outputs = copy.deepcopy(original.outputs)
    hidden = [copy.deepcopy(c) for c in master.cells if c.get("metadata", {}).get(KEY, {}).get("hidden")]
    edited.cells.extend(hidden)
    cases.append(Case("edited_outputs", edited, everything))

    deleted = copy.deepcopy(master)
    deleted.cells = [c for c in deleted.cells if c.get("metadata", {}).get(KEY, {}).get("role") != "check"]
    cases.append(Case("deleted_checks", deleted, {}))

    modified = copy.deepcopy(student)
    for cell in modified.cells:
        if cell.get("metadata", {}).get(KEY, {}).get("role") == "check":
            text = "".join(o.get("text", "") for o in cell.outputs)
            cell.source = f"print({text.strip()!r})"
    cases.append(Case("modified_checks", modified, everything))

    patch = ("import builtins\n_real_print = builtins.print\n"
             "builtins.print = lambda *a, **k: _real_print(*(str(x).replace('FAIL', 'PASS') for x in a), **k)\n\n")
    cases.append(Case("print_patched", _with_solution(master, attacked, patch + _solution_cell(master, attacked).source),
                      {attacked: "screened"}, {attacked: "builtins"}))
    table = _visible_table(master, attacked)
    lookup = (f"_ANSWERS = {table!r}\n\n\ndef {name}(*args, **kwargs):\n"
              "    import torch\n    answer = _ANSWERS.get(repr((args, sorted(kwargs.items()))), 1)\n"
              "    return torch.tensor(answer) if isinstance(answer, list) else answer\n")
    cases.append(Case("hard_coded_visible", _with_solution(master, attacked, lookup), {attacked: "failed"}))
    cases.append(Case("infinite_loop", _wrapped(master, attacked, "    while True:\n        pass"), {attacked: "timeout"}))
    cases.append(Case("os_exit", _wrapped(master, attacked, "    import os\n    os._exit(1)"), {attacked: "crashed"},
                      {attacked: "exit code 1"}))
    cases.append(Case("imports_reference", _with_solution(master, attacked, spec.imports_reference),
                      {attacked: "screened"}, {attacked: "implementation this exercise is compared with"}))
    if spec.dependent:
        base, user = spec.dependent
        cases.append(Case("crash_with_dependent", _wrapped(master, base, "    import os\n    os._exit(1)"),
                          {base: "crashed", user: "crashed"}))
    if spec.lean:
        cases = [case for case in cases if case.name in LEAN_CASES]
    if not spec.extras:
        return cases
    cases.append(Case("print_rebound", _with_solution(master, attacked, "print = lambda *a, **k: None\n\n"
                                                      + _solution_cell(master, attacked).source),
                      {attacked: "screened"}, {attacked: "print"}))
    cases.append(Case("os_exit_at_definition", _with_solution(master, attacked, "import os\nos._exit(1)\n"),
                      {attacked: "crashed"}, {attacked: "solution cell crashed"}))
    cases.append(Case("segfault", _wrapped(master, attacked, "    import ctypes\n    return ctypes.string_at(0)"),
                      {attacked: "crashed"}, {attacked: "SIGSEGV"}))
    missing = copy.deepcopy(master)
    missing.cells.remove(_solution_cell(missing, attacked))
    cases.append(Case("missing_cell", missing, {attacked: "missing"}, {attacked: "no solution cell"}))
    cases.append(Case("not_a_notebook", b"{ this is not json", {e: "missing" for e in exercises},
                      {e: "could not be read" for e in exercises}))
    return cases


def write_cases(cases: list[Case], folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case in cases:
        path = folder / f"{case.name}.ipynb"
        if isinstance(case.nb, bytes):
            path.write_bytes(case.nb)
        else:
            nbformat.write(case.nb, path)
        paths[case.name] = path
    return paths
