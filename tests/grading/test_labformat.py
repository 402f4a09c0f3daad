from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

from segviz.cli import main
from segviz.grading.labformat import lab_cells, release, release_path, stub_source, write_release

ROOT = Path(__file__).resolve().parents[2]


def _code(source, meta=None, outputs=None):
    cell = nbformat.v4.new_code_cell(source)
    if meta is not None:
        cell.metadata["segviz"] = meta
    if outputs is not None:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=outputs)]
        cell.execution_count = 1
    return cell


def make_master():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Lab 99 — doubling"),
        _code("import math", outputs="setup output\n"),
        _code('def double(x):\n    """Twice x."""\n    # the secret trick\n    return 2 * x\n',
              {"exercise": "q1", "role": "solution", "points": 2, "hint": "multiply by two"}),
        _code("print('q1 double: PASS', double(2) == 4)", {"exercise": "q1", "role": "check"}, outputs="q1 double: PASS True\n"),
        _code("assert double(21) == 42", {"exercise": "q1", "role": "check", "hidden": True}),
        _code("ANSWER: int = 42\nHELPER = [1, 2]\nprint(ANSWER)", {"exercise": "q2", "role": "solution", "points": 1}),
        _code("assert ANSWER == 42", {"exercise": "q2", "role": "check", "hidden": True}),
    ]
    return nb


def test_lab_cells_reads_roles_points_and_hidden():
    cells = lab_cells(make_master())
    assert [(c.index, c.exercise, c.role, c.points, c.hidden) for c in cells] == [
        (2, "q1", "solution", 2, False), (3, "q1", "check", 0, False), (4, "q1", "check", 0, True),
        (5, "q2", "solution", 1, False), (6, "q2", "check", 0, True),
    ]


def test_release_stubs_solutions_drops_hidden_checks_and_states_expected_output():
    master = make_master()
    before = copy.deepcopy(master)
    student = release(master)
    assert master == before, "release must not modify the master"
    sources = [c.source for c in student.cells]
    assert not any("assert double(21)" in s or "assert ANSWER" in s for s in sources), "hidden checks leaked"
    assert not any("2 * x" in s or "secret trick" in s or "42" in s.split("print")[0] for s in sources if "def double" in s or "ANSWER" in s)
    # the stub raises NotImplementedError with the hint, and keeps the docstring
    namespace = {}
    exec(student.cells[2].source, namespace)
    assert namespace["double"].__doc__ == "Twice x."
    with pytest.raises(NotImplementedError, match="multiply by two"):
        namespace["double"](3)
    namespace = {}
    exec(student.cells[5].source, namespace)
    assert namespace["ANSWER"] is None and namespace["HELPER"] is None
    # the visible check keeps its output and is followed by the expected output in markdown
    check, expected = student.cells[3], student.cells[4]
    assert check.outputs[0]["text"] == "q1 double: PASS True\n"
    assert expected.cell_type == "markdown" and "q1 double: PASS True" in expected.source
    assert expected.metadata["segviz"] == {"exercise": "q1", "role": "expected"}
    # ordinary code cells lose their outputs; solution metadata keeps what grading needs, not the hint
    assert student.cells[1].outputs == []
    assert student.cells[2].metadata["segviz"] == {"exercise": "q1", "role": "solution", "points": 2}
    assert [c["id"] for c in student.cells] == [f"c{i:02d}" for i in range(len(student.cells))]
    nbformat.validate(student)


def test_release_is_deterministic():
    assert release(make_master()) == release(make_master())


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda nb: nb.cells[2].metadata["segviz"].pop("points"), "no points given; a solution cell needs points >= 1"),
        (lambda nb: nb.cells[2].metadata["segviz"].update(points=0), "points 0 given; a solution cell needs points >= 1"),
        (lambda nb: nb.cells[2].metadata["segviz"].update(role="answer"), "role 'answer' given; role must be one of"),
        (lambda nb: nb.cells[2].metadata["segviz"].update(exercise="q 1"), "exercise 'q 1' given; use an identifier"),
        (lambda nb: nb.cells[5].metadata["segviz"].update(exercise="q1"), "a second solution cell for exercise 'q1'"),
        (lambda nb: nb.cells[6].metadata["segviz"].update(exercise="q3"), "check of exercise 'q3' at cell 6 has no solution cell"),
        (lambda nb: nb.cells[0].metadata.update(segviz={"exercise": "q1", "role": "check"}), "is markdown with segviz metadata"),
        (lambda nb: [c.metadata.pop("segviz", None) for c in nb.cells], "no solution cells found"),
    ],
)
def test_bad_metadata_says_what_would_work(edit, message):
    nb = make_master()
    edit(nb)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        lab_cells(nb)


def test_stub_source_keeps_imports_and_signatures_only():
    source = "import torch\nfrom torch import nn\nx = helper()\n\nasync def g(a, *, b: int = 2) -> None:\n    await a\n"
    stub = stub_source(source)
    assert stub.startswith("import torch\nfrom torch import nn\n")
    assert "helper" not in stub and "await" not in stub
    assert "async def g(a, *, b: int=2) -> None:" in stub and "write your solution here" in stub


def test_release_path_and_write_release(tmp_path):
    assert release_path(Path("labs/source/lab01_arithmetic.ipynb")) == Path("labs/lab01_arithmetic.ipynb")
    with pytest.raises(ValueError, match="masters live in labs/source/"):
        release_path(Path("labs/lab01_arithmetic.ipynb"))
    (tmp_path / "source").mkdir()
    master_path = tmp_path / "source" / "lab99_double.ipynb"
    nbformat.write(make_master(), master_path)
    out = write_release(master_path)
    assert out == tmp_path / "lab99_double.ipynb"
    assert nbformat.read(out, as_version=4) == release(make_master())
    assert not list(tmp_path.glob("*.tmp"))
    with pytest.raises(ValueError, match="no such notebook"):
        write_release(tmp_path / "source" / "missing.ipynb")


def test_cli_release(tmp_path, capsys):
    (tmp_path / "source").mkdir()
    master_path = tmp_path / "source" / "lab99_double.ipynb"
    nbformat.write(make_master(), master_path)
    assert main(["release", str(master_path)]) == 0
    assert "lab99_double.ipynb" in capsys.readouterr().out
    assert (tmp_path / "lab99_double.ipynb").exists()
    assert main(["release", str(tmp_path / "nope.ipynb")]) == 2
    assert "no such notebook" in capsys.readouterr().err


MASTERS = sorted((ROOT / "labs" / "source").glob("lab*.ipynb"))


@pytest.mark.parametrize("master", MASTERS, ids=lambda p: p.name)
def test_committed_student_version_equals_a_fresh_release(master):
    student = ROOT / "labs" / master.name
    assert student.exists(), f"{student.name} missing: run `segviz release {master.relative_to(ROOT)}`"
    assert nbformat.read(student, as_version=4) == release(nbformat.read(master, as_version=4)), (
        f"{student.name} is stale or hand-edited: run `segviz release {master.relative_to(ROOT)}`"
    )
