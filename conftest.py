"""Test-session setup shared by unit tests, doctests and nbval's notebook runs.

* Plotly renders as a MIME bundle (no HTML/JS in outputs) inside notebook kernels.
* Every kernel nbval starts gets an IPython startup file that seeds Python, NumPy and torch
  (segviz.seed_everything) before the first cell, so a notebook that forgets to seed is still
  deterministic under test; notebooks seed themselves too.
* nbval waits 5 s between output messages by default; a cell that trains for a while
  legitimately goes quiet for longer, so each cell's wait is raised.
* Warnings printed to stderr never fail a checked cell: stderr streams are dropped from both
  sides of nbval's comparison (they vary with library versions, not with correctness).
* Unit tests and doctests start from the same seed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

NBVAL_OUTPUT_TIMEOUT_S = 120
SEED = int(os.environ.get("SEGVIZ_SEED", "0"))

os.environ.setdefault("PLOTLY_RENDERER", "plotly_mimetype")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two workers on a two-core machine: one math thread each (and in the kernels they start).
    # Two OpenMP threads per worker oversubscribe the cores and tiny convolutions slow ~1000x.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("PYTHONHASHSEED", str(SEED))
os.environ.setdefault("SEGVIZ_SEED", str(SEED))
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # silences a debugpy warning in kernels
# segviz.fit draws no progress bars and no live curve in tests (nbval kernels inherit these)
os.environ.setdefault("SEGVIZ_PROGRESS", "0")
os.environ.setdefault("SEGVIZ_LIVE", "0")

_STARTUP = f"""\
import os
import plotly.io as _pio
_pio.renderers.default = os.environ.get("PLOTLY_RENDERER", "plotly_mimetype")
import segviz as _segviz
_segviz.seed_everything(int(os.environ.get("SEGVIZ_SEED", "{SEED}")))
del _pio, _segviz
"""


def _kernel_profile_dir() -> str:
    """An IPYTHONDIR with a startup file; kernels started by nbval inherit it."""
    root = Path(tempfile.mkdtemp(prefix="segviz-ipython-"))
    startup = root / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-segviz-test.py").write_text(_STARTUP)
    return str(root)


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    if "SEGVIZ_KEEP_IPYTHONDIR" not in os.environ:
        os.environ["IPYTHONDIR"] = _kernel_profile_dir()
    try:
        import nbval.plugin  # noqa: F401
    except ImportError:  # nbval not installed: notebooks are simply not collected
        return
    from segviz.grading.nbval_plugin import drop_stderr_from_comparison

    drop_stderr_from_comparison()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if hasattr(item, "output_timeout"):  # an nbval cell
            item.output_timeout = NBVAL_OUTPUT_TIMEOUT_S


@pytest.fixture(autouse=True)
def _seeded() -> None:
    """Every test (and doctest) starts from the same seed."""
    from segviz.utils import seed_everything

    seed_everything(SEED)


def _category(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        return "notebooks (nbval cells)"
    if path.startswith("tests/browser/"):
        return "browser (Chromium + JupyterLab)"
    if path.startswith("segviz/"):
        return "doctests"
    return "unit tests"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """One line per kind of test, so a run shows that every layer of the suite executed."""
    counts: dict[str, dict[str, int]] = {}
    notebooks: set[str] = set()
    for outcome in ("passed", "failed", "skipped", "error", "xfailed"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if not nodeid or (outcome == "passed" and getattr(report, "when", "call") != "call"):
                continue
            category = _category(nodeid)
            if category.startswith("notebooks"):
                notebooks.add(nodeid.split("::", 1)[0])
            bucket = counts.setdefault(category, {})
            bucket[outcome] = bucket.get(outcome, 0) + 1
    if not counts:
        return
    terminalreporter.section("segviz suite summary")
    for category in sorted(counts):
        outcomes = ", ".join(f"{n} {o}" for o, n in sorted(counts[category].items()))
        extra = f" in {len(notebooks)} notebook(s): {', '.join(sorted(notebooks))}" if category.startswith("notebooks") else ""
        terminalreporter.write_line(f"{category:<34} {outcomes}{extra}")
