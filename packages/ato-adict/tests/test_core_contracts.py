"""Behaviours of ``ato.adict.core`` that mutation testing showed no other test would notice:
exact error messages, subclasses keeping their class through every copy and variant, the
flag descriptors read through the class, deep merges below the second level, and cycles."""

from __future__ import annotations

import copy
import pickle
import types
from collections import OrderedDict

import pytest

from ato.adict import ADict, ConfigKeyError, FrozenConfigError

FROZEN_HINT = (
    "this ADict is frozen (read-only). Call .defrost() on it first, or change a mutable copy: "
    "cfg.clone().defrost()"
)


class Settings(ADict):
    """A user subclass: every copy, variant and new child must stay a Settings."""


# -- conversion -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "mapping",
    [OrderedDict(b=1), types.MappingProxyType({"b": 1}), ADict(b=1)],
    ids=["OrderedDict", "MappingProxyType", "ADict"],
)
def test_any_mapping_value_becomes_an_adict(mapping: object) -> None:
    cfg = ADict(a=mapping, items=[mapping])
    assert type(cfg.a) is ADict and cfg.a.b == 1
    assert type(cfg["items"][0]) is ADict


# -- messages -------------------------------------------------------------------------------
def test_constructor_with_two_positional_arguments_names_the_count() -> None:
    with pytest.raises(TypeError, match=r"^ADict expected at most 1 positional argument, got 2$"):
        ADict({}, {})


@pytest.mark.parametrize(
    ("call", "caller"),
    [
        (lambda src: ADict(src), "ADict()"),
        (lambda src: ADict().update(src), "update()"),
        (lambda src: ADict().update_if_absent(src), "update_if_absent()"),
    ],
    ids=["ADict", "update", "update_if_absent"],
)
@pytest.mark.parametrize(("source", "type_name"), [("text", "str"), (5, "int"), (b"x", "bytes")])
def test_a_source_that_is_not_pairs_is_named_with_its_type(
    call: object, caller: str, source: object, type_name: str
) -> None:
    expected = (
        rf"^{caller.replace('(', '[(]').replace(')', '[)]')} takes a mapping, .* not {type_name}$"
    )
    with pytest.raises(TypeError, match=expected):
        call(source)  # type: ignore[operator]


@pytest.mark.parametrize("method", ["update", "update_if_absent"])
def test_update_style_methods_name_themselves_when_given_two_sources(method: str) -> None:
    with pytest.raises(
        TypeError, match=rf"^{method}\(\) expected at most 1 positional argument, got 2$"
    ):
        getattr(ADict(), method)({}, {})


def test_a_bad_pair_is_named_with_its_position_and_caller() -> None:
    with pytest.raises(TypeError, match=r"^ADict\(\) element #1 is not a \(key, value\) pair: 3$"):
        ADict([("a", 1), 3])


def test_raw_names_the_missing_key() -> None:
    with pytest.raises(ConfigKeyError, match=r"key 'speed' is not in this ADict"):
        ADict(speed_limit=1).raw("speed")


def test_raw_returns_a_non_none_default_for_a_missing_key_only() -> None:
    cfg = ADict(a=0)
    assert cfg.raw("missing", 42) == 42
    assert cfg.raw("a", 42) == 0


# -- frozen writes: the exact message ------------------------------------------------------
@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda c: c.__setitem__("x", 1), "cannot set key 'x': "),
        (lambda c: setattr(c, "y", 1), "cannot set key 'y': "),
        (lambda c: c.setdefault("z", 1), "cannot set key 'z': "),
        (lambda c: c.pop("a"), "cannot delete key 'a': "),
        (lambda c: c.set_path("a.b", 1), "cannot set path 'a.b': "),
        (lambda c: c.update({"a": 2}), "cannot update it: "),
        (lambda c: c.update_if_absent({"q": 2}), "cannot update it: "),
        (lambda c: c.clear(), "cannot clear it: "),
        (lambda c: c.popitem(), "cannot pop an item: "),
    ],
)
def test_frozen_writes_say_what_was_refused_and_what_to_do(write: object, message: str) -> None:
    cfg = ADict(a=1).freeze()
    with pytest.raises(FrozenConfigError) as info:
        write(cfg)  # type: ignore[operator]
    assert str(info.value) == message + FROZEN_HINT
    assert cfg == {"a": 1}


