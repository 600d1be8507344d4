"""Config objects a search can work on: copy one with sampled values applied at dotted paths.

Supported: [`ADict`][ato.adict.ADict], any ``dict``/mapping, OmegaConf ``DictConfig``
(omegaconf is imported only when such a config is given) and dataclass instances
(nested dataclasses and dicts inside them included). A copy never shares mutable state
with the base config, and it keeps the base's type (a frozen ADict stays frozen).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, MutableMapping
from typing import Any

from ato.adict import ADict, interop

from .errors import ConfigPathError, ConfigTypeError, NewKeyWarning
from .keys import NUM_HALVED


def is_omegaconf(obj: Any) -> bool:
    """True for an OmegaConf ``DictConfig`` (`ato.adict.interop.is_omegaconf`, without
    importing omegaconf); a ``ListConfig`` cannot be a search's config."""
    return interop.is_omegaconf(obj) and type(obj).__name__ == "DictConfig"


def is_config(obj: Any) -> bool:
    """True for a config object this module can copy and update."""
    return isinstance(obj, Mapping) or is_omegaconf(obj) or _is_dataclass_instance(obj)


def check_config(obj: Any) -> None:
    """Raise [`ConfigTypeError`][ato.hyperopt.ConfigTypeError] if ``obj`` cannot carry trial values.

    Raises:
        ConfigTypeError: for an unsupported type, or a dataclass with ``__slots__``
            (it cannot carry ``__num_halved__``).
    """
    if _is_dataclass_instance(obj):
        if not hasattr(obj, "__dict__"):
            raise ConfigTypeError(
                f"dataclass {type(obj).__name__} uses __slots__, so a trial copy cannot carry "
                f"'{NUM_HALVED}'; declare it without slots=True"
            )
        return
    if not is_config(obj):
        raise ConfigTypeError(
            f"expected a Scope or a config (ADict, dict, OmegaConf DictConfig or dataclass "
            f"instance), got {type(obj).__name__}"
        )


