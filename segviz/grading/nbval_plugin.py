"""The pytest plugin the grader runs nbval with: one result line per cell, and a kernel that survives.

``segviz grade`` runs ``pytest -p nbval -p segviz.grading.nbval_plugin --nbval-lax`` on each
rebuilt submission, in a subprocess. nbval executes the cells in one kernel and compares the
outputs of the check cells with the master's; this plugin adds what grading needs:

* **Results as they happen.** ``--segviz-results FILE`` receives one JSON line per cell (its
  outcome, the kind of failure, the stdout it printed, the error's type and message, the time it
  took) as soon as the cell finishes, so a run killed by the whole-notebook timeout still leaves
  everything it did before.
* **A kernel that is watched.** nbval waits for a cell's reply for the whole cell timeout even when
  the kernel has died (``os._exit``, a segfault); :class:`WatchedKernel` notices the death within
  half a second and fails the cell with :class:`KernelDied`. After an interrupt that the code
  ignores, it stops waiting for output after ``--segviz-output-timeout`` seconds even if the cell
  keeps printing, so nbval shuts the kernel down.
* **Recovery.** Before each cell, if the kernel is dead, a new one is started and the cells that
  ran before are replayed (except those that crashed or hung), so a crash costs the cells that
  crash, not the rest of the notebook. nbval marks every cell after a timeout as an expected
  failure; the plugin clears that mark, since the kernel was interrupted or replaced.
* **A separate working directory** for the kernel (``--segviz-kernel-cwd``), so the code under
  test does not start next to the notebook that holds the expected outputs.

Without ``--segviz-results`` the plugin does nothing.
"""

from __future__ import annotations

import json
import signal
import time
from queue import Empty
from typing import Any

import pytest

from .labformat import stream_text, without_stderr

__all__ = ["KernelDied", "WatchedKernel", "drop_stderr_from_comparison"]

_STATE: dict[str, Any] = {}


class KernelDied(RuntimeError):
    """The kernel process ended while a cell was running."""


def _exit_description(code: int | None) -> str:
    if code is None:
        return "kernel died"
    if code < 0:
        try:
            return f"kernel died (signal {signal.Signals(-code).name})"
        except ValueError:
            return f"kernel died (signal {-code})"
    return f"kernel died (exit code {code})"


def _emit(event: dict[str, Any]) -> None:
    stream = _STATE.get("stream")
    if stream is not None:
        stream.write(json.dumps(event) + "\n")
        stream.flush()


def _make_watched_kernel(base: type) -> type:
    class _Watched(base):  # type: ignore[misc, valid-type]
        """nbval's RunningKernel that notices a dead kernel and a cell that will not stop."""

        def __init__(self, kernel_name: str, cwd: str | None = None, startup_timeout: int = 60) -> None:
            self._interrupted_at: float | None = None
            super().__init__(kernel_name, cwd=_STATE.get("kernel_cwd") or cwd, startup_timeout=startup_timeout)
            process = getattr(getattr(self.km, "provisioner", None), "process", None)
            if process is not None:
                _emit({"event": "kernel", "pid": process.pid})

        def _exit_code(self) -> int | None:
            process = getattr(getattr(getattr(self, "km", None), "provisioner", None), "process", None)
            return None if process is None else process.poll()

        def get_message(self, stream: str, timeout: float | None = None) -> dict[str, Any]:
            deadline = None if timeout is None else time.monotonic() + timeout
            grace = _STATE.get("output_timeout", 10.0)
            while True:
                now = time.monotonic()
                if self._interrupted_at is not None and stream == "iopub":
                    limit = self._interrupted_at + grace
                    deadline = limit if deadline is None else min(deadline, limit)
                if deadline is not None and now >= deadline:
                    raise Empty
                step = 0.5 if deadline is None else max(0.0, min(0.5, deadline - now))
                try:
                    return super().get_message(stream, timeout=step)
                except Empty:
                    if not self.is_alive():
                        raise KernelDied(_exit_description(self._exit_code())) from None

        def interrupt(self) -> None:
            self._interrupted_at = time.monotonic()
            super().interrupt()

    _Watched.__name__ = _Watched.__qualname__ = "WatchedKernel"
    return _Watched


