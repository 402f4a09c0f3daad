"""Grading the labs: the lab format, release, the checks, the grader and the self-check.

* :mod:`~segviz.grading.labformat`: which cells of a master are solutions and checks;
  ``segviz release`` writes the student version.
* :mod:`~segviz.grading.checks`: what check cells call (seeded comparisons, one line per check).
* :mod:`~segviz.grading.screening`: the static rules a solution cell must keep.
* :mod:`~segviz.grading.grader`: ``segviz grade`` (rebuild from the master, fresh references,
  nbval, reports) and ``segviz check`` (the student's self-check).
* :mod:`~segviz.grading.nbval_plugin`: the pytest plugin the grader runs nbval with.
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use: the nbval plugin (loaded into every grading subprocess) must not pay
# for torch, which only the checks need.
_NAMES = {
    "CheckResult": "checks", "check_function": "checks", "check_value": "checks", "grading_seed": "checks",
    "LabCell": "labformat", "lab_cells": "labformat", "release": "labformat", "release_path": "labformat",
    "stub_source": "labformat", "write_release": "labformat",
}
__all__ = list(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'segviz.grading' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
