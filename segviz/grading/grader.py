"""``segviz grade`` and ``segviz check``: fair, per-exercise grading of lab submissions through nbval.

nbval compares a notebook with the outputs stored *in that notebook*, so grading a submission as
the student saved it proves nothing. The grader therefore never trusts anything in a submission
but the code of its solution cells:

1. **Rebuild.** Each submission is rebuilt from the master: only the source of each solution cell
   comes from the student (matched by the exercise id in the cell's metadata; a missing cell
   counts as the stub); every other cell, and every stored output, comes from the master.
2. **Fresh references.** The master is executed once per grading seed (default: a random seed,
   recorded in the report) and its check outputs become the expected outputs; each rebuilt
   submission runs under the same seed (``SEGVIZ_GRADING_SEED``), so an answer hard-coded to the
   cases a student saw fails the cases the grader draws.
3. **Screening.** Each solution cell is screened statically
   (:mod:`segviz.grading.screening`); a cell that breaks a rule is not run, and its exercise
   scores 0 with the reason.
4. **nbval.** The rebuilt notebook runs under ``pytest --nbval-lax`` in a subprocess, with
   :mod:`segviz.grading.nbval_plugin`, which records each cell's result, notices a dead kernel,
   and restarts and replays after a crash. A per-cell and a whole-notebook timeout bound the run;
   the grader always finishes and reports.
5. **Scores.** An exercise earns its points when every one of its checks, visible and hidden,
   passes (or, when the master gives check cells their own ``points``, the points of the checks
   that pass). The report ``DIR/<name>.json`` says, per exercise, what was earned and why; the
   diff of the expected and actual output is given for visible checks only.
   ``DIR/gradebook.csv`` gets one row per submission. Both are written atomically; submissions
   are only read.

``segviz check labs/labNN_topic.ipynb`` runs the same pipeline for a student, against the master
shipped in ``labs/source``, with visible checks only and the checks' own seeds, and prints a
readable summary.
"""

from __future__ import annotations

import copy
import csv
import datetime as _dt
import difflib
import hashlib
import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from .checks import SEED_VARIABLE
from .labformat import KEY, LabCell, lab_cells, stream_text, stub_source, write_text_atomic
from .screening import Finding, imported_names, resolve, screen_solution, segviz_references

__all__ = [
    "GradingError", "Master", "load_master", "execute_master", "solutions_from", "rebuild",
    "grade", "grade_submission", "self_check", "format_summary", "submission_names", "write_gradebook",
]

CHECK_TAG = "nbval-check-output"
DEFAULT_CELL_TIMEOUT = 60.0
SETUP_CELL_TIMEOUT = 120.0  # the master's own cells (imports, data), as the nbval plugin gives them
DEFAULT_NOTEBOOK_TIMEOUT = 600.0
_EXCEPTION_IN_LINE = re.compile(r"\((?:case \d+: )?([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Warning))(?:: (.*))?\)\s*$")
_FAILED_LINE = re.compile(r": (?:FAIL|NOT DONE) \d+/\d+")
_PRIORITY = ["screened", "not done", "crashed", "timeout", "error", "failed", "not run"]


class GradingError(ValueError):
    """The grader cannot grade at all (a bad master, a bad option); submissions are never the cause."""


@dataclass
class Exercise:
    """One exercise of a master: its solution cell, its checks, what its solution may not use."""

    id: str
    points: int
    solution: LabCell
    checks: list[LabCell] = field(default_factory=list)
    forbid: list[str] = field(default_factory=list)

    @property
    def check_points(self) -> bool:
        """Whether the checks carry their own points (else: all or nothing)."""
        return any(c.points for c in self.checks)


@dataclass
class Master:
    """A lab master, read and validated, with what screening needs."""

    path: Path
    nb: nbformat.NotebookNode
    exercises: dict[str, Exercise]
    aliases: dict[str, str]
    forbidden: dict[str, dict[str, Any]]
    sha256: str

    @property
    def max_score(self) -> int:
        return sum(e.points for e in self.exercises.values())


