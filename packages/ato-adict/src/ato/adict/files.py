"""Reading and writing config files; the format follows the file extension.

- ``.json``: read and write (UTF-8, indented two spaces).
- ``.yaml`` / ``.yml``: read with ``yaml.safe_load``, written with ``yaml.safe_dump`` (key order kept).
  A file with no content (empty, only comments, a bare ``---``) is an empty config, as in Hydra;
  an explicit top-level ``null`` is an error like any other non-mapping.
- ``.toml``: read with ``tomllib`` (``tomli`` before Python 3.11), written with ``tomli-w``;
  ``None`` cannot be written.
- ``.xyz``: read and write, see `ato.adict.xyz`.
- ``.py``: read (see below) and write (one ``name = literal`` assignment per top-level key;
  keys must be public Python identifiers).

YAML is read with ``yaml.safe_load``: tags that would construct Python objects
(``!!python/object`` ...) are refused. The format libraries (PyYAML, tomllib/tomli, tomli-w)
are imported only when a file of that format is used.

``.py`` files are **code**: loading one runs it with `runpy.run_path` under the module
name ``__ato_config__`` (so an ``if __name__ == "__main__":`` block does not run); only load
files you trust. Its public module-level names (not
starting with ``_``) whose values are plain data (``None``, ``bool``, ``int``, ``float``,
``str``, and lists/tuples/dicts of those) become keys; modules, functions, classes and other
objects are left out.

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
            is not a mapping, a YAML tag asks for a Python object, or a ``.py`` file raised.
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
    return data


def dump_file(data: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``data`` (nested mappings/lists of plain values) to ``path``.

    The parent directory must exist. Tuples are written as lists. Nothing is written when
    an error is raised.

    Raises:
        UnsupportedFormatError: the extension is not one of `WRITE_EXTENSIONS`.
        ConfigFileError: a value cannot be represented in the format (the message names its
            dotted key), e.g. ``None`` in TOML or an arbitrary object anywhere.
        OSError: the file cannot be written (e.g. its directory does not exist).
    """
    file = Path(path)
    writer = _handler(_WRITERS, file, "write")
    allow_dates = writer in (_write_yaml, _write_toml)
    text = writer(_to_plain(data, file, allow_dates, path=""), file)
    file.write_text(text, encoding="utf-8")


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
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"not valid UTF-8 text ({exc.reason})", file) from None


# -- readers ----------------------------------------------------------------------------
def _read_json(file: Path) -> Any:
    import json

    try:
        return json.loads(_read_text(file))
    except json.JSONDecodeError as exc:
        raise ConfigFileError(
            f"invalid JSON: {exc.msg} (column {exc.colno})", file, exc.lineno
        ) from None


def _read_yaml(file: Path) -> Any:
    import yaml

    text = _read_text(file)
    try:
        data = yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
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
    if data is None and _yaml_is_blank(yaml.compose(text)):
        return {}  # empty, comments only or a bare '---': an empty config, as in Hydra
    return data


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
    try:
        return toml.loads(_read_text(file))
    except toml.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = int(match.group(1)) if match else None
        message = _TOML_LINE.sub("", str(exc)).replace("()", "").replace(" (, ", " (").strip()
        raise ConfigFileError(f"invalid TOML: {message}", file, line) from None


def _read_xyz(file: Path) -> Any:
    from .xyz import loads

    return loads(_read_text(file), path=file)


def _read_py(file: Path) -> dict[str, Any]:
    names = run_python_file(file)
    return {k: v for k, v in names.items() if not k.startswith("_") and is_plain_data(v)}


def run_python_file(file: Path) -> dict[str, Any]:
    """Run a trusted ``.py`` config with `runpy.run_path`; return its non-dunder globals.

    Raises:
        ConfigFileError: the file has a syntax error or raised while running (with its line).
    """
    import runpy

    try:
        namespace = runpy.run_path(str(file), run_name="__ato_config__")
    except SyntaxError as exc:
        raise ConfigFileError(f"invalid Python: {exc.msg}", file, exc.lineno) from None
    except Exception as exc:
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
    if isinstance(value, _PLAIN) or (allow_dates and isinstance(value, _DATES)):
        return value
    raise ConfigFileError(
        f"the value at key {path!r} has type {type(value).__name__}, which cannot be written "
        f"to a {file.suffix} file; convert it to a string, number, list or mapping first",
        file,
    )


def _write_json(data: dict[str, Any], file: Path) -> str:
    import json

    try:
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=True) + "\n"
    except ValueError as exc:
        raise ConfigFileError(f"cannot write JSON: {exc}", file) from None


def _write_yaml(data: dict[str, Any], file: Path) -> str:
    import yaml

    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
    if "\x85" in text:  # PyYAML mangles a raw NEL on reading; escape non-ASCII instead
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=False, default_flow_style=False)
    return text


def _write_toml(data: dict[str, Any], file: Path) -> str:
    import tomli_w

    none_key = _find_none(data, "")
    if none_key is not None:
        raise ConfigFileError(
            f"the value at key {none_key!r} is None, which TOML cannot represent; "
            "remove the key or give it a value before writing TOML",
            file,
        )
    return tomli_w.dumps(data)


def _find_none(value: Any, path: str) -> str | None:
    if value is None:
        return path
    children: Any = ()
    if isinstance(value, dict):
        children = ((f"{path}.{k}" if path else k, v) for k, v in value.items())
    elif isinstance(value, list):
        children = ((f"{path}.{i}", v) for i, v in enumerate(value))
    for child_path, child in children:
        found = _find_none(child, child_path)
        if found is not None:
            return found
    return None


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
