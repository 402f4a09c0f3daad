"""The ``segviz`` command line: version, subcommand dispatch, usage errors, real subprocesses."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

from segviz import cli, doctor
from segviz.doctor import Check, Report

ROOT = Path(__file__).resolve().parents[1]
VERSION = importlib.metadata.version("segviz")  # from pyproject, not from segviz.__version__


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env=env)


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"segviz {VERSION}"


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([])
    assert exit_.value.code == 2
    assert "required: command" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["frobnicate"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'frobnicate'" in err and "doctor" in err


def test_unknown_doctor_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["doctor", "--frobnicate"])
    assert exit_.value.code == 2


@pytest.mark.parametrize("status, code", [("ok", 0), ("warn", 0), ("fail", 1)])
def test_doctor_exit_code_follows_worst_status(monkeypatch, capsys, status, code):
    fix = "" if status == "ok" else "do something"
    monkeypatch.setattr(doctor, "collect", lambda constraints=None: Report(
        [Check("python", "ok", "3", "3"), Check("thing", status, "1", "2", fix)]))
    assert cli.main(["doctor"]) == code
    assert "thing" in capsys.readouterr().out


def test_help_lists_doctor(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "doctor" in capsys.readouterr().out


def test_python_m_segviz_doctor_runs():
    done = _run(sys.executable, "-m", "segviz", "doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "torch" in done.stdout and "anywidget" in done.stdout
    assert "0 fail" in done.stdout
    assert "\033[" not in done.stdout  # not a tty: plain text


def test_python_m_segviz_unknown_command_exits_2():
    done = _run(sys.executable, "-m", "segviz", "frobnicate")
    assert done.returncode == 2
    assert "usage: segviz" in done.stderr


def test_console_script_version():
    script = Path(sys.executable).parent / ("segviz.exe" if os.name == "nt" else "segviz")
    assert script.exists(), f"console script not installed at {script}; pip install -e ."
    done = _run(str(script), "--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"segviz {VERSION}")


def test_doctor_runs_as_a_script_without_the_segviz_package():
    """When ``import segviz`` is what is broken, ``python segviz/doctor.py`` still reports."""
    code = ("import sys, runpy; sys.modules['segviz'] = None; "
            "runpy.run_path('segviz/doctor.py', run_name='__main__')")
    done = _run(sys.executable, "-c", code)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "labextension anywidget" in done.stdout


def test_doctor_reports_a_broken_torch_import_end_to_end():
    """torch that cannot be imported: the doctor still runs, fails, and prints the fix."""
    code = ("import sys, runpy; sys.modules['torch'] = None; "
            "runpy.run_path('segviz/doctor.py', run_name='__main__')")
    done = _run(sys.executable, "-c", code)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    row = next(i for i, line in enumerate(lines) if "torch/torchvision pairing" in line)
    assert lines[row].startswith("FAIL")
    assert any("--force-reinstall" in line and '"torch==' in line for line in lines[row + 1:row + 3])
