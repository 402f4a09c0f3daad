"""Every committed notebook is small, stateless, runnable by nbval and shaped like a lecture.

nbval itself (``--nbval-lax``, collected from ``lectures/`` and ``labs/source/``) executes the
notebooks and compares the cells marked ``# NBVAL_CHECK_OUTPUT``; these tests check what nbval
cannot see: what the files carry.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

import segviz

ROOT = Path(__file__).resolve().parents[2]
CHECK = "NBVAL_CHECK_OUTPUT"
MAX_BYTES = 500 * 1024
LECTURE_ORDER = [
    "segmentation_problem", "convolutionalization", "transposed_convolution", "checkerboard",
    "fcn", "encoder_decoders", "deeplab", "losses_metrics", "mask_rcnn", "few_shot", "video",
    "style_transfer",
]


def _committed_notebooks() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True)
        paths = [ROOT / line for line in listed.stdout.splitlines() if line]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: every notebook on disk
        paths = []
    on_disk = [p for p in ROOT.glob("**/*.ipynb") if not {".venv", ".ipynb_checkpoints", "test-artifacts"} & set(p.parts)]
    return sorted({p for p in paths + on_disk if p.exists()})


NOTEBOOKS = _committed_notebooks()
LECTURES = sorted((ROOT / "lectures").glob("[0-9][0-9]_*.ipynb"))


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def test_there_is_a_lecture():
    assert LECTURES, "no lecture notebooks found in lectures/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_notebook_is_valid_small_and_stateless(path):
    assert path.stat().st_size <= MAX_BYTES, f"{path.stat().st_size / 1024:.0f} KB > 500 KB: clear figure outputs"
    nb = _read(path)
    nbformat.validate(nb)
    assert "widgets" not in nb.metadata, "saved widget state: strip metadata.widgets (scripts/refresh_notebooks.py does)"
    assert "application/vnd.jupyter.widget-state+json" not in path.read_text()
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"a stored error output in: {cell.source[:60]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_checked_cells_have_stored_outputs_and_no_figures(path):
    for cell in _read(path).cells:
        if cell.cell_type == "code" and (CHECK in cell.source or "nbval-check-output" in cell.metadata.get("tags", [])):
            assert cell.outputs, f"checked cell without stored outputs (nbval would compare nothing): {cell.source[:80]!r}"
            assert cell.execution_count is not None
            for output in cell.outputs:
                data = output.get("data", {})
                assert "application/vnd.plotly.v1+json" not in data, "a figure in a checked cell (plotly JSON cannot be sanitized)"
                assert "application/vnd.jupyter.widget-view+json" not in data, "a widget in a checked cell"
            kinds = [(o.get("output_type"), o.get("name")) for o in cell.outputs]
            assert all(a != b or a[0] != "stream" for a, b in zip(kinds, kinds[1:])), (
                f"one stream stored as several outputs (their split depends on timing, so diffs churn): "
                f"run scripts/refresh_notebooks.py: {cell.source[:60]!r}"
            )


def test_refresh_joins_neighbouring_streams_and_keeps_their_order():
    import importlib.util

    spec = importlib.util.spec_from_file_location("refresh_notebooks", ROOT / "scripts" / "refresh_notebooks.py")
    refresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(refresh)
    out = nbformat.v4.new_output
    outputs = [out("stream", name="stdout", text="a\n"), out("stream", name="stdout", text="b\n"),
               out("display_data", data={"text/plain": "x"}), out("stream", name="stdout", text="c\n"),
               out("stream", name="stderr", text="w\n"), out("stream", name="stdout", text="d\n")]
    merged = refresh.merge_streams(outputs)
    assert [(o.output_type, o.get("name"), o.get("text")) for o in merged] == [
        ("stream", "stdout", "a\nb\n"), ("display_data", None, None), ("stream", "stdout", "c\n"),
        ("stream", "stderr", "w\n"), ("stream", "stdout", "d\n"),
    ]


@pytest.mark.parametrize("path", LECTURES, ids=_id)
def test_lecture_opens_with_title_and_objectives_and_ends_with_recap(path):
    cells = _read(path).cells
    first, markdown = cells[0], [c for c in cells if c.cell_type == "markdown"]
    assert first.cell_type == "markdown" and re.match(r"# Lecture \d\d — \S", first.source), "first cell: '# Lecture NN — Title'"
    assert re.search(r"you will be able to", first.source, re.I), "the title cell must state learning objectives"
    assert re.search(r"^\s*1\. ", first.source, re.M), "objectives as a numbered list"
    assert re.search(r"^## Recap", markdown[-1].source, re.M), "the last markdown cell must be a '## Recap'"
    assert re.search(r"\blab\b|lecture \d\d", markdown[-1].source, re.I), "the recap must point to the lab or next lecture"


@pytest.mark.parametrize("path", LECTURES, ids=_id)
def test_lecture_is_named_and_numbered_in_course_order(path):
    number, topic = path.stem.split("_", 1)
    assert LECTURE_ORDER[int(number)] == topic, f"lecture {number} should be '{number}_{LECTURE_ORDER[int(number)]}.ipynb'"


@pytest.mark.parametrize("path", LECTURES, ids=_id)
def test_lecture_uses_only_the_public_api_and_seeds(path):
    public = set(segviz.__all__)
    source = "\n".join(c.source for c in _read(path).cells if c.cell_type == "code")
    tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("segviz"):
            assert node.module == "segviz", f"'from {node.module} import …': use 'from segviz import …'"
            assert {a.name for a in node.names} <= public, f"not in segviz.__all__: {[a.name for a in node.names]}"
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("segviz.") for a in node.names), "import segviz, not its submodules"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "segviz":
            assert node.attr in public, f"segviz.{node.attr} is not in segviz.__all__"
    assert "seed_everything(" in source, "a lecture seeds itself (segviz.seed_everything)"


LABS = sorted((ROOT / "labs").glob("lab[0-9][0-9]_*.ipynb")) + sorted((ROOT / "labs" / "source").glob("lab[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", LABS, ids=_id)
def test_lab_opens_with_objectives_and_grading_rules_and_ends_with_recap(path):
    cells = _read(path).cells
    markdown = [c for c in cells if c.cell_type == "markdown"]
    assert re.match(r"# Lab \d\d — \S", cells[0].source), "first cell: '# Lab NN — Title'"
    assert path.stem.startswith(f"lab{cells[0].source[6:8]}_"), "the title's number must match the file name"
    assert re.search(r"you will be able to", cells[0].source, re.I) and re.search(r"^\s*1\. ", cells[0].source, re.M)
    assert any("How this lab is graded" in c.source and f"segviz check labs/{path.name}" in c.source for c in markdown)
    assert re.search(r"^## Recap", markdown[-1].source, re.M)


@pytest.mark.parametrize("path", [p for p in LABS if p.parent.name == "source"], ids=_id)
def test_every_lab_exercise_has_a_heading_a_visible_and_a_hidden_check(path):
    from segviz.grading.labformat import lab_cells

    nb = _read(path)
    cells = lab_cells(nb)
    exercises = [c for c in cells if c.role == "solution"]
    assert len(exercises) >= 4, "a lab has at least four exercises"
    for solution in exercises:
        checks = [c for c in cells if c.role == "check" and c.exercise == solution.exercise]
        assert any(c.hidden for c in checks) and any(not c.hidden for c in checks), solution.exercise
        heading = nb.cells[solution.index - 1]
        assert heading.cell_type == "markdown" and f"**Your solution ({solution.exercise})**" in heading.source
        assert solution.hint, f"{solution.exercise}: a hint for the stub"


def test_start_page_links_every_lecture_and_lab():
    index = _read(ROOT / "index.ipynb")
    text = "\n".join(c.source for c in index.cells)
    for path in LECTURES + sorted((ROOT / "labs").glob("lab*.ipynb")):
        assert f"]({path.relative_to(ROOT).as_posix()})" in text, f"index.ipynb does not link {path.name}"
