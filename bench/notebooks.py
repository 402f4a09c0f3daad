#!/usr/bin/env python
"""Execute every lecture and lab master headless and print each one's wall time and the total.

    python bench/notebooks.py                 # all of lectures/ and labs/source/
    python bench/notebooks.py lectures/00_segmentation_problem.ipynb

Each notebook runs in a fresh kernel, in its own folder, from a copy in memory (the file on
disk is not modified), with plotly's test renderer as under nbval. A measurement, not a test:
the machine is shared and noisy, so nothing here fails because it is slow.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def notebooks() -> list[Path]:
    return sorted((ROOT / "lectures").glob("*.ipynb")) + sorted((ROOT / "labs" / "source").glob("*.ipynb"))


def run(path: Path, timeout: int) -> tuple[float, str]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
        status = "ok"
    except Exception as error:  # report and go on with the next notebook
        status = f"FAILED: {type(error).__name__}: {str(error).strip().splitlines()[-1][:120]}"
    return time.perf_counter() - start, status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
    args = parser.parse_args(argv)
    os.environ.setdefault("PLOTLY_RENDERER", "plotly_mimetype")
    paths = [p.resolve() for p in args.paths] or notebooks()
    print(f"# {platform.node()} | {os.cpu_count()} cores | Python {platform.python_version()}")
    total, failed = 0.0, 0
    for path in paths:
        seconds, status = run(path, args.timeout)
        total += seconds
        failed += status != "ok"
        print(f"{seconds:8.1f} s  {path.relative_to(ROOT)}  {status}", flush=True)
    print(f"{total:8.1f} s  total ({len(paths)} notebooks, {failed} failed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
