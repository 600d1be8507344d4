"""Finding the line of a problem in JSON (and TOML) text, for error messages.

Python's ``json`` and ``tomllib`` report neither the line of a duplicate key, nor of nesting
that is too deep, nor of an over-long integer; these scans find it afterwards. They run only
once an error is known, so reading a valid file costs nothing extra.
"""

from __future__ import annotations

import re

from .limits import MAX_DEPTH, int_digit_limit

# A JSON string (with a following ':' when it is a key), or a bracket.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"(?:\s*:)?|[\[\]{}]')
_DIGITS = re.compile(r"[0-9_]+")


def line_at(text: str, position: int) -> int:
    """1-based line number of the character at ``position``."""
    return text.count("\n", 0, position) + 1


def json_duplicate(text: str, key: str) -> tuple[int | None, str]:
    """Line and message of the first key repeated in one JSON object (``key`` if not found)."""
    import json

    stack: list[dict[str, int] | None] = []
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            stack.append({} if token == "{" else None)
        elif token in "]}":
            if stack:
                stack.pop()
        elif token.endswith(":") and stack and stack[-1] is not None:
            name = json.loads(token[:-1].rstrip())
            line = line_at(text, match.start())
            if name in stack[-1]:
                return line, duplicate_message(name, stack[-1][name])
            stack[-1][name] = line
    return None, duplicate_message(key, None)


def duplicate_message(key: object, first_line: int | None) -> str:
    """The message every reader gives for a key written twice in one mapping."""
    first = f" (first on line {first_line})" if first_line is not None else ""
    return f"duplicate key {key!r}{first}; each key may appear once per mapping"


def json_deep_line(text: str, depth: int = 0) -> int | None:
    """The line where brackets nest deeper than the limit (``depth``: levels outside them)."""
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        depth += 1 if token in "[{" else -1 if token in "]}" else 0
        if depth > MAX_DEPTH:
            return line_at(text, match.start())
    return None


def long_digits_line(text: str) -> int | None:
    """The line of the first run of digits longer than Python's integer-string limit."""
    limit = int_digit_limit()
    for match in _DIGITS.finditer(text):
        if limit and len(match.group().replace("_", "")) > limit:
            return line_at(text, match.start())
    return None


# TOML strings (basic, literal, multi-line) and comments: hidden before looking for keys.
_TOML_HIDDEN = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*'
)
_TOML_LONG_KEY = re.compile(
    rf"(?:s|[A-Za-z0-9_-]+)(?:[ \t]*\.[ \t]*(?:s|[A-Za-z0-9_-]+)){{{MAX_DEPTH},}}"
)


def toml_long_key_line(text: str) -> int | None:
    """The line of a dotted TOML key (or table header) of more than ``MAX_DEPTH`` parts.

    Such a key nests too deep anyway, and ``tomllib`` takes time quadratic in its parts, so
    it is found by this linear scan before parsing.
    """
    if text.count(".") < MAX_DEPTH:
        return None
    hidden = _TOML_HIDDEN.sub(lambda m: "s" + "\n" * m.group().count("\n"), text)
    match = _TOML_LONG_KEY.search(hidden)
    return None if match is None else line_at(hidden, match.start())
