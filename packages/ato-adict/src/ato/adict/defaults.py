"""ADicts with a default factory: ato 2.x's ``ADict(default=factory)``.

Reading a missing key of such an ADict (``cfg.key`` or ``cfg['key']``) calls ``factory()``,
stores the result under the key and returns it, like ``collections.defaultdict``; mappings
it returns become ADicts. ``ADict(default=lambda: ADict.auto())`` nests without limit, as
``ADict.auto()`` does. A frozen ADict never creates keys: a missing key raises. The factory
is kept by copies (``copy``, ``clone``, ``deepcopy``); such ADicts cannot be pickled (a
factory is usually a lambda). ``__x__`` names are never created (they are Python protocol
probes).

The factory lives on a subclass of the ADict's class made for it (an ADict stores no
attributes besides its keys); one subclass per factory object and class.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from .errors import ConfigKeyError, suggest_keys

_CLASSES: weakref.WeakKeyDictionary[Callable[[], Any], dict[type, type]] = (
    weakref.WeakKeyDictionary()
)


class DefaultMixin:
    """Creates missing keys with the class's ``_ato_default`` factory; it comes before
    ``ADict`` in the class's bases, whose methods answer what it does not."""

    __slots__ = ()
    _ato_default: Callable[[], Any]

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__" and name[-2:] == "__":
            return super().__getattr__(name)  # type: ignore[misc]  # ADict's: raises
        return _created(self, name)

    def __missing__(self, key: Any) -> Any:
        if key.__class__ is tuple:
            return [self[k] for k in key]  # type: ignore[index]  # mixed into ADict only
        return _created(self, key)

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError(
            "an ADict with a default factory (ADict(default=...)) cannot be pickled; pickle "
            "ADict(cfg) or cfg.to_dict() instead"
        )


def _created(adict: Any, key: Any) -> Any:
    if type(adict).frozen(adict):  # through the class: a key may be named "frozen"
        raise ConfigKeyError(
            f"key {key!r} is not in this frozen ADict, which creates no keys; "
            f"defrost() it first.{suggest_keys(key, adict)}"
        )
    adict[key] = type(adict)._ato_default()
    return dict.__getitem__(adict, key)


def with_default(cls: type[Any], factory: Callable[[], Any]) -> type[Any]:
    """The subclass of ``cls`` (an ADict class) whose instances create missing keys with
    ``factory``.

    Raises:
        TypeError: ``factory`` is not callable.
    """
    if not callable(factory):
        raise TypeError(f"an ADict default factory must be callable, not {factory!r}")
    try:
        per_class = _CLASSES.setdefault(factory, {})
    except TypeError:  # a callable that takes no weak reference: not cached
        per_class = {}
    made = per_class.get(cls)
    if made is None:
        namespace = {"__slots__": (), "_ato_default": staticmethod(factory)}
        namespace["__module__"] = cls.__module__
        made = type(cls.__name__, (DefaultMixin, cls), namespace)
        made.__qualname__ = cls.__qualname__
        made._ato_base = made  # type: ignore[attr-defined]  # copies and freezing keep it
        per_class[cls] = made
    return made
