"""The command-line grammar of ato.scope: argv tokens -> overrides, view names and commands.

Grammar (the shell has already split the command line into tokens):

* ``key=value``: an override. ``key`` is a dotted path (``model.backbone.depth``) whose segments
  are identifiers (letters, digits, ``_`` and ``-``, not starting with a digit).
* ``value`` is read with `ast.literal_eval` (numbers such as ``1e-3``, ``True``/``False``/
  ``None``, lists, tuples, dicts, sets, quoted strings). A value that is not a literal and holds
  none of the characters ``( ) [ ] { } ' "`` is taken as a plain string (``model=resnet50``). A
  value with those characters that is not a literal is an error: it was meant as a literal but
  is malformed, or it is code. Nothing is ever executed.
* An empty value (``key=``) is the empty string.
* ``key=%text%``: the text between the ``%`` marks is a string; it may span several tokens
  (``name=%my first run%``), which are joined with single spaces.
* ``key:=text``: the rest of the token is a raw string, kept exactly.
* ``manual``, ``print``, ``explain`` are commands; ``-h`` and ``--help`` mean ``manual``.
* Any other bare word is the name of a view (``high_lr``, or ``model.resnet101`` to name the view
  of one scope under a MultiScope).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from .errors import CLIParseError, UnknownKeyError, UnknownViewError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

COMMANDS = frozenset({"manual", "print", "explain"})
HELP_FLAGS = frozenset({"-h", "--help"})
_LITERAL_CHARS = frozenset("()[]{}'\"")


class _Item:
    """A small immutable record compared by type and fields (lighter to import than dataclasses)."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, *values: Any) -> None:
        for name, value in zip(self.__slots__, values, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            getattr(self, n) == getattr(other, n) for n in self.__slots__
        )

    # Unhashable, as __eq__ is by value; typeshed declares __hash__ a method, hence the ignore.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Override(_Item):
    """One ``key=value`` from the command line: dotted ``key``, parsed ``value``, source ``token``."""

    __slots__ = ("key", "value", "token")
    key: str
    value: Any
    token: str

    def __init__(self, key: str, value: Any, token: str) -> None:
        super().__init__(key, value, token)


class Word(_Item):
    """A bare word: a view name, or a key after ``explain``."""

    __slots__ = ("name",)
    name: str

    def __init__(self, name: str) -> None:
        super().__init__(name)


class Command(_Item):
    """A reserved command word: ``manual``, ``print`` or ``explain``."""

    __slots__ = ("name",)
    name: str

    def __init__(self, name: str) -> None:
        super().__init__(name)


Item = Override | Word | Command


def parse_argv(argv: Sequence[str]) -> list[Item]:
    """Parse argv tokens into overrides, words and commands, in command-line order.

    Raises:
        CLIParseError: naming the token, for malformed values, unterminated ``%`` strings,
            invalid keys, flags (``--x``; use ``Scope(use_external_parser=True)``) and words
            that cannot be view names.
    """
    items: list[Item] = []
    tokens = list(argv)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not isinstance(token, str):
            raise CLIParseError(f"argv must hold strings, got {type(token).__name__}", repr(token))
        i += 1
        if token in HELP_FLAGS:
            items.append(Command("manual"))
        elif token in COMMANDS:
            items.append(Command(token))
        elif "=" in token:
            override, i = _parse_override(token, tokens, i)
            items.append(override)
        else:
            items.append(Word(_check_word(token)))
    return items


def _parse_override(token: str, tokens: list[str], i: int) -> tuple[Override, int]:
    key, _, text = token.partition("=")
    raw = key.endswith(":")
    if raw:
        key = key[:-1]
    if not is_key(key):
        raise CLIParseError(
            f"{key!r} is not a valid key; use dotted identifiers such as model.lr=0.1", token
        )
    if raw:
        return Override(key, text, token), i
    if text.startswith("%"):
        value, i = _percent_string(text, token, tokens, i)
        return Override(key, value, token), i
    return Override(key, parse_value(text, token), token), i


def _percent_string(text: str, token: str, tokens: list[str], i: int) -> tuple[str, int]:
    parts = [text]
    while not _closes(parts):
        if i >= len(tokens):
            raise CLIParseError(
                "the %-quoted string is never closed; end it with % (e.g. name=%my run%)", token
            )
        parts.append(tokens[i])
        i += 1
    joined = " ".join(parts)
    return joined[1:-1], i


def _closes(parts: list[str]) -> bool:
    last = parts[-1]
    if len(parts) == 1:
        return len(last) >= 2 and last.endswith("%")
    return last.endswith("%")


def parse_value(text: str, token: str | None = None) -> Any:
    """Read one value: a Python literal, else a plain word; never executes anything.

    Raises:
        CLIParseError: if ``text`` holds brackets or quotes but is not a valid literal.
    """
    from ast import literal_eval as read_literal

    if text == "":
        return ""
    try:
        value = read_literal(text)
        if "#" not in text or not _has_comment(text):
            return value
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    if _LITERAL_CHARS.isdisjoint(text):
        return text
    raise CLIParseError(
        "the value is not a Python literal (unbalanced brackets or quotes, or code); "
        "write a literal such as [1, 2] or 'text', or pass text as key=%text% or key:=text",
        token if token is not None else text,
    )


def _has_comment(text: str) -> bool:
    """True when ``#`` starts a Python comment (so ``1#2`` is text, not the literal 1)."""
    import io
    import tokenize

    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return True
    return any(t.type == tokenize.COMMENT for t in toks)


def is_key(text: str) -> bool:
    """True for dotted keys: segments of letters, digits, ``_`` and ``-``, not starting with a
    digit or ``-`` (``model.backbone``, ``lr_2``, ``warm-up``)."""
    for segment in text.split("."):
        if not segment or not (segment[0].isalpha() or segment[0] == "_"):
            return False
        if not all(c.isalnum() or c in "_-" for c in segment):
            return False
    return True


def _check_word(token: str) -> str:
    if token.startswith("-"):
        raise CLIParseError(
            "flags are not part of ato's grammar; write key=value, or build the scope with "
            "Scope(use_external_parser=True) and declare the flag with argparse",
            token,
        )
    if not is_key(token):
        raise CLIParseError(
            "this is neither key=value nor a view name (views are identifiers such as high_lr)",
            token,
        )
    return token


_KERNEL_LAUNCHERS = ("ipykernel_launcher.py", "colab_kernel_launcher.py")


def command_line() -> list[str]:
    """The process's argv tokens for the scope: ``sys.argv[1:]``, or ``[]`` inside a Jupyter
    kernel (IPython, VS Code, Colab), whose argv holds the kernel's own ``-f connection.json``
    rather than anything the user typed."""
    if _program_name("") in _KERNEL_LAUNCHERS:
        return []
    return sys.argv[1:]


def exit_on_usage_error(build: Callable[[], T]) -> T:
    """Call ``build``; if it fails on a mistake in the process's own command line (a malformed
    token, an unknown view, an unknown key under ``strict=True``), print one
    ``prog: error: ...`` line to stderr and exit with status 2, as argparse does, instead of
    showing a traceback. Programmatic calls with an explicit argv raise instead."""
    try:
        return build()
    except (CLIParseError, UnknownViewError, UnknownKeyError) as exc:
        print(f"{_program_name('python')}: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _program_name(default: str) -> str:
    """The file name of ``sys.argv[0]`` (``train.py``), or ``default`` when argv is empty."""
    return sys.argv[0].replace("\\", "/").rsplit("/", 1)[-1] if sys.argv else default
