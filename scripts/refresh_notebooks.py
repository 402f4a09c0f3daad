#!/usr/bin/env python
"""Execute notebooks headless and store only what the repository should carry.

    python scripts/refresh_notebooks.py lectures/00_segmentation_problem.ipynb [...]
    python scripts/refresh_notebooks.py --all

Each notebook runs top to bottom in its own folder (as nbval and a learner run it). Then:
outputs are kept only in checked cells: those marked ``# NBVAL_CHECK_OUTPUT`` or tagged
``nbval-check-output`` (the numbers nbval compares; a lab master's check cells get the tag);
every other cell is cleared, so figures and widgets never bloat the file or its diffs;
widget state and execution timing metadata are dropped; execution counts are renumbered.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from segviz.grading.labformat import without_stderr  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHECK = "NBVAL_CHECK_OUTPUT"
CHECK_TAG = "nbval-check-output"


def is_checked(cell: nbformat.NotebookNode) -> bool:
    """Whether nbval compares this cell's outputs; a lab master's check cells get the tag here."""
    if cell.get("metadata", {}).get("segviz", {}).get("role") == "check":
        tags = cell.metadata.setdefault("tags", [])
        if CHECK_TAG not in tags:
            tags.append(CHECK_TAG)
    return CHECK in cell.source or CHECK_TAG in cell.get("metadata", {}).get("tags", [])


def notebooks_in_repo() -> list[Path]:
    found = sorted((ROOT / "lectures").glob("*.ipynb")) + sorted((ROOT / "labs" / "source").glob("*.ipynb"))
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]


def merge_streams(outputs: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    """Join neighbouring stream outputs of the same name into one.

    How a kernel splits a cell's prints into stream messages depends on timing, so without this
    the same text is stored as one output on one run and three on the next, and the diff shows
    changes where there are none. nbval joins them before comparing, so nothing it checks changes.
    """
    merged: list[nbformat.NotebookNode] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (previous is not None and output.get("output_type") == "stream" == previous.get("output_type")
                and output.get("name") == previous.get("name")):
            previous["text"] = previous["text"] + output["text"]
        else:
            merged.append(output)
    return merged


def refresh(path: Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("PLOTLY_RENDERER", "plotly_mimetype")
    # one math thread, as nbval runs them under xdist: on a busy 2-core machine two OpenMP threads
    # per kernel wait on each other and a training cell runs several times slower
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    count = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        count += 1
        if is_checked(cell):
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = count
            cell.outputs = merge_streams(without_stderr(cell.outputs))
        else:
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--all", action="store_true", help="every lecture and lab master")
    args = parser.parse_args(argv)
    paths = notebooks_in_repo() if args.all else args.notebooks
    if not paths:
        parser.error("name notebooks or pass --all")
    for path in paths:
        print(f"{path}: {refresh(path.resolve()):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
