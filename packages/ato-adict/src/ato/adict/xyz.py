"""XYZ: ato's indentation-based, human-readable config text format.

It is what ``ADict.to_xyz()``, ``.xyz`` files and ato-scope's ``print`` / ``manual`` show::

    model:
      name: resnet50
      lr: 0.001
      layers:
        0) 64
        1) 128
      head:
        0)
          kind: linear
        1) [Empty Mapping]
    tags: [Empty Sequence]
    note: "  padded text  "

Rules:

* A mapping entry is ``key: value``; a nested container is written as ``key:`` followed by its
  content indented two more spaces.
* A list item is ``N) value`` (``N`` counts from 0); a container item is ``N)`` followed by its
  content indented two more spaces.
* Empty containers are ``[Empty Sequence]`` and ``[Empty Mapping]``.
* Scalars are typed back when read: ``None``, ``True``/``False``, integers (``-12``), floats
  (``0.5``, ``1e-05``, ``inf``, ``nan``), otherwise strings. A string that would be read back
  as something else (``"12"``, ``"None"``), or that is empty, has leading/trailing whitespace,
  control characters or starts with ``"``, is written as a JSON string literal. A key is quoted
  the same way when it contains ``:``, starts with ``"`` or ``#``, looks like a list item, or
  has surrounding whitespace.
* Blank lines and lines whose first non-space character is ``#`` are ignored when reading.

`dumps`/`loads` hold a config (a mapping at the top level); `dumps_value`/`loads_value` also
take a list document (``N)`` lines at the top level) or a one-line scalar document.

Round trips are exact for JSON-like data (string keys; ``None``/``bool``/``int``/``float``/
``str``/``list``/``dict`` values). Tuples and sets are written as lists; keys that are not
strings and values of other types are written as their ``str()``/``repr()`` and read back
as strings.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Set
from typing import Any

from ._mapping import mapping_items
from .errors import XYZSyntaxError
from .limits import MAX_DEPTH, check_tree, int_digit_limit
from .plain import NOT_PLAIN, plain_scalar

EMPTY_SEQUENCE = "[Empty Sequence]"
EMPTY_MAPPING = "[Empty Mapping]"
INDENT = "  "

_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
_SPECIAL_FLOATS = {"inf": math.inf, "-inf": -math.inf, "+inf": math.inf, "nan": math.nan}
_CONSTANTS: dict[str, Any] = {"None": None, "True": True, "False": False}
_ITEM = re.compile(r"([0-9]+)\)(?: (.*))?\Z")
# Characters str.splitlines() breaks on, other control characters, and lone surrogates.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029\ud800-\udfff]")
_decoder = json.JSONDecoder()


# -- writing ----------------------------------------------------------------------------
def dumps(mapping: Mapping[Any, Any]) -> str:
    """Render ``mapping`` (nested mappings/lists allowed) as XYZ text ending in a newline.

    An empty mapping renders as ``[Empty Mapping]``. Subclasses of ``int``/``float``/``str``
    (``IntEnum``, ``(str, Enum)``) and numpy scalars are written as the plain value they equal.

    Raises:
        TypeError: if ``mapping`` is not a mapping.
        ConfigFileError: the data nests deeper than ``MAX_DEPTH``,
            contains itself or holds an integer too long to write (naming the key).
    """
    if not isinstance(mapping, Mapping):
        raise TypeError(f"xyz.dumps() needs a mapping, not {type(mapping).__name__}")
    return _document(mapping, EMPTY_MAPPING, _write_mapping)


def _document(container: Any, empty: str, write: Callable[[Any, str, list[str]], None]) -> str:
    """The text of a top-level mapping or list: ``empty`` when it is empty, else ``write``'s
    lines."""
    check_tree(container, writing=True)
    if not container:
        return empty + "\n"
    lines: list[str] = []
    write(container, "", lines)
    return "\n".join(lines) + "\n"


def dumps_value(value: Any) -> str:
    """Render any JSON-like ``value`` as XYZ text ending in a newline: a mapping as `dumps`
    does, a list/tuple/set as top-level ``N)`` items (``[Empty Sequence]`` when empty), any
    other value as one scalar line (a string that would read back as an entry is quoted).

    Raises:
        ConfigFileError: as for `dumps`.
    """
    if isinstance(value, Mapping):
        return dumps(value)
    if isinstance(value, (list, tuple, Set)):
        return _document(value, EMPTY_SEQUENCE, _write_sequence)
    check_tree([value], writing=True)
    text = format_scalar(value)
    if isinstance(value, str) and (":" in text or text[0] == "#" or _ITEM.match(text)):
        text = _quote(value)
    return text + "\n"


def _write_mapping(mapping: Mapping[Any, Any], indent: str, lines: list[str]) -> None:
    for key, value in mapping_items(mapping):
        _write_entry(f"{indent}{_format_key(key)}:", value, indent, lines)


def _write_sequence(items: Any, indent: str, lines: list[str]) -> None:
    for i, value in enumerate(items):
        _write_entry(f"{indent}{i})", value, indent, lines)


def _write_entry(head: str, value: Any, indent: str, lines: list[str]) -> None:
    if isinstance(value, Mapping):
        if not value:
            lines.append(f"{head} {EMPTY_MAPPING}")
            return
        lines.append(head)
        _write_mapping(value, indent + INDENT, lines)
    elif isinstance(value, (list, tuple, Set)):
        if not value:
            lines.append(f"{head} {EMPTY_SEQUENCE}")
            return
        lines.append(head)
        _write_sequence(value, indent + INDENT, lines)
    else:
        lines.append(f"{head} {format_scalar(value)}")


def format_scalar(value: Any) -> str:
    """The XYZ text of one scalar (quoted when a plain rendering would read back differently)."""
    plain = plain_scalar(value)
    value = value if plain is NOT_PLAIN else plain
    if value is None or value is True or value is False:
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    text = value if isinstance(value, str) else repr(value)
    return text if _reads_back_as(text) else _quote(text)


def _quote(text: str) -> str:
    """A JSON string literal that stays on one line (no raw line separators or surrogates)."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _reads_back_as(text: str) -> bool:
    """True if ``text`` written unquoted is read back as the same string."""
    if not text or text != text.strip() or _CONTROL.search(text) or text[0] == '"':
        return False
    if text in (EMPTY_MAPPING, EMPTY_SEQUENCE) or text in _CONSTANTS:
        return False
    return not (_INT.match(text) or _FLOAT.match(text) or text.lower() in _SPECIAL_FLOATS)