def load_master(path: Path | str) -> Master:
    """Read a master notebook and validate its lab cells.

    Raises:
        GradingError: the file is missing, not a notebook, or its lab metadata is inconsistent.
    """
    path = Path(path)
    if not path.is_file():
        raise GradingError(f"master {str(path)!r} given; no such file (masters live in labs/source/)")
    raw = path.read_bytes()
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as error:
        raise GradingError(f"master {str(path)!r} is not a readable notebook: {error}") from None
    try:
        cells = lab_cells(nb)
    except ValueError as error:
        raise GradingError(f"master {str(path)!r}: {error}") from None
    exercises: dict[str, Exercise] = {}
    for cell in cells:
        if cell.role == "solution":
            meta = nb.cells[cell.index].metadata[KEY]
            forbid = meta.get("forbid", [])
            if not isinstance(forbid, list) or not all(isinstance(f, str) for f in forbid):
                raise GradingError(f"master {str(path)!r}: exercise {cell.exercise!r} has forbid {forbid!r}; "
                                   "give a list of dotted names such as ['torch.nn.functional.conv2d']")
            exercises[cell.exercise] = Exercise(cell.exercise, cell.points, cell, forbid=list(forbid))
    for cell in cells:
        if cell.role == "check":
            exercises[cell.exercise].checks.append(cell)
    for exercise in exercises.values():
        if not exercise.checks:
            raise GradingError(f"master {str(path)!r}: exercise {exercise.id!r} has no check cell")
        if exercise.check_points and sum(c.points for c in exercise.checks) != exercise.points:
            raise GradingError(f"master {str(path)!r}: the checks of {exercise.id!r} give "
                               f"{sum(c.points for c in exercise.checks)} points but its solution cell says "
                               f"{exercise.points}; make them agree")
    graded = {c.index for c in cells if c.role == "solution"}
    setup = [c.source for i, c in enumerate(nb.cells) if c.cell_type == "code" and i not in graded]
    aliases = imported_names(setup)
    # what the checks compare with, including helpers the master defines outside the check cells
    references = segviz_references(setup, aliases)
    forbidden: dict[str, dict[str, Any]] = {}
    for exercise in exercises.values():
        names = dict(references)
        for dotted in exercise.forbid:
            obj = resolve(dotted)
            if obj is None:
                raise GradingError(f"master {str(path)!r}: exercise {exercise.id!r} forbids {dotted!r}, "
                                   "which does not resolve; give a full dotted name under torch, torchvision, numpy or segviz")
            names[dotted] = obj
        forbidden[exercise.id] = names
    return Master(path, nb, exercises, aliases, forbidden, hashlib.sha256(raw).hexdigest())


