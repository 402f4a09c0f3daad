"""``segviz doctor``: check that this environment can run the course, and say how to fix it.

The checks follow the ways a course environment has broken in practice:

* torch and torchvision that do not pair: a CPU torch wheel next to a CUDA torchvision fails on
  ``import torchvision`` with ``operator torchvision::nms does not exist``;
* ipywidgets 8 next to jupyterlab_widgets 1 (or the reverse): widgets show as plain text;
* plotly >= 6.1 without anywidget: ``go.FigureWidget`` is an anywidget and cannot be created;
* the widget front-ends (``@jupyter-widgets/jupyterlab-manager``, ``anywidget``) missing from the
  environment of the JupyterLab *server*, which may not be the kernel's environment;
* versions that differ from the pins in ``constraints.txt``.

Every line that is not ``ok`` carries the exact command that fixes it. The module imports torch
only inside :func:`probe_torch` and nothing from the rest of segviz, so it also runs as a plain
script (``python segviz/doctor.py``) when ``import segviz`` itself is what fails.

The lookups the checks depend on (:func:`version_of`, :func:`probe_torch`,
:func:`labextension_dirs`, :func:`find_server_jupyter`, :func:`load_pins`) are module-level
functions so that tests can replace them with ``monkeypatch``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

__all__ = [
    "Check", "Report", "TorchProbe", "ServerJupyter", "collect", "format_report", "run",
    "version_of", "probe_torch", "labextension_dirs", "find_server_jupyter", "parse_pins",
    "load_pins", "declared_ranges", "installed_labextensions", "add_arguments",
]

DESCRIPTION = "Check that this environment can run the segviz course, and say how to fix it."
STATUSES = ("ok", "warn", "fail")

# Python packages whose versions the course depends on, in the order they are reported.
PACKAGES = ("torch", "torchvision", "jupyterlab", "ipywidgets", "jupyterlab_widgets", "plotly",
            "anywidget")

# Front-end extension -> the Python package that installs it.
LABEXTENSIONS = {
    "@jupyter-widgets/jupyterlab-manager": "jupyterlab_widgets",
    "anywidget": "anywidget",
}

# ipywidgets major version -> the jupyterlab_widgets major and the labextension major it needs.
_WIDGETS_PAIRS = {8: (3, 5), 7: (1, 3)}

CONSTRAINTS = Path(__file__).resolve().parents[1] / "constraints.txt"


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One line of the doctor's report.

    Args:
        name: what was checked, e.g. ``"ipywidgets"``.
        status: ``"ok"``, ``"warn"`` (works, but not what the course was tested with) or
            ``"fail"`` (something the course needs will not work).
        found: what is installed, e.g. ``"8.1.9"`` or ``"missing"``.
        expected: what the course needs, e.g. ``"==8.1.9"``.
        fix: the command that fixes a ``warn`` or ``fail`` line; empty when ``ok``.
        note: a short remark printed under the line (a path, a device name).

    Raises:
        ValueError: for a status other than ``"ok"``, ``"warn"`` or ``"fail"``, or a non-ok
            check without a fix.

    Example:
        >>> Check("anywidget", "fail", "missing", "==0.11.0", "pip install anywidget").ok
        False
        >>> Check("anywidget", "bad", "", "", "")
        Traceback (most recent call last):
        ...
        ValueError: status 'bad' given for check 'anywidget'; status must be one of 'ok', 'warn', 'fail'
    """

    name: str
    status: str
    found: str
    expected: str
    fix: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(
                f"status {self.status!r} given for check {self.name!r}; status must be one of "
                + ", ".join(repr(s) for s in STATUSES))
        if self.status != "ok" and not self.fix:
            raise ValueError(
                f"check {self.name!r} has status {self.status!r} but no fix; every warn or fail "
                "line must carry the command that fixes it")

    @property
    def ok(self) -> bool:
        """Whether the check passed."""
        return self.status == "ok"


