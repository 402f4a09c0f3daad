"""The ``segviz`` command line: ``segviz <command> [options]``.

Each command lives in its own module and is registered here by a small ``_add_<command>``
function that creates its subparser, adds its options and sets ``handler`` (a function
``argparse.Namespace -> int``). Command modules are imported only when their command runs, so
``segviz --help`` stays cheap. To add a command (``release``, ``grade``, ``check``), write its
``_add_*`` function and append it to ``_COMMANDS``.

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


# One entry per command, in the order `segviz --help` lists them.
_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_add_doctor, _add_release]


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
