"""argparse integration for ``Scope(use_external_parser=True)``.

Creating such a scope wraps `argparse.ArgumentParser.parse_args` (once per process).
While at least one such scope is alive, ``parser.parse_args()``

* hides ``-h``/``--help`` from argparse (the scope prints its manual plus the parser's help),
* parses with ``parse_known_args``, so ato tokens (``lr=0.1``, view names, ``manual``) may be
  mixed with the parser's flags; any *unknown flag* still fails the usual argparse way,
* parses a second time with every default suppressed to learn which flags were passed
  explicitly (``type=`` converters therefore run twice),
* remembers the result for the scopes: argparse defaults go below the views, explicitly passed
  flags above them, and the leftover tokens become the scope's command line.

It returns the same ``Namespace`` argparse would. With no such scope alive, ``parse_args``
behaves exactly as argparse's own.
"""

from __future__ import annotations

import argparse
import sys
import weakref
from collections import namedtuple
from collections.abc import Sequence
from typing import Any, NoReturn

from .apply import ExternalArgs
from .cli import HELP_FLAGS

_original_parse_args = argparse.ArgumentParser.parse_args
_scopes: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
_last: ParsedCommandLine | None = None


class ParsedCommandLine(namedtuple("ParsedCommandLine", "parser args argv")):
    """One intercepted ``parse_args`` call: the parser, its values, and the leftover argv."""

    __slots__ = ()

    parser: argparse.ArgumentParser
    args: ExternalArgs
    argv: list[str]


def register(scope: Any) -> None:
    """Start intercepting ``parse_args`` on behalf of ``scope`` (idempotent)."""
    _scopes[id(scope)] = scope
    if argparse.ArgumentParser.parse_args is not _parse_args:
        # replacing the method is the point; _parse_args takes the same arguments
        argparse.ArgumentParser.parse_args = _parse_args  # type: ignore[method-assign,assignment]


def reset() -> None:
    """Stop intercepting on behalf of every scope so far and forget the last parse (used by
    ``Scope.initialize_registry()``)."""
    global _last
    _scopes.clear()
    _last = None


def last() -> ParsedCommandLine | None:
    """The latest intercepted ``parse_args`` result, or None if none happened."""
    return _last


def _parse_args(
    self: argparse.ArgumentParser,
    args: Sequence[str] | None = None,
    namespace: argparse.Namespace | None = None,
) -> argparse.Namespace:
    global _last
    if not _scopes:
        return _original_parse_args(self, args, namespace)
    argv = list(sys.argv[1:] if args is None else args)
    wants_help = any(token in HELP_FLAGS for token in argv)
    argv = [token for token in argv if token not in HELP_FLAGS]
    if wants_help:
        result, extras = _parse_for_help(self, argv, namespace)
    else:
        result, extras = self.parse_known_args(argv, namespace)
    flags = [t for t in extras if t.startswith("-") and t != "-"]
    if flags:
        self.error(f"unrecognized arguments: {' '.join(flags)}")
    values = {k: v for k, v in vars(result).items() if k != argparse.SUPPRESS}
    explicit = _explicit(self, argv)
    leftover = [*extras, "manual"] if wants_help else list(extras)
    _last = ParsedCommandLine(self, ExternalArgs(values, explicit), leftover)
    return result


class _UsageError(Exception):
    pass


def _raise_usage(message: str) -> NoReturn:
    raise _UsageError(message)


def _parse_for_help(
    parser: argparse.ArgumentParser, argv: list[str], namespace: argparse.Namespace | None
) -> tuple[argparse.Namespace, list[str]]:
    """Parse for ``-h``; if the rest of argv does not parse (e.g. a required positional is
    missing), print the manual and the parser's help right away and exit 0, as argparse's
    own ``-h`` does."""
    global _last
    parser.error = _raise_usage  # type: ignore[method-assign]  # on this parser only, on purpose
    try:
        return parser.parse_known_args(argv, namespace)
    except _UsageError:
        from .workflow import manual_text

        scopes = list(_scopes.values())
        _last = ParsedCommandLine(parser, ExternalArgs({}, {}), [])
        print(manual_text(scopes, multi=len(scopes) > 1))
        raise SystemExit(0) from None
    finally:
        del parser.error


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