def test_reading_a_missing_key_of_a_frozen_auto_adict_names_it() -> None:
    cfg = ADict.auto(a=1).freeze()
    with pytest.raises(ConfigKeyError, match=r"^.*key 'zz' is not in this frozen ADict"):
        _ = cfg.zz
    assert "zz" not in cfg


# -- flag descriptors -----------------------------------------------------------------------
@pytest.mark.parametrize("flag", ["frozen", "is_auto"])
def test_flags_read_through_the_class_even_when_a_key_hides_them(flag: str) -> None:
    descriptor = getattr(ADict, flag)
    assert descriptor.__name__ == flag
    assert descriptor.__doc__ and descriptor.__doc__.startswith("True when")
    cfg = ADict({flag: "a value"})
    assert getattr(cfg, flag) == "a value"
    assert descriptor(cfg) is False
    assert descriptor(ADict.auto().freeze()) is True


# -- auto-nesting ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["__private", "trailing__", "_x_", "__x"])
def test_auto_creates_names_that_are_not_dunder_protocol_names(name: str) -> None:
    cfg = ADict.auto()
    child = getattr(cfg, name)
    assert child == {} and cfg[name] is child


@pytest.mark.parametrize("name", ["__len2__", "__array_interface__"])
def test_auto_never_creates_dunder_names(name: str) -> None:
    cfg = ADict.auto()
    with pytest.raises(AttributeError) as info:
        getattr(cfg, name)
    assert str(info.value).startswith(f"ADict object has no attribute {name!r}: names of the form")
    assert f"use cfg[{name!r}]" in str(info.value)
    assert cfg == {}


def test_set_auto_returns_the_same_adict_and_reaches_nested_ones() -> None:
    cfg = ADict(inner=ADict(), items=[ADict()])
    assert cfg.set_auto() is cfg
    assert cfg.inner.is_auto and cfg["items"][0].is_auto
    cfg.inner.new.deep = 1
    assert cfg.to_dict() == {"inner": {"new": {"deep": 1}}, "items": [{}]}
    assert cfg.set_auto(False) is cfg and not cfg.inner.is_auto


# -- subclasses keep their class ------------------------------------------------------------
def test_a_subclass_variant_is_a_cached_subclass_with_the_same_names() -> None:
    auto = Settings.auto(a=1)
    assert isinstance(auto, Settings) and auto.is_auto
    assert type(auto) is type(Settings.auto())
    assert type(auto).__name__ == "Settings"
    assert type(auto).__qualname__ == Settings.__qualname__
    assert type(auto).__module__ == Settings.__module__
    assert type(auto).__slots__ == ()


@pytest.mark.parametrize(
    "make",
    [Settings, Settings.auto, lambda **kw: Settings(**kw).freeze()],
    ids=["plain", "auto", "frozen"],
)
def test_copies_keep_the_subclass_and_the_flags(make: object) -> None:
    cfg = make(a=1, inner={"b": 2})  # type: ignore[operator]
    for other in (cfg.copy(), copy.copy(cfg), cfg.clone(), pickle.loads(pickle.dumps(cfg))):
        assert isinstance(other, Settings)
        assert other == cfg
        assert (ADict.frozen(other), ADict.is_auto(other)) == (
            ADict.frozen(cfg),
            ADict.is_auto(cfg),
        )


def test_set_path_creates_parents_of_the_subclass() -> None:
    cfg = Settings()
    cfg.set_path("model.backbone.depth", 50)
    assert type(cfg.model) is Settings and type(cfg.model.backbone) is Settings


def test_copies_of_a_tracked_adict_are_of_the_same_kind() -> None:
    cfg = Settings(a=1, b=2).track_access()
    for other in (cfg.copy(), copy.copy(cfg), pickle.loads(pickle.dumps(cfg))):
        assert type(other) is type(cfg) and type(other) is not Settings


