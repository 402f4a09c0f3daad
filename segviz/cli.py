"""The ``segviz`` command line: ``segviz <command> [options]``.

Each command lives in its own module and is registered here by a small ``_add_<command>``
function that creates its subparser, adds its options and sets ``handler`` (a function
``argparse.Namespace -> int``). Command modules are imported only when their command runs, so
``segviz --help`` stays cheap. To add a command, write its ``_add_*`` function and append it to
``_COMMANDS``.

Example:
    >>> build_parser().parse_args(["doctor", "--json"]).command
    'doctor'
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

__all__ = ["main", "build_parser"]


def _add_doctor(commands: argparse._SubParsersAction) -> None:
    from . import doctor  # light: doctor imports torch only when it runs

    parser = commands.add_parser(
        "doctor", help="check that this environment can run the course",
        description=doctor.DESCRIPTION)
    doctor.add_arguments(parser)
    parser.set_defaults(handler=doctor.execute)


def _release(args: argparse.Namespace) -> int:
    from .grading.labformat import write_release

    for master in args.masters:
        try:
            out = write_release(master, args.output if len(args.masters) == 1 else None)
        except ValueError as error:
            print(f"segviz release: {error}", file=sys.stderr)
            return 2
        print(f"released {master} -> {out}")
    return 0


def _add_release(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "release", help="write the student version of lab masters",
        description="Write labs/labNN_topic.ipynb from labs/source/labNN_topic.ipynb: solutions become "
                    "stubs, hidden checks are removed, visible checks keep their expected output.")
    parser.add_argument("masters", nargs="+", metavar="MASTER", help="labs/source/labNN_topic.ipynb")
    parser.add_argument("-o", "--output", help="where to write (only with one master)")
    parser.set_defaults(handler=_release)


def _grade(args: argparse.Namespace) -> int:
    from .grading.grader import GradingError, grade

    def progress(report: dict) -> None:
        flags = [f"{k} {e['status']}" for k, e in report["exercises"].items() if e["status"] != "passed"]
        print(f"{report['name']}: {report['score']}/{report['max_score']}"
              + (f"  ({'; '.join(flags)})" if flags else "") + f"  [{report['time_s']:.1f} s]", flush=True)

    try:
        reports = grade(args.master, args.submissions, args.out, seed=args.seed, cell_timeout=args.timeout,
                        notebook_timeout=args.notebook_timeout, jobs=args.jobs, progress=progress)
    except GradingError as error:
        print(f"segviz grade: {error}", file=sys.stderr)
        return 2
    print(f"graded {len(reports)} submission(s) with seed {reports[0]['seed']}; reports and gradebook.csv in {args.out}")
    return 0


def _add_grade(commands: argparse._SubParsersAction) -> None:
    from .grading.grader import DEFAULT_CELL_TIMEOUT, DEFAULT_NOTEBOOK_TIMEOUT

    parser = commands.add_parser(
        "grade", help="grade student submissions of a lab against its master",
        description="Rebuild each submission from the master (only its solution cells are the student's), "
                    "run it under nbval with fresh reference outputs, and write DIR/<name>.json and DIR/gradebook.csv.")
    parser.add_argument("master", metavar="MASTER", help="labs/source/labNN_topic.ipynb")
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSION", help="student notebooks, or folders of them")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the reports")
    parser.add_argument("--seed", type=int, default=None, help="grading seed (default: a random one, recorded)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_CELL_TIMEOUT, metavar="SEC",
                        help=f"seconds one cell may run (default {DEFAULT_CELL_TIMEOUT:g})")
    parser.add_argument("--notebook-timeout", type=float, default=DEFAULT_NOTEBOOK_TIMEOUT, metavar="SEC",
                        help=f"seconds one submission may run in all (default {DEFAULT_NOTEBOOK_TIMEOUT:g})")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="submissions graded at once")
    parser.set_defaults(handler=_grade)


def _check(args: argparse.Namespace) -> int:
    from .grading.grader import GradingError, format_summary, self_check

    try:
        report = self_check(args.notebook, args.master, cell_timeout=args.timeout)
    except GradingError as error:
        print(f"segviz check: {error}", file=sys.stderr)
        return 2
    print(format_summary(report))
    return 0 if report["score"] == report["max_score"] else 1


def _add_check(commands: argparse._SubParsersAction) -> None:
    from .grading.grader import DEFAULT_CELL_TIMEOUT

    parser = commands.add_parser(
        "check", help="check your lab notebook the way the grader will (visible checks only)",
        description="Run your solution cells inside the lab's master, as the grader does, with the visible "
                    "checks only, and print what each exercise would earn. Exit code 0 when all pass.")
    parser.add_argument("notebook", metavar="NOTEBOOK", help="your labs/labNN_topic.ipynb")
    parser.add_argument("--master", default=None, help="the master (default: labs/source/<same name>)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_CELL_TIMEOUT, metavar="SEC",
                        help=f"seconds one cell may run (default {DEFAULT_CELL_TIMEOUT:g})")
    parser.set_defaults(handler=_check)


# One entry per command, in the order `segviz --help` lists them.
_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_add_doctor, _add_release, _add_grade, _add_check]


def build_parser() -> argparse.ArgumentParser:
    """The ``segviz`` parser with every registered command as a subcommand."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="segviz", description="Tools for the segviz course on semantic segmentation.")
    parser.add_argument("--version", action="version", version=f"segviz {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)
    for add in _COMMANDS:
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``segviz`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code.

    A missing or unknown command is a usage error: argparse prints the usage and exits with 2.

    Args:
        argv: the arguments after the program name.

    Returns:
        The command's exit code (``segviz doctor``: 0 when no check failed, 1 otherwise).

    Example:
        >>> main(["--version"])
        Traceback (most recent call last):
        ...
        SystemExit: 0
    """
    args = build_parser().parse_args(argv)
    return int(args.handler(args))
