"""The grader end to end: crafted submissions of every lab each score exactly what they deserve.

One ``grade`` run per lab grades all crafted cases at once (as an instructor would, ``-j 2``),
then each case is checked on its own. These runs start real kernels, so the module takes about
a minute per lab.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

import nbformat
import pytest

from segviz.cli import main
from segviz.grading.grader import GradingError, format_summary, grade, load_master, self_check
from segviz.grading.labformat import release
from tests.grading.crafted import SPECS, cases_for, write_cases

ROOT = Path(__file__).resolve().parents[2]
MASTERS = sorted((ROOT / "labs" / "source").glob("lab*.ipynb"))
SEED = 20261121


def test_every_lab_has_crafted_cases():
    assert {m.stem for m in MASTERS} == set(SPECS), "add a LabSpec for every lab in tests/grading/crafted.py"


@pytest.fixture(scope="module")
def graded_labs(tmp_path_factory):
    """Grades every crafted case of a lab, once per lab for the whole module (a cache, not a
    parametrized fixture: pytest would rebuild a parametrized module fixture whenever tests with
    different parameters interleave)."""
    cache = {}

    def get(master):
        if master not in cache:
            folder = tmp_path_factory.mktemp(master.stem)
            cases = cases_for(master)
            paths = write_cases(cases, folder / "submissions")
            before = {n: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for n, p in paths.items()}
            reports = grade(master, list(paths.values()), folder / "out", seed=SEED, cell_timeout=8, jobs=2)
            cache[master] = (master, cases, paths, before, {r["name"]: r for r in reports}, folder / "out")
        return cache[master]

    return get


@pytest.fixture(params=MASTERS, ids=lambda p: p.stem)
def graded(request, graded_labs):
    return graded_labs(request.param)


PAIRS = [(master, case.name) for master in MASTERS for case in cases_for(master)]


@pytest.mark.parametrize("master, case_name", PAIRS, ids=[f"{m.stem}-{c}" for m, c in PAIRS])
def test_crafted_submission_scores_what_it_deserves(graded_labs, master, case_name):
    master_path, cases, _, _, reports, _ = graded_labs(master)
    case = next(c for c in cases if c.name == case_name)
    report = reports[case_name]
    master = load_master(master_path)
    for exercise_id, exercise in report["exercises"].items():
        if exercise_id in case.lost:
            assert exercise["earned"] == 0, (exercise_id, exercise)
            assert exercise["status"] == case.lost[exercise_id], (exercise_id, exercise["status"], exercise["reason"])
            assert exercise["reason"], "a lost exercise must say why"
            if exercise_id in case.reason:
                assert case.reason[exercise_id] in exercise["reason"], exercise["reason"]
        else:
            assert exercise["earned"] == master.exercises[exercise_id].points, (exercise_id, exercise)
            assert exercise["status"] == "passed"
    expected_total = sum(e.points for k, e in master.exercises.items() if k not in case.lost)
    assert report["score"] == expected_total
    assert report["max_score"] == master.max_score
    assert report["seed"] == SEED


def test_reports_and_gradebook(graded):
    master_path, cases, paths, before, reports, out = graded
    master = load_master(master_path)
    with open(out / "gradebook.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["submission", *master.exercises, "total", "max", "seed"]
    assert {r[0] for r in rows[1:]} == {c.name for c in cases}
    for row in rows[1:]:
        report = json.loads((out / f"{row[0]}.json").read_text())
        assert row[-3] == str(report["score"]) and row[-1] == str(SEED)
        assert [float(x) for x in row[1:-3]] == [report["exercises"][e]["earned"] for e in master.exercises]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")], "a temporary file was left behind"
    # submissions are only read
    after = {name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for name, p in paths.items()}
    assert after == before
    assert sorted(p.name for p in paths["master"].parent.iterdir()) == sorted(f"{c.name}.ipynb" for c in cases)


def test_visible_checks_show_a_diff_and_hidden_ones_do_not(graded):
    *_, reports, _ = graded
    stubs = reports["stubs"]
    for exercise in stubs["exercises"].values():
        visible = [c for c in exercise["checks"] if not c["hidden"]]
        hidden = [c for c in exercise["checks"] if c["hidden"]]
        assert visible and hidden
        assert all("PASS" in c["diff"] and "NOT DONE" in c["diff"] for c in visible)
        assert all("diff" not in c and "output" not in c and "expected" not in c for c in hidden)
        assert all(c["error"]["type"] == "NotImplementedError" for c in exercise["checks"])


def test_crash_recovery_is_reported(graded):
    *_, reports, _ = graded
    notes = " ".join(reports["os_exit"]["notes"])
    assert "kernel died" in notes and "replayed" in notes


def test_hard_coded_answers_pass_the_self_check_but_not_the_grader(graded, tmp_path):
    master_path, cases, paths, *_ = graded
    attacked = SPECS[master_path.stem].attacked
    report = self_check(paths["hard_coded_visible"], master_path)
    assert report["exercises"][attacked]["status"] == "passed", "the table answers the visible cases"
    assert report["mode"] == "self-check" and report["seed"] is None
    assert all(not c["hidden"] for e in report["exercises"].values() for c in e["checks"])
    assert "visible checks only" in format_summary(report)


def test_grading_is_reproducible_with_the_recorded_seed(graded, tmp_path):
    master_path, _, paths, _, reports, _ = graded
    again = grade(master_path, [paths["wrong_formula"]], tmp_path, seed=SEED, cell_timeout=8)
    first = reports["wrong_formula"]
    assert {k: e["earned"] for k, e in again[0]["exercises"].items()} == {k: e["earned"] for k, e in first["exercises"].items()}
    assert again[0]["exercises"][SPECS[master_path.stem].wrong[0]]["reason"] == \
        first["exercises"][SPECS[master_path.stem].wrong[0]]["reason"]


def test_whole_notebook_timeout_still_reports(tmp_path):
    master_path = MASTERS[0]
    master = nbformat.read(master_path, as_version=4)
    first = next(c for c in master.cells if c.get("metadata", {}).get("segviz", {}).get("role") == "solution")
    first.source += "\n\nimport time\nwhile True:\n    time.sleep(0.01)\n"
    path = tmp_path / "slow.ipynb"
    nbformat.write(master, path)
    reports = grade(master_path, [path], tmp_path / "out", seed=1, cell_timeout=300, notebook_timeout=15)
    report = reports[0]
    assert report["score"] == 0
    assert any("whole-notebook time limit" in n for n in report["notes"])
    assert all(e["status"] == "not run" for e in report["exercises"].values())
    assert report["time_s"] < 60


def test_cli_grade_and_check(tmp_path, capsys):
    master_path = MASTERS[0]
    student = tmp_path / master_path.name
    nbformat.write(release(nbformat.read(master_path, as_version=4)), student)
    assert main(["check", str(student), "--master", str(master_path)]) == 1
    out = capsys.readouterr().out
    assert "visible checks only" in out and "NotImplementedError" in out and "score: 0/" in out
    assert main(["grade", str(master_path), str(student), "--out", str(tmp_path / "out"), "--seed", "3", "-j", "1"]) == 0
    out = capsys.readouterr().out
    assert f"{master_path.stem}: 0/" in out and "seed 3" in out
    assert (tmp_path / "out" / "gradebook.csv").exists()


@pytest.mark.parametrize("args, message", [
    (["grade", "labs/source/nope.ipynb", "x.ipynb", "--out", "o"], "no such file"),
    (["grade", str(MASTERS[0]), "missing.ipynb", "--out", "o"], "no such file or folder"),
    (["grade", str(MASTERS[0]), str(MASTERS[0]), "--out", "o"], "among the submissions"),
    (["grade", str(MASTERS[0]), str(MASTERS[0]), "--out", "o", "-j", "0"], "-j 1 or more"),
    (["grade", str(MASTERS[0]), str(MASTERS[0]), "--out", "o", "--timeout", "0"], "must be > 0"),
    (["check", "nope.ipynb"], "no such file"),
])
def test_cli_bad_input_says_what_would_work(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path) if not args[1].startswith("labs/") else monkeypatch.chdir(ROOT)
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_check_without_a_master_says_where_it_looked(tmp_path):
    student = tmp_path / "lab77_nothing.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), student)
    with pytest.raises(GradingError, match="no master for .*labs/source|keep the file name"):
        self_check(student)


def test_a_master_that_fails_its_own_checks_is_refused(tmp_path):
    master = nbformat.read(MASTERS[0], as_version=4)
    solution = next(c for c in master.cells if c.get("metadata", {}).get("segviz", {}).get("role") == "solution")
    solution.source = solution.source.replace("return", "return 1 + ", 1)
    bad = tmp_path / "source" / MASTERS[0].name
    bad.parent.mkdir()
    nbformat.write(master, bad)
    with pytest.raises(GradingError, match="fails its own check"):
        grade(bad, [MASTERS[0].parent.parent / MASTERS[0].name], tmp_path / "out", seed=5, cell_timeout=30)
    assert not os.path.exists(tmp_path / "out" / "gradebook.csv")


def test_the_masters_setup_cells_are_not_held_to_the_graded_cell_timeout():
    # imports take seconds on a loaded laptop; only solution and check cells get --timeout
    from segviz.grading.grader import execute_master

    nb, _ = execute_master(load_master(ROOT / "labs" / "source" / "lab01_arithmetic.ipynb"), 1, cell_timeout=1)
    assert any(cell.get("outputs") for cell in nb.cells)
