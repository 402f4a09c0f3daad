"""The lab format: which cells of an instructor master are solutions and checks, and releasing it.

A master (``labs/source/labNN_topic.ipynb``) marks its graded cells in cell metadata, never by
cell id or position (ids change when cells are copied between notebooks)::

    "metadata": {"segviz": {"exercise": "q2", "role": "solution", "points": 3,
                            "hint": "scatter one weighted kernel copy per input pixel"}}
    "metadata": {"segviz": {"exercise": "q2", "role": "check", "hidden": true}}

``role`` is ``"solution"`` (the student's code replaces it) or ``"check"`` (comes from the master
when grading; ``hidden`` checks are not released). ``points`` sit on the solution cell: the
exercise earns them when all its checks pass. For partial credit, give every check cell of the
exercise its own ``points`` (they must add up to the solution's). A solution cell may also list
``forbid``: dotted names its code may not use (``["torch.nn.functional.conv_transpose2d"]``), on
top of the segviz references its checks compare with (see :mod:`segviz.grading.screening`).
Check cells carry the ``nbval-check-output`` tag, so nbval compares their outputs.
:func:`release` turns a master into the student version: solution bodies become stubs that
raise ``NotImplementedError`` with the hint, hidden checks disappear, and each visible check
keeps its stored output, also written out in a markdown cell beneath it (a student's own save
overwrites stored outputs; the markdown keeps the target visible).
"""

from __future__ import annotations

import ast
import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

__all__ = ["LabCell", "lab_cells", "stub_source", "release", "release_path", "write_release"]

KEY = "segviz"
ROLES = ("solution", "check")


@dataclass(frozen=True)
class LabCell:
    """A graded cell of a master: where it is and what it is for."""

    index: int
    exercise: str
    role: str
    points: int
    hidden: bool
    hint: str


def _where(index: int, cell: Any) -> str:
    first = cell.source.strip().splitlines()[0][:50] if cell.source.strip() else "<empty>"
    return f"cell {index} ({first!r})"


def lab_cells(nb: nbformat.NotebookNode) -> list[LabCell]:
    """The graded cells of a master, validated.

    Raises:
        ValueError: a cell's ``segviz`` metadata is incomplete or inconsistent; the message names
            the cell and the field that would fix it.
    """
    found: list[LabCell] = []
    solutions: set[str] = set()
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get(KEY)
        if meta is None:
            continue
        where = _where(index, cell)
        if cell.cell_type != "code":
            raise ValueError(f"{where} is {cell.cell_type} with segviz metadata; only code cells are graded")
        exercise, role = meta.get("exercise"), meta.get("role")
        if not isinstance(exercise, str) or not exercise.isidentifier():
            raise ValueError(f"{where}: exercise {exercise!r} given; use an identifier such as 'q1'")
        if role not in ROLES:
            raise ValueError(f"{where}: role {role!r} given; role must be one of {', '.join(map(repr, ROLES))}")
        points = meta.get("points", 0)
        if role == "check" and (not isinstance(points, int) or isinstance(points, bool) or points < 0):
            raise ValueError(f"{where}: points {points!r} given; a check cell's points must be an integer >= 0")
        if role == "solution":
            if "points" not in meta:
                raise ValueError(f"{where}: no points given; a solution cell needs points >= 1")
            if not isinstance(points, int) or isinstance(points, bool) or points < 1:
                raise ValueError(f"{where}: points {points!r} given; a solution cell needs points >= 1")
            if exercise in solutions:
                raise ValueError(f"{where}: a second solution cell for exercise {exercise!r}; merge them into one")
            solutions.add(exercise)
        found.append(LabCell(index, exercise, role, int(points),
                             bool(meta.get("hidden", False)), str(meta.get("hint", ""))))
    for cell in found:
        if cell.role == "check" and cell.exercise not in solutions:
            raise ValueError(f"check of exercise {cell.exercise!r} at cell {cell.index} has no solution cell")
    if not solutions:
        raise ValueError("no solution cells found: mark them with metadata {'segviz': {'exercise': 'q1', 'role': 'solution', 'points': 1}}")
    return found