@dataclass
class Report:
    """The list of checks that :func:`collect` produced.

    Example:
        >>> r = Report([Check("python", "ok", "3.11.9", ">=3.10"),
        ...             Check("plotly", "warn", "7.0.0", "==7.1.0", "pip install plotly==7.1.0")])
        >>> r.counts(), r.exit_code
        ({'ok': 1, 'warn': 1, 'fail': 0}, 0)
        >>> r["plotly"].status
        'warn'
    """

    checks: list[Check] = field(default_factory=list)

    def __getitem__(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        names = ", ".join(repr(c.name) for c in self.checks)
        raise KeyError(f"no check named {name!r}; the report has {names}")

    def __iter__(self):
        return iter(self.checks)

    def __len__(self) -> int:
        return len(self.checks)

    def counts(self) -> dict[str, int]:
        """Number of checks per status."""
        return {s: sum(c.status == s for c in self.checks) for s in STATUSES}

    @property
    def exit_code(self) -> int:
        """0 when no check failed, 1 otherwise (warnings do not change the exit code)."""
        return int(any(c.status == "fail" for c in self.checks))


@dataclass(frozen=True)
class TorchProbe:
    """What importing torch and torchvision showed.

    ``torch_version`` / ``torchvision_version`` are ``__version__`` (with the local build tag,
    e.g. ``"2.14.1+cu130"``), or ``None`` when the import failed; ``*_error`` then holds the
    first line of the exception. ``nms`` tells whether ``torch.ops.torchvision.nms`` is
    registered, i.e. whether torchvision's compiled ops loaded against this torch.
    """

    torch_version: str | None = None
    torch_error: str = ""
    cuda_build: str | None = None        # torch.version.cuda: "13.0", or None for a CPU build
    cuda_available: bool = False
    device_name: str = ""
    cuda_note: str = ""                  # warnings raised while asking for CUDA
    torchvision_version: str | None = None
    torchvision_error: str = ""
    nms: bool = False


@dataclass(frozen=True)
class ServerJupyter:
    """The ``jupyter`` found on PATH, i.e. the one ``jupyter lab`` would start.

    ``path`` is ``None`` when no ``jupyter`` is on PATH. ``same_env`` tells whether it belongs
    to this Python's environment (``sys.prefix``). For another environment, ``data_dirs`` are its
    Jupyter data directories from ``jupyter --paths --json``, and ``error`` says why they could
    not be read.
    """

    path: str | None = None
    same_env: bool = True
    data_dirs: tuple[str, ...] = ()
    error: str = ""


# --------------------------------------------------------------------------------------------
# Lookups (the seams tests monkeypatch)
# --------------------------------------------------------------------------------------------

def version_of(name: str) -> str | None:
    """Installed version of a distribution, or ``None`` when it is not installed.

    Reads package metadata, so nothing is imported.

    Example:
        >>> version_of("no-such-package-segviz") is None
        True
    """
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def probe_torch() -> TorchProbe:
    """Import torch and torchvision once and record what works.

    Never raises: a failed import is recorded in the result.
    """
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - any import failure is a finding, not a crash
        return TorchProbe(torch_error=_first_line(exc))
    info: dict = {"torch_version": str(torch.__version__),
                  "cuda_build": getattr(torch.version, "cuda", None)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            info["cuda_available"] = bool(torch.cuda.is_available())
            if info["cuda_available"]:
                info["device_name"] = torch.cuda.get_device_name(0)
        except Exception as exc:  # noqa: BLE001
            info["cuda_available"] = False
            info["cuda_note"] = _first_line(exc)
    if caught and not info.get("cuda_note"):
        info["cuda_note"] = str(caught[0].message).strip().splitlines()[0]
    try:
        import torchvision
        info["torchvision_version"] = str(torchvision.__version__)
    except Exception as exc:  # noqa: BLE001
        info["torchvision_error"] = _first_line(exc)
    try:
        info["nms"] = callable(torch.ops.torchvision.nms)
    except Exception:  # noqa: BLE001 - AttributeError/RuntimeError when the op is not registered
        info["nms"] = False
    return TorchProbe(**info)


def find_server_jupyter(timeout: float = 10.0) -> ServerJupyter:
    """Find the ``jupyter`` on PATH and, if it is another environment's, its data directories.

    Args:
        timeout: seconds to wait for ``jupyter --paths --json``.
    """
    found = shutil.which("jupyter")
    if found is None:
        return ServerJupyter()
    here = {Path(sys.prefix).resolve(), Path(sys.executable).parent.parent.resolve()}
    prefix = Path(found).parent.parent
    if prefix.resolve() in here:
        return ServerJupyter(path=found, same_env=True)
    command = f"'{found} --paths --json'"
    try:
        stdout = _output_within([found, "--paths", "--json"], timeout)
        data = json.loads(stdout)["data"]
    except subprocess.TimeoutExpired:
        return ServerJupyter(found, False, error=f"{command} took over {timeout:g} s")
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError, TypeError) as exc:
        return ServerJupyter(found, False, error=f"{command} failed: {_first_line(exc)}")
    return ServerJupyter(found, False, data_dirs=tuple(str(d) for d in data))


def _output_within(args: list[str], timeout: float) -> str:
    """stdout of ``args``; on timeout kill its whole process group, so that children of a
    wrapper script neither linger nor keep the pipe open."""
    posix = os.name == "posix"
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, text=True, start_new_session=posix)
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if posix:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        proc.communicate()
        raise
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, args)
    return stdout


