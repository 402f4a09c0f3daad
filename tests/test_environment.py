"""pyproject.toml (ranges), constraints.txt (pins) and environment.yml (conda route) agree."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]
    return {canonicalize_name(r.name): r for r in reqs}


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        assert match, f"not an exact pin: {line!r}"
        pins[canonicalize_name(match[1])] = match[2]
    return pins


def _environment_pip_lines() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip section"
    return pip_sections[0]


def test_environment_yml_lists_exactly_pyprojects_packages():
    in_env = set(_pins(_environment_pip_lines()))
    in_pyproject = set(_pyproject_requirements())
    assert in_env == in_pyproject, (
        f"only in environment.yml: {sorted(in_env - in_pyproject)}; "
        f"only in pyproject.toml: {sorted(in_pyproject - in_env)}"
    )


def test_environment_yml_installs_the_package_itself_and_python_311():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "-e ." in _environment_pip_lines()
    assert "python=3.11" in env["dependencies"]


def test_environment_yml_pins_equal_constraints():
    locked = _pins((ROOT / "constraints.txt").read_text().splitlines())
    for name, version in _pins(_environment_pip_lines()).items():
        assert locked.get(name) == version, f"{name}: environment.yml {version}, constraints.txt {locked.get(name)}"


@pytest.mark.parametrize("name", sorted(_pyproject_requirements()))
def test_every_dependency_is_locked_within_its_range(name):
    locked = _pins((ROOT / "constraints.txt").read_text().splitlines())
    requirement = _pyproject_requirements()[name]
    assert name in locked, f"{name} is in pyproject.toml but not pinned in constraints.txt"
    assert requirement.specifier.contains(locked[name], prereleases=True), (
        f"{name}=={locked[name]} in constraints.txt is outside pyproject's range {requirement.specifier}"
    )


def test_torch_pair_is_the_one_known_to_work():
    # torch 2.13.0+cpu pairs with no torchvision here ("operator torchvision::nms does not exist").
    locked = _pins((ROOT / "constraints.txt").read_text().splitlines())
    assert (locked["torch"], locked["torchvision"]) == ("2.14.1", "0.29.1")