def stub_source(source: str, hint: str = "") -> str:
    """A solution cell's source with every top-level function body replaced by a stub.

    Imports stay; each function keeps its signature and docstring and raises
    ``NotImplementedError`` with ``hint``; top-level assignments keep their target with the
    value ``None`` (an exercise that asks for a number). Anything else is dropped, since it
    could reveal the solution.

    Example:
        >>> print(stub_source('import torch\\n\\ndef f(x: int) -> int:\\n    \"\"\"Double it.\"\"\"\\n    return 2 * x\\n', "multiply"))
        import torch
        <BLANKLINE>
        def f(x: int) -> int:
            \"\"\"Double it.\"\"\"
            raise NotImplementedError('multiply')
    """
    tree = ast.parse(source)
    message = hint or "write your solution here"
    body: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            body.append(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stub = copy.deepcopy(node)
            docstring = ast.get_docstring(node, clean=False)
            raise_stmt = ast.parse(f"raise NotImplementedError({message!r})").body[0]
            stub.body = ([ast.Expr(ast.Constant(docstring))] if docstring is not None else []) + [raise_stmt]
            body.append(stub)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            stub = copy.deepcopy(node)
            stub.value = ast.Constant(None)
            body.append(stub)
    parts = []
    for node in body:
        text = ast.unparse(ast.fix_missing_locations(node))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and parts:
            text = "\n" + text
        parts.append(text)
    return "\n".join(parts) + "\n"


def stream_text(outputs: Any, name: str = "stdout") -> str:
    """What a cell's outputs wrote to one stream (``"stdout"`` or ``"stderr"``), joined.

    Example:
        >>> stream_text([{"output_type": "stream", "name": "stdout", "text": "q1 f: PASS 1/1\\n"},
        ...              {"output_type": "stream", "name": "stderr", "text": "a warning\\n"}])
        'q1 f: PASS 1/1\\n'
    """
    return "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream" and o.get("name") == name)


def without_stderr(outputs: Any) -> list[Any]:
    """The outputs minus stderr streams (warnings never decide whether a checked cell passes)."""
    return [o for o in outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _expected_markdown(cell: Any, exercise: str) -> nbformat.NotebookNode:
    text = stream_text(cell.get("outputs", []))
    block = text.rstrip("\n") or "(no output)"
    md = nbformat.v4.new_markdown_cell(f"Expected output of the check above when exercise `{exercise}` is right:\n\n```\n{block}\n```")
    md.metadata[KEY] = {"exercise": exercise, "role": "expected"}
    return md


def release(master: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student version of a master notebook (a new notebook; the master is not changed)."""
    graded = {c.index: c for c in lab_cells(master)}
    student = copy.deepcopy(master)
    cells = []
    for index, cell in enumerate(student.cells):
        lab = graded.get(index)
        if lab is not None and lab.role == "check" and lab.hidden:
            continue
        if cell.cell_type == "code":
            cell.execution_count = None if lab is None or lab.role != "check" else cell.execution_count
        if lab is not None and lab.role == "solution":
            cell.source = stub_source(cell.source, lab.hint)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata[KEY] = {k: v for k, v in cell.metadata[KEY].items() if k != "hint"}
        elif lab is not None and lab.role == "check":
            cells.append(cell)
            cells.append(_expected_markdown(cell, lab.exercise))
            continue
        elif cell.cell_type == "code":
            cell.outputs = []
        cells.append(cell)
    for i, cell in enumerate(cells):
        cell["id"] = f"c{i:02d}"
        cell.metadata.pop("execution", None)
    student.cells = cells
    student.metadata.pop("widgets", None)
    return student


def release_path(master_path: Path) -> Path:
    """``labs/source/labNN_topic.ipynb`` → ``labs/labNN_topic.ipynb``."""
    master_path = Path(master_path)
    if master_path.parent.name != "source":
        raise ValueError(f"master {str(master_path)!r} given; masters live in labs/source/, e.g. labs/source/lab01_arithmetic.ipynb")
    return master_path.parent.parent / master_path.name


def write_release(master_path: Path, out_path: Path | None = None) -> Path:
    """Release ``master_path`` to ``out_path`` (default :func:`release_path`); returns the path written."""
    master_path = Path(master_path)
    if not master_path.is_file():
        raise ValueError(f"master {str(master_path)!r} given; no such notebook")
    out = Path(out_path) if out_path is not None else release_path(master_path)
    student = release(nbformat.read(master_path, as_version=4))
    nbformat.validate(student)
    text = nbformat.writes(student)
    write_text_atomic(out, text if text.endswith("\n") else text + "\n")
    return out
