"""Reading and writing config files; the format follows the file extension.

- ``.json``: read and write (UTF-8, indented two spaces).
- ``.yaml`` / ``.yml``: read with a safe loader following OmegaConf's rules (``1e-3`` is a float,
  no timestamps) and written with a safe dumper that quotes strings other YAML readers would
  not read back as strings; see ``ato.adict.yaml_rules``. A file with no content (empty,
  only comments, a bare ``---``) is an empty config, as in Hydra; an explicit top-level
  ``null`` is an error like any other non-mapping.
- ``.toml``: read with ``tomllib`` (``tomli`` before Python 3.11), written with ``tomli-w``;
  ``None`` cannot be written.
- ``.xyz``: read and write, see `ato.adict.xyz`.
- ``.py``: read (see below) and write (one ``name = literal`` assignment per top-level key;
  keys must be public Python identifiers).

YAML is read with a ``yaml.SafeLoader`` subclass: tags that would construct Python objects
(``!!python/object`` ...) are refused. The format libraries (PyYAML, tomllib/tomli, tomli-w)
are imported only when a file of that format is used.

Every format follows the same rules (see ``ato.adict.limits``): a key written twice in one
mapping is refused naming the key and line (``.py`` files follow Python: a later assignment
replaces an earlier one); nesting deeper than ``MAX_DEPTH`` levels, values that contain
themselves, aliases adding more than ``MAX_ALIAS_NODES`` values and integers longer than
Python's digit limit are refused on reading, and the same limits are checked before writing,
so every written file reads back.

``.py`` files are **code**: loading one runs it with ``runpy.run_path`` under the module
name ``__ato_config__`` (so an ``if __name__ == "__main__":`` block does not run); only load
files you trust. A ``sys.exit()`` in the file is reported as a ``ConfigFileError`` instead of
ending the program. Its public module-level names (not starting with ``_``) whose values
are plain data (``None``, ``bool``, ``int``, ``float``, ``str``, and lists/tuples/dicts of
those) become keys; modules, functions, classes and other objects are left out.

A missing file raises [`ConfigFileNotFoundError`][ato.adict.ConfigFileNotFoundError] (a
``FileNotFoundError``); every other problem raises a
[`ConfigFileError`][ato.adict.ConfigFileError] (a ``ValueError``) naming the file and, where the
parser reports one, the line.
"""

from __future__ import annotations

import datetime
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._mapping import mapping_items
from .errors import ConfigFileError, ConfigFileNotFoundError, UnsupportedFormatError
from .limits import MAX_DEPTH, check_depth, check_tree, int_digit_limit, unshare
from .locate import (
    duplicate_message,
    json_deep_line,
    json_duplicate,
    long_digits_line,
    toml_long_key_line,
)
from .plain import NOT_PLAIN, plain_scalar

_PLAIN = (type(None), bool, int, float, str)
_DATES = (datetime.date, datetime.time)


def load_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a config file into a plain nested ``dict``.

    Args:
        path: a file ending in one of `READ_EXTENSIONS` (case-insensitive).

    Raises:
        ConfigFileNotFoundError: the file does not exist.
        UnsupportedFormatError: the extension is not supported (the message lists those that are).
        ConfigFileError: the content is malformed (with the parser's line number), the top level
            is not a mapping, a YAML tag asks for a Python object, a key is duplicated, a limit
            of ``ato.adict.limits`` is exceeded, or a ``.py`` file raised or exited.
    """
    file = Path(path)
    reader = _handler(_READERS, file, "read")
    if not file.is_file():
        raise ConfigFileNotFoundError(file)
    data = reader(file)
    if not isinstance(data, dict):
        raise ConfigFileError(
            f"the top level must be a mapping of keys to values, not {_kind(data)}; "
            "put the content under a key (e.g. 'items:')",
            file,
        )
    if file.suffix.lower() in (".json", ".toml"):  # trees by construction: only depth to check
        check_depth(data, file, depth_line=lambda: _deep_line(file))
    elif check_tree(data, file):  # an alias becomes a copy, as in OmegaConf
        data = dict(unshare(data))
    return data


def dump_file(data: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``data`` (nested mappings/lists of plain values) to ``path``.

    The parent directory must exist. Tuples are written as lists; values of subclasses of
    ``int``/``float``/``str`` (``IntEnum``, ``(str, Enum)``, ``numpy.float64``) and numpy
    scalars are written as the plain value they equal (see ``ato.adict.plain``), so the
    file loads back equal. Nothing is written when an error is raised.

    Raises:
        UnsupportedFormatError: the extension is not one of `WRITE_EXTENSIONS`.
        ConfigFileError: a value cannot be represented in the format (the message names its
            dotted key), e.g. ``None`` in TOML, a date outside TOML, a plain ``Enum`` member,
            a lone surrogate in TOML or an arbitrary object anywhere; the data nests deeper
            than ``MAX_DEPTH``, contains itself or holds an integer too long to write.
        OSError: the file cannot be written (e.g. its directory does not exist).
    """
    file = Path(path)
    writer = _handler(_WRITERS, file, "write")
    allow_dates = writer is _write_toml
    check_tree(data, file, writing=True)
    text = writer(_to_plain(data, file, allow_dates, path=""), file)
    try:
        payload = text.encode("utf-8")
    except UnicodeEncodeError:
        key = _find_value(data, "", _not_utf8)
        raise ConfigFileError(
            f"the text at key {key!r} holds a lone surrogate, which a {file.suffix} file "
            "cannot store as UTF-8; write it as .json, .yaml or .py (escaped) or fix the text",
            file,
        ) from None
    file.write_bytes(payload)


def _handler(table: Mapping[str, Callable[..., Any]], file: Path, verb: str) -> Any:
    """The reader/writer for ``file``'s extension, or raise listing the supported ones."""
    handler = table.get(file.suffix.lower())
    if handler is None:
        raise UnsupportedFormatError(
            f"cannot {verb} config files with extension {file.suffix or '(none)'!r}; "
            f"supported: {', '.join(table)}",
            file,
        )
    return handler


def _kind(value: Any) -> str:
    return "a list" if isinstance(value, list) else f"a value of type {type(value).__name__}"


def _read_text(file: Path) -> str:
    """The file's UTF-8 text, without the byte order mark some editors write first."""
    try:
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"not valid UTF-8 text ({exc.reason})", file) from None


