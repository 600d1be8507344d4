"""The command-line grammar of ato.scope: argv tokens -> overrides, view names and commands.

Grammar (the shell has already split the command line into tokens):

* ``key=value``: an override. ``key`` is a dotted path (``model.backbone.depth``) whose segments
  are identifiers (letters, digits, ``_`` and ``-``, not starting with a digit).
* ``+key=value`` adds a key that no view defines, on purpose (a plain ``key=value`` of such a
  key is an error under ``Scope(strict=True)``, the default); it is an error if the key exists.
  ``++key=value`` adds the key or overrides it. (The spellings are Hydra's.)
* ``value`` is read with ``ast.literal_eval`` (numbers such as ``1e-3``, ``True``/``False``/
  ``None``, lists, tuples, dicts, sets, quoted strings). The YAML spellings Hydra users type
  are accepted too, in any letter case: ``true``/``false`` are bools, ``null``/``none`` are
  ``None`` and ``inf``/``+inf``/``-inf``/``nan`` are floats, alone or as items of a literal
  (``[true, null]``; read from the syntax tree, never executed). Any other value that holds
  none of the characters ``( ) [ ] { } ' "`` is a plain string (``model=resnet50``). A value
  with those characters that is not a literal is an error: it was meant as a literal but is
  malformed, or it is code. Nothing is ever executed.
* A value whose brackets or quotes are still open at the end of its token continues in the
  next tokens, joined with single spaces, until they close: the shell splits
  ``layers=[64, 128]`` into ``layers=[64,`` and ``128]``, and neither piece is valid alone.
* An empty value (``key=``) is the empty string.
* ``key=%text%``: the text between the ``%`` marks is a string. The closing ``%`` ends the
  token or a later token (``name=%my first run%``, joined with single spaces); the tokens in
  between must be plain words. A ``%`` string that is not closed that way is an error naming
  the token (write ``key:=%H-%M`` for text that starts with ``%``).
* ``key:=text``: the rest of the token is a raw string, kept exactly, except that one pair of
  matching quotes around all of it is removed when no such quote is inside (``key:="a b"``
  gives ``a b``, as in ato 2.x; ``key:="a" "b"`` is kept exactly).
* ``manual``, ``print``, ``explain`` are commands; ``-h`` and ``--help`` mean ``manual``.
* A token that starts with ``-`` and a letter, ``-`` or ``_`` is a flag (``--local-rank=0``): flags belong to an argparse
  parser (``Scope(use_external_parser=True)``), so without one they are an error saying so.
* Any other bare word is the name of a view (``high_lr``, or ``model.resnet101`` to name the view
  of one scope under a MultiScope).

After parsing, the scope converts every override to the type of the value the views gave the
key, or refuses it (see ``ato.scope.overrides``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from .errors import (
    CLIParseError,
    KeyExistsError,
    OverrideTypeError,
    UnknownKeyError,
    UnknownViewError,
)

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
    """One ``key=value`` from the command line.

    Attributes:
        key: the dotted key (without ``+``/``++``).
        value: the parsed value.
        token: the argv text it came from (several tokens joined with spaces when the value
            continued over them).
        mode: ``'set'`` (``key=v``), ``'add'`` (``+key=v``, a new key on purpose) or
            ``'force'`` (``++key=v``, set whether or not the key exists).
        text: the value as typed when it was unquoted text (a number, a word, a YAML-style
            spelling), so a key the views hold as ``str`` can keep it as typed; ``None`` for
            containers, quoted strings, ``%...%`` and ``:=`` values.
    """

    __slots__ = ("key", "value", "token", "mode", "text")  # noqa: RUF023 - the constructor's order
    key: str
    value: Any
    token: str
    mode: str
    text: str | None

    def __init__(
        self, key: str, value: Any, token: str, mode: str = "set", text: str | None = None
    ) -> None:
        super().__init__(key, value, token, mode, text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Override) and (self.key, self.value, self.token, self.mode) == (
            other.key,
            other.value,
            other.token,
            other.mode,
        )

    __hash__ = None

    def with_key(self, key: str) -> Override:
        """The same override for another key (a MultiScope strips the scope prefix)."""
        return Override(key, self.value, self.token, self.mode, self.text)


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
        CLIParseError: naming the token, for malformed values, unclosed ``%`` strings,
            brackets or quotes, invalid keys, flags (``--x``; declare them with argparse and
            use ``Scope(use_external_parser=True)``) and words that cannot be view names.
    """
    items: list[Item] = []
    tokens = list(argv)
    for token in tokens:
        if not isinstance(token, str):
            raise CLIParseError(f"argv must hold strings, got {type(token).__name__}", repr(token))
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token in HELP_FLAGS:
            items.append(Command("manual"))
        elif token in COMMANDS:
            items.append(Command(token))
        elif is_flag(token):
            raise _flag_error(token)
        elif "=" in token:
            override, i = parse_override(token, tokens, i)
            items.append(override)
        else:
            items.append(Word(_check_word(token)))
    return items