def labextension_dirs(server: ServerJupyter | None = None) -> list[Path]:
    """Directories where JupyterLab looks for prebuilt front-end extensions.

    Those of this environment (``jupyter_core.paths.jupyter_path("labextensions")``), then those
    of the server's environment when ``server`` is another one. Duplicates are dropped.

    Example:
        >>> all(p.name == "labextensions" for p in labextension_dirs())
        True
    """
    dirs: list[Path] = []
    try:
        from jupyter_core.paths import jupyter_path
        dirs += [Path(p) for p in jupyter_path("labextensions")]
    except ImportError:
        dirs.append(Path(sys.prefix) / "share" / "jupyter" / "labextensions")
    if server is not None and not server.same_env:
        dirs += [Path(d) / "labextensions" for d in server.data_dirs]
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def installed_labextensions(dirs: Iterable[Path]) -> dict[Path, dict[str, str]]:
    """Map each existing directory to ``{extension name: version}`` read from ``package.json``.

    Example:
        >>> installed_labextensions([Path("/no/such/dir")])
        {}
    """
    result: dict[Path, dict[str, str]] = {}
    for d in dirs:
        if not d.is_dir():
            continue
        found: dict[str, str] = {}
        # unscoped names live at <dir>/<name>, scoped ones at <dir>/@scope/<name>
        for pkg in sorted(list(d.glob("*/package.json")) + list(d.glob("@*/*/package.json"))):
            try:
                meta = json.loads(pkg.read_text(encoding="utf-8"))
                found[str(meta.get("name") or pkg.parent.relative_to(d))] = str(
                    meta.get("version", "?"))
            except (OSError, ValueError):
                found[str(pkg.parent.relative_to(d).as_posix())] = "unreadable package.json"
        result[d] = found
    return result


def parse_pins(text: str) -> dict[str, str]:
    """Read ``name==version`` lines of a pip constraints file into ``{normalized name: version}``.

    Comments, blank lines and anything but an exact pin are skipped; names are normalized as
    pip does (lower case, runs of ``-_.`` become ``-``).

    Example:
        >>> parse_pins("# lock\\nImageIO==2.38.1\\njupyterlab_widgets==3.0.17  # widgets\\n")
        {'imageio': '2.38.1', 'jupyterlab-widgets': '3.0.17'}
    """
    pins: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].split(";", 1)[0].strip()
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s,]+)", line)
        if m:
            pins[_normalize(m.group(1))] = m.group(3)
    return pins


def load_pins(path: Path | None = None) -> dict[str, str]:
    """Pins from the repository's ``constraints.txt`` (``{}`` when there is none)."""
    path = CONSTRAINTS if path is None else Path(path)
    try:
        return parse_pins(path.read_text(encoding="utf-8"))
    except OSError:
        return {}