# -- readers ----------------------------------------------------------------------------
def _read_json(file: Path) -> Any:
    import json

    text = _read_text(file)
    try:
        return json.loads(text, object_pairs_hook=_json_object)
    except json.JSONDecodeError as exc:
        raise ConfigFileError(
            f"invalid JSON: {exc.msg} (column {exc.colno})", file, exc.lineno
        ) from None
    except _DuplicateKeyError as exc:
        line, message = json_duplicate(text, exc.key)
        raise ConfigFileError(message, file, line) from None
    except RecursionError:
        raise ConfigFileError(_too_deep(), file, json_deep_line(text)) from None
    except ValueError as exc:  # an integer longer than Python's digit limit
        raise ConfigFileError(_too_long_int(exc), file, long_digits_line(text)) from None


class _DuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _DuplicateKeyError(key)
        seen.add(key)
    return dict(pairs)


def _deep_line(file: Path) -> int | None:
    """The line where a JSON or TOML file goes too deep (bracket nesting), else None."""
    if file.suffix.lower() not in (".json", ".toml"):
        return None
    return json_deep_line(_read_text(file), 1 if file.suffix.lower() == ".toml" else 0)


def _too_deep() -> str:
    return f"nested deeper than {MAX_DEPTH} levels of mappings and lists, the most ato reads"


def _too_long_int(exc: ValueError) -> str:
    if "digits" not in str(exc):
        return f"invalid value: {exc}"
    return (
        f"an integer with more than {int_digit_limit()} digits, more than Python reads; "
        "write it as a string"
    )


def _read_yaml(file: Path) -> Any:
    import yaml

    from .yaml_rules import LimitError, Loader, check_node

    text = _read_text(file)
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            check_node(node, loader.alias_uses)
        data = None if node is None else loader.construct_document(node)
    except LimitError as exc:
        mark = exc.problem_mark
        raise ConfigFileError(str(exc.problem), file, mark.line + 1 if mark else None) from None
    except yaml.constructor.ConstructorError as exc:
        if "constructor for the tag" not in str(exc.problem):  # e.g. an unhashable key
            raise ConfigFileError(f"invalid YAML: {exc.problem}", file, _mark_line(exc)) from None
        line = _mark_line(exc)
        raise ConfigFileError(
            f"refused YAML tag: {exc.problem}. ato reads YAML with a safe loader that never "
            "builds Python objects; replace the tagged node with plain data",
            file,
            line,
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigFileError(f"invalid YAML: {problem}", file, line) from None
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"invalid YAML: {exc}", file) from None
    finally:
        loader.dispose()
    if data is None and _yaml_is_blank(node):
        return {}  # empty, comments only or a bare '---': an empty config, as in Hydra
    return data


def _mark_line(exc: Any) -> int | None:
    mark = exc.problem_mark or exc.context_mark
    return int(mark.line) + 1 if mark else None