def _flag_error(token: str) -> CLIParseError:
    flag, eq, value = token.partition("=")
    dest = flag.lstrip("-").replace("-", "_") or "name"
    return CLIParseError(
        f"{flag!r} is a flag, and ato's command line has no flags of its own: declare it with "
        f"argparse (parser.add_argument({flag!r}, ...)) and build the scope with "
        f"Scope(use_external_parser=True), which merges it into the config as {dest}; "
        f"or write it as an override, {dest}={value if eq else '...'}",
        token,
    )


def _split_key(token: str) -> tuple[str, str, bool, str]:
    """``(key, mode, raw, text)`` of an override token (``+key``, ``++key``, ``key:=``)."""
    head, _, text = token.partition("=")
    mode = "set"
    if head.startswith("++"):
        head, mode = head[2:], "force"
    elif head.startswith("+"):
        head, mode = head[1:], "add"
    raw = head.endswith(":")
    key = head[:-1] if raw else head
    if not is_key(key):
        raise CLIParseError(
            f"{key!r} is not a valid key; use dotted identifiers such as model.lr=0.1", token
        )
    return key, mode, raw, text


def parse_override(token: str, tokens: list[str], i: int) -> tuple[Override, int]:
    """Parse the override ``token`` (``tokens[i - 1]``), taking continuation tokens from
    ``tokens[i:]`` for ``%...%`` strings and open brackets; returns it and the next index.

    Raises:
        CLIParseError: an invalid key or a malformed or unclosed value (naming ``token``).
    """
    key, mode, raw, text = _split_key(token)
    if raw:
        return Override(key, strip_quotes(text), token, mode), i
    if text.startswith("%"):
        value, i, joined = _percent_string(text, token, tokens, i)
        return Override(key, value, joined, mode), i
    if open_brackets(text):
        value, i, joined = _continue_value(text, token, tokens, i)
        return Override(key, value, joined, mode), i
    bare = text if _LITERAL_CHARS.isdisjoint(text) else None
    return Override(key, parse_value(text, token), token, mode, bare), i