def declared_ranges() -> dict[str, str]:
    """Version ranges segviz declares (``{normalized name: specifier}``), from its metadata.

    Optional (extra) dependencies are left out; ``"python"`` holds ``Requires-Python``. Empty
    when segviz is not installed or ``packaging`` is missing.
    """
    try:
        from packaging.requirements import InvalidRequirement, Requirement
        requires = importlib.metadata.requires("segviz") or []
        python = importlib.metadata.metadata("segviz").get("Requires-Python")
    except (ImportError, importlib.metadata.PackageNotFoundError):
        return {}
    ranges = {"python": _specifier_text(python)} if python else {}
    for line in requires:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is not None and "extra" in str(req.marker):
            continue
        ranges[_normalize(req.name)] = _specifier_text(str(req.specifier))
    return ranges


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _specifier_text(spec: str) -> str:
    """``"<2.16,>=2.14"`` -> ``">=2.14,<2.16"`` (lower bounds first, as people write them)."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    return ",".join(sorted(parts, key=lambda p: (not p.startswith((">", "~", "=")), p)))


def _release(version: str) -> tuple[int, ...]:
    """Leading numeric components: ``"8.1.9"`` -> ``(8, 1, 9)``, ``"2.14.1+cu130"`` -> ``(2, 14, 1)``."""
    m = re.match(r"\d+(\.\d+)*", version.strip())
    return tuple(int(x) for x in m.group(0).split(".")) if m else ()


def _same_version(installed: str, pin: str) -> bool:
    """Equal as pip compares them; a pin without a local tag matches any local build of it."""
    try:
        from packaging.version import InvalidVersion, Version
        try:
            a, b = Version(installed), Version(pin)
        except InvalidVersion:
            return installed == pin
        return a == b or (not b.local and a.public == b.public)
    except ImportError:
        return installed.split("+")[0] == pin.split("+")[0]


def _in_range(version: str, spec: str) -> bool | None:
    """Whether ``version`` satisfies ``spec``; ``None`` when it cannot be decided."""
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.version import InvalidVersion, Version
        return Version(version) in SpecifierSet(spec, prereleases=True)
    except (ImportError, InvalidSpecifier, InvalidVersion):
        return None


def _display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies inside it, else absolute."""
    try:
        rel = path.resolve().relative_to(Path.cwd().resolve())
        return rel.as_posix()
    except ValueError:
        return str(path)


class _Context:
    """What every check needs: pins, ranges, and how to spell an install command."""

    def __init__(self, pins: dict[str, str], ranges: dict[str, str], constraints: Path | None):
        self.pins = pins
        self.ranges = ranges
        self.constraints = constraints

    def spec(self, name: str) -> str:
        key = _normalize(name)
        if key in self.pins:
            return f"{name}=={self.pins[key]}"
        return f"{name}{self.ranges.get(key, '')}"

    def expected(self, name: str) -> str:
        key = _normalize(name)
        if key in self.pins:
            return f"=={self.pins[key]} (constraints.txt)"
        return self.ranges.get(key) or "installed"

    def pip_install(self, *names: str, force: bool = False, python: str | None = None) -> str:
        exe = python or sys.executable
        words = [shlex.quote(exe), "-m", "pip", "install"]
        if force:
            words.append("--force-reinstall")
        if self.constraints is not None:
            words += ["-c", shlex.quote(_display_path(self.constraints))]
        words += [f'"{self.spec(n)}"' for n in names]
        return " ".join(words)


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------

def _check_python(ctx: _Context) -> Check:
    found = platform.python_version()
    spec = ctx.ranges.get("python", "")
    note = f"executable {sys.executable}"
    if spec and _in_range(found, spec) is False:
        return Check("python", "fail", found, spec,
                     f"create the environment with a Python in {spec}, e.g. "
                     "python3.11 -m venv .venv && .venv/bin/python -m pip install "
                     + (f"-c {_display_path(ctx.constraints)} " if ctx.constraints else "")
                     + "-e '.[test]'", note)
    return Check("python", "ok", found, spec or "any", note=note)