def test_compose_hierarchy_passes_the_config_filename(tmp_path: object) -> None:
    root = tmp_path  # type: ignore[assignment]
    (root / "main.yaml").write_text("lr: 0.1\n")  # type: ignore[operator]
    (root / "config.yaml").write_text("lr: 0.5\n")  # type: ignore[operator]
    assert ADict.compose_hierarchy(root, config_filename="main") == {"lr": 0.1}


# -- deep merge below the second level ------------------------------------------------------
def test_recurrent_update_merges_at_every_depth() -> None:
    cfg = ADict(a={"b": {"c": 1, "keep": 2}, "keep": 3})
    cfg.update({"a": {"b": {"c": 10}}}, recurrent=True)
    assert cfg.to_dict() == {"a": {"b": {"c": 10, "keep": 2}, "keep": 3}}


def test_update_if_absent_fills_at_every_depth_and_never_overwrites() -> None:
    cfg = ADict(a={"b": {"c": 1}})
    cfg.update_if_absent({"a": {"b": {"c": 99, "d": 4}, "e": 5}, "f": None})
    assert cfg.to_dict() == {"a": {"b": {"c": 1, "d": 4}, "e": 5}, "f": None}


# -- multi-key assignment -------------------------------------------------------------------
def test_multi_key_assignment_sets_exactly_those_keys() -> None:
    cfg = ADict(keep=0)
    cfg["a", "b"] = [1, {"c": 2}]
    assert cfg == {"keep": 0, "a": 1, "b": {"c": 2}}
    assert type(cfg.b) is ADict
    with pytest.raises(ValueError, match=r"cannot assign 1 values to 2 keys \('x', 'y'\)"):
        cfg["x", "y"] = [1]
    assert cfg == {"keep": 0, "a": 1, "b": {"c": 2}}


# -- cycles ---------------------------------------------------------------------------------
def _self_referencing() -> ADict:
    cfg = ADict(a=1, items=[])
    cfg["me"] = cfg
    cfg["items"].append(cfg["items"])
    cfg["items"].append(cfg)
    return cfg


@pytest.mark.parametrize("walk", ["freeze", "defrost", "set_auto"])
def test_walks_over_a_self_referencing_adict_terminate(walk: str) -> None:
    cfg = _self_referencing()
    assert getattr(cfg, walk)() is cfg
    assert cfg.me is cfg
    assert ADict.frozen(cfg) is (walk == "freeze")


def test_clone_of_a_self_referencing_adict_keeps_the_cycle() -> None:
    cfg = _self_referencing()
    clone = cfg.clone()
    assert clone is not cfg
    assert clone["me"] is clone
    assert clone["items"][1] is clone and clone["items"][0] is clone["items"]


# -- keys named like protocol names ---------------------------------------------------------
@pytest.mark.parametrize("make", [ADict, ADict.auto], ids=["plain", "auto"])
def test_reading_a_held_protocol_name_as_attribute_says_the_key_exists(make: object) -> None:
    cfg = make()  # type: ignore[operator]
    cfg["__weird__"] = 1
    with pytest.raises(AttributeError) as info:
        _ = cfg.__weird__
    assert str(info.value) == (
        "ADict object has no attribute '__weird__' (this ADict has a key of that name): names "
        "of the form __x__ are Python protocol names and are never read from the keys; "
        "use cfg['__weird__']"
    )
    with pytest.raises(AttributeError) as other:
        _ = cfg.__other__
    assert str(other.value).startswith("ADict object has no attribute '__other__': names")


class _Owner:
    """A descriptor reporting the class it was looked up through."""

    def __get__(self, obj: object, owner: type | None = None) -> object:
        return owner


class WithDescriptor(ADict):
    __schema__ = _Owner()


