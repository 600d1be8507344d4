"""Hydra-style composition of a config from a directory of config groups.

Layout (any supported extension, see `ato.adict.files`)::

    configs/
      config.yaml          # the base config (``config_filename``)
      model/               # a config group
        resnet50.yaml      # an option of the group
        vit.toml
      data/
        imagenet.json

``compose_hierarchy('configs', select={'model': 'resnet50'})`` loads ``config.yaml``, then
deep-merges ``model/resnet50.yaml`` under the key ``model`` (Hydra's default package is the
group name). A group may be nested (``'model/backbone'`` -> key path ``model.backbone``).
Unlike Hydra, options are chosen only through ``select``; a ``defaults`` list inside the base
file is ordinary data.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from ._mapping import mapping_items
from .errors import CompositionError, CompositionWarning, ConfigKeyError
from .files import READ_EXTENSIONS, load_file
from .merge import deep_merge
from .paths import get_path, set_path

OnMissing = Literal["error", "warn", "ignore"]


def compose_hierarchy(
    root: str | os.PathLike[str],
    config_filename: str | None = "config",
    select: Mapping[str, str | Iterable[str]] | None = None,
    overrides: Mapping[str, Any] | None = None,
    on_missing: OnMissing = "error",
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """Compose a config from ``root``: base file, selected group options, then overrides.

    Args:
        root: the config directory.
        config_filename: stem of the base config (``root/<stem>.<ext>``); ``None`` for no base.
        select: ``{group: option}`` or ``{group: [option, ...]}``; several options of one group
            are deep-merged in the given order. A group is a sub-directory of ``root``
            (``'a/b'`` for nested ones) and its content goes under the dotted key ``a.b``.
        overrides: ``{'dotted.key': value}`` set after everything else is merged.
        on_missing: what a missing base file or group option does: ``'error'`` raises
            [`CompositionError`][ato.adict.CompositionError], ``'warn'`` issues a [`CompositionWarning`][ato.adict.CompositionWarning] and
            skips it, ``'ignore'`` skips it silently.
        required: dotted keys that must exist in the result.

    Returns:
        The composed config as a plain nested ``dict``.

    Raises:
        CompositionError: a missing file (naming the group and the options that exist), two
            files with the same stem and different extensions, or missing ``required`` keys.
        ConfigFileError: a file could not be parsed.
        ValueError: ``on_missing`` is not one of the three values.
    """
    if on_missing not in ("error", "warn", "ignore"):
        raise ValueError(f"on_missing must be 'error', 'warn' or 'ignore', not {on_missing!r}")
    base = Path(root)
    if not base.is_dir():
        raise CompositionError(f"config root {str(base)!r} is not a directory")
    result: dict[str, Any] = {}
    if config_filename is not None:
        file = _find(base, config_filename)
        if file is None:
            _missing(f"no base config {config_filename}.<ext> in {str(base)!r}", on_missing)
        else:
            result = load_file(file)
    for group, options in mapping_items(select or {}):
        for option in [options] if isinstance(options, str) else list(options):
            content = _load_option(base, group, option, on_missing)
            if content is not None:
                _merge_group(result, group, content)
    for dotted, value in mapping_items(overrides or {}):
        set_path(result, dotted, value)
    _check_required(result, required)
    return result


def _load_option(base: Path, group: str, option: str, on_missing: str) -> dict[str, Any] | None:
    folder = base / group
    file = _find(folder, option) if folder.is_dir() else None
    if file is not None:
        return load_file(file)
    if folder.is_dir():
        existing = available_options(folder)
        choices = ", ".join(existing) if existing else "none"
        message = f"group {group!r} has no option {option!r}; options that exist: {choices}"
    else:
        groups = ", ".join(sorted(p.name for p in base.iterdir() if p.is_dir())) or "none"
        message = f"group {group!r} has no directory in {str(base)!r}; groups that exist: {groups}"
    _missing(message, on_missing)
    return None


def _merge_group(result: dict[str, Any], group: str, content: dict[str, Any]) -> None:
    dotted = group.strip("/").replace("/", ".")
    current = get_path(result, dotted, None)
    set_path(result, dotted, deep_merge(current, content) if isinstance(current, dict) else content)


def available_options(folder: Path) -> list[str]:
    """Sorted stems of the loadable config files directly inside ``folder``."""
    return sorted({p.stem for p in folder.iterdir() if p.suffix.lower() in READ_EXTENSIONS})


def _find(folder: Path, stem: str) -> Path | None:
    found = [
        folder / f"{stem}{ext}" for ext in READ_EXTENSIONS if (folder / f"{stem}{ext}").is_file()
    ]
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise CompositionError(f"ambiguous config {stem!r} in {str(folder)!r}: {names}; keep one")
    return found[0] if found else None


def _missing(message: str, on_missing: str) -> None:
    if on_missing == "error":
        raise CompositionError(message)
    if on_missing == "warn":
        warnings.warn(message, CompositionWarning, stacklevel=4)


def _check_required(result: dict[str, Any], required: Iterable[str]) -> None:
    missing = []
    for dotted in required:
        try:
            get_path(result, dotted)
        except ConfigKeyError:
            missing.append(dotted)
    if missing:
        raise CompositionError(
            f"required keys missing from the composed config: {', '.join(missing)}"
        )
