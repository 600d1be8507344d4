"""Config objects of other libraries as plain data: the one converter every ato package uses.

Recognised (without importing any of these libraries; they are detected by module name and
by the attributes their objects carry):

==========================================  =============================================
object                                      becomes
==========================================  =============================================
`ADict`, ``dict``, any ``Mapping``          ``dict`` (keys kept as they are)
OmegaConf ``DictConfig`` / ``ListConfig``   ``dict`` / ``list``, interpolations resolved
                                            *leniently*: a value whose interpolation
                                            cannot be resolved is kept as its text
                                            (``"${missing.key}"``); ``???`` stays ``"???"``
dataclass instance                          ``dict`` of its fields
attrs instance (``__attrs_attrs__``)        ``dict`` of its attributes
pydantic model (v2 ``model_dump``,          ``dict`` of its fields (``model_dump()`` /
v1 ``dict``)                                ``dict()``)
``list`` / ``tuple``                        ``list`` / ``tuple`` of converted items
anything else                               itself (no copy)
==========================================  =============================================

Containers are new objects; leaves are shared with the input. A container that contains
itself cannot be plain data: `to_plain` raises ``ValueError`` naming the path, or puts
``on_cycle`` there when given.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_RAISE: Any = object()


def is_omegaconf(obj: object) -> bool:
    """True for an OmegaConf container (``DictConfig``/``ListConfig``); omegaconf is never
    imported (the check reads the type's module name)."""
    cls = type(obj)
    return cls.__module__.startswith("omegaconf") and cls.__name__ in ("DictConfig", "ListConfig")


def is_dataclass_instance(obj: object) -> bool:
    """True for an instance (not the class) of a dataclass."""
    return hasattr(type(obj), "__dataclass_fields__") and not isinstance(obj, type)


def is_attrs_instance(obj: object) -> bool:
    """True for an instance of an attrs class (``@attrs.define``, ``@attr.s``)."""
    return hasattr(type(obj), "__attrs_attrs__") and not isinstance(obj, type)


def is_pydantic_model(obj: object) -> bool:
    """True for an instance of a pydantic ``BaseModel`` (v2, or v1's API)."""
    cls = type(obj)
    if isinstance(obj, type) or not any(c.__module__.startswith("pydantic") for c in cls.__mro__):
        return False
    return callable(getattr(obj, "model_dump", None)) or callable(getattr(obj, "dict", None))


def is_config(obj: object) -> bool:
    """True for any object `to_plain` turns into a ``dict``: a mapping, an OmegaConf
    container, a dataclass, attrs or pydantic instance."""
    from collections.abc import Mapping

    return (
        isinstance(obj, Mapping)
        or is_omegaconf(obj)
        or is_dataclass_instance(obj)
        or is_attrs_instance(obj)
        or is_pydantic_model(obj)
    )


def to_plain(obj: Any, *, on_cycle: Any = _RAISE) -> Any:
    """``obj`` with every config object in it turned into plain ``dict``/``list`` data (table
    in the module docstring).

    Args:
        obj: a config object, or any value (returned as is when nothing in it is converted).
        on_cycle: the value put where a container repeats inside itself; by default that
            raises.

    Raises:
        ValueError: a container contains itself (the message names the dotted path), unless
            ``on_cycle`` is given.
    """
    return _plain(obj, (), frozenset(), on_cycle)


def _plain(obj: Any, path: tuple[Any, ...], active: frozenset[int], on_cycle: Any) -> Any:
    from collections.abc import Mapping

    if obj.__class__ in _LEAVES:
        return obj
    convert = _converter(obj)
    if convert is None and not isinstance(obj, (Mapping, list, tuple)):
        return obj
    if id(obj) in active:
        if on_cycle is _RAISE:
            where = ".".join(map(str, path)) or "the top level"
            raise ValueError(f"config contains itself at {where}; it cannot become plain data")
        return on_cycle
    inner = active | {id(obj)}
    if convert is not None:
        return _plain(convert(obj), path, inner, on_cycle)
    if isinstance(obj, Mapping):
        from ._mapping import mapping_items

        return {k: _plain(v, (*path, k), inner, on_cycle) for k, v in mapping_items(obj)}
    items = [_plain(v, (*path, i), inner, on_cycle) for i, v in enumerate(obj)]
    return items if isinstance(obj, list) else tuple(items)


_LEAVES = frozenset({str, int, float, bool, type(None), bytes, complex})


def _converter(obj: Any) -> Any:
    """The function giving ``obj``'s content as a mapping or list, or None for containers
    handled directly (mappings, lists, tuples) and leaves."""
    if is_omegaconf(obj):
        return _omegaconf_content
    if is_dataclass_instance(obj):
        return _fields_of
    if is_attrs_instance(obj):
        return _attrs_of
    if is_pydantic_model(obj):
        dump = getattr(obj, "model_dump", None)
        return (lambda o: o.model_dump()) if callable(dump) else (lambda o: o.dict())
    return None


def _fields_of(obj: Any) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _attrs_of(obj: Any) -> dict[str, Any]:
    return {a.name: getattr(obj, a.name) for a in type(obj).__attrs_attrs__}


def _omegaconf_content(node: Any) -> Any:
    """One level of an OmegaConf container: resolved values, or the raw text of a value whose
    interpolation does not resolve. Child containers stay OmegaConf objects (converted next)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:  # the common case, in one call: everything resolves
        return OmegaConf.to_container(node, resolve=True)
    except OmegaConfBaseException:  # something does not resolve: key by key below
        raw: Any = OmegaConf.to_container(node, resolve=False)
    if isinstance(raw, list):
        return [_resolved(node, i, raw[i]) for i in range(len(raw))]
    return {key: _resolved(node, key, value) for key, value in raw.items()}


def _resolved(node: Any, key: Any, raw: Any) -> Any:
    if node._get_node(key)._is_missing():
        return raw
    try:
        return node[key]
    except Exception:  # an interpolation that does not resolve: keep its text
        return raw