def _check_package(name: str, installed: str | None, ctx: _Context) -> Check:
    key = _normalize(name)
    expected = ctx.expected(name)
    if installed is None:
        return Check(name, "fail", "missing", expected, ctx.pip_install(name))
    spec = ctx.ranges.get(key)
    if spec and _in_range(installed, spec) is False:
        return Check(name, "fail", installed, expected, ctx.pip_install(name),
                     note=f"outside the range segviz declares ({spec})")
    pin = ctx.pins.get(key)
    if pin is not None and not _same_version(installed, pin):
        return Check(name, "warn", installed, expected, ctx.pip_install(name),
                     note="differs from the version the course was tested with")
    return Check(name, "ok", installed, expected)


def _check_torch_pair(probe: TorchProbe, ctx: _Context) -> Check:
    name = "torch/torchvision pairing"
    expected = "torchvision imports, nms op"
    fix = ctx.pip_install("torch", "torchvision", force=True)
    if probe.torch_version is None:
        return Check(name, "fail", "import torch failed", expected, fix, probe.torch_error)
    if probe.torchvision_version is None:
        return Check(name, "fail", "import torchvision failed", expected, fix,
                     probe.torchvision_error + "; a CPU torch wheel pairs with no torchvision "
                     "build: install both from PyPI (the CUDA builds also run on CPU)")
    pair = f"torch {probe.torch_version} + torchvision {probe.torchvision_version}"
    if not probe.nms:
        return Check(name, "fail", "nms missing", expected, fix,
                     f"{pair}: torchvision's compiled ops did not load against this torch")
    tags = {v.partition("+")[2] for v in (probe.torch_version, probe.torchvision_version)}
    if len(tags) > 1:
        return Check(name, "warn", "builds differ", expected, fix,
                     f"{pair}: local build tags differ although nms loaded")
    return Check(name, "ok", "nms ok", expected, note=pair)


def _check_cuda(probe: TorchProbe) -> Check:
    if probe.torch_version is None:
        return Check("cuda", "ok", "unknown", "optional", note="torch did not import")
    build = f"CUDA {probe.cuda_build} build" if probe.cuda_build else "CPU build"
    if probe.cuda_available:
        return Check("cuda", "ok", "available", "optional",
                     note=f"{probe.device_name} ({build} of torch)")
    note = f"no GPU: runs on CPU, which is fine for this course ({build} of torch)"
    if probe.cuda_note:
        note += f"; {probe.cuda_note}"
    return Check("cuda", "ok", "cpu only", "optional", note=note)


def _check_widgets_pair(ipyw: str | None, jlw: str | None, ctx: _Context) -> Check:
    name = "ipywidgets/jupyterlab_widgets"
    expected = "ipywidgets 8 + jupyterlab_widgets 3"
    if ipyw is None or jlw is None:
        missing = "ipywidgets" if ipyw is None else "jupyterlab_widgets"
        return Check(name, "fail", f"{missing} missing", expected, ctx.pip_install(missing))
    i_major = (_release(ipyw) or (0,))[0]
    j_major = (_release(jlw) or (0,))[0]
    found = f"{ipyw} + {jlw}"
    if i_major != 8:
        # the course is written for ipywidgets 8; installing both pins fixes either side
        return Check(name, "fail", found, expected,
                     ctx.pip_install("ipywidgets", "jupyterlab_widgets"),
                     note=f"the course needs ipywidgets 8, found {ipyw}")
    if j_major != _WIDGETS_PAIRS[8][0]:
        return Check(name, "fail", found, expected, ctx.pip_install("jupyterlab_widgets"),
                     note=f"ipywidgets 8 needs jupyterlab_widgets 3, found {jlw}; widgets "
                          "would show as text instead of controls")
    return Check(name, "ok", found, expected)


def _check_figurewidget(plotly: str | None, anywidget: str | None, ctx: _Context) -> Check:
    name = "plotly FigureWidget/anywidget"
    expected = "anywidget (plotly >= 6.1)"
    if plotly is None:
        return Check(name, "fail", "plotly missing", expected, ctx.pip_install("plotly"))
    if _release(plotly) < (6, 1):
        return Check(name, "ok", f"plotly {plotly}", expected,
                     note="plotly < 6.1 does not use anywidget (see the plotly line)")
    if anywidget is None:
        return Check(name, "fail", "anywidget missing", expected, ctx.pip_install("anywidget"),
                     note=f"plotly {plotly}'s go.FigureWidget is an anywidget and cannot be created")
    return Check(name, "ok", f"{plotly} + {anywidget}", expected)


