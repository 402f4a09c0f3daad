"""Grading the labs: the lab format and release and the check helpers check cells call (the grader and self-check come next)."""

from .checks import CheckResult, check_function, check_value, grading_seed
from .labformat import LabCell, lab_cells, release, release_path, stub_source, write_release

__all__ = [
    "CheckResult", "check_function", "check_value", "grading_seed","LabCell", "lab_cells", "release", "release_path", "stub_source", "write_release"]
