"""The ADict class: a dict with attribute access, nested conversion and config helpers.

Design notes (why it is fast): an ADict is a ``dict`` subclass whose instance ``__dict__``
*is the mapping itself*. Attribute reads (``cfg.model.lr``) therefore take CPython's native
instance-attribute path, with no Python-level ``__getattr__`` call. Writes go through a small
``__setitem__`` that converts nested mappings. Behaviour flags (auto-nesting, frozen,
access tracking) are separate subclasses that an instance switches between, so the common
path never tests a flag.

A key that has the name of a method or flag (``items``, ``update``, ``copy``, ``frozen`` ...)
hides it for attribute access on that instance; call ``ADict.items(cfg)`` /
``ADict.frozen(cfg)`` or use ``cfg['items']``. ato's own code never calls methods through the
instance, so such configs still convert, copy, pickle, freeze, dump and hash correctly.

Keys named like Python's protocol names (``__reduce_ex__``, ``__deepcopy__``, ``__version__``,
any ``__x__``) are data only: an ADict holding one switches to a guarded variant whose
``__x__`` attribute reads always resolve through the class, so pickle, copy, numpy and friends
find their methods. The exceptions are the keys a package registers with
`register_attribute_keys` (ato-hyperopt registers its trial keys, ``__num_halved__`` ...).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

from ._mapping import MISSING, mapping_items
from .errors import ConfigKeyError, FrozenConfigError, suggest_keys
from .structure import structural_hash, structural_repr

# ``typing`` costs milliseconds to import; annotations are strings (PEP 563), so the names
# below are needed only by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

_dict_set = dict.__setitem__
_dict_get = dict.__getitem__
_dict_contains = dict.__contains__
_dict_update = dict.update
_dict_items = dict.items
_obj_setattr = object.__setattr__
_SCALARS = frozenset({int, float, str, bool, type(None), bytes, complex})

_ATTRIBUTE_KEYS: set[str] = set()  # see register_attribute_keys


def register_attribute_keys(keys: Iterable[str]) -> None:
    """Let the ``__x__`` keys in ``keys`` be read as attributes (``config.__num_halved__``) in
    this process. Every other ``__x__`` name is a Python protocol name: ``cfg.__x__`` never
    reads a key of that name (use ``cfg["__x__"]``). A package that writes such keys into
    configs registers them when it is imported (ato-hyperopt: its trial keys, see
    ``ato.hyperopt.keys``). Register keys before building configs that hold them.

    Args:
        keys: ``__x__`` strings (at least one character between the underscores).

    Raises:
        TypeError: a key is not a string of the form ``__x__``; nothing is registered then.
    """
    keys = list(keys)
    for key in keys:
        if key.__class__ is not str or len(key) <= 4 or key[:2] != "__" or key[-2:] != "__":
            raise TypeError(
                f"register_attribute_keys takes keys of the form '__name__', got {key!r}"
            )
    _ATTRIBUTE_KEYS.update(keys)


def attribute_keys() -> frozenset[str]:
    """The ``__x__`` keys registered with `register_attribute_keys` so far."""
    return frozenset(_ATTRIBUTE_KEYS)


def is_protocol_name(key: Any) -> bool:
    """True for a ``str`` key of the form ``__x__`` that is not a registered attribute key."""
    return (
        key.__class__ is str
        and len(key) > 4
        and key[:2] == "__"
        and key[-2:] == "__"
        and key not in _ATTRIBUTE_KEYS
    )


def _guard(obj: Any, key: Any) -> None:
    """Switch ``obj`` to its guarded variant when ``key`` is a protocol name."""
    if is_protocol_name(key) and not isinstance(obj, _GuardMixin):
        track, frozen, auto = _flags(obj)
        _obj_setattr(obj, "__class__", _variant(_base_of(type(obj)), track, frozen, auto, True))


def _guard_all(obj: Any) -> None:
    for key in dict.keys(obj):
        if key.__class__ is str and key[:2] == "__":
            _guard(obj, key)


def _convert(value: Any, cls: type[ADict]) -> Any:
    """Turn mappings (also inside lists/tuples) into ADicts of class ``cls``; keep the rest."""
    vcls = value.__class__
    if vcls in _SCALARS or isinstance(value, ADict):
        return value
    if vcls is dict or isinstance(value, Mapping):
        return cls(value)
    if vcls is list or vcls is tuple:
        converted = [_convert(v, cls) for v in value]
        if any(a is not b for a, b in zip(converted, value, strict=True)):
            return converted if vcls is list else tuple(converted)
    return value


def _adopt(obj: ADict, source: dict[Any, Any], cls: type[ADict]) -> None:
    """Fill the new ``obj`` with the items of the plain ``dict`` ``source``: one C-level copy,
    then only the values that are not scalars are converted (a config read from JSON holds
    mostly scalars, and loading a project's runs builds thousands of configs)."""
    _dict_update(obj, source)
    for key, value in _dict_items(source):
        if value.__class__ not in _SCALARS:
            _dict_set(obj, key, _convert(value, cls))


def _missing_key(key: Any, mapping: Iterable[Any], where: str = "this ADict") -> ConfigKeyError:
    """The error for a missing ``key``, with close matches among the keys of ``mapping``."""
    return ConfigKeyError(f"key {key!r} is not in {where}.{suggest_keys(key, mapping)}")


class _flag:  # noqa: N801 - a decorator spelled like the built-in `property`
    """A read-only computed attribute that, unlike ``property``, a key of the same name hides.

    It is a non-data descriptor, like a method, so ``cfg.frozen`` reads a key named ``frozen``
    when there is one. Through the class it is callable: ``ADict.frozen(cfg)``.
    """

    def __init__(self, fget: Callable[[Any], Any]) -> None:
        self.fget = fget
        self.__doc__ = fget.__doc__
        self.__name__ = fget.__name__

    def __get__(self, obj: Any, cls: Any = None) -> Any:
        return self if obj is None else self.fget(obj)

    def __call__(self, obj: Any) -> Any:
        return self.fget(obj)


class ADict(dict["Any", "Any"]):  # strings: typing is not imported at run time
    """A ``dict`` whose keys are also attributes, built for experiment configs.

    Construction mirrors ``dict``: ``ADict(mapping)``, ``ADict(iterable_of_pairs)``,
    ``ADict(**kwargs)`` or a mix of one positional argument and keywords. Nested mappings,
    including those inside lists and tuples, become ADicts, on construction and on every
    assignment. Anything else as positional argument raises `TypeError`.

    Missing keys raise [`ConfigKeyError`][ato.adict.ConfigKeyError] (a ``KeyError`` and an
    ``AttributeError``) with a "did you mean" hint. ``ADict.auto()`` builds an auto-nesting
    ADict where reading a missing key creates an empty child, so ``cfg.a.b.c = 1`` works.
    A callable passed as the keyword ``default`` is ato 2.x's default factory, not a key:
    ``ADict(default=list)`` creates each missing key it is asked for as ``[]`` (see
    `ato.adict.defaults`); any other ``default=`` value is an ordinary key.

    Multi-key access: ``cfg['a', 'b']`` returns ``[cfg.a, cfg.b]`` and
    ``cfg['a', 'b'] = [1, 2]`` sets both.
    """

    # -- construction -------------------------------------------------------------------
    def __init__(self, /, *args: Any, **kwargs: Any) -> None:
        _obj_setattr(self, "__dict__", self)
        if len(args) > 1:
            raise TypeError(f"ADict expected at most 1 positional argument, got {len(args)}")
        if kwargs and callable(kwargs.get("default")):
            from .defaults import with_default

            _obj_setattr(self, "__class__", with_default(type(self), kwargs.pop("default")))
        cls = self.__class__
        if args and args[0].__class__ is dict:
            _adopt(self, args[0], cls)
        elif args:
            for key, value in _source_items(args[0], "ADict()"):
                _dict_set(self, key, _convert(value, cls))
        for key, value in kwargs.items():
            _dict_set(self, key, _convert(value, cls))
        _guard_all(self)

    @classmethod
    def auto(cls, /, *args: Any, **kwargs: Any) -> ADict:
        """Build an auto-nesting ADict: reading a missing key creates (and stores) an empty
        auto ADict, so ``cfg.model.backbone.depth = 50`` needs no setup.

        Names of the form ``__x__`` are never auto-created (they are Python protocol probes).
        """
        return _variant(_base_of(cls), auto=True)(*args, **kwargs)

    # -- item and attribute writes ------------------------------------------------------
    def __setitem__(self, key: Any, value: Any) -> None:
        if key.__class__ is tuple:
            _set_many(self, key, value)
            return
        if value.__class__ not in _SCALARS:
            value = _convert(value, self.__class__)
        _dict_set(self, key, value)
        if key.__class__ is str and key[:2] == "__":
            _guard(self, key)

    def __setattr__(
        self, key: str, value: Any, _set: Any = _dict_set, _s: Any = _SCALARS, _type: Any = type
    ) -> None:
        # The hot path of ``cfg.x = v``: helpers as locals, ``type()`` (a specialised call),
        # and a substring test for the protocol-key guard (no slice is built).
        _set(self, key, value if _type(value) in _s else _convert(value, self.__class__))
        if "__" in key:
            _guard(self, key)

    # -- misses -------------------------------------------------------------------------
    def __missing__(self, key: Any) -> Any:
        if key.__class__ is tuple:
            return [self[k] for k in key]
        raise _missing_key(key, self)

    def __getattr__(self, name: str) -> Any:  # only called when normal lookup fails
        if is_protocol_name(name):
            raise _protocol_miss(self, name)
        raise _missing_key(name, self)

    # -- dict methods that must keep conversion and return ADicts -----------------------
    def update(self, /, *args: Any, recurrent: bool = False, **kwargs: Any) -> None:
        """Update from a mapping / pairs / keywords, like ``dict.update``.

        Args:
            *args: at most one mapping or iterable of ``(key, value)`` pairs.
            recurrent: if True, merge deeply: where both the current and the new value are
                mappings, update the current one recursively instead of replacing it.
            **kwargs: more keys to set (applied after ``args``).

        Raises:
            TypeError: more than one positional argument, or an element that is not a pair.
            FrozenConfigError: this ADict (or, with ``recurrent``, a nested one) is frozen.
        """
        for key, value in _items_of(args, kwargs, "update()"):
            current = dict.get(self, key, MISSING)
            if recurrent and isinstance(current, ADict) and isinstance(value, Mapping):
                type(current).update(current, value, recurrent=True)
            else:
                self[key] = value

    def update_if_absent(self, /, *args: Any, **kwargs: Any) -> None:
        """Add keys that are missing; never overwrite an existing value.

        Where both the existing and the new value are mappings, missing nested keys are
        filled in recursively.
        """
        for key, value in _items_of(args, kwargs, "update_if_absent()"):
            current = dict.get(self, key, MISSING)
            if current is MISSING:
                self[key] = value
            elif isinstance(current, ADict) and isinstance(value, Mapping):
                type(current).update_if_absent(current, value)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        """Like ``dict.setdefault``, but a mapping ``default`` is stored (and returned) as an
        ADict. Raises [`FrozenConfigError`][ato.adict.FrozenConfigError] on a frozen ADict."""
        if not _dict_contains(self, key):
            self[key] = default
        return _dict_get(self, key)

    def copy(self) -> ADict:
        """Shallow copy, as an ADict of the same kind (auto/frozen flags included)."""
        return _rebuild(_flags(self), dict(self), _base_of(type(self)))

    def __or__(self, other: Any) -> ADict:
        """``cfg | other``: a new ADict with ``other``'s keys set over ``cfg``'s (shallow, as for
        ``dict``). The result is a plain ADict: auto/frozen/tracking flags are not carried over.
        ``other`` must be a mapping (else ``NotImplemented``, so Python raises TypeError)."""
        if not isinstance(other, Mapping):
            return NotImplemented
        return _union(type(self), self, other)

    def __ror__(self, other: Any) -> ADict:
        """``other | cfg`` for a mapping ``other``: like `__or__`, ``cfg``'s keys win."""
        if not isinstance(other, Mapping):
            return NotImplemented
        return _union(type(self), other, self)

    def __ior__(self, other: Any) -> ADict:
        """``cfg |= other``: `update` in place (shallow). Raises FrozenConfigError when
        frozen."""
        type(self).update(self, other)
        return self

    # -- representation, copying, pickling ----------------------------------------------
    def __repr__(self) -> str:
        return f"ADict({dict.__repr__(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (_flags(self), dict(self), _base_of(type(self))))

    def __copy__(self) -> ADict:
        return ADict.copy(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> ADict:
        new = _rebuild(_flags(self), {}, _base_of(type(self)))
        memo[id(self)] = new
        for key, value in dict.items(self):
            _dict_set(new, copy.deepcopy(key, memo), copy.deepcopy(value, memo))
        _guard_all(new)
        return new

    def clone(self) -> ADict:
        """Deep copy (nested ADicts, lists and values are copied; flags are kept)."""
        return copy.deepcopy(self)

    def to_dict(self) -> dict[Any, Any]:
        """Plain nested ``dict``/``list`` copy (tuples stay tuples)."""
        return {k: _plain(v) for k, v in dict.items(self)}

    def json(self, **kwargs: Any) -> str:
        """Serialize with `json.dumps`; keyword arguments are passed through."""
        import json

        return json.dumps(type(self).to_dict(self), **kwargs)

    # -- small helpers ------------------------------------------------------------------
    def raw(self, key: Any, default: Any = MISSING) -> Any:
        """Read ``key`` without auto-creating it and without recording an access.

        Raises:
            ConfigKeyError: if the key is missing and no ``default`` is given.
        """
        value = dict.get(self, key, MISSING)
        if value is MISSING:
            if default is MISSING:
                raise _missing_key(key, self)
            return default
        return value

    def filter(self, fn: Callable[[Any, Any], bool]) -> ADict:
        """New ADict with the top-level items for which ``fn(key, value)`` is true."""
        return _base_of(type(self))({k: v for k, v in dict.items(self) if fn(k, v)})

    def get_path(self, path: str, default: Any = MISSING) -> Any:
        """Read a dotted path such as ``'model.backbone.depth'``; a segment of digits indexes
        a list or tuple (``'layers.0.width'``).

        Raises:
            ConfigKeyError: naming the first missing segment, if no ``default`` is given.
        """
        from .paths import get_path

        return get_path(self, path, default)

    def set_path(self, path: str, value: Any) -> None:
        """Set a dotted path such as ``'model.backbone.depth'``, creating intermediate ADicts
        as needed; a parent that exists but is not a mapping is replaced by one.

        Raises:
            FrozenConfigError: the ADict that would change is frozen.
        """
        from .paths import set_path

        set_path(self, path, value, new_parent=_base_of(type(self)))

    # -- structure ----------------------------------------------------------------------
    def get_structural_repr(self) -> str:
        """Sorted ``path: type`` lines describing keys and value types, not values.

        See `ato.adict.structure.structural_repr` for the exact algorithm.
        """
        return structural_repr(self)

    def get_structural_hash(self) -> str:
        """SHA-256 hex digest of `get_structural_repr` (stable across processes)."""
        return structural_hash(self)

    # -- freezing -----------------------------------------------------------------------
    @_flag
    def frozen(self) -> bool:
        """True when this ADict is read-only (see `freeze`).

        A key named ``frozen`` (common in model configs) hides this flag on that instance;
        ``ADict.frozen(cfg)`` always reads the flag.
        """
        return isinstance(self, _FrozenMixin)

    def freeze(self) -> ADict:
        """Make this ADict and every nested ADict read-only, in place. Returns ``self``.

        Writes afterwards raise [`FrozenConfigError`][ato.adict.FrozenConfigError].
        """
        _walk_set_flag(self, "frozen", True)
        return self

    def defrost(self) -> ADict:
        """Undo `freeze` on this ADict and every nested ADict. Returns ``self``."""
        _walk_set_flag(self, "frozen", False)
        return self

    def convert_to_immutable(self) -> ADict:
        """Freeze recursively and turn every nested list into a tuple. Returns ``self``."""
        _immutable(self)
        return type(self).freeze(self)

    def set_auto(self, enabled: bool = True) -> ADict:
        """Switch auto-nesting on or off for this ADict and its nested ADicts."""
        _walk_set_flag(self, "auto", enabled)
        return self

    @_flag
    def is_auto(self) -> bool:
        """True when reading a missing key creates a child (see `auto`).

        ``ADict.is_auto(cfg)`` reads the flag even when a key named ``is_auto`` exists.
        """
        return isinstance(self, _AutoMixin)

    # -- access tracking ----------------------------------------------------------------
    def track_access(self, enabled: bool = True) -> ADict:
        """Start (or stop) recording which keys are read, for `accessed_keys`.

        Covers this ADict and everything below it, including values assigned later. A read is
        ``cfg.key``, ``cfg['key']``, ``cfg['a', 'b']`` or ``cfg.get('key')`` on an existing key;
        iteration, ``in``, `raw`, `to_dict` and ``**cfg`` record nothing.
        Tracking makes reads slower; it is off by default. Starting it clears earlier records.

        Args:
            enabled: True to start (or restart) recording, False to stop it.

        Returns:
            ``self``.
        """
        from . import tracking

        tracking.stop(self)
        _walk_set_flag(self, "track", enabled)
        if enabled:
            tracking.start(self)
        return self

    @_flag
    def accessed_keys(self) -> list[str]:
        """Sorted dotted paths of the keys read below this ADict since `track_access`.

        Paths are relative to the ADict asked (``cfg.model.accessed_keys`` gives ``['depth']``
        where ``cfg.accessed_keys`` gives ``['model', 'model.depth']``); list items appear by
        index (``'layers.1.k'``). Empty when tracking is off. A key named ``accessed_keys``
        hides this attribute; use ``ADict.accessed_keys(cfg)`` then.
        """
        from . import tracking

        return tracking.accessed(self)

    def get_minimal_config(self) -> ADict:
        """A new, independent ADict holding only the values the program read.

        Only the deepest read paths are kept: reading ``cfg.model.depth`` keeps
        ``model.depth`` but not ``model.width``, while reading just ``cfg.model`` (for example to
        pass it on whole) keeps all of ``model``. Lists are kept whole: reading
        ``cfg.layers[1].k`` keeps the list ``layers``. Keys deleted after being read are left out.
        The result is a plain (untracked, unfrozen) ADict of copied containers.
        """
        from . import tracking

        result = ADict()
        for path, value in tracking.read_leaves(self):
            parent = result
            for part in path[:-1]:
                child = dict.get(parent, part)
                if not isinstance(child, ADict):
                    child = ADict()
                    dict.__setitem__(parent, part, child)
                    _guard(parent, part)
                parent = child
            parent[path[-1]] = _plain(value)
        return result

    # -- files and formats (implemented in sibling modules, imported on use) ------------
    @classmethod
    def from_file(cls, path: Any) -> ADict:
        """Load ``.json``, ``.yaml``/``.yml``, ``.toml``, ``.xyz`` or ``.py`` into an ADict.

        ``.py`` files are executed (trusted input only); their public module-level names
        become keys. See `ato.adict.files` for details and raised errors.
        """
        from .files import load_file

        return cls(load_file(path))

    def dump(self, path: Any) -> None:
        """Write to ``path``; the format follows the extension (``.json``, ``.yaml``/``.yml``,
        ``.toml``, ``.xyz``, ``.py``). See [`ato.adict.files.dump_file`][ato.adict.dump_file] for raised errors."""
        from .files import dump_file

        dump_file(type(self).to_dict(self), path)

    def to_xyz(self) -> str:
        """Render in ato's indentation-based XYZ text format (see `ato.adict.xyz`)."""
        from .xyz import dumps

        return dumps(self)

    @classmethod
    def compose_hierarchy(cls, root: Any, config_filename: str = "config", **kwargs: Any) -> ADict:
        """Hydra-style composition of config groups; see [`ato.adict.compose.compose_hierarchy`][ato.adict.compose_hierarchy]."""
        from .compose import compose_hierarchy

        return cls(compose_hierarchy(root, config_filename=config_filename, **kwargs))

    @classmethod
    def from_mm_config(cls, path: Any, **kwargs: Any) -> ADict:
        """Load an OpenMMLab config (``_base_`` inheritance, ``_delete_``); keyword arguments
        (``root``, ``allow_python``) as for ``ato.adict.mmconfig.load_mm_config``."""
        from .mmconfig import load_mm_config

        return cls(load_mm_config(path, **kwargs))

    def load_mm_config(self, path: Any, **kwargs: Any) -> ADict:
        """Deep-merge an OpenMMLab config file into this ADict (keyword arguments as for
        ``from_mm_config``). Returns ``self``."""
        from .mmconfig import load_mm_config

        type(self).update(self, load_mm_config(path, **kwargs), recurrent=True)
        return self


# -- behaviour variants -----------------------------------------------------------------
def _refuse(action: str, names_key: bool = True) -> Callable[..., Any]:
    """A write method of frozen ADicts that raises, naming the write and the key."""

    def refuse(self: ADict, *args: Any, **kwargs: Any) -> Any:
        target = f" {args[0]!r}" if names_key and args else ""
        raise FrozenConfigError(
            f"cannot {action}{target}: this ADict is frozen (read-only). Call .defrost() on it "
            "first, or change a mutable copy: cfg.clone().defrost()"
        )

    return refuse


class _FrozenMixin:
    __slots__ = ()
    __setitem__ = __setattr__ = setdefault = _refuse("set key")
    __delitem__ = __delattr__ = pop = _refuse("delete key")
    set_path = _refuse("set path")
    update = update_if_absent = __ior__ = _refuse("update it", names_key=False)
    popitem = _refuse("pop an item", names_key=False)
    clear = _refuse("clear it", names_key=False)


class _AutoMixin:
    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__" and name[-2:] == "__":
            raise _protocol_miss(self, name)
        return _auto_child(self, name)

    def __missing__(self, key: Any) -> Any:
        if key.__class__ is tuple:
            return [self[k] for k in key]  # type: ignore[index]  # mixed into ADict only
        return _auto_child(self, key)


def _auto_child(parent: Any, key: Any) -> ADict:
    frozen = isinstance(parent, _FrozenMixin)  # a flag: narrowing would hide the dict type
    if frozen:
        raise _missing_key(key, parent, "this frozen ADict")
    child: ADict = _variant(_base_of(type(parent)), *_flags(parent))()
    _dict_set(parent, key, child)
    _guard(parent, key)
    return child


class _GuardMixin:
    """Variant of an ADict that holds a key named like a protocol name (``__reduce_ex__``):
    such names resolve through the class, never to the key."""

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        if is_protocol_name(name):
            return _class_attribute(self, name)
        return super().__getattribute__(name)


def _class_attribute(obj: Any, name: str) -> Any:
    """``obj.<name>`` looked up on its class only (the instance's keys are skipped)."""
    cls = type(obj)
    for klass in cls.__mro__:
        if name in klass.__dict__:
            attr = klass.__dict__[name]
            get = getattr(type(attr), "__get__", None)
            return attr if get is None else get(attr, obj, cls)
    raise AttributeError(name)


def _protocol_miss(obj: Any, name: str) -> AttributeError:
    held = " (this ADict has a key of that name)" if _dict_contains(obj, name) else ""
    return AttributeError(
        f"{type(obj).__name__} object has no attribute {name!r}{held}: names of the form "
        f"__x__ are Python protocol names and are never read from the keys; use cfg[{name!r}]"
    )


_VARIANTS: dict[tuple[type, bool, bool, bool, bool], type[ADict]] = {}


def _base_of(cls: type) -> type[ADict]:
    base: type[ADict] = getattr(cls, "_ato_base", cls)
    return base


def _flags(obj: ADict) -> tuple[bool, bool, bool]:
    """``(track, frozen, auto)``: the flags a pickle carries (the guard follows the keys)."""
    return (
        getattr(type(obj), "_ato_track", False),
        isinstance(obj, _FrozenMixin),
        isinstance(obj, _AutoMixin),
    )


def _variant(
    base: type[ADict],
    track: bool = False,
    frozen: bool = False,
    auto: bool = False,
    guard: bool = False,
) -> type[ADict]:
    """The subclass of ``base`` implementing the given behaviour flags (cached)."""
    if not (track or frozen or auto or guard):
        return base
    key = (base, track, frozen, auto, guard)
    cls = _VARIANTS.get(key)
    if cls is None:
        from .tracking import TrackMixin

        chosen = (
            (_GuardMixin, guard),
            (TrackMixin, track),
            (_FrozenMixin, frozen),
            (_AutoMixin, auto),
        )
        mixins = [m for m, on in chosen if on]
        ns = {
            "__slots__": (),
            "_ato_base": base,
            "_ato_track": track,
            "__module__": base.__module__,
        }
        cls = type(base.__name__, (*mixins, base), ns)
        cls.__qualname__ = base.__qualname__
        _VARIANTS[key] = cls
    return cls


def _rebuild(
    flags: tuple[bool, bool, bool], data: dict[Any, Any], base: type[ADict] = ADict
) -> ADict:
    """Recreate an ADict of the given flags from already-converted items (pickle support)."""
    cls = _variant(base, *flags)
    obj: ADict = dict.__new__(cls)
    _obj_setattr(obj, "__dict__", obj)
    dict.update(obj, data)
    _guard_all(obj)
    return obj


def _walk_set_flag(obj: Any, flag: str, value: bool, seen: set[int] | None = None) -> None:
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, ADict):
        track, frozen, auto = _flags(obj)
        guard = isinstance(obj, _GuardMixin)
        flags = {"track": track, "frozen": frozen, "auto": auto, "guard": guard, flag: value}
        _obj_setattr(obj, "__class__", _variant(_base_of(type(obj)), **flags))
        children: Iterable[Any] = dict.values(obj)
    elif isinstance(obj, (list, tuple)):
        children = obj
    else:
        return
    for child in children:
        _walk_set_flag(child, flag, value, seen)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in mapping_items(value)}
    if value.__class__ is list:
        return [_plain(v) for v in value]
    if value.__class__ is tuple:
        return tuple(_plain(v) for v in value)
    return value