def _check_labextension(ext: str, package: str, installed: str | None,
                        ipywidgets: str | None, found_exts: dict[Path, dict[str, str]],
                        dirs: Sequence[Path], server: ServerJupyter, ctx: _Context) -> Check:
    name = f"labextension {ext}"
    expected = "package.json in labextensions"
    fix = ctx.pip_install(package, force=installed is not None)
    if server.path and not server.same_env:
        server_python = Path(server.path).parent / "python"
        if server_python.exists():
            fix += " && " + ctx.pip_install(package, force=True, python=str(server_python))
    for d in dirs:
        version = found_exts.get(d, {}).get(ext)
        if version is None:
            continue
        note = f"in {d}"
        if ext == "@jupyter-widgets/jupyterlab-manager" and ipywidgets:
            needed = _WIDGETS_PAIRS.get((_release(ipywidgets) or (0,))[0])
            if needed and (_release(version) or (0,))[0] != needed[1]:
                return Check(name, "fail", version, f"{needed[1]}.x for ipywidgets {ipywidgets}",
                             fix, note + "; this front-end cannot show these widgets")
        if package == "anywidget" and installed and version != installed:
            return Check(name, "warn", version, f"{installed} (the Python package)", fix,
                         note + "; front-end and Python package differ")
        return Check(name, "ok", version, expected, note=note)
    searched = ", ".join(str(d) for d in dirs) or "no directories"
    why = (f"{package} {installed} is installed but its front-end is not"
           if installed else f"{package} is not installed")
    return Check(name, "fail", "missing", expected, fix, f"{why}; searched {searched}")


def _check_server(server: ServerJupyter) -> Check:
    name = "jupyter on PATH"
    expected = "this environment's jupyter"
    start = f"{shlex.quote(sys.executable)} -m jupyterlab"
    if server.path is None:
        return Check(name, "ok", "none", expected,
                     note=f"start JupyterLab with: {start}")
    if server.same_env:
        return Check(name, "ok", server.path, expected)
    note = ("`jupyter lab` would start a server from another environment; its labextensions "
            "were searched too")
    if server.error:
        note = f"another environment; could not read its paths: {server.error}"
    return Check(name, "warn", server.path, expected, f"start JupyterLab with: {start}", note)


def collect(constraints: Path | None = None) -> Report:
    """Run every check and return the report (prints nothing).

    Args:
        constraints: the pip constraints file with the tested pins; defaults to the
            repository's ``constraints.txt`` next to the ``segviz`` package.

    Returns:
        A :class:`Report` whose checks are named ``"python"``, one per package in
        ``PACKAGES``, ``"torch/torchvision pairing"``, ``"cuda"``,
        ``"ipywidgets/jupyterlab_widgets"``, ``"plotly FigureWidget/anywidget"``,
        ``"labextension <name>"`` for each widget front-end, and ``"jupyter on PATH"``.

    Example:
        >>> report = collect()
        >>> report["anywidget"].status in ("ok", "warn", "fail")
        True
    """
    path = CONSTRAINTS if constraints is None else Path(constraints)
    pins = load_pins(path)
    ctx = _Context(pins, declared_ranges(), path if path.is_file() else None)
    versions = {name: version_of(name) for name in PACKAGES}
    probe = probe_torch()
    server = find_server_jupyter()
    dirs = labextension_dirs(server)
    found_exts = installed_labextensions(dirs)

    checks = [_check_python(ctx)]
    checks += [_check_package(n, versions[n], ctx) for n in ("torch", "torchvision")]
    checks += [_check_torch_pair(probe, ctx), _check_cuda(probe)]
    checks += [_check_package(n, versions[n], ctx) for n in PACKAGES[2:]]
    checks.append(_check_widgets_pair(versions["ipywidgets"], versions["jupyterlab_widgets"], ctx))
    checks.append(_check_figurewidget(versions["plotly"], versions["anywidget"], ctx))
    for ext, package in LABEXTENSIONS.items():
        checks.append(_check_labextension(ext, package, versions[package], versions["ipywidgets"],
                                          found_exts, dirs, server, ctx))
    checks.append(_check_server(server))
    return Report(checks)


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