WatchedKernel: type | None = None  # set when the plugin is active (it subclasses nbval's kernel)


def drop_stderr_from_comparison() -> None:
    """Make nbval ignore stderr streams when it compares a cell's outputs (idempotent).

    Warnings go to stderr and depend on library versions, never on whether an answer is right,
    so neither the test suite nor the grader lets them fail a checked cell.
    """
    import nbval.plugin

    cell_class = nbval.plugin.IPyNbCell
    if getattr(cell_class.compare_outputs, "_segviz_drops_stderr", False):
        return
    original = cell_class.compare_outputs

    def compare_outputs(self: Any, test: Any, ref: Any, skip_compare: Any = None) -> bool:
        return original(self, without_stderr(test), without_stderr(ref), skip_compare)

    compare_outputs._segviz_drops_stderr = True  # type: ignore[attr-defined]
    cell_class.compare_outputs = compare_outputs


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("segviz", "segviz grading")
    group.addoption("--segviz-results", default=None, help="write one JSON line per executed cell to this file")
    group.addoption("--segviz-output-timeout", type=float, default=10.0,
                    help="seconds to wait for a cell's output after it replied or was interrupted")
    group.addoption("--segviz-kernel-cwd", default=None, help="working directory of the kernel")
    group.addoption("--segviz-max-restarts", type=int, default=4, help="kernel restarts allowed per notebook")
    group.addoption("--segviz-setup-timeout", type=float, default=None,
                    help="cell timeout for the master's own cells (imports, demos); graded cells get "
                         "--nbval-cell-timeout (default: the larger of the two and 120 s)")


def pytest_configure(config: pytest.Config) -> None:
    global WatchedKernel
    path = config.getoption("segviz_results", None)
    if not path:
        return
    import nbval.plugin

    _STATE.update(
        stream=open(path, "a", encoding="utf-8"),
        output_timeout=config.getoption("segviz_output_timeout"),
        kernel_cwd=config.getoption("segviz_kernel_cwd"),
        max_restarts=config.getoption("segviz_max_restarts"),
        cell_timeout=float(config.getoption("nbval_cell_timeout")),
        setup_timeout=config.getoption("segviz_setup_timeout")
        or max(120.0, float(config.getoption("nbval_cell_timeout"))),
        restarts=0,
        history=[],
    )
    if WatchedKernel is None:
        WatchedKernel = _make_watched_kernel(nbval.plugin.RunningKernel)
    nbval.plugin.RunningKernel = WatchedKernel
    drop_stderr_from_comparison()


def pytest_unconfigure(config: pytest.Config) -> None:
    stream = _STATE.pop("stream", None)
    if stream is not None:
        stream.write(json.dumps({"event": "done"}) + "\n")
        stream.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if "stream" not in _STATE:
        return
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = _STATE["output_timeout"]


def _is_graded(cell: Any) -> bool:
    """A solution or check cell (the student's code runs there); other cells are the master's own."""
    return isinstance(cell.get("metadata", {}).get("segviz"), dict)


def _timeout_for(cell: Any) -> float:
    return _STATE["cell_timeout"] if _is_graded(cell) else _STATE["setup_timeout"]


