"""argparse integration: merging the flags of an ``argparse`` parser into a Scope's config.

A parser is *registered* with a scope by ``Scope(parser=parser)`` or
``scope.use_parser(parser)``. When the scope builds from the process's command line (a
decorated function is called, or ``scope.build()`` without ``argv``), it parses the tokens with
`parse`:

* ``-h``/``--help`` are hidden from argparse (the scope prints its manual plus the parser's
  help),
* ``parse_known_args`` parses, so ato tokens (``lr=0.1``, view names, ``manual``) may be
  mixed with the parser's flags; any *unknown flag* still fails the usual argparse way,
* a second parse with every default suppressed learns which flags were passed explicitly
  (``type=`` converters therefore run twice),
* argparse defaults go below the views, explicitly passed flags above them, and the leftover
  tokens become the scope's command line.

No ``ArgumentParser`` method is replaced for the process. Only while the scope sets up a
decorated function's config does the *registered parser object* answer ``parse_args()`` the
ato way (`answering`), so a view may call it; the instance attribute is removed
afterwards. Other parsers are never touched.

ato 2.x form: ``Scope(use_external_parser=True)`` with no registered parser waits for the
program's first ``parse_args()`` call (`capture_next_parse`); that one call is answered
the ato way, its parser becomes the scope's registered parser and argparse's own method is put
back at once.
"""

from __future__ import annotations

import argparse
import sys
import weakref
from collections import namedtuple
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from .apply import ExternalArgs
from .cli import HELP_FLAGS

_argparse_parse_args = argparse.ArgumentParser.parse_args


class ParsedCommandLine(namedtuple("ParsedCommandLine", "parser args argv namespace")):
    """One ato-aware parse: the parser, its values, the leftover (ato) argv tokens and the
    ``Namespace`` argparse's ``parse_args`` would have returned."""

    __slots__ = ()

    parser: argparse.ArgumentParser
    args: ExternalArgs
    argv: list[str]
    namespace: argparse.Namespace


def parse(
    parser: argparse.ArgumentParser,
    argv: Sequence[str],
    namespace: argparse.Namespace | None = None,
) -> ParsedCommandLine:
    """Parse ``argv`` with ``parser``, leaving ato's tokens for the scope (module docstring).

    With ``-h``/``--help`` the leftover argv is ``[..., 'manual']``; if the rest does not parse
    (a required argument is missing) the values are empty and the leftover is ``['manual']``,
    so the manual and the parser's help are printed as argparse's own ``-h`` would.

    Raises:
        SystemExit: 2, argparse's error exit, for an unknown flag or a bad flag value.
    """
    tokens = list(argv)
    wants_help = any(token in HELP_FLAGS for token in tokens)
    tokens = [token for token in tokens if token not in HELP_FLAGS]
    if wants_help:
        parsed = _parse_for_help(parser, tokens, namespace)
        if parsed is None:
            empty = argparse.Namespace()
            return ParsedCommandLine(parser, ExternalArgs({}, {}), ["manual"], empty)
        result, extras = parsed
    else:
        result, extras = parser.parse_known_args(tokens, namespace)
    flags = [t for t in extras if t.startswith("-") and t != "-"]
    if flags:
        parser.error(f"unrecognized arguments: {' '.join(flags)}")
    values = {k: v for k, v in vars(result).items() if k != argparse.SUPPRESS}
    leftover = [*extras, "manual"] if wants_help else list(extras)
    return ParsedCommandLine(
        parser, ExternalArgs(values, _explicit(parser, tokens)), leftover, result
    )


@contextmanager
def answering(parser: argparse.ArgumentParser) -> Iterator[None]:
    """While inside, ``parser.parse_args(args=None, namespace=None)`` on this parser object
    (only) parses the ato way (`parse`; ``args=None`` means ``sys.argv[1:]``) and
    returns the ``Namespace``. On exit the parser's own ``parse_args`` is back (an instance
    attribute set before is restored)."""
    had = "parse_args" in vars(parser)
    before = vars(parser).get("parse_args")

    def parse_args(
        args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        return parse(parser, sys.argv[1:] if args is None else args, namespace).namespace

    parser.parse_args = parse_args  # type: ignore[method-assign,assignment]  # this parser, this window
    try:
        yield
    finally:
        if had:
            parser.parse_args = before  # type: ignore[method-assign,assignment]  # restoring it
        else:
            del parser.parse_args


# ato 2.x form: scopes waiting for the program's first parse_args() call.
_waiting: weakref.WeakSet[Any] = weakref.WeakSet()


def capture_next_parse(scope: Any) -> None:
    """ato 2.x form: answer the next ``ArgumentParser.parse_args()`` call of the program the
    ato way and register its parser with ``scope`` (``scope.adopt_parse(parsed)``); argparse's
    own method is restored by that call (or by `stop_capture`)."""
    _waiting.add(scope)
    argparse.ArgumentParser.parse_args = _capturing_parse_args  # type: ignore[method-assign,assignment]


def stop_capture(scope: Any = None) -> None:
    """Stop waiting on behalf of ``scope`` (None: every scope); restores argparse's own
    ``parse_args`` when no scope waits any more."""
    if scope is None:
        _waiting.clear()
    else:
        _waiting.discard(scope)
    if not _waiting:
        argparse.ArgumentParser.parse_args = _argparse_parse_args  # type: ignore[method-assign]


def is_capturing() -> bool:
    """True while ``ArgumentParser.parse_args`` is replaced for an ato 2.x scope."""
    return argparse.ArgumentParser.parse_args is _capturing_parse_args


def _capturing_parse_args(
    self: argparse.ArgumentParser,
    args: Sequence[str] | None = None,
    namespace: argparse.Namespace | None = None,
) -> argparse.Namespace:
    scopes = list(_waiting)
    stop_capture()
    if not scopes:
        return _argparse_parse_args(self, args, namespace)
    parsed = parse(self, sys.argv[1:] if args is None else args, namespace)
    for scope in scopes:
        scope.adopt_parse(parsed)
    return parsed.namespace


def _parse_for_help(
    parser: argparse.ArgumentParser, argv: list[str], namespace: argparse.Namespace | None
) -> tuple[argparse.Namespace, list[str]] | None:
    """``parse_known_args`` for ``-h``; None when the rest of argv does not parse."""
    parser.error = _raise_usage  # type: ignore[method-assign]  # on this parser only, on purpose
    try:
        return parser.parse_known_args(argv, namespace)
    except _UsageError:
        return None
    finally:
        del parser.error


class _UsageError(Exception):
    pass


def _raise_usage(message: str) -> NoReturn:
    raise _UsageError(message)


def _explicit(parser: argparse.ArgumentParser, argv: list[str]) -> dict[str, str]:
    """``{dest: option string}`` of the arguments present in ``argv``."""
    saved = [(action, action.default) for action in parser._actions]
    saved_defaults = dict(parser._defaults)
    try:
        for action, _ in saved:
            action.default = argparse.SUPPRESS
        parser._defaults.clear()
        probe, _ = parser.parse_known_args(argv, argparse.Namespace())
    finally:
        for action, default in saved:
            action.default = default
        parser._defaults.update(saved_defaults)
    passed = vars(probe)
    return {
        action.dest: _option_label(action, argv)
        for action in parser._actions
        if action.dest in passed
    }


def _option_label(action: argparse.Action, argv: list[str]) -> str:
    for option in action.option_strings:
        if any(t == option or t.startswith(option + "=") for t in argv):
            return option
    return action.option_strings[0] if action.option_strings else action.dest
