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
from .merge import deep_merge

BASE_KEY = "_base_"
DELETE_KEY = "_delete_"


def load_mm_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load an OpenMMLab config with its ``_base_`` chain resolved.

    Args:
        path: the config file (``.py``, ``.json``, ``.yaml``/``.yml``, ``.toml``, ``.xyz``).

    Returns:
        A plain nested ``dict`` without ``_base_``/``_delete_`` keys.

    Raises:
        ConfigFileNotFoundError: ``path`` itself does not exist.
        CompositionError: a base file is missing (the message shows the chain, e.g.
            ``a.py -> b.py -> missing.py``), ``_base_`` is not a string or list of strings,
            or the chain has a cycle.
        ConfigFileError: a file could not be parsed or a ``.py`` file raised.
    """
    file = Path(path)
    config: dict[str, Any] = _strip_delete(_load(file.resolve() if file.exists() else file, ()))
    return config


def _load(file: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    if file in chain:
        raise CompositionError(f"_base_ cycle: {_chain_text((*chain, file))}")
    data = _read(file)
    bases = _base_list(data.pop(BASE_KEY, []), file)
    merged: dict[str, Any] = {}
    for base in bases:
        base_file = (file.parent / base).resolve()
        if not base_file.is_file():
            raise CompositionError(
                f"_base_ file not found: {_chain_text((*chain, file, base_file))} "
                f"({base!r} is resolved relative to {str(file.parent)!r})"
            )
        merged = merge_with_delete(merged, _load(base_file, (*chain, file)))
    return merge_with_delete(merged, data)


def _read(file: Path) -> dict[str, Any]:
    if file.suffix.lower() != ".py" or not file.is_file():
        return load_file(file)  # also raises the standard errors for a missing .py file
    return {k: v for k, v in run_python_file(file).items() if not _is_code(v)}


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
