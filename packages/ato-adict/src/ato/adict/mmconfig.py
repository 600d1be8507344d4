"""OpenMMLab-style configs: ``_base_`` inheritance and ``_delete_``.

Semantics follow ``mmengine.Config`` (OpenMMLab, https://github.com/open-mmlab/mmengine):

* ``_base_`` is a path or a list of paths, relative to the file that names it. Bases are
  loaded (recursively) and deep-merged in list order; then the file's own keys are
  deep-merged on top. (mmengine rejects a key defined by two bases; here the later base wins.)
* A mapping holding ``_delete_=True`` replaces the inherited mapping instead of merging into it.
* ``.py`` configs are run with `runpy.run_path` (trusted files only). Every module-level
  name except dunders, modules, functions and classes becomes a key (private names such as
  ``_base_`` included), as in mmengine.
* ``.json``, ``.yaml``/``.yml``, ``.toml`` and ``.xyz`` configs may use ``_base_`` too.
* Each file is read once per call, however many times the chain names it (a diamond of
  ``_base_`` references costs one read per file, not one per path through it).

Safety (for data files that may come from elsewhere):

* A ``.py`` base is run only when the top-level file is itself ``.py`` (then the whole chain
  is code you chose to run) or the caller passes ``allow_python=True``.
* Every ``_base_`` must resolve (after ``..`` and absolute paths are taken into account)
  inside the config root: ``root`` when given, else the folder of the top-level file. A
  ``.py`` top-level file is code with the same reach as any program, so its chain is not
  confined unless ``root`` is given. Paths are compared as written: symbolic links placed
  inside the root are followed.

Not supported: ``{{_base_.key}}`` text substitution and ``_base_.key`` references in ``.py``
files, and mmengine's lazy-import (``read_base()``) configs.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from ._mapping import mapping_get, mapping_items
from .errors import CompositionError
from .files import load_file, run_python_file
from .limits import check_tree
from .merge import deep_merge

BASE_KEY = "_base_"
DELETE_KEY = "_delete_"


def load_mm_config(
    path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    allow_python: bool = False,
) -> dict[str, Any]:
    """Load an OpenMMLab config with its ``_base_`` chain resolved.

    Args:
        path: the config file (``.py``, ``.json``, ``.yaml``/``.yml``, ``.toml``, ``.xyz``).
        root: the folder every ``_base_`` must stay inside. Default: the folder of ``path``
            when ``path`` is a data file; no restriction when ``path`` is a ``.py`` file.
            OpenMMLab layouts (``configs/<model>/x.yaml`` naming ``../_base_/...``) pass the
            ``configs`` folder.
        allow_python: run ``.py`` bases named by a data (non-``.py``) top-level file. Off by
            default: a YAML/JSON/TOML/XYZ file never makes ato run code on its own.

    Returns:
        A plain nested ``dict`` without ``_base_``/``_delete_`` keys.

    Raises:
        ConfigFileNotFoundError: ``path`` itself does not exist.
        CompositionError: a base file is missing (the message shows the chain, e.g.
            ``a.py -> b.py -> missing.py``), ``_base_`` is not a string or list of strings,
            the chain has a cycle, a base lies outside the root, or a ``.py`` base is named
            by a data file without ``allow_python``.
        ConfigFileError: a file could not be parsed or a ``.py`` file raised.
    """
    file = Path(os.path.abspath(path))
    trusted = file.suffix.lower() == ".py"
    top: Path | None = None if trusted else file.parent
    if root is not None:
        top = Path(os.path.abspath(root))
    result: dict[str, Any] = _strip_delete(_Chain(top, allow_python or trusted).load(file, ()))
    return result


class _Chain:
    """One composition: its rules, and each file's merged content (read once)."""

    def __init__(self, root: Path | None, allow_python: bool) -> None:
        self.root = root
        self.allow_python = allow_python
        self.loaded: dict[str, dict[str, Any]] = {}

    def load(self, file: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
        identity = os.path.realpath(file)
        if identity in (os.path.realpath(f) for f in chain):
            raise CompositionError(f"_base_ cycle: {_chain_text((*chain, file))}")
        if identity not in self.loaded:
            self.loaded[identity] = self._merge(file, chain)
        return self.loaded[identity]

    def _merge(self, file: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
        data = _read(file)
        merged: dict[str, Any] = {}
        for base in _base_list(data.pop(BASE_KEY, []), file):
            base_file = self._base_file(file, base, chain)
            merged = merge_with_delete(merged, self.load(base_file, (*chain, file)))
        return merge_with_delete(merged, data)

    def _base_file(self, file: Path, base: str, chain: tuple[Path, ...]) -> Path:
        base_file = Path(os.path.normpath(os.path.join(file.parent, base)))
        shown = _chain_text((*chain, file, base_file))
        if self.root is not None and not _inside(base_file, self.root):
            raise CompositionError(
                f"_base_ {base!r} leaves the config root {str(self.root)!r}: {shown}; "
                "pass root= a folder that holds every base to allow it"
            )
        if base_file.suffix.lower() == ".py" and not self.allow_python:
            raise CompositionError(
                f"_base_ {base!r} is Python code, which a data file may not run: {shown}; "
                "pass allow_python=True if you trust it"
            )
        if not base_file.is_file():
            raise CompositionError(
                f"_base_ file not found: {shown} "
                f"({base!r} is resolved relative to {str(file.parent)!r})"
            )
        return base_file


def _inside(path: Path, root: Path) -> bool:
    return os.path.commonpath([str(path), str(root)]) == str(root)


def _read(file: Path) -> dict[str, Any]:
    if file.suffix.lower() != ".py" or not file.is_file():
        return load_file(file)  # also raises the standard errors for a missing .py file
    data = {k: v for k, v in run_python_file(file).items() if not _is_code(v)}
    check_tree(data, file)
    return data


def _is_code(value: Any) -> bool:
    return isinstance(value, ModuleType) or inspect.isroutine(value) or inspect.isclass(value)


def _base_list(value: Any, file: Path) -> list[str]:
    if isinstance(value, (str, os.PathLike)):
        return [os.fspath(value)]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise CompositionError(
        f"{file}: _base_ must be a path or a list of paths, not {type(value).__name__}"
    )


def _chain_text(files: tuple[Path, ...]) -> str:
    return " -> ".join(str(f) for f in files)


def merge_with_delete(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``update`` into a copy of ``base``; a dict in ``update`` with
    ``_delete_=True`` replaces the value in ``base`` instead of merging."""
    return deep_merge(base, update, replaces=_asks_delete)


def _asks_delete(value: Mapping[str, Any]) -> bool:
    return bool(mapping_get(value, DELETE_KEY))


def _strip_delete(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_delete(v) for k, v in mapping_items(value) if k != DELETE_KEY}
    if isinstance(value, (list, tuple)):
        return type(value)(_strip_delete(v) for v in value)
    return value
