"""Grading the labs: the lab format and release (more to come: checks, the grader, self-check)."""

from .labformat import LabCell, lab_cells, release, release_path, stub_source, write_release

__all__ = ["LabCell", "lab_cells", "release", "release_path", "stub_source", "write_release"]