_COLOURS = {"ok": "\033[32m", "warn": "\033[33m", "fail": "\033[31m"}
_LABELS = {"ok": "ok", "warn": "warn", "fail": "FAIL"}


def format_report(report: Report, color: bool = False) -> str:
    """Render the report as an aligned plain-text table.

    One row per check (status, check, found, expected); a ``note:`` and, for warn/fail rows,
    a ``fix:`` line below it; a summary line last.

    Args:
        report: what :func:`collect` returned.
        color: colour the status column with ANSI codes (for a terminal).

    Example:
        >>> print(format_report(Report([
        ...     Check("python", "ok", "3.11.9", ">=3.10,<3.14"),
        ...     Check("anywidget", "fail", "missing", "==0.11.0", "pip install anywidget"),
        ... ])))
        status  check      found    expected
        ok      python     3.11.9   >=3.10,<3.14
        FAIL    anywidget  missing  ==0.11.0
                fix:  pip install anywidget
        <BLANKLINE>
        2 checks: 1 ok, 0 warn, 1 fail
    """
    header = ("status", "check", "found", "expected")
    rows = [(_LABELS[c.status], c.name, c.found, c.expected) for c in report]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    indent = " " * (widths[0] + 2)

    def line(cells: Sequence[str], status: str | None = None) -> str:
        first = cells[0].ljust(widths[0])
        if color and status is not None:
            first = f"{_COLOURS[status]}{first}\033[0m"
        rest = [c.ljust(w) for c, w in zip(cells[1:3], widths[1:])]
        return "  ".join([first, *rest, cells[3]]).rstrip()

    out = [line(header)]
    for check, row in zip(report, rows):
        out.append(line(row, check.status))
        if check.note:
            out.append(f"{indent}note: {check.note}")
        if check.fix:
            out.append(f"{indent}fix:  {check.fix}")
    n = report.counts()
    out += ["", f"{len(report)} checks: {n['ok']} ok, {n['warn']} warn, {n['fail']} fail"]
    return "\n".join(out)


def _format_dirs(found_exts: dict[Path, dict[str, str]], dirs: Sequence[Path]) -> str:
    out = ["", "labextensions directories searched:"]
    for d in dirs:
        if d not in found_exts:
            out.append(f"  {d}  (does not exist)")
            continue
        exts = found_exts[d]
        out.append(f"  {d}" + ("  (empty)" if not exts else ""))
        out += [f"    {name} {version}" for name, version in exts.items()]
    return "\n".join(out)


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the doctor's options to ``parser`` (used by ``segviz doctor`` and :func:`run`)."""
    parser.add_argument("--json", action="store_true",
                        help="print the checks as JSON instead of a table")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also list every labextension found in each directory searched")
    parser.add_argument("--constraints", type=Path, default=None, metavar="FILE",
                        help="pip constraints file with the tested pins "
                             f"(default: {CONSTRAINTS})")
    return parser


def execute(args: argparse.Namespace) -> int:
    """Run the doctor with parsed options; print the report; return the exit code."""
    report = collect(args.constraints)
    if args.json:
        print(json.dumps({"checks": [dataclasses.asdict(c) for c in report],
                          "counts": report.counts(), "exit_code": report.exit_code}, indent=2))
        return report.exit_code
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    print(format_report(report, color=color))
    if args.verbose:
        dirs = labextension_dirs(find_server_jupyter())
        print(_format_dirs(installed_labextensions(dirs), dirs))
    return report.exit_code


def run(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``segviz doctor``: 0 when no check failed, 1 otherwise.

    Args:
        argv: the options after ``doctor`` (default: ``sys.argv[1:]``).

    Example:
        >>> run(["--no-such-option"])
        Traceback (most recent call last):
        ...
        SystemExit: 2
    """
    parser = add_arguments(argparse.ArgumentParser(
        prog="segviz doctor", description=DESCRIPTION))
    return execute(parser.parse_args(argv))


if __name__ == "__main__":  # `python segviz/doctor.py` works even when `import segviz` fails
    raise SystemExit(run())