def _format_key(key: Any) -> str:
    text = str.__str__(key) if isinstance(key, str) else str(key)
    plain = (
        text
        and text == text.strip()
        and ":" not in text
        and text[0] not in '"#'
        and not _CONTROL.search(text)
        and not _ITEM.match(text)
    )
    return text if plain else _quote(text)


# -- reading ----------------------------------------------------------------------------
class _Line:
    __slots__ = ("indent", "number", "text")

    def __init__(self, number: int, indent: int, text: str) -> None:
        self.number = number
        self.indent = indent
        self.text = text


#: The byte order mark a UTF-8 file may start with (never part of the config).
BOM = "\ufeff"


def loads(text: str, path: Any = None) -> dict[str, Any]:
    """Parse XYZ ``text`` into nested ``dict``/``list`` values.

    Args:
        text: the XYZ document (a leading byte order mark is ignored).
        path: the file it came from, used only in error messages.

    Raises:
        XYZSyntaxError: (a [`ConfigFileError`][ato.adict.ConfigFileError]) naming the line for
            bad indentation, a line that is neither ``key: value`` nor ``N) value``, a
            wrong item number, a duplicate key, a bad quoted string, a top level that is
            a list, nesting deeper than ``MAX_DEPTH`` levels or an
            integer longer than Python's digit limit.
    """
    lines = _split_lines(text.removeprefix(BOM), path)
    if not lines:
        return {}
    first = lines[0]
    if first.indent != 0:
        raise XYZSyntaxError("the first entry must not be indented", path, first.number)
    if len(lines) == 1 and first.text == EMPTY_MAPPING:
        return {}
    if _ITEM.match(first.text):
        raise XYZSyntaxError(
            "the top level is a list; an XYZ config must be a mapping of 'key: value' lines",
            path,
            first.number,
        )
    return _Parser(lines, path).mapping(0)


def loads_value(text: str, path: Any = None) -> Any:
    """Parse an XYZ document of any shape written by `dumps_value`: a mapping (as `loads`,
    into ``dict``), top-level ``N)`` items (into a ``list``) or one scalar line.

    Raises:
        XYZSyntaxError: as for `loads`, naming the line.
    """
    lines = _split_lines(text, path)
    if len(lines) == 1 and _is_scalar_line(lines[0].text):
        return _Parser(lines, path).scalar(lines[0].text, lines[0])
    if lines and _ITEM.match(lines[0].text):
        if lines[0].indent != 0:
            raise XYZSyntaxError("the first entry must not be indented", path, lines[0].number)
        return _Parser(lines, path).sequence(0)
    return loads(text, path)


def _is_scalar_line(text: str) -> bool:
    """True for a line that is a whole scalar, not ``key: ...`` or ``N) ...``."""
    if text[0] == '"':
        try:
            _, end = _decoder.raw_decode(text)
        except json.JSONDecodeError:
            return False
        return end == len(text)
    return ":" not in text and not _ITEM.match(text)


