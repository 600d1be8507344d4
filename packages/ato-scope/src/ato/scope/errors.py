"""Exceptions and warnings raised by ato.scope.

Each error derives from the builtin that existing ``except`` clauses expect
(``ValueError`` for bad input text, ``KeyError`` for unknown names, ``TypeError`` for misuse,
``RuntimeError`` for a ``with Scope.lazy():`` block that cannot be deferred).
"""

from __future__ import annotations


class ScopeError(Exception):
    """Base class of every error raised by ato.scope."""

    def __str__(self) -> str:  # KeyError subclasses would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class CLIParseError(ScopeError, ValueError):
    """A command-line token could not be parsed.

    Attributes:
        token: the offending argv token (``str``).
        reason: what is wrong with it (``str``, the message without the token).
    """

    def __init__(self, message: str, token: str) -> None:
        self.token = token
        self.reason = message
        shown = token if len(token) <= 80 else token[:77] + "..."
        super().__init__(f"cannot parse command-line token {shown!r}: {message}")


class UnknownViewError(ScopeError, KeyError):
    """A view name (on the command line or in ``chain_with``) matches no registered view."""


class UnknownKeyError(ScopeError, KeyError):
    """A command-line override (``key=value``) names a key no view defines (``Scope(strict=True)``,
    the default); ``+key=value`` adds a key on purpose."""


class KeyExistsError(ScopeError, KeyError):
    """``+key=value`` (add a new key) names a key that a view already defines."""


class OverrideTypeError(ScopeError, ValueError):
    """An override's value cannot be converted to the type of the value the views gave the key
    (``epochs=1.5`` where ``epochs`` is an int, ``use_amp=maybe`` where it is a bool), under
    ``Scope(strict=True)``, the default; the message names the key, the value and the expected
    type. See ``ato.scope.overrides`` for the rules."""


class ViewChainError(ScopeError, ValueError):
    """``chain_with`` links form a cycle; the message names the cycle."""


class ViewDefinitionError(ScopeError, TypeError):
    """A view, manual or decorated function is defined in a way ato.scope cannot use."""


class LazyBlockError(ScopeError, RuntimeError):
    """A ``with Scope.lazy():`` block cannot be deferred: its source file is unavailable, its
    body shares the ``with`` line, or it holds ``break``/``continue``/``yield`` that only make
    sense inside the view. The message gives ``file:line``."""


class TraceError(ScopeError, TypeError):
    """A function passed to ``trace`` has no retrievable Python source."""


class UnknownKeyWarning(UserWarning):
    """Under ``Scope(strict=False)``, a command-line override created a key no view defines,
    close to one that is defined (a likely typo)."""


class OverrideTypeWarning(UserWarning):
    """Under ``Scope(strict=False)``, an override's value does not fit the type the views gave
    the key; the value is used as parsed."""
