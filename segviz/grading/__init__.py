"""Grading the labs.

So far: the lab format and ``segviz release`` (:mod:`segviz.grading.labformat`), and the helpers
that check cells call (:mod:`segviz.grading.checks`). The grader and the self-check come next.
"""

from .checks import CheckResult, check_function, check_value, grading_seed
from .labformat import LabCell, lab_cells, release, release_path, stub_source, write_release

__all__ = [
    "CheckResult", "check_function", "check_value", "grading_seed",
    "LabCell", "lab_cells", "release", "release_path", "stub_source", "write_release",
]
