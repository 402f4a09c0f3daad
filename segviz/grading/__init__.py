"""Grading the labs: the lab format, release, the checks, the grader and the self-check.

* :mod:`~segviz.grading.labformat`: which cells of a master are solutions and checks;
  ``segviz release`` writes the student version.
* :mod:`~segviz.grading.checks`: what check cells call (seeded comparisons, one line per check).
* :mod:`~segviz.grading.screening`: the static rules a solution cell must keep.
* :mod:`~segviz.grading.grader`: ``segviz grade`` (rebuild from the master, fresh references,
  nbval, reports) and ``segviz check`` (the student's self-check).
* :mod:`~segviz.grading.nbval_plugin`: the pytest plugin the grader runs nbval with.
"""

from .checks import CheckResult, check_function, check_value, grading_seed
from .labformat import LabCell, lab_cells, release, release_path, stub_source, write_release

__all__ = [
    "CheckResult", "check_function", "check_value", "grading_seed",
    "LabCell", "lab_cells", "release", "release_path", "stub_source", "write_release",
]
