"""What ato 2.x code calls that 3.0 spells differently: thin, documented aliases.

* ``parse_args_pythonic`` (``from ato.scope import parse_args_pythonic``): the overrides
  of a command line as one nested ADict.
* ``parse_command`` (also importable as ``ato.parser.parse_command``): a command string
  split into argv-style tokens, keeping bracketed values and ``%...%`` strings whole.
* ``Scope.registry`` / ``Scope.initialize_registry()`` live on ``ato.scope.Scope``.

The grammar is 3.0's (``ato.scope.cli``); the deliberate differences from 2.x are listed
in the documentation page "Coming from ato 2.x".
"""

from __future__ import annotations

from collections.abc import Sequence

from ato.adict import ADict

from .cli import Override, command_line, is_flag, parse_argv, parse_override


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
