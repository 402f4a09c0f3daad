"""segviz.losses: every public name resolves and is documented, and it imports neither plotly nor ipywidgets."""

from __future__ import annotations

import subprocess
import sys

import pytest

import segviz.losses


@pytest.mark.parametrize("name", segviz.losses.__all__)
def test_every_public_name_resolves_and_is_documented(name):
    obj = getattr(segviz.losses, name)
    assert obj.__doc__ and ("Example:" in obj.__doc__)


def test_losses_import_neither_plotly_nor_ipywidgets():
    code = "import sys, segviz.losses; print(' '.join(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert not {m for m in loaded if m.split(".")[0] in {"plotly", "ipywidgets", "anywidget"}}
