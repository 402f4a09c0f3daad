"""Fixtures for the real-browser tests: a throw-away JupyterLab server and a Chromium page.

The tests drive the Debian Chromium at ``/usr/bin/chromium`` through Python ``playwright``; they
never download a browser (``playwright install`` is not needed and not wanted).

Isolation:
    * The notebooks under test are *copied* into a temporary root directory
      (``lab_server.add_notebook``). The repository itself is never served: JupyterLab autosaves
      open notebooks, which would write outputs and megabytes of widget state into committed files.
    * Config, runtime, data, settings and workspace directories all live in the same temporary
      directory, so a developer's own JupyterLab settings or kernels cannot change what the test sees.

Artifacts (screenshots, browser console, server log on failure) go to ``test-artifacts/browser/``
at the repository root, which is gitignored.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts" / "browser"
CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
VIEWPORT = {"width": 1400, "height": 1000}
SERVER_START_TIMEOUT_S = 60.0

# The fixture notebook is test data for the browser test, not a lecture: keep nbval
# (``--nbval-lax`` in addopts) from collecting it as a notebook test of its own.
collect_ignore_glob = ["*.ipynb"]

# User settings written before JupyterLab starts (``<settings dir>/<plugin path>.jupyterlab-settings``).
LAB_SETTINGS = {
    # Attach every cell to the DOM, so prompts and outputs of cells below the fold can be inspected
    # (the default windowing mode detaches off-screen cells).
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    # No news/update toasts: the network is closed and a toast could cover the widget.
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def _missing(what: str, how: str) -> None:
    """Skip locally, fail on CI (``CI`` set): a CI job that silently skips proves nothing."""
    message = f"{what} is missing; {how}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


def _safe_name(nodename: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodename).strip("_")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Store each phase's report on the item (``item.rep_setup``/``rep_call``) for the fixtures."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _test_failed(node) -> bool:
    return any(
        getattr(node, f"rep_{when}", None) is not None and getattr(node, f"rep_{when}").failed
        for when in ("setup", "call")
    )


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture
def artifact_path(request, artifacts_dir):
    """``artifact_path("before.png")`` -> ``test-artifacts/browser/<test name>-before.png``."""
    prefix = _safe_name(request.node.name)

    def make(suffix: str) -> Path:
        return artifacts_dir / f"{prefix}-{suffix}"

    return make


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM_PATH.exists():
        _missing(
            f"Chromium ({CHROMIUM_PATH})",
            "install it with `apt-get install -y chromium` (the browser tests use the system "
            "Chromium through Python playwright; `playwright install` is not used)",
        )
    return CHROMIUM_PATH


@dataclass
class LabServer:
    """A running JupyterLab serving a temporary root directory."""

    base_url: str  # ends with "/"
    token: str
    root: Path
    log_path: Path
    process: subprocess.Popen

    def url(self, path: str, query: str = "") -> str:
        """Absolute URL of ``path`` (relative to the base URL) with the token appended."""
        query = f"{query}&" if query else ""
        return f"{self.base_url}{path.lstrip('/')}?{query}token={self.token}"

    def add_notebook(self, relpath: str) -> Path:
        """Copy ``relpath`` from the repository into the served root (fresh copy each call)."""
        source = REPO_ROOT / relpath
        if not source.is_file():
            raise FileNotFoundError(f"notebook under test not found: {source}")
        target = self.root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return target

    def log_tail(self, n_chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n_chars:]
        except OSError as error:
            return f"<cannot read server log {self.log_path}: {error}>"


def _write_lab_settings(settings_dir: Path) -> None:
    for plugin_path, values in LAB_SETTINGS.items():
        target = settings_dir / f"{plugin_path}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values, indent=2))


def _wait_until_up(server: LabServer, timeout_s: float) -> None:
    status_url = server.url("api/status")
    deadline = time.monotonic() + timeout_s
    last_error: object = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with code {server.process.returncode} before answering; "
                f"log tail:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(status_url, timeout=2) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as error:
            last_error = error
        time.sleep(0.25)
    raise TimeoutError(
        f"jupyter lab did not answer {server.base_url}api/status within {timeout_s:.0f} s "
        f"(last error: {last_error}); log tail:\n{server.log_tail()}"
    )


def _terminate_tree(process: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """SIGTERM the server (it shuts its kernels down), then kill whatever of its tree is left."""
    import psutil  # a dependency of ipykernel, hence always present where the tests can run

    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout_s)
    _, alive = psutil.wait_procs(children, timeout=timeout_s)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=timeout_s)


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory, artifacts_dir):
    """Start ``jupyter lab`` on a free port with a random token; yield a :class:`LabServer`."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "root"
    dirs = {name: base / name for name in ("config", "runtime", "data", "settings", "workspaces", "ipython")}
    for path in (root, *dirs.values()):
        path.mkdir(parents=True, exist_ok=True)
    _write_lab_settings(dirs["settings"])

    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
        JUPYTER_PREFER_ENV_PATH="1",
        # The kernel must be this interpreter's environment (segviz, torch, plotly, ...).
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        PYTHONUNBUFFERED="1",
    )
    # An empty IPython profile: no ~/.ipython startup files. (The root conftest's seeded profile
    # is for nbval; here it would only add a torch import to every kernel start, and the
    # notebooks seed themselves.)
    env["IPYTHONDIR"] = str(dirs["ipython"])
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_TOKEN", None)

    token = secrets.token_hex(24)
    port = _free_port()
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--allow-root",
        f"--IdentityProvider.token={token}",
        "--LabApp.expose_app_in_browser=True",
        "--ServerApp.open_browser=False",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={dirs['settings']}",
        f"--LabApp.workspaces_dir={dirs['workspaces']}",
        "--ServerApp.terminals_enabled=False",
    ]  # fmt: skip
    log_path = base / "jupyter-server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    server = LabServer(
        base_url=f"http://127.0.0.1:{port}/", token=token, root=root, log_path=log_path, process=process
    )
    try:
        _wait_until_up(server, SERVER_START_TIMEOUT_S)
    except BaseException:
        _terminate_tree(process)
        shutil.copyfile(log_path, artifacts_dir / "jupyter-server-startup.log")
        raise
    try:
        yield server
    finally:
        _terminate_tree(process)


@pytest.fixture(scope="session")
def browser(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Python playwright", "install the test extras: `pip install -e .[test]`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(request, browser, lab_server, artifact_path):
    """A fresh Chromium page (own context, 1400x1000). Console goes to ``<test>-console.log``;
    on failure a screenshot and the server log are saved next to it."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    browser_page = context.new_page()
    console: list[str] = []
    browser_page.on("console", lambda message: console.append(f"[{message.type}] {message.text}"))
    browser_page.on("pageerror", lambda error: console.append(f"[pageerror] {error}"))
    try:
        yield browser_page
    finally:
        if _test_failed(request.node):
            try:
                browser_page.screenshot(path=artifact_path("failure.png"))
            except Exception as error:  # the page may be gone; keep the other artifacts
                console.append(f"[harness] failure screenshot not taken: {error}")
            shutil.copyfile(lab_server.log_path, artifact_path("jupyter-server.log"))
        artifact_path("console.log").write_text("\n".join(console) + "\n")
        context.close()
