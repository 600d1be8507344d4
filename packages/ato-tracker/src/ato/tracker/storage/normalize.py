"""Turn any supported config object into plain JSON data and a structural hash.

Supported configs: ``ato.adict.ADict``, any ``Mapping`` (plain ``dict``), an OmegaConf
``DictConfig``/``ListConfig`` (interpolations resolved; one that cannot be resolved here, such
as ``${hydra:runtime.output_dir}`` outside a running Hydra job, or a missing ``???`` value, is
stored as its text - storing a config never fails a run; omegaconf is imported only when such
an object is seen), dataclass, attrs and pydantic instances - all converted by
``ato.adict.interop.to_plain``. Equal content gives equal JSON and an equal hash whatever the
container type.

Values JSON cannot hold are converted as follows (never raising):

==========================================  =============================================
value                                       stored as
==========================================  =============================================
``tuple``, ``list``                         JSON array
``set``, ``frozenset``                      JSON array, sorted (by ``repr`` if unorderable)
mapping keys that are not ``str``           ``str(key)`` (two keys that give the same string,
                                            ``1`` and ``"1"``, raise ConfigKeyCollisionError)
``float`` NaN / +inf / -inf                 the strings ``"nan"``, ``"inf"``, ``"-inf"``
``enum.Enum`` member                        its normalized ``.value``
``pathlib.PurePath``                        ``str(path)``
``datetime``, ``date``, ``time``            ISO 8601 string (``.isoformat()``)
``bytes``, ``bytearray``                    hexadecimal string
``decimal.Decimal``, ``complex``, other     ``str(value)``
numpy/torch scalars (have ``.item()``)      the Python scalar from ``.item()``
arrays/tensors (have ``.tolist()``)         nested JSON arrays from ``.tolist()``
classes and functions                       ``"module.QualifiedName"``
any other object                            ``repr(value)`` (``"<module.Class object>"``
                                            if ``repr`` raises)
a container that contains itself            the string ``"<cycle>"`` at the repeat
==========================================  =============================================
"""

from __future__ import annotations

import datetime as _dt
import enum
import math
import pathlib
from collections.abc import Mapping
from typing import Any

from ato.adict import ADict, interop

from ..errors import ConfigKeyCollisionError

_JSON_SCALARS = frozenset({str, bool, int, type(None)})


def normalize_config(config: Any) -> dict[str, Any]:
    """Return ``config`` as a plain ``dict`` of JSON-compatible values (see module docstring).

    Args:
        config: an ADict, mapping, OmegaConf ``DictConfig``, dataclass instance or ``None``
            (gives ``{}``). Any other object is wrapped as ``{"value": <normalized object>}``.
    """
    if config is None:
        return {}
    data = to_json_value(config)
    return data if isinstance(data, dict) else {"value": data}


def structural_hash(normalized: Mapping[str, Any]) -> str:
    """ato.adict's structural hash (SHA-256 of sorted ``path: type`` lines) of a normalized config."""
    return ADict.get_structural_hash(ADict(normalized))  # a key may be named like the method


def to_json_value(value: Any, _active: frozenset[int] = frozenset()) -> Any:
    """Convert one value to JSON-compatible data (rules in the module docstring)."""
    cls = type(value)
    if cls in _JSON_SCALARS:
        return value
    if cls is float:
        return value if math.isfinite(value) else _non_finite(value)
    if isinstance(value, enum.Enum):
        return to_json_value(value.value, _active)
    if isinstance(value, (str, int, float)):  # subclasses such as numpy.float64
        base = str if isinstance(value, str) else float if isinstance(value, float) else int
        return to_json_value(base(value), _active)
    if id(value) in _active:
        return "<cycle>"
    inner = _active | {id(value)}
    if interop.is_omegaconf(value) or (not isinstance(value, Mapping) and interop.is_config(value)):
        # OmegaConf (resolved leniently), dataclass, attrs, pydantic: ato.adict.interop
        return to_json_value(interop.to_plain(value, on_cycle="<cycle>"), inner)
    if isinstance(value, Mapping):
        # dict.items: an ADict key such as "items" shadows the method of the same name
        items = dict.items(value) if isinstance(value, dict) else value.items()
        return _json_object(items, inner)
    if isinstance(value, (list, tuple)):
        return [to_json_value(v, inner) for v in value]
    if isinstance(value, (set, frozenset)):
        return _sorted_items([to_json_value(v, inner) for v in value])
    return _convert_leaf(value, inner)


def _convert_leaf(value: Any, active: frozenset[int]) -> Any:
    if isinstance(value, pathlib.PurePath):
        return str(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        return f"{getattr(value, '__module__', '?')}.{value.__qualname__}"
    array_like = _array_value(value)
    if array_like is not _NOT_ARRAY:
        return to_json_value(array_like, active)
    if isinstance(value, complex) or type(value).__module__ == "decimal":
        return str(value)
    return _safe_repr(value)


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:  # a broken __repr__ must not fail the run
        return f"<{type(value).__module__}.{type(value).__qualname__} object>"


_NOT_ARRAY: Any = object()


def _array_value(value: Any) -> Any:
    """Python data from a numpy/torch scalar or array, or ``_NOT_ARRAY``."""
    for method in ("tolist", "item"):
        convert = getattr(value, method, None)
        if callable(convert):
            try:
                return convert()
            except Exception:  # noqa: S112 - an unrelated object with such a method: use repr
                continue
    return _NOT_ARRAY


def _json_object(items: Any, active: frozenset[int]) -> dict[str, Any]:
    """A JSON object of ``items``; keys that collide once made strings raise (never dropped)."""
    out: dict[str, Any] = {}
    origin: dict[str, Any] = {}
    for key, value in items:
        name = _key(key)
        if name in out:
            raise ConfigKeyCollisionError(
                f"config keys {origin[name]!r} and {key!r} both become the JSON key {name!r}, "
                "so one value would be lost; rename one of them"
            )
        out[name] = to_json_value(value, active)
        origin[name] = key
    return out


def _key(key: Any) -> str:
    return key if isinstance(key, str) else str(to_json_value(key))


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def _sorted_items(items: list[Any]) -> list[Any]:
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=repr)
