"""segviz doctor: the real environment passes; each known breakage fails with its fix command.

Breakages are simulated through the doctor's seams (``version_of``, ``probe_torch``,
``labextension_dirs``, ``find_server_jupyter``, ``declared_ranges``) and a constraints file
written by the test, so every expected fix command below is spelled out literally here.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
import sys
from pathlib import Path

import pytest

from segviz import doctor
from segviz.doctor import Check, Report, ServerJupyter, TorchProbe

PY = sys.executable
PINS = {
    "torch": "2.14.1", "torchvision": "0.29.1", "jupyterlab": "4.6.6", "ipywidgets": "8.1.9",
    "jupyterlab_widgets": "3.0.17", "plotly": "7.1.0", "anywidget": "0.11.0",
}
GOOD_VERSIONS = dict(PINS)
GOOD_PROBE = TorchProbe(torch_version="2.14.1+cu130", cuda_build="13.0",
                        torchvision_version="0.29.1+cu130", nms=True)
MANAGER = "@jupyter-widgets/jupyterlab-manager"


@pytest.fixture
def constraints(tmp_path: Path) -> Path:
    """A constraints file with the pins above, outside the working directory (absolute path)."""
    path = tmp_path / "constraints.txt"
    path.write_text("# test pins\n" + "".join(f"{k}=={v}\n" for k, v in PINS.items()))
    return path


def _labext_dir(root: Path, manager: str | None = "5.0.16", anywidget: str | None = "0.11.0") -> Path:
    d = root / "labextensions"
    d.mkdir(parents=True, exist_ok=True)
    for name, version in ((MANAGER, manager), ("anywidget", anywidget)):
        if version is not None:
            (d / name).mkdir(parents=True)
            (d / name / "package.json").write_text(json.dumps({"name": name, "version": version}))
    return d


@pytest.fixture
def fake_env(monkeypatch, tmp_path):
    """A healthy simulated environment; returns a function that breaks parts of it."""
    labext = _labext_dir(tmp_path / "env")
    state = {"versions": dict(GOOD_VERSIONS), "probe": GOOD_PROBE, "dirs": [labext]}
    monkeypatch.setattr(doctor, "version_of", lambda name: state["versions"].get(name))
    monkeypatch.setattr(doctor, "probe_torch", lambda: state["probe"])
    monkeypatch.setattr(doctor, "labextension_dirs", lambda server=None: state["dirs"])
    monkeypatch.setattr(doctor, "find_server_jupyter", lambda timeout=10.0: ServerJupyter())

    def set_(versions=None, probe=None, dirs=None):
        state["versions"].update(versions or {})
        state["probe"] = probe or state["probe"]
        state["dirs"] = state["dirs"] if dirs is None else dirs
    return set_


# ---------------------------------------------------------------------------------------------
# The real environment
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_report() -> Report:
    return doctor.collect()


@pytest.mark.parametrize("name", [
    "python", *doctor.PACKAGES, "torch/torchvision pairing", "cuda",
    "ipywidgets/jupyterlab_widgets", "plotly FigureWidget/anywidget",
    f"labextension {MANAGER}", "labextension anywidget",
])
def test_real_environment_is_ok(real_report, name):
    check = real_report[name]
    assert check.status == "ok", f"{check}"


def test_real_environment_exit_code_is_zero(real_report):
    assert real_report.exit_code == 0
    assert real_report.counts()["fail"] == 0


def test_real_versions_are_the_installed_ones(real_report):
    import ipywidgets
    import plotly
    import torch

    assert real_report["ipywidgets"].found == ipywidgets.__version__
    assert real_report["plotly"].found == plotly.__version__
    assert torch.__version__.startswith(real_report["torch"].found)


def test_real_labextension_dirs_include_this_environment():
    dirs = doctor.labextension_dirs()
    assert Path(sys.prefix) / "share" / "jupyter" / "labextensions" in dirs
    found = doctor.installed_labextensions(dirs)
    names = {name for exts in found.values() for name in exts}
    assert {MANAGER, "anywidget"} <= names


# ---------------------------------------------------------------------------------------------
# Simulated breakages: status and fix command
# ---------------------------------------------------------------------------------------------

def test_simulated_healthy_environment_is_all_ok(fake_env, constraints):
    report = doctor.collect(constraints)
    assert [c.name for c in report if not c.ok] == []
    assert report.exit_code == 0


def test_ipywidgets_7_fails_and_installs_both_pins(fake_env, constraints):
    fake_env(versions={"ipywidgets": "7.8.5"})
    report = doctor.collect(constraints)
    pair = report["ipywidgets/jupyterlab_widgets"]
    assert pair.status == "fail"
    assert pair.found == "7.8.5 + 3.0.17"
    assert pair.fix == (f'{PY} -m pip install -c {constraints} '
                        f'"ipywidgets==8.1.9" "jupyterlab_widgets==3.0.17"')
    # 7.8.5 is also outside the range segviz declares (>=8.1,<9)
    assert report["ipywidgets"].status == "fail"
    assert report.exit_code == 1


def test_jupyterlab_widgets_1_with_ipywidgets_8_fails(fake_env, constraints):
    fake_env(versions={"jupyterlab_widgets": "1.1.7"})
    pair = doctor.collect(constraints)["ipywidgets/jupyterlab_widgets"]
    assert pair.status == "fail"
    assert pair.fix == f'{PY} -m pip install -c {constraints} "jupyterlab_widgets==3.0.17"'


def test_missing_jupyterlab_widgets_fails(fake_env, constraints):
    fake_env(versions={"jupyterlab_widgets": None})
    report = doctor.collect(constraints)
    fix = f'{PY} -m pip install -c {constraints} "jupyterlab_widgets==3.0.17"'
    assert (report["jupyterlab_widgets"].status, report["jupyterlab_widgets"].found) == ("fail", "missing")
    assert report["jupyterlab_widgets"].fix == fix
    assert report["ipywidgets/jupyterlab_widgets"].status == "fail"
    assert report["ipywidgets/jupyterlab_widgets"].fix == fix
    assert report.exit_code == 1


def test_missing_anywidget_fails_for_figurewidget(fake_env, constraints):
    fake_env(versions={"anywidget": None})
    report = doctor.collect(constraints)
    fix = f'{PY} -m pip install -c {constraints} "anywidget==0.11.0"'
    assert report["anywidget"].status == "fail"
    assert report["anywidget"].fix == fix
    fw = report["plotly FigureWidget/anywidget"]
    assert (fw.status, fw.found, fw.fix) == ("fail", "anywidget missing", fix)
    assert "FigureWidget" in fw.note


def test_old_plotly_does_not_need_anywidget_but_is_out_of_range(fake_env, constraints):
    fake_env(versions={"plotly": "5.24.1", "anywidget": None})
    report = doctor.collect(constraints)
    assert report["plotly FigureWidget/anywidget"].status == "ok"
    assert report["plotly"].status == "fail"
    assert report["plotly"].fix == f'{PY} -m pip install -c {constraints} "plotly==7.1.0"'


def test_version_differing_from_pin_warns_with_pin_command(fake_env, constraints):
    fake_env(versions={"plotly": "7.0.0"})
    report = doctor.collect(constraints)
    assert report["plotly"].status == "warn"
    assert report["plotly"].expected == "==7.1.0 (constraints.txt)"
    assert report["plotly"].fix == f'{PY} -m pip install -c {constraints} "plotly==7.1.0"'
    assert report.exit_code == 0  # a warning alone does not fail


def test_local_build_tag_matches_plain_pin(fake_env, constraints):
    fake_env(versions={"torch": "2.14.1+cu130"})
    assert doctor.collect(constraints)["torch"].status == "ok"


def test_without_constraints_file_fix_uses_declared_range(fake_env, tmp_path, monkeypatch):
    monkeypatch.setattr(doctor, "declared_ranges", lambda: {"anywidget": ">=0.9.13"})
    fake_env(versions={"anywidget": None})
    report = doctor.collect(tmp_path / "no-constraints.txt")
    assert report["anywidget"].fix == f'{PY} -m pip install "anywidget>=0.9.13"'
    assert report["anywidget"].expected == ">=0.9.13"


def test_empty_labextension_dir_fails_both_frontends(fake_env, constraints, tmp_path):
    empty = tmp_path / "server" / "share" / "jupyter" / "labextensions"
    empty.mkdir(parents=True)
    fake_env(dirs=[empty])
    report = doctor.collect(constraints)
    manager = report[f"labextension {MANAGER}"]
    assert (manager.status, manager.found) == ("fail", "missing")
    assert manager.fix == (f'{PY} -m pip install --force-reinstall -c {constraints} '
                           f'"jupyterlab_widgets==3.0.17"')
    assert str(empty) in manager.note
    anyw = report["labextension anywidget"]
    assert anyw.status == "fail"
    assert anyw.fix == f'{PY} -m pip install --force-reinstall -c {constraints} "anywidget==0.11.0"'
    assert report.exit_code == 1


def test_missing_labextension_of_missing_package_installs_without_force(fake_env, constraints, tmp_path):
    fake_env(versions={"anywidget": None}, dirs=[_labext_dir(tmp_path / "x", anywidget=None)])
    check = doctor.collect(constraints)["labextension anywidget"]
    assert check.fix == f'{PY} -m pip install -c {constraints} "anywidget==0.11.0"'
    assert "not installed" in check.note


def test_old_widget_manager_frontend_fails(fake_env, constraints, tmp_path):
    fake_env(dirs=[_labext_dir(tmp_path / "old", manager="3.1.0")])
    check = doctor.collect(constraints)[f"labextension {MANAGER}"]
    assert (check.status, check.found) == ("fail", "3.1.0")


def test_labextension_found_in_second_dir(fake_env, constraints, tmp_path):
    first = tmp_path / "first" / "labextensions"
    first.mkdir(parents=True)
    second = _labext_dir(tmp_path / "second")
    fake_env(dirs=[tmp_path / "does-not-exist", first, second])
    check = doctor.collect(constraints)["labextension anywidget"]
    assert (check.status, check.found, check.note) == ("ok", "0.11.0", f"in {second}")


def test_cpu_torch_with_cuda_torchvision_fails(fake_env, constraints):
    fake_env(probe=TorchProbe(torch_version="2.14.1+cpu", torchvision_error=(
        "RuntimeError: operator torchvision::nms does not exist")))
    check = doctor.collect(constraints)["torch/torchvision pairing"]
    assert (check.status, check.found) == ("fail", "import torchvision failed")
    assert "operator torchvision::nms does not exist" in check.note
    assert check.fix == (f'{PY} -m pip install --force-reinstall -c {constraints} '
                         f'"torch==2.14.1" "torchvision==0.29.1"')


def test_torchvision_without_nms_op_fails(fake_env, constraints):
    fake_env(probe=TorchProbe(torch_version="2.14.1+cu130", torchvision_version="0.29.1+cu130",
                              nms=False))
    check = doctor.collect(constraints)["torch/torchvision pairing"]
    assert (check.status, check.found) == ("fail", "nms missing")


def test_torch_import_failure_fails(fake_env, constraints):
    fake_env(probe=TorchProbe(torch_error="ImportError: libcudnn.so.9: cannot open shared object"))
    report = doctor.collect(constraints)
    assert report["torch/torchvision pairing"].status == "fail"
    assert "libcudnn" in report["torch/torchvision pairing"].note
    assert report["cuda"].status == "ok"


def test_cpu_only_is_ok_and_says_so(fake_env, constraints):
    check = doctor.collect(constraints)["cuda"]
    assert (check.status, check.found) == ("ok", "cpu only")
    assert "CPU" in check.note


def test_gpu_is_reported_by_name(fake_env, constraints):
    fake_env(probe=TorchProbe(torch_version="2.14.1+cu130", cuda_build="13.0", cuda_available=True,
                              device_name="NVIDIA H100 80GB HBM3",
                              torchvision_version="0.29.1+cu130", nms=True))
    check = doctor.collect(constraints)["cuda"]
    assert (check.status, check.found) == ("ok", "available")
    assert "NVIDIA H100 80GB HBM3" in check.note


def test_python_outside_declared_range_fails(fake_env, constraints, monkeypatch):
    monkeypatch.setattr(doctor, "declared_ranges", lambda: {"python": ">=3.99"})
    check = doctor.collect(constraints)["python"]
    assert check.status == "fail"
    assert "venv" in check.fix


def test_server_jupyter_from_another_env_warns(fake_env, constraints, monkeypatch):
    monkeypatch.setattr(doctor, "find_server_jupyter", lambda timeout=10.0: ServerJupyter(
        "/opt/other/bin/jupyter", same_env=False, data_dirs=("/opt/other/share/jupyter",)))
    check = doctor.collect(constraints)["jupyter on PATH"]
    assert (check.status, check.found) == ("warn", "/opt/other/bin/jupyter")
    assert check.fix == f"start JupyterLab with: {PY} -m jupyterlab"


# ---------------------------------------------------------------------------------------------
# The lookups themselves
# ---------------------------------------------------------------------------------------------

def test_version_of_reads_metadata():
    import jupyterlab_widgets

    assert doctor.version_of("jupyterlab_widgets") == jupyterlab_widgets.__version__
    assert doctor.version_of("surely-not-installed-segviz-xyz") is None


def test_labextension_dirs_add_another_servers_dirs(tmp_path):
    server = ServerJupyter("/x/bin/jupyter", same_env=False, data_dirs=(str(tmp_path),))
    dirs = doctor.labextension_dirs(server)
    assert dirs[-1] == tmp_path / "labextensions"
    assert dirs[:-1] == doctor.labextension_dirs()
    assert len(set(dirs)) == len(dirs)


def _fake_jupyter(bin_dir: Path, body: str) -> Path:
    bin_dir.mkdir(parents=True)
    script = bin_dir / "jupyter"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


@pytest.mark.skipif(os.name != "posix", reason="fake jupyter is a shell script")
def test_find_server_jupyter_reads_other_envs_paths(tmp_path, monkeypatch):
    data = tmp_path / "other" / "share" / "jupyter"
    script = _fake_jupyter(tmp_path / "other" / "bin",
                           f"echo '{json.dumps({'config': [], 'data': [str(data)], 'runtime': ''})}'")
    monkeypatch.setenv("PATH", str(script.parent))
    server = doctor.find_server_jupyter()
    assert server == ServerJupyter(str(script), same_env=False, data_dirs=(str(data),))


@pytest.mark.skipif(os.name != "posix", reason="fake jupyter is a shell script")
@pytest.mark.parametrize("body, message", [
    # not `exec`: sleep runs as the shell's child, as a wrapper script's real jupyter would
    (f"{shutil.which('sleep')} 30", "took over"),
    ("exit 3", "failed"),
    ("echo not json", "failed"),
])
def test_find_server_jupyter_survives_a_broken_jupyter(tmp_path, monkeypatch, body, message):
    script = _fake_jupyter(tmp_path / "other" / "bin", body)
    monkeypatch.setenv("PATH", str(script.parent))
    start = time.monotonic()
    server = doctor.find_server_jupyter(timeout=0.5)
    assert time.monotonic() - start < 10
    assert (server.path, server.same_env, server.data_dirs) == (str(script), False, ())
    assert message in server.error


def test_find_server_jupyter_absent(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert doctor.find_server_jupyter() == ServerJupyter()


def test_find_server_jupyter_in_this_env(monkeypatch):
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    server = doctor.find_server_jupyter()
    assert server.path is not None and server.same_env


def test_probe_torch_matches_imports():
    import torch
    import torchvision

    probe = doctor.probe_torch()
    assert probe.torch_version == torch.__version__
    assert probe.torchvision_version == torchvision.__version__
    assert probe.nms is True
    assert probe.cuda_available == torch.cuda.is_available()


def test_parse_pins_skips_comments_ranges_and_options():
    text = "-r base.txt\n# c\nFoo_Bar==1.2  # why\nbaz>=2\nqux[extra]==3.0 ; python_version<'4'\n"
    assert doctor.parse_pins(text) == {"foo-bar": "1.2", "qux": "3.0"}


def test_installed_labextensions_reads_scoped_and_plain(tmp_path):
    d = _labext_dir(tmp_path)
    assert doctor.installed_labextensions([d]) == {d: {MANAGER: "5.0.16", "anywidget": "0.11.0"}}


# ---------------------------------------------------------------------------------------------
# Check, Report, output, exit codes
# ---------------------------------------------------------------------------------------------

def test_check_rejects_unknown_status_with_teaching_message():
    with pytest.raises(ValueError, match=r"status 'error' given .* must be one of 'ok', 'warn', 'fail'"):
        Check("x", "error", "", "", "fix")


def test_non_ok_check_requires_a_fix():
    with pytest.raises(ValueError, match="no fix"):
        Check("x", "warn", "1", "2")


def test_report_lookup_names_the_checks():
    with pytest.raises(KeyError, match="no check named 'nope'; the report has 'a'"):
        Report([Check("a", "ok", "", "")])["nope"]


def test_every_non_ok_line_is_followed_by_its_fix(fake_env, constraints):
    fake_env(versions={"anywidget": None, "plotly": "7.0.0"})
    report = doctor.collect(constraints)
    lines = doctor.format_report(report).splitlines()
    for check in report:
        if check.ok:
            continue
        row = next(i for i, line in enumerate(lines) if line.split()[1:2] == check.name.split()[:1]
                   and check.found in line)
        following = lines[row + 1:row + 3]
        assert any(line.strip() == f"fix:  {check.fix}" for line in following), check.name


def test_table_columns_are_aligned(fake_env, constraints):
    fake_env(versions={"plotly": "7.0.0"})
    report = doctor.collect(constraints)
    rows = [line for line in doctor.format_report(report).splitlines()
            if line[:4] in ("ok  ", "warn", "FAIL")]
    assert len(rows) == len(report)
    found_col = {line.index(check.found, len(check.name) + 6) for line, check in zip(rows, report)}
    assert len(found_col) == 1


def test_plain_output_has_no_colour_codes(fake_env, constraints):
    report = doctor.collect(constraints)
    assert "\033[" not in doctor.format_report(report)
    assert "\033[32m" in doctor.format_report(report, color=True)


def test_run_exit_code_0_when_healthy(fake_env, constraints, capsys):
    assert doctor.run(["--constraints", str(constraints)]) == 0
    out = capsys.readouterr().out
    assert "0 fail" in out and "\033[" not in out


def test_run_exit_code_1_on_fail(fake_env, constraints, capsys):
    fake_env(versions={"anywidget": None})
    assert doctor.run(["--constraints", str(constraints)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out
    assert f'fix:  {PY} -m pip install -c {constraints} "anywidget==0.11.0"' in out


def test_run_json_is_machine_readable(fake_env, constraints, capsys):
    fake_env(versions={"plotly": "7.0.0"})
    assert doctor.run(["--json", "--constraints", str(constraints)]) == 0
    data = json.loads(capsys.readouterr().out)
    statuses = {c["name"]: c["status"] for c in data["checks"]}
    assert statuses["plotly"] == "warn" and statuses["anywidget"] == "ok"
    assert data["exit_code"] == 0


def test_run_verbose_lists_labextensions(fake_env, constraints, capsys):
    assert doctor.run(["-v", "--constraints", str(constraints)]) == 0
    out = capsys.readouterr().out
    assert "labextensions directories searched:" in out
    assert f"{MANAGER} 5.0.16" in out
