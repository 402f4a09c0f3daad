#!/usr/bin/env python
"""What grading costs: one submission graded, relative to one plain execution of the master.

    python bench/grading.py                                   # every lab in labs/source
    python bench/grading.py labs/source/lab01_arithmetic.ipynb --submissions 6 --jobs 2

For each lab it measures:

* ``plain``: the master executed once, headless, in a fresh kernel (what ``nbclient`` costs);
* ``batch``: ``segviz grade`` on N copies of the master's solutions with one seed, which
  executes the master once for fresh reference outputs and then grades every submission under
  nbval (rebuild, screening, a subprocess with pytest, the kernel, the report);
* ``per submission``: (batch − master run) / N, and the same with the master run shared out
  over the batch; both as a multiple of ``plain``. The issue's goal is ≤ 2.5× with the master run
  reused across a batch.

A measurement, not a test: the machine is shared and noisy, so nothing here fails because it is slow.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segviz.grading.grader import execute_master, grade, load_master  # noqa: E402


def measure(master_path: Path, submissions: int, jobs: int, repeats: int) -> dict[str, float]:
    master = load_master(master_path)
    plain = [execute_master(master, seed=1)[1] for _ in range(repeats)]
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "submissions"
        folder.mkdir()
        for i in range(submissions):
            shutil.copy(master_path, folder / f"student{i:02d}.ipynb")
        start = time.perf_counter()
        reports = grade(master_path, [folder], Path(work) / "out", seed=7, jobs=jobs)
        batch = time.perf_counter() - start
    full = [r["score"] == r["max_score"] for r in reports]
    if not all(full):
        raise SystemExit(f"{master_path.name}: a copy of the master did not score full marks: {reports}")
    plain_s = statistics.median(plain)
    per = (batch - plain_s) / submissions
    return {"plain": plain_s, "batch": batch, "per": per, "amortized": batch / submissions,
            "grade_one": statistics.median(r["time_s"] for r in reports)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("masters", nargs="*", type=Path)
    parser.add_argument("--submissions", type=int, default=4, help="copies graded in the batch (default 4)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="plain master runs to take the median of")
    args = parser.parse_args(argv)
    masters = args.masters or sorted((ROOT / "labs" / "source").glob("lab*.ipynb"))
    print(f"# {platform.node()} · {os.cpu_count()} CPUs · python {platform.python_version()} · "
          f"{args.submissions} submissions, -j {args.jobs}")
    print(f"{'lab':<28} {'plain s':>8} {'batch s':>8} {'one s':>7} {'per sub s':>10} {'ratio':>6} {'amortized':>10}")
    for master in masters:
        m = measure(master, args.submissions, args.jobs, args.repeats)
        print(f"{master.stem:<28} {m['plain']:8.1f} {m['batch']:8.1f} {m['grade_one']:7.1f} {m['per']:10.1f} "
              f"{m['per'] / m['plain']:5.2f}x {m['amortized'] / m['plain']:9.2f}x", flush=True)
    print("ratio: (batch − one master run) / submissions ÷ plain; amortized: batch / submissions ÷ plain "
          "(goal ≤ 2.5× with the master run reused across the batch)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
