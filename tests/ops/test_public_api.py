"""segviz.ops: every public name resolves, and the core stays free of plotly and ipywidgets."""

from __future__ import annotations

import subprocess
import sys

import pytest

import segviz.ops


@pytest.mark.parametrize("name", segviz.ops.__all__)
def test_every_public_name_resolves_and_is_documented(name):
    obj = getattr(segviz.ops, name)
    assert obj.__doc__ and ("Example:" in obj.__doc__)


def test_ops_import_neither_plotly_nor_ipywidgets():
    code = "import sys, segviz.ops; print(' '.join(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert not {m for m in loaded if m.split(".")[0] in {"plotly", "ipywidgets", "anywidget"}}