def _split_lines(text: str, path: Any) -> list[_Line]:
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.lstrip(" ")
        if not stripped.strip() or stripped.startswith("#"):
            continue
        if stripped[0] == "\t":
            raise XYZSyntaxError("indent with spaces, not tabs", path, number)
        lines.append(_Line(number, len(raw) - len(stripped), stripped.rstrip()))
    return lines


class _Parser:
    def __init__(self, lines: list[_Line], path: Any) -> None:
        self.lines = lines
        self.path = path
        self.pos = 0

    def error(self, message: str, line: _Line) -> XYZSyntaxError:
        return XYZSyntaxError(message, self.path, line.number)

    def block(self, indent: int) -> Any:
        """Parse the block of lines at ``indent`` starting at the current position."""
        if _ITEM.match(self.lines[self.pos].text):
            return self.sequence(indent)
        return self.mapping(indent)

    def _block_lines(self, indent: int) -> Iterator[_Line]:
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.indent < indent:
                return
            if line.indent > indent:
                raise self.error(
                    f"unexpected indentation ({line.indent} spaces, expected {indent})", line
                )
            self.pos += 1
            yield line

    def mapping(self, indent: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first: dict[str, int] = {}
        for line in self._block_lines(indent):
            if _ITEM.match(line.text):
                raise self.error("a list item among mapping keys at the same indentation", line)
            key, rest = self.split_key(line)
            if key in result:
                raise self.error(f"duplicate key {key!r} (first on line {first[key]})", line)
            first[key] = line.number
            result[key] = self.value(rest, line, indent)
        return result

    def sequence(self, indent: int) -> list[Any]:
        result: list[Any] = []
        for line in self._block_lines(indent):
            match = _ITEM.match(line.text)
            if match is None:
                raise self.error(
                    "a 'key: value' entry among list items at the same indentation", line
                )
            if int(match.group(1)) != len(result):
                raise self.error(
                    f"list item number {match.group(1)} found where {len(result)}) was expected",
                    line,
                )
            result.append(self.value(match.group(2) or "", line, indent))
        return result

    def split_key(self, line: _Line) -> tuple[str, str]:
        text = line.text
        if text[0] == '"':
            try:
                key, end = _decoder.raw_decode(text)
            except json.JSONDecodeError as exc:
                raise self.error(f"bad quoted key: {exc.msg}", line) from None
            if not isinstance(key, str) or text[end : end + 1] != ":":
                raise self.error("a quoted key must be a string followed by ':'", line)
            return key, text[end + 1 :]
        key, colon, rest = text.partition(":")
        if not colon:
            raise self.error(f"expected 'key: value', 'key:' or 'N) value', got {text!r}", line)
        return key.rstrip(), rest

    def value(self, rest: str, line: _Line, indent: int) -> Any:
        rest = rest.strip()
        if rest:
            return self.scalar(rest, line)
        if self.pos < len(self.lines) and self.lines[self.pos].indent > indent:
            child = self.lines[self.pos]
            if child.indent != indent + len(INDENT):
                raise self.error(
                    f"nested entries must be indented by exactly {len(INDENT)} more spaces",
                    child,
                )
            if child.indent // len(INDENT) >= MAX_DEPTH:
                raise self.error(
                    f"nested deeper than {MAX_DEPTH} levels of mappings and lists, "
                    "the most ato reads",
                    child,
                )
            return self.block(child.indent)
        raise self.error(
            "no value and no indented block follows; write a value, "
            f"{EMPTY_MAPPING} or {EMPTY_SEQUENCE}",
            line,
        )

    def scalar(self, text: str, line: _Line) -> Any:
        if text[0] == '"':
            try:
                value, end = _decoder.raw_decode(text)
            except json.JSONDecodeError as exc:
                raise self.error(f"bad quoted string: {exc.msg}", line) from None
            if end != len(text) or not isinstance(value, str):
                raise self.error("unexpected text after a quoted string", line)
            return value
        try:
            return parse_scalar(text)
        except ValueError:
            raise self.error(
                f"an integer with more than {int_digit_limit()} digits, more than Python "
                "reads; quote it to keep it as a string",
                line,
            ) from None


def parse_scalar(text: str) -> Any:
    """Type an unquoted XYZ scalar: None/True/False, int, float, else the string itself."""
    if text in _CONSTANTS:
        return _CONSTANTS[text]
    if text == EMPTY_MAPPING:
        return {}
    if text == EMPTY_SEQUENCE:
        return []
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    special = _SPECIAL_FLOATS.get(text.lower())
    return text if special is None else special