def test_a_guarded_adict_passes_its_class_to_protocol_named_descriptors() -> None:
    cfg = WithDescriptor(a=1)
    assert cfg.__schema__ is WithDescriptor
    cfg["__schema__"] = "a key"  # switches to the guarded variant
    assert cfg.__schema__ is type(cfg) and issubclass(type(cfg), WithDescriptor)
    assert cfg["__schema__"] == "a key"


@pytest.mark.parametrize("key", ["____", "___", "__"])
def test_keys_of_underscores_only_are_plain_keys(key: str) -> None:
    cfg = ADict()
    cfg[key] = 1
    assert type(cfg) is ADict
    assert getattr(cfg, key) == 1


def test_a_key_of_five_underscores_is_a_protocol_name() -> None:
    cfg = ADict()
    cfg["_____"] = 1
    assert type(cfg) is not ADict and isinstance(cfg, ADict)
    with pytest.raises(AttributeError, match="has a key of that name"):
        _ = cfg._____


@pytest.mark.parametrize("make", [ADict, Settings, ADict.auto, Settings.auto])
def test_freeze_then_defrost_returns_a_guarded_adict_to_its_class(make: object) -> None:
    cfg = make(a=1)  # type: ignore[operator]
    cfg["__weird__"] = 2
    guarded = type(cfg)
    assert cfg.freeze().defrost() is cfg
    assert type(cfg) is guarded
    other = make()  # type: ignore[operator]
    other["__other__"] = 3
    assert type(other) is guarded


# -- variant classes built from a cold cache ------------------------------------------------
FLAG_SETS = [
    (track, frozen, auto, guard)
    for track in (False, True)
    for frozen in (False, True)
    for auto in (False, True)
    for guard in (False, True)
]


@pytest.mark.parametrize("base", [ADict, Settings])
@pytest.mark.parametrize(
    "flags", FLAG_SETS, ids=lambda f: "".join("TFAG"[i] for i, on in enumerate(f) if on) or "none"
)
def test_variants_built_from_an_empty_cache(
    monkeypatch: pytest.MonkeyPatch, base: type, flags: tuple[bool, bool, bool, bool]
) -> None:
    from ato.adict import core
    from ato.adict.tracking import TrackMixin

    monkeypatch.setattr(core, "_VARIANTS", {})
    track, frozen, auto, guard = flags
    cls = core._variant(base, track, frozen, auto, guard)
    if not any(flags):
        assert cls is base and core._VARIANTS == {}
        return
    assert {(base, track, frozen, auto, guard): cls} == core._VARIANTS
    assert core._variant(base, track, frozen, auto, guard) is cls
    expected = [
        m
        for m, on in zip(
            (core._GuardMixin, TrackMixin, core._FrozenMixin, core._AutoMixin),
            (guard, track, frozen, auto),
            strict=True,
        )
        if on
    ]
    assert list(cls.__bases__) == [*expected, base]
    assert (cls.__name__, cls.__qualname__, cls.__module__) == (
        base.__name__,
        base.__qualname__,
        base.__module__,
    )
    assert cls.__slots__ == () and cls._ato_base is base and cls._ato_track is track


def test_adicts_work_with_variants_built_from_an_empty_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ato.adict import core

    monkeypatch.setattr(core, "_VARIANTS", {})
    cfg = Settings.auto(a=1)
    cfg.b.c = 2
    cfg["__weird__"] = 3
    assert cfg.to_dict() == {"a": 1, "b": {"c": 2}, "__weird__": 3}
    frozen = pickle.loads(pickle.dumps(cfg.freeze()))
    assert isinstance(frozen, Settings) and ADict.frozen(frozen) and ADict.is_auto(frozen)
    assert frozen.b.c == 2 and frozen["__weird__"] == 3


@pytest.mark.parametrize("base", [ADict, Settings])
def test_auto_builds_the_same_kind_of_adict_as_set_auto(base: type) -> None:
    made = base.auto(a=1)  # type: ignore[attr-defined]
    switched = base(a=1).set_auto()
    assert type(made) is type(switched)
    assert (ADict.is_auto(made), ADict.frozen(made)) == (True, False)
    assert type(made.freeze().defrost()) is type(switched)
