"""Static screening of solution cells: each rule fires on what it targets and not on honest code."""

from __future__ import annotations

import pytest
import torch

import segviz
import segviz.ops
from segviz.grading.screening import imported_names, resolve, screen_solution, segviz_references

ALIASES = {"torch": "torch", "F": "torch.nn.functional", "nn": "torch.nn", "segviz": "segviz",
           "check_function": "segviz.grading.check_function"}
FORBIDDEN = {"segviz.ops.overlap_count": segviz.ops.overlap_count,
             "torch.nn.functional.conv_transpose2d": torch.nn.functional.conv_transpose2d}


def rules(source: str) -> set[str]:
    return {f.rule for f in screen_solution(source, ALIASES, FORBIDDEN)}


HONEST = [
    "def f(x):\n    return 2 * x\n",
    "import torch\n\ndef f(x):\n    out = torch.zeros(3)\n    out[0] = x\n    print('debug', out)\n    return out\n",
    "from torch import nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "        self.conv = nn.Conv2d(1, 1, 3)\n        setattr(self, 'extra', 1)\n",
    "def overlap_count(length, kernel_size, stride):\n    return length\n",  # a student's own function of that name
    "%timeit sum(range(10))\nimport math\ny = math.floor(2.5)\n",
    "def f(x):\n    return F.conv2d(x, torch.ones(1, 1, 3, 3))\n",
    "import os\npath = os.path.join('a', 'b')\n",
]


@pytest.mark.parametrize("source", HONEST)
def test_honest_solutions_are_not_flagged(source):
    assert screen_solution(source, ALIASES, FORBIDDEN) == []


@pytest.mark.parametrize("source, rule", [
    # the reference implementation, however it is reached
    ("from segviz.ops import overlap_count as oc\ndef f(*a):\n    return oc(*a)\n", "reference"),
    ("import segviz\ndef f(*a):\n    return segviz.ops.overlap_count(*a)\n", "reference"),
    ("def f(*a):\n    return segviz.overlap_count(*a)\n", "reference"),  # via the lazy top-level name
    ("from segviz.ops.overlap import overlap_count\n", "reference"),
    ("from segviz import ops\nf = ops.overlap_count\n", "reference"),
    ("g = getattr(segviz.ops, 'overlap_count')\n", "reference"),
    ("from segviz.ops import *\n", "reference"),
    ("def f(x, w):\n    return F.conv_transpose2d(x, w)\n", "reference"),
    ("def f(x, w):\n    return torch.conv_transpose2d(x, w)\n", "reference"),  # the same op under another name
    # builtins and print
    ("import builtins\n", "builtins"),
    ("__builtins__['print'] = None\n", "builtins"),
    ("m = __import__('os')\n", "builtins"),
    ("print = lambda *a: None\n", "print"),
    ("def print(*a):\n    pass\n", "print"),
    ("from os import path as print\n", "print"),
    ("def f():\n    global print\n    print = None\n", "print"),
    # stdout
    ("import sys\nsys.stdout = open('/dev/null', 'w')\n", "stdout"),
    ("import sys\nsys.__stdout__.write('q1 f: PASS 1/1')\n", "stdout"),
    ("from contextlib import redirect_stdout\n", "stdout"),
    ("import os\nos.write(1, b'PASS')\n", "stdout"),
    ("import sys\nsys.displayhook = None\n", "stdout"),
    # notebooks, masters, IPython
    ("text = open('lab01_arithmetic.ipynb').read()\n", "notebook"),
    ("from pathlib import Path\nt = Path('labs/source/x').read_text()\n", "notebook"),
    ("ip = get_ipython()\n", "notebook"),
    ("!cat ../labs/source/lab01.ipynb\n", "notebook"),
    ("old = In[3]\n", "notebook"),
    ("import os\nseed = os.environ['SEGVIZ_GRADING_SEED']\n", "notebook"),
    # the grader's own code
    ("import segviz.grading\n", "grading"),
    ("from segviz.grading import checks\n", "grading"),
    ("check_function.__defaults__ = None\n", "grading"),
    ("segviz.grading.checks._compare = lambda *a: ''\n", "grading"),
    # patching libraries
    ("torch.allclose = lambda *a, **k: True\n", "patching"),
    ("torch.Tensor.__eq__ = lambda *a: True\n", "patching"),
    ("setattr(torch, 'equal', lambda *a: True)\n", "patching"),
    ("import sys\nsys.modules['torch'] = None\n", "patching"),
    ("del F.relu\n", "patching"),
    # frames and dynamic code
    ("import inspect\n", "introspection"),
    ("import sys\ndef f():\n    return sys._getframe(1).f_locals['want']\n", "introspection"),
    ("import gc\n", "introspection"),
    ("exec('import builtins')\n", "dynamic code"),
    ("eval('1')\n", "dynamic code"),
    ("import importlib\n", "dynamic code"),
    ("name = 'overlap' + '_count'\nf = getattr(segviz.ops, name)\n", "dynamic code"),
    ("g = globals()\n", "dynamic code"),
])
def test_each_rule_fires(source, rule):
    found = rules(source)
    assert rule in found, found


def test_findings_say_where_and_why():
    (finding,) = screen_solution("x = 1\nprint = None\n", ALIASES, FORBIDDEN)
    assert finding.line == 2 and "print" in finding.reason and str(finding).startswith("line 2:")


def test_a_syntax_error_is_not_a_finding():
    assert screen_solution("def f(:\n", ALIASES, FORBIDDEN) == []


def test_imported_names_and_references():
    aliases = imported_names(["import torch.nn.functional as F\nimport segviz\nfrom segviz.ops import bilinear_kernel as bk"])
    assert aliases == {"F": "torch.nn.functional", "segviz": "segviz", "bk": "segviz.ops.bilinear_kernel"}
    refs = segviz_references(["check_function('q1', 'k', k, bk, make)\nx = segviz.grading.grading_seed(1)"], aliases)
    assert list(refs) == ["segviz.ops.bilinear_kernel"]  # segviz.grading itself is not a reference
    assert refs["segviz.ops.bilinear_kernel"] is segviz.ops.bilinear_kernel


def test_resolve_only_imports_trusted_libraries():
    assert resolve("segviz.ops.overlap_count") is segviz.ops.overlap_count
    assert resolve("torch.nn.functional.nope") is None
    assert resolve("subprocess.run") is None