def _environment(seed: int | None, ipython_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop(SEED_VARIABLE, None)
    env.pop("PYTEST_ADDOPTS", None)
    if seed is not None:
        env[SEED_VARIABLE] = str(seed)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    env.update(PLOTLY_RENDERER="plotly_mimetype", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               IPYTHONDIR=ipython_dir, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1",
               MPLBACKEND="Agg", PYTHONHASHSEED="0")
    return env


def _master_cell_timeout(cell: nbformat.NotebookNode, cell_timeout: float) -> int:
    graded = cell.get("metadata", {}).get("segviz", {}).get("role") in ("solution", "check")
    return int(cell_timeout if graded else max(SETUP_CELL_TIMEOUT, cell_timeout))


def execute_master(master: Master, seed: int | None, *, cell_timeout: float = DEFAULT_CELL_TIMEOUT) -> tuple[nbformat.NotebookNode, float]:
    """Execute the master under ``seed``; returns the executed notebook and the seconds it took.

    Raises:
        GradingError: a cell of the master fails, or a check of the master does not pass its own
            solution under this seed (the master, not a student, needs fixing).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = copy.deepcopy(master.nb)
    with tempfile.TemporaryDirectory(prefix="segviz-master-") as work:
        ipython_dir = os.path.join(work, "ipython")
        os.makedirs(ipython_dir)
        # graded cells (solutions, checks) get cell_timeout; the master's own setup cells (imports,
        # data) get as long as the nbval plugin gives them, so a loaded machine does not refuse the master
        client = NotebookClient(nb, timeout=int(cell_timeout), kernel_name="python3",
                                timeout_func=lambda cell: _master_cell_timeout(cell, cell_timeout),
                                resources={"metadata": {"path": work}})
        start = time.perf_counter()
        try:
            client.execute(env=_environment(seed, ipython_dir), cwd=work, stderr=subprocess.DEVNULL)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip().splitlines()
            raise GradingError(f"the master {master.path.name} fails under seed {seed}: "
                               f"{text[-1] if text else type(error).__name__}") from None
        elapsed = time.perf_counter() - start
    for exercise in master.exercises.values():
        for check in exercise.checks:
            text = stream_text(nb.cells[check.index].outputs)
            if _FAILED_LINE.search(text):
                raise GradingError(f"the master {master.path.name} fails its own check of {exercise.id!r} "
                                   f"under seed {seed}: {text.strip()}")
    return nb, elapsed


def solutions_from(submission: nbformat.NotebookNode) -> dict[str, list[str]]:
    """The sources of a submission's solution cells by exercise id (several when a cell was split)."""
    found: dict[str, list[str]] = {}
    for cell in submission.get("cells", []):
        meta = cell.get("metadata", {}).get(KEY) if isinstance(cell.get("metadata"), dict) else None
        if cell.get("cell_type") != "code" or not isinstance(meta, dict) or meta.get("role") != "solution":
            continue
        exercise = meta.get("exercise")
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        if isinstance(exercise, str) and isinstance(source, str):
            found.setdefault(exercise, []).append(source)
    return found


@dataclass
class Plan:
    """How a rebuilt notebook maps to exercises.

    ``cells``: nbval's cell number (code cells only) → (exercise, role, hidden, index in the
    rebuilt notebook, the check's own points).
    """

    cells: dict[int, tuple[str, str, bool, int, int]]
    missing: list[str]
    screened: dict[str, list[Finding]]
    split: list[str]


def rebuild(master: Master, reference: nbformat.NotebookNode, solutions: dict[str, list[str]] | None,
            *, visible_only: bool = False) -> tuple[nbformat.NotebookNode, Plan]:
    """The notebook nbval runs: ``reference`` (the master with fresh outputs) with the student's solutions.

    A solution cell that screening rejects is replaced by the stub, so it never runs.
    """
    nb = copy.deepcopy(reference)
    solutions = solutions or {}
    by_index = {}
    for exercise in master.exercises.values():
        by_index[exercise.solution.index] = exercise.solution
        for check in exercise.checks:
            by_index[check.index] = check
    cells, plan_cells = [], {}
    missing, screened, split = [], {}, []
    code_number = 0
    for index, cell in enumerate(nb.cells):
        lab = by_index.get(index)
        if lab is not None and lab.role == "check" and lab.hidden and visible_only:
            continue
        if cell.cell_type == "code":
            tags = [t for t in cell.metadata.get("tags", []) if t != CHECK_TAG]
            if lab is not None and lab.role == "check":
                tags.append(CHECK_TAG)
            if tags:
                cell.metadata["tags"] = tags
            else:
                cell.metadata.pop("tags", None)
        if lab is not None and lab.role == "solution":
            sources = solutions.get(lab.exercise)
            if not sources:
                missing.append(lab.exercise)
                cell.source = stub_source(cell.source, lab.hint)
            else:
                if len(sources) > 1:
                    split.append(lab.exercise)
                source = "\n\n".join(sources)
                findings = screen_solution(source, master.aliases, master.forbidden[lab.exercise])
                if findings:
                    screened[lab.exercise] = findings
                    cell.source = (f"# segviz grade: this solution was not run ({findings[0].reason})\n"
                                   + stub_source(master.nb.cells[index].source, lab.hint))
                else:
                    cell.source = source
            cell.outputs = []
        if cell.cell_type == "code":
            if lab is not None:
                plan_cells[code_number] = (lab.exercise, lab.role, lab.hidden, len(cells), lab.points)
            code_number += 1
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb, Plan(plan_cells, missing, screened, split)


def submission_names(paths: Sequence[Path]) -> list[str]:
    """Report names: the file stem, or the path below the common folder when stems collide.

    Example:
        >>> submission_names([Path("a/lab01.ipynb"), Path("b/lab01.ipynb"), Path("b/x.ipynb")])
        ['a__lab01', 'b__lab01', 'b__x']
        >>> submission_names([Path("alice.ipynb"), Path("bob.ipynb")])
        ['alice', 'bob']
    """
    paths = [Path(p) for p in paths]
    stems = [p.stem for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    resolved = [p.resolve() for p in paths]
    common = Path(os.path.commonpath([str(p.parent) for p in resolved]))
    names = ["__".join(p.relative_to(common).with_suffix("").parts) for p in resolved]
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}__{seen[name]}")
    return unique


def _kill_process_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_kernels(pids: Sequence[int]) -> None:
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"ipykernel" not in f.read():
                    continue
        except OSError:
            continue
        try:
            os.killpg(pid, signal.SIGKILL)  # kernels run in their own session (jupyter_client)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@dataclass
class Run:
    """What the nbval subprocess reported: one event per cell, restarts, and how it ended."""

    cells: dict[int, dict[str, Any]]
    restarts: list[dict[str, Any]]
    returncode: int | None
    timed_out: bool
    seconds: float
    stderr: str


def run_rebuilt(nb: nbformat.NotebookNode, seed: int | None, *, cell_timeout: float,
                notebook_timeout: float) -> Run:
    """Run a rebuilt notebook under nbval in a subprocess and collect the plugin's events."""
    with tempfile.TemporaryDirectory(prefix="segviz-grade-") as work:
        notebook = os.path.join(work, "submission.ipynb")
        results = os.path.join(work, "results.jsonl")
        kernel_cwd = os.path.join(work, "kernel")
        ipython_dir = os.path.join(work, "ipython")
        os.makedirs(kernel_cwd)
        os.makedirs(ipython_dir)
        nbformat.write(nb, notebook)
        ini = os.path.join(work, "pytest.ini")
        Path(ini).write_text("[pytest]\n")
        command = [
            sys.executable, "-m", "pytest", notebook, "-c", ini, "--rootdir", work, "-q", "--tb=no",
            "-p", "no:cacheprovider", "-p", "nbval.plugin", "-p", "segviz.grading.nbval_plugin",
            "--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={cell_timeout:g}",
            "--segviz-results", results, "--segviz-kernel-cwd", kernel_cwd,
            "--segviz-output-timeout", str(min(10.0, max(2.0, cell_timeout))),
        ]
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=work, env=_environment(seed, ipython_dir),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        timed_out = False
        try:
            out, err = process.communicate(timeout=notebook_timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_process_group(process)
            out, err = process.communicate()
        seconds = time.perf_counter() - start
        cells: dict[int, dict[str, Any]] = {}
        restarts, pids = [], []
        if os.path.exists(results):
            with open(results, encoding="utf-8") as f:
                for line in f:
                    try:
                        event = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line cut short by the kill
                    if event.get("event") == "cell":
                        cells[event["cell"]] = event
                    elif event.get("event") == "restart":
                        restarts.append(event)
                    elif event.get("event") == "kernel":
                        pids.append(event["pid"])
        _kill_kernels(pids)
    return Run(cells, restarts, process.returncode, timed_out, seconds, (err or "")[-2000:])


def _diff(expected: str, got: str) -> str:
    lines = difflib.unified_diff(expected.splitlines(), got.splitlines(), "expected", "your output", lineterm="", n=1)
    return "\n".join(lines)


def _exception_in(text: str) -> dict[str, str] | None:
    for line in text.splitlines():
        match = _EXCEPTION_IN_LINE.search(line)
        if match:
            return {"type": match.group(1), "message": (match.group(2) or "").strip()}
    return None


def _check_entry(number: int, hidden: bool, event: dict[str, Any] | None, expected: str) -> dict[str, Any]:
    kind = event["kind"] if event else "not run"
    entry: dict[str, Any] = {"cell": number, "hidden": hidden, "passed": kind == "passed", "outcome": kind,
                             "time_s": event.get("duration", 0.0) if event else 0.0}
    if kind == "passed":
        return entry
    got = event.get("stdout", "") if event else ""
    error = (event or {}).get("error") or _exception_in(got)
    if error:
        entry["error"] = error
    if kind == "died":
        entry["message"] = event["message"]
    elif kind == "timeout":
        entry["message"] = "the check did not finish in time (an endless loop?)"
    elif kind == "not run":
        entry["message"] = "the check did not run: the notebook ran out of time or the kernel could not be restarted"
    elif kind == "error" and not error:
        entry["message"] = (event or {}).get("message", "")
    if not hidden:
        entry["expected"] = expected
        entry["output"] = got[:4000]
        entry["diff"] = _diff(expected, got)
    return entry


def _status_of(entry: dict[str, Any]) -> str:
    kind = entry["outcome"]
    error = entry.get("error") or {}
    if error.get("type") == "NotImplementedError":
        return "not done"
    return {"died": "crashed", "timeout": "timeout", "error": "error", "not run": "not run"}.get(kind, "failed")


def _reason_of(entry: dict[str, Any], status: str) -> str:
    error = entry.get("error")
    if error and status in ("not done", "error", "failed"):
        text = f"{error['type']}: {error['message']}" if error.get("message") else error["type"]
        return text if status != "failed" or not entry["hidden"] else f"a hidden check failed ({text})"
    if entry.get("message"):
        return entry["message"]
    if entry["hidden"]:
        return "a hidden check failed"
    output = entry.get("output", "").strip().splitlines()
    bad = [line for line in output if _FAILED_LINE.search(line)]
    return (bad or output or ["no output"])[0][:300]


def _score(master: Master, plan: Plan, run: Run | None, reference: nbformat.NotebookNode,
           unreadable: str = "") -> tuple[dict[str, Any], list[str]]:
    by_exercise: dict[str, dict[str, Any]] = {}
    for exercise in master.exercises.values():
        by_exercise[exercise.id] = {"points": exercise.points, "earned": 0, "status": "", "reason": "",
                                    "checks": [], "time_s": 0.0}
    for number, (exercise_id, role, hidden, position, points) in sorted(plan.cells.items()):
        report = by_exercise[exercise_id]
        event = run.cells.get(number) if run else None
        if event:
            report["time_s"] = round(report["time_s"] + event.get("duration", 0.0), 3)
        if role == "solution":
            report["solution"] = {"cell": number, "outcome": event["kind"] if event else "not run"}
            if event and event.get("error"):
                report["solution"]["error"] = event["error"]
            if event and event["kind"] in ("died", "timeout"):
                report["solution"]["message"] = event.get("message", "")
            continue
        expected = stream_text(reference.cells[position].outputs) if position < len(reference.cells) else ""
        entry = _check_entry(number, hidden, event, expected)
        entry["points"] = points
        report["checks"].append(entry)
    notes: list[str] = []
    for exercise in master.exercises.values():
        report = by_exercise[exercise.id]
        checks = report["checks"]
        if unreadable:
            report["status"], report["reason"] = "missing", unreadable
            continue
        if exercise.id in plan.screened:
            report["status"] = "screened"
            report["reason"] = "; ".join(str(f) for f in plan.screened[exercise.id])
            report["screening"] = [{"rule": f.rule, "line": f.line, "reason": f.reason} for f in plan.screened[exercise.id]]
            continue
        failing = [c for c in checks if not c["passed"]]
        if exercise.check_points:
            report["earned"] = sum(c["points"] for c in checks if c["passed"])
        else:
            report["earned"] = exercise.points if checks and not failing else 0
        if not failing:
            report["status"] = "passed"
            continue
        statuses = [_status_of(c) for c in failing]
        status = min(statuses, key=_PRIORITY.index)
        first = failing[statuses.index(status)]
        report["status"] = status
        report["reason"] = _reason_of(first, status)
        solution = report.get("solution", {})
        if solution.get("outcome") in ("died", "timeout"):  # the cause is the solution cell, not its checks
            report["status"] = "crashed" if solution["outcome"] == "died" else "timeout"
            report["reason"] = ("your solution cell did not finish in time (an endless loop?)" if solution["outcome"] == "timeout"
                                else f"your solution cell crashed the kernel: {solution.get('message', 'kernel died')}")
        if exercise.id in plan.missing:
            report["status"] = "missing"
            report["reason"] = (f"no solution cell for {exercise.id} in the submission (its metadata "
                                f"segviz.exercise is {exercise.id!r}); graded as the stub: {report['reason']}")
        if report["earned"]:
            report["status"] = "partial"
    for exercise_id in plan.split:
        notes.append(f"{exercise_id}: the submission has several solution cells for it; they were joined in order")
    if run is not None:
        for restart in run.restarts:
            text = f"the kernel died; a new one was started before cell {restart['before_cell']}"
            text += f" and cells {restart['replayed']} were replayed" if restart["replayed"] else ""
            notes.append(text + (f" ({restart['problem']})" if restart.get("problem") else ""))
        if run.timed_out:
            notes.append(f"the whole-notebook time limit ended the run after {run.seconds:.0f} s")
        elif run.returncode not in (0, 1) and not run.cells:
            notes.append(f"nbval ended with exit code {run.returncode}: {run.stderr.strip()[-500:]}")
    return by_exercise, notes


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 2)


def grade_submission(master: Master, reference: nbformat.NotebookNode, submission: Path | str, *,
                     seed: int | None, name: str | None = None, cell_timeout: float = DEFAULT_CELL_TIMEOUT,
                     notebook_timeout: float = DEFAULT_NOTEBOOK_TIMEOUT, visible_only: bool = False) -> dict[str, Any]:
    """Grade one submission against an executed master; returns the report (a JSON-able dict)."""
    submission = Path(submission)
    start = time.perf_counter()
    unreadable = ""
    solutions = None
    try:
        solutions = solutions_from(nbformat.reads(submission.read_text(encoding="utf-8"), as_version=4))
    except Exception as error:
        unreadable = f"the submission could not be read as a notebook ({type(error).__name__}: {str(error)[:200]})"
    nb, plan = rebuild(master, reference, solutions, visible_only=visible_only)
    run = None
    if not unreadable:
        run = run_rebuilt(nb, seed, cell_timeout=cell_timeout, notebook_timeout=notebook_timeout)
    exercises, notes = _score(master, plan, run, nb, unreadable)
    score = sum(e["earned"] for e in exercises.values())
    return {
        "submission": str(submission), "name": name or submission.stem, "master": str(master.path),
        "master_sha256": master.sha256, "seed": seed, "mode": "self-check" if visible_only else "grade",
        "score": _number(score), "max_score": master.max_score,
        "exercises": {k: {**v, "earned": _number(v["earned"])} for k, v in exercises.items()},
        "notes": notes, "time_s": round(time.perf_counter() - start, 2),
        "graded_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def write_gradebook(path: Path, reports: Sequence[dict[str, Any]], exercises: Sequence[str]) -> None:
    """Write ``gradebook.csv`` (one row per submission); rows of earlier runs for other names are kept."""
    header = ["submission", *exercises, "total", "max", "seed"]
    rows: dict[str, list[str]] = {}
    if path.exists():
        with open(path, newline="", encoding="utf-8") as f:
            existing = list(csv.reader(f))
        if existing and existing[0] == header:
            rows = {row[0]: row for row in existing[1:] if row}
    for report in reports:
        rows[report["name"]] = [report["name"], *(str(report["exercises"][e]["earned"]) for e in exercises),
                                str(report["score"]), str(report["max_score"]), str(report["seed"])]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for name in sorted(rows):
        writer.writerow(rows[name])
    write_text_atomic(path, buffer.getvalue())


def _expand(submissions: Sequence[Path | str]) -> list[Path]:
    paths: list[Path] = []
    for item in submissions:
        item = Path(item)
        if item.is_dir():
            paths.extend(sorted(p for p in item.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts))
        elif item.is_file():
            paths.append(item)
        else:
            raise GradingError(f"submission {str(item)!r} given; no such file or folder")
    if not paths:
        raise GradingError("no submissions found: give notebooks or folders that contain them")
    return paths


def grade(master_path: Path | str, submissions: Sequence[Path | str], out_dir: Path | str, *,
          seed: int | None = None, cell_timeout: float = DEFAULT_CELL_TIMEOUT,
          notebook_timeout: float = DEFAULT_NOTEBOOK_TIMEOUT, jobs: int = 1,
          progress: Any = None) -> list[dict[str, Any]]:
    """Grade ``submissions`` (notebooks or folders of them) against a master; write the reports.

    Args:
        master_path: ``labs/source/labNN_topic.ipynb``.
        submissions: student notebooks, or folders searched for ``*.ipynb``.
        out_dir: where ``<name>.json`` and ``gradebook.csv`` go (created if needed).
        seed: the grading seed; ``None`` draws one (it is recorded in every report).
        cell_timeout: seconds one cell may run.
        notebook_timeout: seconds one submission may run in all.
        jobs: submissions graded at once.
        progress: called with each report as it is written (the CLI prints a line).

    Returns:
        The reports, in the order of ``submissions``.

    Raises:
        GradingError: a bad option, master or path. A bad *submission* never raises; its report
            says what went wrong.
    """
    if jobs < 1:
        raise GradingError(f"jobs {jobs} given; use -j 1 or more")
    if cell_timeout <= 0 or notebook_timeout <= 0:
        raise GradingError(f"timeouts {cell_timeout}, {notebook_timeout} given; both must be > 0 seconds")
    if seed is not None and seed < 0:
        raise GradingError(f"seed {seed} given; use a non-negative integer")
    master = load_master(master_path)
    paths = _expand(submissions)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise GradingError(f"--out {str(out)!r} is a file; give a folder for the reports")
    resolved = {p.resolve() for p in paths}
    if master.path.resolve() in resolved:
        raise GradingError(f"the master {str(master.path)!r} is among the submissions; grade student notebooks only")
    out.mkdir(parents=True, exist_ok=True)
    if seed is None:
        seed = secrets.randbelow(2**31)
    reference, _ = execute_master(master, seed, cell_timeout=cell_timeout)
    names = submission_names(paths)

    def one(pair: tuple[Path, str]) -> dict[str, Any]:
        path, name = pair
        report = grade_submission(master, reference, path, seed=seed, name=name, cell_timeout=cell_timeout,
                                  notebook_timeout=notebook_timeout)
        write_text_atomic(out / f"{name}.json", json.dumps(report, indent=1) + "\n")
        if progress is not None:
            progress(report)
        return report

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        reports = list(pool.map(one, zip(paths, names)))
    write_gradebook(out / "gradebook.csv", reports, list(master.exercises))
    return reports


def master_for(student_path: Path | str) -> Path:
    """Where the master of a released lab lives: ``labs/labNN.ipynb`` → ``labs/source/labNN.ipynb``."""
    student_path = Path(student_path)
    candidate = student_path.parent / "source" / student_path.name
    if candidate.is_file():
        return candidate
    installed = Path(__file__).resolve().parents[2] / "labs" / "source" / student_path.name
    if installed.is_file():
        return installed
    raise GradingError(f"no master for {str(student_path)!r}: expected {str(candidate)!r}; keep the file name "
                       "the lab was released with (labNN_topic.ipynb) or pass --master")


def self_check(student_path: Path | str, master_path: Path | str | None = None, *,
               cell_timeout: float = DEFAULT_CELL_TIMEOUT, notebook_timeout: float = DEFAULT_NOTEBOOK_TIMEOUT) -> dict[str, Any]:
    """The student's self-check: the grader against the shipped master, visible checks only.

    Uses the outputs stored in the master (its checks' own seeds), so nothing is executed but the
    student's rebuilt notebook.
    """
    student_path = Path(student_path)
    if not student_path.is_file():
        raise GradingError(f"notebook {str(student_path)!r} given; no such file")
    master = load_master(master_path if master_path is not None else master_for(student_path))
    for exercise in master.exercises.values():
        for check in exercise.checks:
            if not check.hidden and not stream_text(master.nb.cells[check.index].outputs):
                raise GradingError(f"the master {master.path.name} has no stored output for the visible check of "
                                   f"{exercise.id!r}; run scripts/refresh_notebooks.py on it")
    return grade_submission(master, master.nb, student_path, seed=None, cell_timeout=cell_timeout,
                            notebook_timeout=notebook_timeout, visible_only=True)


def format_summary(report: dict[str, Any]) -> str:
    """A readable per-exercise summary of a report (what ``segviz check`` prints)."""
    lines = []
    visible = report["mode"] == "self-check"
    title = Path(report["submission"]).name
    lines.append(f"{title}: " + ("visible checks only (the grader also runs hidden checks with other cases)"
                                 if visible else f"graded with seed {report['seed']}"))
    width = max(len(e) for e in report["exercises"])
    for exercise_id, e in report["exercises"].items():
        mark = {"passed": "ok  ", "partial": "part"}.get(e["status"], "--  ")
        line = f"  {mark} {exercise_id:<{width}}  {_number(e['earned'])}/{e['points']} points"
        if e["status"] != "passed":
            line += f"  {e['status']}: {e['reason']}"
        lines.append(line)
        if visible:
            for check in e["checks"]:
                if not check["passed"] and check.get("diff"):
                    lines.extend("        " + d for d in check["diff"].splitlines()[2:])
    lines.extend(f"  note: {n}" for n in report["notes"])
    lines.append(f"  {'visible-check score' if visible else 'score'}: {report['score']}/{report['max_score']}")
    return "\n".join(lines)
