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

Packages (where an option's content goes), as in Hydra:

* ``_group_`` (the default): under the group's key path (``model``).
* ``_global_``: at the top level of the config. Files written for ato 2.x, which carry their own
  top-level key (``model/resnet50.yaml`` starting with ``model:``), compose with
  ``package='_global_'``.
* a dotted path (``backbone.encoder``, also written ``_global_.backbone.encoder``), where the
  segment ``_group_`` stands for the group's key path (``_group_.encoder``).

An option file chooses its package with a ``# @package <package>`` comment among the comment
lines at its top (YAML, TOML, XYZ and ``.py`` files; JSON has no comments). The ``package``
argument of ``compose_hierarchy`` (one package for every group, or ``{group: package}``)
wins over the file's header.

Every file stays inside ``root``: ``config_filename``, group names and options are relative
paths of plain segments (no ``..``, ``.``, empty segments, backslashes or absolute paths);
anything else is a ``CompositionError`` naming it. To compose from
another folder, pass that folder (or one above it) as ``root``.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from ._mapping import mapping_get, mapping_items
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
    package: str | Mapping[str, str] | None = None,
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
        package: where selected options go (see the module docstring): one package for
            every group (``'_global_'`` for ato 2.x layouts), or ``{group: package}``. Wins
            over a ``# @package`` header in the file; groups without one use the header, else
            ``'_group_'``.

    Returns:
        The composed config as a plain nested ``dict``.

    Raises:
        CompositionError: a missing file (naming the group and the options that exist), two
            files with the same stem and different extensions, missing ``required`` keys, or
            an invalid package (naming the file and line, or the argument), or a file name,
            group or option that would leave ``root`` (see the module docstring).
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
        _check_inside("config_filename", config_filename)
        file = _find(base, config_filename)
        if file is None:
            _missing(f"no base config {config_filename}.<ext> in {str(base)!r}", on_missing)
        else:
            result = load_file(file)
    for group, options in mapping_items(select or {}):
        _check_inside("group", group.rstrip("/"))
        chosen = _package_argument(package, group)
        for option in [options] if isinstance(options, str) else list(options):
            _check_inside(f"option of group {group!r}", option)
            loaded = _load_option(base, group, option, on_missing)
            if loaded is not None:
                file, content = loaded
                header = None if chosen is not None else header_package(file)
                target = chosen if chosen is not None else header or "_group_"
                dotted = package_path(target, group, file if header is not None else None)
                _merge_group(result, dotted, content)
    for dotted, value in mapping_items(overrides or {}):
        set_path(result, dotted, value)
    _check_required(result, required)
    return result


def _load_option(
    base: Path, group: str, option: str, on_missing: str
) -> tuple[Path, dict[str, Any]] | None:
    folder = base / group
    file = _find(folder, option) if folder.is_dir() else None
    if file is not None:
        return file, load_file(file)
    if folder.is_dir():
        existing = available_options(folder)
        choices = ", ".join(existing) if existing else "none"
        message = f"group {group!r} has no option {option!r}; options that exist: {choices}"
    else:
        groups = ", ".join(sorted(p.name for p in base.iterdir() if p.is_dir())) or "none"
        message = f"group {group!r} has no directory in {str(base)!r}; groups that exist: {groups}"
    _missing(message, on_missing)
    return None


def _merge_group(result: dict[str, Any], dotted: str, content: dict[str, Any]) -> None:
    """Deep-merge ``content`` at the key path ``dotted`` (``''``: the top level)."""
    if not dotted:
        result.update(deep_merge(result, content))
        return
    current = get_path(result, dotted, None)
    set_path(result, dotted, deep_merge(current, content) if isinstance(current, dict) else content)


_HEADER = re.compile(r"#\s*@package\s+(\S+)\s*$")


def header_package(file: Path) -> str | None:
    """The package of a ``# @package <package>`` line among the leading comment lines of
    ``file`` (blank lines allowed), or ``None``."""
    if file.suffix.lower() == ".json":
        return None
    with open(file, encoding="utf-8-sig", errors="replace") as handle:
        for line in handle:
            text = line.strip()
            if text and not text.startswith("#"):
                return None
            found = _HEADER.match(text)
            if found:
                return found.group(1)
    return None


def _package_argument(package: str | Mapping[str, str] | None, group: str) -> str | None:
    if package is None or isinstance(package, str):
        return package
    if not isinstance(package, Mapping):
        raise CompositionError(
            f"package= takes a package name or a {{group: package}} mapping, not "
            f"{type(package).__name__}"
        )
    chosen = mapping_get(package, group)
    if chosen is not None and not isinstance(chosen, str):
        raise CompositionError(f"package= for group {group!r} must be a str, not {chosen!r}")
    return chosen


def package_path(package: str, group: str, file: Path | None = None) -> str:
    """The dotted key path for ``package`` of an option of ``group`` (``''`` for global).

    Raises:
        CompositionError: ``package`` is not ``_global_``, ``_group_`` or a dotted path of
            identifiers (``_group_`` allowed as a segment); names ``file`` when given.
    """
    group_path = group.strip("/").replace("/", ".")
    if package == "_global_":
        return ""
    package = package.removeprefix("_global_.")
    parts = package.split(".")
    if not all(p == "_group_" or p.isidentifier() for p in parts):
        where = f" in {str(file)!r}" if file is not None else " (package= argument)"
        raise CompositionError(
            f"invalid package {package!r}{where}: use _global_, _group_ or a dotted key "
            "path such as model.encoder (as in Hydra's '# @package' header)"
        )
    return ".".join(group_path if p == "_group_" else p for p in parts)


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


def _check_inside(what: str, name: object) -> None:
    """Refuse a name that is not a plain relative path inside the config root."""
    text = name if isinstance(name, str) else ""
    parts = text.split("/")
    if not text or "\\" in text or any(p in ("", ".", "..") for p in parts):
        raise CompositionError(
            f"{what} {name!r} must be a relative path inside the config root made of plain "
            "names separated by '/' (no '..', '.', empty parts, '\\' or leading '/'); "
            "to use files elsewhere, pass a root that contains them"
        )


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
