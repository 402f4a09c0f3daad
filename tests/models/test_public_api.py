"""segviz.models: every public name resolves and is documented with an example; the core stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import segviz.models


@pytest.mark.parametrize("name", segviz.models.__all__)
def test_every_public_name_resolves_and_is_documented(name):
    obj = getattr(segviz.models, name)
    doc = obj.__doc__ or ""
    assert "Example:" in doc, name


def test_models_import_neither_plotly_nor_ipywidgets():
    code = "import sys, segviz.models; print(' '.join(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert not {m for m in loaded if m.split(".")[0] in {"plotly", "ipywidgets", "anywidget"}}
    assert "torchvision" not in loaded  # imported only when a torchvision backbone is asked for
