"""What ato 2.x code calls that 3.0 spells differently: thin, documented aliases.

* ``parse_args_pythonic`` (``from ato.scope import parse_args_pythonic``): the overrides
  of a command line as one nested ADict.
* ``parse_command`` (also importable as ``ato.parser.parse_command``): a command string
  split into argv-style tokens, keeping bracketed values and ``%...%`` strings whole.
* ``parse_backtick_string`` (``ato.parser.parse_backtick_string``): the ``%...%`` string that
  starts at a position of a command string.
* ``Scope.registry`` / ``Scope.initialize_registry()`` live on ``ato.scope.Scope``.
* ``scope.assign(*literals)``, ``scope.apply()`` and ``scope.reset_user_inputs()``
  (`AssignApply`, a base class of ``Scope``): select views and overrides in code, then build.

The grammar is 3.0's (``ato.scope.cli``); the deliberate differences from 2.x are listed
in the documentation page "Coming from ato 2.x".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ato.adict import ADict

from .cli import Override, command_line, is_flag, parse_argv, parse_override
from .errors import CLIParseError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def parse_args_pythonic(argv: Sequence[str] | None = None) -> ADict:
    """The ``key=value`` overrides of ``argv`` (default: the process's command line) as a
    nested ADict (``model.depth=50`` gives ``{'model': {'depth': 50}}``); view names and
    command words are left out. Values follow the 3.0 grammar and are never executed.

    Raises:
        CLIParseError: a malformed token (named in the message).
    """
    tokens = command_line() if argv is None else list(argv)
    result = ADict()
    for item in parse_argv(tokens):
        if isinstance(item, Override):
            ADict.set_path(result, item.key, item.value)
    return result


def parse_command(command: str) -> list[str]:
    """Split ``command`` at whitespace into argv-style tokens, keeping whole a value whose
    brackets, quotes or ``%...%`` string continue over several words.

    ``parse_command("train.py layers=[64, 128] name=%my run% lr=1e-3")`` gives
    ``['train.py', 'layers=[64, 128]', 'name=%my run%', 'lr=1e-3']``. Quotes are kept (the
    tokens are what ``Scope.build`` reads).

    Raises:
        CLIParseError: a bracket, quote or ``%`` string that never closes (naming its token).
    """
    words = command.split()
    tokens: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        head = word.partition("=")[0].lstrip("+").removesuffix(":")
        if "=" in word and not is_flag(word) and head:
            override, i = parse_override(word, words, i)
            tokens.append(override.token)
        else:
            tokens.append(word)
    return tokens


def parse_backtick_string(command: str, start: int) -> tuple[str, int]:
    """The ``%...%`` string of ``command`` that opens at index ``start``, and the index just
    after its closing ``%``: ``parse_backtick_string("name=%my run% lr=1", 5)`` gives
    ``('%my run%', 13)``.

    The text is returned as written, percent signs included. Inside it, ``%%`` is a literal
    percent sign and a backslash keeps the next character from closing the string, as in
    ato 2.x.

    Raises:
        CLIParseError: ``command[start]`` is not ``%``, or the string never closes.
    """
    if not 0 <= start < len(command) or command[start] != "%":
        raise CLIParseError(f"no '%' at index {start} to start a %...% string", command)
    end = start + 1
    while end < len(command):
        if command[end] == "\\":
            end += 2
        elif command[end] != "%":
            end += 1
        elif command[end + 1 : end + 2] == "%":
            end += 2
        else:
            return command[start : end + 1], end + 1
    raise CLIParseError(
        f"the %...% string opened at index {start} never closes; add the closing '%'", command
    )


class AssignApply:
    """ato 2.x's two-step build: ``scope.assign('high_lr', 'lr=0.1')`` then ``scope.apply()``.

    3.0 code passes the same tokens to ``scope.build([...])`` instead. The literals are read
    by the 3.0 command-line grammar (never executed); ``apply()`` builds with every literal
    assigned since the scope was made or since `reset_user_inputs`.
    """

    name: str

    def assign(self, *literals: Any) -> None:
        """Queue view names, ``key=value`` overrides and mappings for the next `apply`.

        Args:
            *literals: each a ``str`` token (``'high_lr'``, ``'model.depth=50'``), a list or
                tuple of such tokens (ato 2.x passed lists), or a mapping of keys or dotted
                paths to values, applied after the tokens (later mappings win).

        Raises:
            TypeError: a literal of any other type (naming it and its position).
        """
        tokens, extra = _assigned(self)
        for position, literal in enumerate(literals):
            _queue(literal, tokens, extra, position)

    def apply(self) -> ADict:
        """Build the config from the assigned literals (what ``scope.build(tokens)`` does)
        and return it; it is also ``scope.config`` afterwards.

        Raises:
            CLIParseError, UnknownViewError, UnknownKeyError, OverrideTypeError: as
                ``Scope.build`` raises them for the same tokens.
        """
        tokens, extra = _assigned(self)
        build = self.build  # type: ignore[attr-defined]  # provided by Scope
        config: ADict = build(list(tokens), extra=dict(extra) or None, source="assign")
        return config

    def reset_user_inputs(self) -> None:
        """Forget every literal given to `assign`."""
        tokens, extra = _assigned(self)
        tokens.clear()
        extra.clear()


def _assigned(scope: AssignApply) -> tuple[list[str], dict[str, Any]]:
    """The scope's queued tokens and mapping values (created on first use)."""
    state = scope.__dict__.setdefault("_assigned", ([], {}))
    return state  # type: ignore[no-any-return]


def _queue(literal: Any, tokens: list[str], extra: dict[str, Any], position: int) -> None:
    if isinstance(literal, str):
        tokens.append(literal)
    elif isinstance(literal, (list, tuple)):
        for item in literal:
            _queue(item, tokens, extra, position)
    elif isinstance(literal, Mapping):
        extra.update(literal)
    else:
        raise TypeError(
            f"Scope.assign() literal #{position} ({literal!r}) is neither a view name or "
            "'key=value' string, a list of them, nor a mapping of keys to values"
        )