def strip_quotes(text: str) -> str:
    """``text`` without the quotes when it is one quoted string (``"a b"`` -> ``a b``); text
    with more quotes of that kind inside (``"a" and "b"``) is kept as it is."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" and text[0] not in text[1:-1]:
        return text[1:-1]
    return text


def is_flag(token: str) -> bool:
    """True for ``-x``/``--name`` tokens (not for negative numbers such as ``-1`` or ``-.5``)."""
    return len(token) > 1 and token[0] == "-" and (token[1].isalpha() or token[1] in "-_")


def is_continuation(token: str) -> bool:
    """True for a token that can only be the rest of the previous value: not a command, a
    flag, or a ``key=value`` override of its own."""
    if token in COMMANDS or token in HELP_FLAGS or is_flag(token):
        return False
    head, eq, _ = token.partition("=")
    return not (eq and is_key(head.lstrip("+").removesuffix(":")))


def _percent_string(text: str, token: str, tokens: list[str], i: int) -> tuple[str, int, str]:
    parts = [text]
    while not _closes(parts):
        if i >= len(tokens) or not is_continuation(tokens[i]):
            after = f" (the next token {tokens[i]!r} is not part of it)" if i < len(tokens) else ""
            raise CLIParseError(
                f"the %-quoted string is never closed{after}; end it with % in the same token "
                "or a later plain word (name=%my run%), or pass text that starts with % as "
                "key:=text",
                token,
            )
        parts.append(tokens[i])
        i += 1
    joined = " ".join(parts)
    return joined[1:-1], i, " ".join([token, *parts[1:]])


def _closes(parts: list[str]) -> bool:
    last = parts[-1]
    if len(parts) == 1:
        return len(last) >= 2 and last.endswith("%")
    return last.endswith("%")


def _continue_value(text: str, token: str, tokens: list[str], i: int) -> tuple[Any, int, str]:
    """Join the following tokens to a value whose brackets or quotes are still open; returns
    ``(parsed value, next index, joined token)``. Errors name the first token."""
    parts = [text]
    while open_brackets(" ".join(parts)):
        if i >= len(tokens) or not is_continuation(tokens[i]):
            after = f" before {tokens[i]!r}" if i < len(tokens) else " by the end of argv"
            raise CLIParseError(
                f"the value's brackets or quotes are not closed{after}; close them, or quote "
                "the whole value for the shell (e.g. 'layers=[64, 128]')",
                token,
            )
        parts.append(tokens[i])
        i += 1
    joined = " ".join(parts)
    try:
        value = parse_value(joined, token)
    except CLIParseError as exc:
        raise CLIParseError(
            f"joined with the next {len(parts) - 1} token(s) into {joined!r}: {exc.reason}",
            token,
        ) from None
    return value, i, " ".join([token, *parts[1:]])


def open_brackets(text: str) -> bool:
    """True when ``text`` ends inside a quote or with more ``([{`` opened than closed."""
    depth = 0
    quote = ""
    escaped = False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                return False
    return depth > 0 or bool(quote)


_YAML_WORDS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "none": None,
    "inf": float("inf"),
    "+inf": float("inf"),
    "-inf": float("-inf"),
    "nan": float("nan"),
}


def parse_value(text: str, token: str | None = None) -> Any:
    """Read one value: a Python literal, a YAML-style word (``true``, ``null``, ``inf`` in any
    letter case), else a plain word; never executes anything.

    Raises:
        CLIParseError: if ``text`` holds brackets or quotes but is not a valid literal.
    """
    from .syntax import literal as read_literal

    if text == "":
        return ""
    try:
        value = read_literal(text)
        if "#" not in text or not _has_comment(text):
            return value
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    word = text.lower()
    if word in _YAML_WORDS:
        return _YAML_WORDS[word]
    if _LITERAL_CHARS.isdisjoint(text):
        return text
    found = _literal_with_yaml_words(text)
    if found is not _NOT_LITERAL:
        return found
    raise CLIParseError(
        "the value is not a Python literal (unbalanced brackets or quotes, or code); "
        "write a literal such as [1, 2] or 'text', or pass text as key=%text% or key:=text",
        token if token is not None else text,
    )


_NOT_LITERAL: Any = object()


def _literal_with_yaml_words(text: str) -> Any:
    """A container literal whose items may be YAML-style words (``[true, null]``), read from
    the syntax tree without executing anything; ``_NOT_LITERAL`` when it is not one."""
    from .syntax import parse_expression

    try:
        tree = parse_expression(text.strip())
        if _has_comment(text):
            return _NOT_LITERAL
        return _node_value(tree.body)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL


def _node_value(node: Any) -> Any:
    import ast

    if isinstance(node, ast.Constant) and node.value is not Ellipsis:
        return node.value
    if isinstance(node, ast.Name) and node.id.lower() in _YAML_WORDS:
        return _YAML_WORDS[node.id.lower()]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [_node_value(item) for item in node.elts]
        kind = {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)]
        return kind(items)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_node_value(k): _node_value(v) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _node_value(node.operand)
        if isinstance(operand, (int, float)) and not isinstance(operand, bool):
            return -operand if isinstance(node.op, ast.USub) else operand
    raise ValueError("not a literal")


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
    token, an unknown view, ``+key`` on an existing key, an unknown key or a value of the wrong
    type under ``strict=True``, the default), print one
    ``prog: error: ...`` line to stderr and exit with status 2, as argparse does, instead of
    showing a traceback. Programmatic calls with an explicit argv raise instead."""
    try:
        return build()
    except (
        CLIParseError,
        UnknownViewError,
        UnknownKeyError,
        KeyExistsError,
        OverrideTypeError,
    ) as exc:
        print(f"{_program_name('python')}: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _program_name(default: str) -> str:
    """The file name of ``sys.argv[0]`` (``train.py``), or ``default`` when argv is empty."""
    return sys.argv[0].replace("\\", "/").rsplit("/", 1)[-1] if sys.argv else default