def with_values(
    base: Any,
    values: Mapping[str, Any],
    num_halved: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Any:
    """Return a copy of ``base`` with each ``{dotted path: value}`` applied.

    Args:
        base: the config to copy (not modified).
        values: dotted path -> value; missing intermediate mappings are created.
        num_halved: if given, stored as ``__num_halved__`` at the top level of the copy.
        extra: more top-level keys to store (``__budget__``, ``__trial_id__``).

    Raises:
        ConfigPathError: a path runs through a value that is neither a mapping nor a
            dataclass, or names a field a dataclass does not have.
    """
    top = _top_keys(num_halved, extra)
    if isinstance(base, ADict):
        return _adict_with(base, values, top)
    if is_omegaconf(base):
        return _omegaconf_with(base, values, top)
    if isinstance(base, Mapping):
        new: Any = copy.deepcopy(base)
        for path, value in values.items():
            _set_in_mapping(new, path.split("."), copy.deepcopy(value), path)
        new.update(top)
        return new
    new = copy.deepcopy(base)
    for path, value in values.items():
        new = _replace_path(new, path.split("."), copy.deepcopy(value), path)
    for key, value in top.items():
        object.__setattr__(new, key, value)
    return new


def _top_keys(num_halved: int | None, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    top = {} if num_halved is None else {NUM_HALVED: num_halved}
    top.update(extra or {})
    return top


def to_adict(config: Any) -> ADict:
    """A detached ADict copy of any supported config, converted by
    `ato.adict.interop.to_plain` (OmegaConf interpolations resolved where they resolve,
    dataclasses field by field); the ``__x__`` run keys a trial copy of a dataclass carries
    (``__num_halved__``) are kept."""
    if isinstance(config, ADict):
        return ADict.defrost(ADict.clone(config))
    out = ADict(copy.deepcopy(interop.to_plain(config)))
    if _is_dataclass_instance(config):
        for key, value in vars(config).items():
            if key.startswith("__") and key.endswith("__"):
                out[key] = value
    return out


def set_path(config: Any, path: str, value: Any) -> None:
    """Set a dotted ``path`` inside a mutable mapping config, in place (creating parents).

    Raises:
        ConfigPathError: a path segment holds something that is not a mapping.
    """
    _set_in_mapping(config, path.split("."), value, path)


_is_dataclass_instance = interop.is_dataclass_instance


def _adict_with(base: ADict, values: Mapping[str, Any], top: dict[str, Any]) -> ADict:
    new = ADict.clone(base)  # through the class: a config key may be named 'frozen' or 'clone'
    frozen = ADict.frozen(new)
    if frozen:
        ADict.defrost(new)
    for path, value in values.items():
        _set_in_mapping(new, path.split("."), copy.deepcopy(value), path)
    for key, value in top.items():
        new[key] = value
    return ADict.freeze(new) if frozen else new


def _set_in_mapping(node: Any, parts: list[str], value: Any, path: str) -> None:
    for i, part in enumerate(parts[:-1]):
        child = dict.get(node, part) if isinstance(node, dict) else node.get(part)
        if child is None:
            node[part] = {}
            child = node[part]
        if _is_dataclass_instance(child):
            node[part] = _replace_path(child, parts[i + 1 :], value, path)
            return
        if not isinstance(child, MutableMapping):
            raise ConfigPathError(
                f"search key {path!r}: {part!r} holds a {type(child).__name__}, not a mapping; "
                f"a dotted key can only go through nested configs"
            )
        node = child
    node[parts[-1]] = value


def _replace_path(obj: Any, parts: list[str], value: Any, path: str) -> Any:
    head, rest = parts[0], parts[1:]
    if isinstance(obj, Mapping):
        new: Any = copy.copy(obj)
        new[head] = _replace_path(new[head], rest, value, path) if rest else value
        return new
    if not _is_dataclass_instance(obj):
        raise ConfigPathError(
            f"search key {path!r}: {head!r} is looked up in a {type(obj).__name__}, "
            f"which is neither a mapping nor a dataclass"
        )
    names = [f.name for f in dataclasses.fields(obj)]
    if head not in names:
        raise ConfigPathError(
            f"search key {path!r}: dataclass {type(obj).__name__} has no field {head!r} "
            f"(fields: {', '.join(names)})"
        )
    new_value = _replace_path(getattr(obj, head), rest, value, path) if rest else value
    return dataclasses.replace(obj, **{head: new_value})


def _omegaconf_with(base: Any, values: Mapping[str, Any], top: dict[str, Any]) -> Any:
    from omegaconf import OmegaConf, open_dict

    new = copy.deepcopy(base)
    with open_dict(new):
        for path, value in values.items():
            OmegaConf.update(new, path, copy.deepcopy(value), merge=False, force_add=True)
        for key, value in top.items():
            new[key] = value
    return new


def warn_new_keys(config: Any, paths: list[str]) -> None:
    """Warn ([`NewKeyWarning`][ato.hyperopt.NewKeyWarning]) for each dotted path that ``config`` lacks while a close
    existing key is there (``lrr`` next to ``lr``): a likely typo that would otherwise add a
    new key to every trial and leave the intended one untouched. A path with no close match
    is taken as a deliberate new key. Paths through dataclasses are checked when values are
    set ([`ConfigPathError`][ato.hyperopt.ConfigPathError])."""
    from ato.adict.suggest import did_you_mean

    from .checks import warn_user

    for path in paths:
        node = config
        for depth, part in enumerate(path.split(".")):
            if not isinstance(node, Mapping):
                break
            if part not in node:
                keys = [str(k) for k in node if not str(k).startswith("__")]
                hint = did_you_mean(part, keys, n=1)
                if hint:
                    where = ".".join(path.split(".")[:depth]) or "the top level"
                    warn_user(
                        f"search space key {path!r}: {part!r} is not in {where} of the config, "
                        f"so every trial gets it as a new key.{hint}",
                        NewKeyWarning,
                    )
                break
            node = node[part]