def _yaml_is_blank(node: Any) -> bool:
    """True for no document, or a document with no content (not an explicit ``null``/``~``)."""
    return node is None or (node.tag == "tag:yaml.org,2002:null" and node.value == "")


def _toml_module() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    import tomli

    return tomli


_TOML_LINE = re.compile(r"at line (\d+)")


def _read_toml(file: Path) -> Any:
    toml = _toml_module()
    text = _read_text(file)
    long_key = toml_long_key_line(text)
    if long_key is not None:
        raise ConfigFileError(_too_deep(), file, long_key)
    try:
        return toml.loads(text)
    except toml.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = int(match.group(1)) if match else None
        message = _TOML_LINE.sub("", str(exc)).replace("()", "").replace(" (, ", " (").strip()
        raise ConfigFileError(_toml_message(message, text, line), file, line) from None
    except RecursionError:
        raise ConfigFileError(_too_deep(), file, json_deep_line(text, 1)) from None
    except ValueError as exc:  # an integer longer than Python's digit limit
        raise ConfigFileError(_too_long_int(exc), file, long_digits_line(text)) from None


_TOML_KEY = re.compile(r"\s*([^=#]+?)\s*=")


def _toml_message(message: str, text: str, line: int | None) -> str:
    """tomllib's message, naming the key when it reports one set twice."""
    lines = text.splitlines()
    if message.startswith("Cannot overwrite") and line is not None and line <= len(lines):
        found = _TOML_KEY.match(lines[line - 1])
        if found:
            return duplicate_message(found.group(1), None)
    if message.startswith("Cannot declare") or message.startswith("Duplicate"):
        return f"duplicate key: {message}; each key may appear once per table"
    return f"invalid TOML: {message}"


def _read_xyz(file: Path) -> Any:
    from .xyz import loads

    return loads(_read_text(file), path=file)


def _read_py(file: Path) -> dict[str, Any]:
    public = {k: v for k, v in run_python_file(file).items() if not k.startswith("_")}
    check_tree({k: v for k, v in public.items() if isinstance(v, (list, tuple, dict))}, file)
    return {k: v for k, v in public.items() if is_plain_data(v)}


def run_python_file(file: Path) -> dict[str, Any]:
    """Run a trusted ``.py`` config with `runpy.run_path`; return its non-dunder globals.

    Raises:
        ConfigFileError: the file has a syntax error, raised while running or called
            ``sys.exit()`` (with its line). ``KeyboardInterrupt`` passes through.
    """
    import runpy

    try:
        namespace = runpy.run_path(str(file), run_name="__ato_config__")
    except SyntaxError as exc:
        raise ConfigFileError(f"invalid Python: {exc.msg}", file, exc.lineno) from None
    except SystemExit as exc:
        raise ConfigFileError(
            f"the config called sys.exit({exc.code!r}); loading a config never ends the program",
            file,
            _raising_line(exc, file),
        ) from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # also GeneratorExit & co., which would end the program
        raise ConfigFileError(
            f"running the config raised {type(exc).__name__}: {exc}", file, _raising_line(exc, file)
        ) from exc
    return {k: v for k, v in namespace.items() if not (k.startswith("__") and k.endswith("__"))}


def _raising_line(exc: BaseException, file: Path) -> int | None:
    line = None
    tb = exc.__traceback__
    target = os.path.realpath(file)
    while tb is not None:
        if os.path.realpath(tb.tb_frame.f_code.co_filename) == target:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def is_plain_data(value: Any) -> bool:
    """True for ``None``/``bool``/``int``/``float``/``str`` and lists/tuples/dicts of them."""
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (list, tuple)):
        return all(is_plain_data(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain_data(v) for k, v in mapping_items(value))
    return False


# -- writers ----------------------------------------------------------------------------
def _to_plain(value: Any, file: Path, allow_dates: bool, path: str) -> Any:
    """Copy ``value`` as dicts/lists/scalars, or raise naming the key that can't be written."""
    if isinstance(value, Mapping):
        out = {}
        for key, child in mapping_items(value):
            key = str.__str__(key) if isinstance(key, str) else key
            if not isinstance(key, str):
                raise ConfigFileError(
                    f"key {key!r} under {path or '<root>'} is a {type(key).__name__}; "
                    "config files need string keys",
                    file,
                )
            out[key] = _to_plain(child, file, allow_dates, f"{path}.{key}" if path else key)
        return out
    if isinstance(value, (list, tuple)):
        return [_to_plain(v, file, allow_dates, f"{path}.{i}") for i, v in enumerate(value)]
    plain = plain_scalar(value)
    if plain is not NOT_PLAIN:
        return plain
    if allow_dates and isinstance(value, _DATES):
        return value
    hint = "convert it to a string, number, list or mapping first"
    if isinstance(value, _DATES):
        hint = "write it as a string (value.isoformat()) or use a .toml file, which has dates"
    raise ConfigFileError(
        f"the value at key {path!r} has type {type(value).__name__}, which cannot be written "
        f"to a {file.suffix} file; {hint}",
        file,
    )


def _write_json(data: dict[str, Any], file: Path) -> str:
    import json

    try:
        text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=True) + "\n"
    except ValueError as exc:
        raise ConfigFileError(f"cannot write JSON: {exc}", file) from None
    if _not_utf8(text):  # lone surrogates: JSON's \ud800 escapes read back exactly
        text = json.dumps(data, indent=2, ensure_ascii=True, allow_nan=True) + "\n"
    return text


