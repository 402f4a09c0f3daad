"""segviz.metrics: every public name resolves and is documented, and it imports neither plotly nor ipywidgets."""

from __future__ import annotations

import subprocess
import sys

import pytest

import segviz.metrics


@pytest.mark.parametrize("name", segviz.metrics.__all__)
def test_every_public_name_resolves_and_is_documented(name):
    obj = getattr(segviz.metrics, name)
    assert obj.__doc__ and ("Example:" in obj.__doc__)


def test_metrics_import_neither_plotly_nor_ipywidgets():
    code = "import sys, segviz.metrics; print(' '.join(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert not {m for m in loaded if m.split(".")[0] in {"plotly", "ipywidgets", "anywidget"}}
