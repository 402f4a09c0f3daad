"""Imports flow one way: widgets → viz → core. The core never imports plotly or ipywidgets."""

from __future__ import annotations

import subprocess
import sys

import pytest

import segviz

CORE = ["segviz", "segviz.utils", "segviz.validation", "segviz.arith", "segviz.data", "segviz.ops", "segviz.metrics",
        "segviz.losses", "segviz.models", "segviz.grading", "segviz.train"]


def _loaded_after(imports: list[str]) -> set[str]:
    code = "import sys\n" + "".join(f"import {m}\n" for m in imports) + "print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_core_imports_neither_plotly_nor_ipywidgets():
    loaded = _loaded_after(CORE)
    assert not {m for m in loaded if m.split(".")[0] in {"plotly", "ipywidgets", "anywidget"}}


def test_viz_does_not_import_ipywidgets():
    loaded = _loaded_after(["segviz.viz"])
    assert "plotly" in loaded
    assert not {m for m in loaded if m.split(".")[0] in {"ipywidgets", "anywidget"}}


@pytest.mark.parametrize("name", segviz.__all__)
def test_every_public_name_resolves(name):
    assert getattr(segviz, name) is not None


def test_unknown_attribute_says_so():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        segviz.nope  # noqa: B018
