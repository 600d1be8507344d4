"""The ``ato`` entry point: the parser built from the command table, exit codes, errors."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Collection, Sequence
from typing import IO

from ..storage.versions import ato_versions
from .arguments import global_options
from .failures import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE
from .handlers import PIPE_WIDTH, db_url_of
from .registry import EXTERNAL, Command, add_commands

__all__ = ["EXIT_NOT_FOUND", "EXIT_OK", "EXIT_USAGE", "PIPE_WIDTH", "build_parser", "main"]

EXIT_READER_GONE = 1  # the output's reader closed the pipe (see _reader_gone)

_EPILOG = f"""\
exit codes: 0 success, {EXIT_NOT_FOUND} unknown run/project/metric/param or no run logged the
metric or the output's reader gone (`| head`), {EXIT_USAGE} usage error or unusable database (e.g. a SQLite file that does not exist, a
database of an older schema revision: run `ato db upgrade`, or a failed upgrade)."""


class _ShowVersions(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised by ``--version`` so that ``main`` prints to its own output stream."""


class _VersionAction(argparse.Action):
    def __call__(self, *args: object, **kwargs: object) -> None:
        raise _ShowVersions


def build_parser(externals: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The ``ato`` argument parser, one subparser per row of the command table
    (`ato.tracker.cli.registry.COMMANDS`). Global options (``--db``, ``--project``,
    ``--json``) are accepted before or after the subcommand. ``externals``: the commands of
    other packages (``dashboard``) whose options to look up; default: all."""
    common = argparse.ArgumentParser(add_help=False)
    global_options(common, default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="ato",
        description="Inspect runs recorded by ato.tracker; check and upgrade the database schema.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    global_options(parser, default=None)
    parser.add_argument(
        "--version", nargs=0, action=_VersionAction, help="print every installed ato package"
    )
    add_commands(parser, common, externals)
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: IO[str] | None = None) -> int:
    """Run ``ato`` with ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    Output goes to ``stdout`` (default ``sys.stdout``), errors to ``sys.stderr`` as
    ``ato: error: <message>``. Exit codes: 0 success; 1 unknown run or project, no run
    logged the metric, or the reader of the output closed it early (``ato ... | head``: no
    traceback then, as Python's documentation of SIGPIPE advises); 2 usage error, missing
    SQLite file, or a database that cannot be read.
    """
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(externals=[name for name in EXTERNAL if name in words])
    out = stdout or sys.stdout
    try:
        args = parser.parse_args(words)
    except SystemExit as exit_:  # --help (0) or a usage error (2)
        return int(exit_.code or 0)
    except _ShowVersions:
        versions = ato_versions()
        out.write("".join(f"{name} {version}\n" for name, version in versions.items()))
        return EXIT_OK
    command: Command = args.command
    try:
        return command.handler(args, out)
    except BrokenPipeError:
        return _reader_gone(out)
    except Exception as error:
        failure = command.failure(error, db_url_of(args))
        if failure is None:
            raise
        message, code = failure
        sys.stderr.write(f"{parser.prog}: error: {message}\n")
        return code


def _reader_gone(out: IO[str]) -> int:
    """The pipe's reader exited (``| head``). Point the process's stdout at ``os.devnull`` so
    the interpreter's final flush does not fail again (the advice of Python's ``signal``
    documentation, "Note on SIGPIPE"), and exit 1 quietly."""
    if out is sys.stdout:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_READER_GONE
