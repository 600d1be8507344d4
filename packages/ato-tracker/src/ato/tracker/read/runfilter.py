"""The run filter language: text such as ``params.lr < 0.01 and metrics.acc > 0.9 and
tags.x = 'y'`` parsed into a small tree (never evaluated), which
`ato.tracker.read.runquery` turns into SQL through SQLAlchemy.

Grammar (keywords in any case; after MLflow's ``search_runs`` filter strings, plus ``or``,
``not`` and parentheses)::

    filter     := or_expr
    or_expr    := and_expr ('or' and_expr)*
    and_expr   := unary ('and' unary)*
    unary      := 'not' unary | '(' or_expr ')' | comparison
    comparison := field op value
                | field ['not'] 'in' '(' value (',' value)* ')'
                | field ['not'] ('like' | 'ilike') string
                | field 'is' ['not'] 'null'
    op         := '=' | '==' | '!=' | '<>' | '<' | '<=' | '>' | '>='
    field      := ('params' | 'metrics' | 'tags' | 'attributes') '.' key | 'tag' | attribute
    key        := name ('.' name)* | `quoted` | "quoted"
    value      := number | 'text' | "text" | true | false   ('it''s', 'it\\'s')

``params.<dotted config key>`` reads the run's config, ``metrics.<key>`` the value logged
last, ``tags.<name>`` the value of a tag written ``<name>:<value>``, ``tag`` any one tag
whole, and the attributes are ``id``, ``status``, ``start_time``, ``end_time`` and
``duration`` (seconds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import RunFilterError

#: Run attributes a filter (and a sort) can name, bare or as ``attributes.<name>``.
ATTRIBUTES = ("id", "status", "start_time", "end_time", "duration")
#: Prefixes of the fields that take a key.
PREFIXES = ("params", "metrics", "tags", "attributes")
_PREFIX_ALIASES = {"param": "params", "metric": "metrics", "attribute": "attributes",
                   "attr": "attributes", "run": "attributes"}  # fmt: skip
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z_]))
    | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
    | (?P<quoted>`[^`]*`)
    | (?P<op><=|>=|!=|<>|==|=|<|>)
    | (?P<punct>[(),])
    | (?P<name>[A-Za-z_][A-Za-z0-9_\-/:@.\[\]]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset({"and", "or", "not", "in", "like", "ilike", "is", "null", "true", "false"})


@dataclass(frozen=True)
class Field:
    """What a comparison reads: ``kind`` is ``'params'``, ``'metrics'``, ``'tags'``, ``'tag'``
    or ``'attributes'``; ``key`` the config key, metric key, tag name or attribute (``''``
    for ``tag``); ``position`` where it starts in the filter text (0-based)."""

    kind: str
    key: str
    position: int


Value = float | int | str | bool


@dataclass(frozen=True)
class Comparison:
    """``field op value``: ``op`` one of ``= != < <= > >= like ilike in not in is null
    is not null`` (``not like``/``not ilike`` too); ``values`` holds one value, the list of
    ``in``, or nothing for ``is null``."""

    field: Field
    op: str
    values: tuple[Value, ...]
    position: int


@dataclass(frozen=True)
class BoolOp:
    """``and``/``or`` over two or more parts."""

    op: str
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """``not part``."""

    part: Node


Node = Comparison | BoolOp | Not


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, quoted, op, punct, name, keyword, end
    text: str
    position: int


def parse_filter(text: str) -> Node | None:
    """The tree of the filter ``text``; ``None`` for an empty (or blank) filter.

    Raises:
        RunFilterError: ``text`` is not a filter of the grammar above; its ``position``
            (0-based character offset) points at the offending token and the message names
            it and what was expected there.
    """
    tokens = _tokenize(text)
    if tokens[0].kind == "end":
        return None
    parser = _Parser(text, tokens)
    node = parser.or_expr()
    parser.expect_end()
    return node


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise _error(text, position, _bad_character(text[position]))
        kind = match.lastgroup or ""
        if kind != "space":
            word = match.group()
            if kind == "name" and word.lower() in _KEYWORDS:
                kind = "keyword"
            tokens.append(_Token(kind, word, position))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _error(text: str, position: int, message: str) -> RunFilterError:
    snippet = text if len(text) <= 120 else text[:120] + "…"
    caret = " " * min(position, 121) + "^"
    return RunFilterError(
        f"bad filter at position {position}: {message}\n  {snippet}\n  {caret}", position
    )


class _Parser:
    """Recursive descent over the tokens of one filter."""

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.at = 0

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def fail(self, token: _Token, expected: str) -> RunFilterError:
        found = "the end of the filter" if token.kind == "end" else repr(token.text)
        return _error(self.text, token.position, f"expected {expected}, found {found}")

    def is_keyword(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "keyword" and token.text.lower() == word

    def expect_end(self) -> None:
        token = self.peek()
        if token.kind != "end":
            raise self.fail(token, "'and', 'or' or the end of the filter")

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.is_keyword("or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.unary()]
        while self.is_keyword("and"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def unary(self) -> Node:
        if self.is_keyword("not"):
            self.take()
            return Not(self.unary())
        token = self.peek()
        if token.kind == "punct" and token.text == "(":
            self.take()
            node = self.or_expr()
            closing = self.take()
            if closing.text != ")" or closing.kind != "punct":
                raise self.fail(closing, "')' closing the '(' at position " + str(token.position))
            return node
        return self.comparison()

    def comparison(self) -> Comparison:
        field = self.field()
        token = self.take()
        if token.kind == "op":
            op = {"==": "=", "<>": "!="}.get(token.text, token.text)
            return Comparison(field, op, (self.value(),), token.position)
        word = token.text.lower() if token.kind == "keyword" else ""
        at = token.position
        negated = word == "not"
        if negated:
            token = self.take()
            word = token.text.lower() if token.kind == "keyword" else ""
            if word not in ("in", "like", "ilike"):
                raise self.fail(token, "'in', 'like' or 'ilike' after 'not'")
        prefix = "not " if negated else ""
        if word in ("like", "ilike"):
            pattern = self.take()
            if pattern.kind != "string":
                raise self.fail(pattern, f"a quoted pattern after {word!r}")
            return Comparison(field, prefix + word, (_unquote(pattern.text),), at)
        if word == "in":
            return Comparison(field, prefix + "in", self.value_list(), at)
        if word == "is":
            negated = self.is_keyword("not")
            if negated:
                self.take()
            null = self.take()
            if null.kind != "keyword" or null.text.lower() != "null":
                raise self.fail(null, "'null' after 'is'" + (" not" if negated else ""))
            return Comparison(field, "is not null" if negated else "is null", (), at)
        raise self.fail(token, "a comparison (=, !=, <, <=, >, >=, in, like, ilike, is null)")

    def value_list(self) -> tuple[Value, ...]:
        opening = self.take()
        if opening.kind != "punct" or opening.text != "(":
            raise self.fail(opening, "'(' starting the list after 'in'")
        values = [self.value()]
        while True:
            token = self.take()
            if token.kind == "punct" and token.text == ")":
                return tuple(values)
            if token.kind != "punct" or token.text != ",":
                raise self.fail(token, "',' or ')' in the list")
            values.append(self.value())

    def value(self) -> Value:
        token = self.take()
        if token.kind == "number":
            number = float(token.text)
            is_int = re.fullmatch(r"[-+]?\d+", token.text) is not None
            return int(token.text) if is_int else number
        if token.kind == "string":
            return _unquote(token.text)
        if token.kind == "keyword" and token.text.lower() in ("true", "false"):
            return token.text.lower() == "true"
        raise self.fail(token, "a value (a number, a quoted text, true or false)")

    def field(self) -> Field:
        token = self.take()
        if token.kind != "name":
            if token.kind == "quoted":
                raise _error(self.text, token.position,
                             "a quoted name needs a prefix: params.`...`, metrics.`...`, tags.`...`")  # fmt: skip
            raise self.fail(token, "a field (params.<key>, metrics.<key>, tags.<name>, tag, "
                            f"or one of {', '.join(ATTRIBUTES)})")  # fmt: skip
        text = token.text
        head, dot, rest = text.partition(".")
        prefix = _PREFIX_ALIASES.get(head.lower(), head.lower())
        if not dot:
            if text.lower() == "tag":
                return Field("tag", "", token.position)
            if text.lower() in ATTRIBUTES:
                return Field("attributes", text.lower(), token.position)
            if prefix in PREFIXES:
                rest = self.quoted_key(token)
                return self.checked(Field(prefix, rest, token.position))
            raise _error(self.text, token.position,
                         f"unknown field {text!r}: use params.<key>, metrics.<key>, tags.<name>, "
                         f"tag, or one of {', '.join(ATTRIBUTES)}")  # fmt: skip
        if prefix not in PREFIXES:
            raise _error(self.text, token.position,
                         f"unknown field prefix {head!r}: use {', '.join(PREFIXES)}")  # fmt: skip
        if not rest:
            rest = self.quoted_key(token)
        return self.checked(Field(prefix, rest, token.position))

    def quoted_key(self, after: _Token) -> str:
        """A key written `like this` or "like this" right after ``prefix.``."""
        if not after.text.endswith("."):
            raise _error(self.text, after.position + len(after.text),
                         f"expected '.<key>' after {after.text!r}")  # fmt: skip
        token = self.take()
        if token.position != after.position + len(after.text) or token.kind not in (
            "quoted",
            "string",
        ):
            raise self.fail(token, f"a key right after {after.text!r}")
        return token.text[1:-1] if token.kind == "quoted" else _unquote(token.text)

    def checked(self, field: Field) -> Field:
        if not field.key:
            raise _error(self.text, field.position, f"{field.kind}. needs a key")
        if field.kind == "attributes" and field.key not in ATTRIBUTES:
            raise _error(self.text, field.position,
                         f"unknown attribute {field.key!r}: use one of {', '.join(ATTRIBUTES)}")  # fmt: skip
        return field


def _bad_character(char: str) -> str:
    """What is wrong where the tokenizer stopped at ``char``: a quote that opens a text or a
    name no quote closes, or a character the language has no use for."""
    if char in "'\"`":
        return f"unterminated text: the {char} here is never closed (add a closing {char})"
    return f"unexpected character {char!r}"


def _unquote(token: str) -> str:
    """The text of a quoted token: a doubled or backslashed quote is the quote; any other
    backslash stays (a ``like`` pattern's ``\\%`` and ``\\_``)."""
    quote = token[0]
    return token[1:-1].replace(quote * 2, quote).replace("\\" + quote, quote)