def _write_yaml(data: dict[str, Any], file: Path) -> str:
    from .yaml_rules import dump

    text = dump(data, allow_unicode=True)
    if "\x85" in text:  # PyYAML mangles a raw NEL on reading; escape non-ASCII instead
        text = dump(data, allow_unicode=False)
    return text


def _write_toml(data: dict[str, Any], file: Path) -> str:
    import tomli_w

    none_key = _find_value(data, "", lambda v: v is None)
    if none_key is not None:
        raise ConfigFileError(
            f"the value at key {none_key!r} is None, which TOML cannot represent; "
            "remove the key or give it a value before writing TOML",
            file,
        )
    return tomli_w.dumps(data)


_NO_KEY: Any = object()


def _find_value(value: Any, path: str, bad: Callable[[Any], bool]) -> str | None:
    """The dotted key of the first value (or key) for which ``bad`` is true, else None."""
    if bad(value):
        return path
    children: Any = ()
    if isinstance(value, dict):
        children = ((f"{path}.{k}" if path else k, k, v) for k, v in value.items())
    elif isinstance(value, list):
        children = ((f"{path}.{i}", _NO_KEY, v) for i, v in enumerate(value))
    for child_path, key, child in children:
        found = child_path if key is not _NO_KEY and bad(key) else None
        found = found or _find_value(child, child_path, bad)
        if found is not None:
            return found
    return None


def _not_utf8(value: Any) -> bool:
    if not isinstance(value, str) or value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _write_xyz(data: dict[str, Any], file: Path) -> str:
    from .xyz import dumps

    return dumps(data)


def _write_py(data: dict[str, Any], file: Path) -> str:
    import keyword

    lines = ["# Config written by ato.adict. Loading it runs it as Python code.", ""]
    for key, value in data.items():
        if not key.isidentifier() or keyword.iskeyword(key) or key.startswith("_"):
            raise ConfigFileError(
                f"key {key!r} cannot be a module-level name (it must be a Python identifier "
                "not starting with '_'); write this config as .json, .yaml, .toml or .xyz",
                file,
            )
        lines.append(f"{key} = {_py_literal(value, '')}")
    return "\n".join(lines) + "\n"


def _py_literal(value: Any, indent: str) -> str:
    """Python source for plain data, one container item per line for readability."""
    if isinstance(value, float) and value != value:
        return 'float("nan")'
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return f'{"-" if value < 0 else ""}float("inf")'
    if isinstance(value, dict) and value:
        inner = indent + "    "
        body = "".join(f"{inner}{k!r}: {_py_literal(v, inner)},\n" for k, v in value.items())
        return "{\n" + body + indent + "}"
    if isinstance(value, list) and value:
        inner = indent + "    "
        flat = [_py_literal(v, inner) for v in value]
        one_line = "[" + ", ".join(flat) + "]"
        if len(one_line) <= 80 and "\n" not in one_line:
            return one_line
        return "[\n" + "".join(f"{inner}{item},\n" for item in flat) + indent + "]"
    return repr(value)


_READERS: dict[str, Callable[[Path], Any]] = {
    ".json": _read_json,
    ".yaml": _read_yaml,
    ".yml": _read_yaml,
    ".toml": _read_toml,
    ".xyz": _read_xyz,
    ".py": _read_py,
}
_WRITERS: dict[str, Callable[[dict[str, Any], Path], str]] = {
    ".json": _write_json,
    ".yaml": _write_yaml,
    ".yml": _write_yaml,
    ".toml": _write_toml,
    ".xyz": _write_xyz,
    ".py": _write_py,
}
READ_EXTENSIONS = tuple(_READERS)
"""Extensions [`load_file`][ato.adict.load_file] reads (lower case, with the dot)."""
WRITE_EXTENSIONS = tuple(_WRITERS)
"""Extensions [`dump_file`][ato.adict.dump_file] writes (lower case, with the dot)."""
