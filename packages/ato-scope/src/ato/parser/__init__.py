"""``ato.parser``: the module path ato 2.x code imports for command-line parsing.

A thin alias kept so that 2.x code runs unchanged (importing it issues a
``DeprecationWarning``); new code uses ``ato.scope`` (``Scope.build``,
``ato.scope.parse_argv``, ``ato.scope.parse_value``).

* ``parse_command(command) -> list[str]``: a command string split into override tokens,
  keeping bracketed values and ``%...%`` strings whole (``ato.scope.compat.parse_command``).
* ``parse_args_pythonic(argv=None) -> ADict``: the overrides as a nested ADict.
* ``parse_backtick_string(command, start) -> (str, int)``: the ``%...%`` string opening at
  ``start`` and the index after it (``ato.scope.compat.parse_backtick_string``).
* ``parse_argv``, ``parse_value``: the 3.0 grammar (``ato.scope.cli``).
"""

from __future__ import annotations

import warnings

from ato.scope.cli import parse_argv, parse_value
from ato.scope.compat import parse_args_pythonic, parse_backtick_string, parse_command

warnings.warn(
    "ato.parser is the ato 2.x module path; use ato.scope (Scope.build, parse_argv) instead",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "parse_args_pythonic",
    "parse_argv",
    "parse_backtick_string",
    "parse_command",
    "parse_value",
]