def _replay(kernel: Any, history: list[tuple[int, Any, str]]) -> tuple[list[int], str]:
    """Run the cells that ran before in a fresh kernel; returns the replayed cells and any problem."""
    replayed: list[int] = []
    for cell_num, cell, kind in history:
        if kind in ("died", "timeout"):
            continue
        timeout = _timeout_for(cell)
        try:
            msg_id = kernel.execute_cell_input(cell.source, allow_stdin=False)
            kernel.await_reply(msg_id, timeout=timeout)
            kernel.await_idle(msg_id, _STATE["output_timeout"])
        except KernelDied as error:
            return replayed, f"replaying cell {cell_num}: {error}"
        except Empty:
            return replayed, f"replaying cell {cell_num}: no reply within {timeout:g} s"
        except RuntimeError as error:
            return replayed, f"replaying cell {cell_num}: {error}"
        replayed.append(cell_num)
    return replayed, ""


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if "stream" not in _STATE or not hasattr(item, "cell_num"):
        return
    nbfile = item.parent
    item.config.option.nbval_cell_timeout = _timeout_for(item.cell)  # nbval reads it in runtest
    nbfile.timed_out = False  # the kernel was interrupted or is replaced below: later cells run normally
    kernel = nbfile.kernel
    if kernel is None:
        return  # first cell: nbval starts the kernel
    if kernel.is_alive():
        kernel._interrupted_at = None
        return
    if _STATE["restarts"] >= _STATE["max_restarts"]:
        return  # nbval reports "Kernel dead on test start"
    _STATE["restarts"] += 1
    kernel_name = _kernel_name(item)
    try:
        new = WatchedKernel(kernel_name, cwd=str(nbfile.fspath.dirname),
                            startup_timeout=item.config.option.nbval_kernel_startup_timeout)
    except Exception as error:  # cannot start a kernel: the cells report a dead kernel
        _emit({"event": "restart", "before_cell": item.cell_num, "replayed": [], "problem": f"could not start a kernel: {error}"})
        return
    nbfile.kernel = new
    replayed, problem = _replay(new, _STATE["history"])
    _emit({"event": "restart", "before_cell": item.cell_num, "replayed": replayed, "problem": problem})


def _kernel_name(item: pytest.Item) -> str:
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME

    option = item.config.option
    if option.nbval_current_env:
        return CURRENT_ENV_KERNEL_NAME
    if option.nbval_kernel_name:
        return option.nbval_kernel_name
    return item.parent.nb.metadata.get("kernelspec", {}).get("name", "python")


def _classify(item: pytest.Item, report: pytest.TestReport, excinfo: Any) -> dict[str, Any]:
    outputs = list(getattr(item, "test_outputs", None) or [])
    errors = [o for o in outputs if o.get("output_type") == "error"]
    event: dict[str, Any] = {"event": "cell", "cell": item.cell_num, "when": report.when,
                             "duration": round(report.duration, 3), "stdout": stream_text(outputs)[:20000],
                             "error": None, "message": ""}
    if errors:
        event["error"] = {"type": errors[-1].get("ename", ""), "message": str(errors[-1].get("evalue", ""))[:2000]}
    if report.passed:
        event["kind"] = "passed"
        return event
    if report.skipped:
        event["kind"] = "skipped"
        return event
    value = getattr(excinfo, "value", None)
    message = str(value.args[1]) if value is not None and len(getattr(value, "args", ())) > 1 else str(value)
    if isinstance(value, KernelDied) or "Kernel dead" in message:
        event["kind"], event["message"] = "died", str(value)
        if "Kernel dead" in message:
            event["message"] = "kernel dead: it died earlier and could not be restarted"
    elif message.startswith("Timeout"):
        event["kind"], event["message"] = "timeout", message
    elif message.startswith("Cell outputs differ"):
        event["kind"], event["message"] = "differs", "outputs differ from the master's"
    elif errors:
        event["kind"], event["message"] = "error", "the cell raised an exception"
    else:
        event["kind"], event["message"] = "error", message[:2000]
    return event


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    outcome = yield
    if "stream" not in _STATE or not hasattr(item, "cell_num"):
        return
    report = outcome.get_result()
    if call.when == "call" or (call.when == "setup" and not report.passed):
        event = _classify(item, report, call.excinfo)
        _emit(event)
        _STATE["history"].append((item.cell_num, item.cell, event["kind"]))