def _immutable(value: Any) -> Any:
    """``value`` with every nested list turned into a tuple; ADicts are changed in place."""
    if isinstance(value, (list, tuple)):
        return tuple(_immutable(v) for v in value)
    if isinstance(value, ADict):
        for key, child in list(dict.items(value)):
            _dict_set(value, key, _immutable(child))
    return value


def _union(cls: type, first: Mapping[Any, Any], second: Mapping[Any, Any]) -> ADict:
    """``first | second`` as a new plain ADict of ``cls``'s base class (flags dropped)."""
    new = _base_of(cls)(first)
    type(new).update(new, second)
    return new


def _set_many(target: ADict, keys: tuple[Any, ...], values: Any) -> None:
    values = list(values)
    if len(values) != len(keys):
        raise ValueError(f"cannot assign {len(values)} values to {len(keys)} keys {keys!r}")
    for key, value in zip(keys, values, strict=True):
        target[key] = value


def _source_items(source: Any, caller: str) -> Iterable[tuple[Any, Any]]:
    """The ``(key, value)`` pairs of ``source``: a mapping or an iterable of pairs.

    Raises:
        TypeError: ``source`` is a string, bytes or not iterable, or an element is not a pair
            (lazily, as the pairs are consumed); the message starts with ``caller``.
    """
    if isinstance(source, Mapping):
        return mapping_items(source)
    if isinstance(source, (str, bytes)) or not isinstance(source, Iterable):
        raise TypeError(
            f"{caller} takes a mapping, an iterable of (key, value) pairs or keyword "
            f"arguments, not {type(source).__name__}"
        )
    return _pairs(source, caller)


def _pairs(source: Iterable[Any], caller: str) -> Iterator[tuple[Any, Any]]:
    for i, item in enumerate(source):
        try:
            key, value = item
        except (TypeError, ValueError):
            raise TypeError(f"{caller} element #{i} is not a (key, value) pair: {item!r}") from None
        yield key, value


def _items_of(
    args: tuple[Any, ...], kwargs: dict[str, Any], caller: str
) -> Iterator[tuple[Any, Any]]:
    """The pairs of ``update``-style arguments: at most one positional source, then keywords."""
    if len(args) > 1:
        raise TypeError(f"{caller} expected at most 1 positional argument, got {len(args)}")
    if args:
        yield from _source_items(args[0], caller)
    yield from kwargs.items()
