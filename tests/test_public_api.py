"""Every public name of the core packages resolves and documents itself with an example.

(That the core never imports plotly or ipywidgets is tests/test_layering.py's job.)
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["segviz.ops", "segviz.losses", "segviz.metrics", "segviz.models"]
NAMES = [(package, name) for package in PACKAGES for name in importlib.import_module(package).__all__]


@pytest.mark.parametrize("package, name", NAMES, ids=[f"{p}.{n}" for p, n in NAMES])
def test_every_public_name_resolves_and_has_an_example(package, name):
    obj = getattr(importlib.import_module(package), name)
    assert obj.__doc__ and "Example:" in obj.__doc__, f"{package}.{name}: a docstring with an Example: section"


def test_models_import_torchvision_only_when_a_torchvision_backbone_is_asked_for():
    code = "import sys, segviz.models; print(' '.join(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert "torchvision" not in loaded
