"""Keys named like Python protocol names (``__reduce_ex__``, ``__version__`` ...) are data:
they never change how pickle, copy or attribute lookups find the class's methods."""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ato.adict import ADict
from ato.adict.core import attribute_keys, register_attribute_keys

PROTOCOL_NAMES = [
    "__reduce_ex__",
    "__reduce__",
    "__deepcopy__",
    "__copy__",
    "__getstate__",
    "__setstate__",
    "__getnewargs_ex__",
    "__class__",
    "__dict__",
    "__init__",
    "__getattr__",
    "__setattr__",
    "__version__",
    "__array__",
    "__wrapped__",
    "__len__",
]


def _copies(cfg: ADict) -> list[ADict]:
    return [
        pickle.loads(pickle.dumps(cfg)),
        pickle.loads(pickle.dumps(cfg, protocol=0)),
        copy.deepcopy(cfg),
        copy.copy(cfg),
        cfg.clone(),
        ADict.copy(cfg),
    ]


@pytest.mark.parametrize("name", PROTOCOL_NAMES)
def test_pickle_copy_and_clone_work_with_protocol_named_keys(name: str) -> None:
    cfg = ADict({name: 1, "nested": {name: [1, {name: None}]}, "x": 2})
    for copied in _copies(cfg):
        assert copied == cfg and copied.to_dict() == cfg.to_dict()
        assert isinstance(copied, ADict) and copied.x == 2


@pytest.mark.parametrize("name", PROTOCOL_NAMES)
@pytest.mark.parametrize(
    "how", ["init", "setitem", "setattr", "update", "setdefault", "set_path", "auto"]
)
def test_every_write_path_keeps_protocols_working(name: str, how: str) -> None:
    cfg = ADict.auto() if how == "auto" else ADict()
    if how == "init":
        cfg = ADict({name: 1})
    elif how == "setitem":
        cfg[name] = 1
    elif how == "setattr":
        setattr(cfg, name, 1)
    elif how == "update":
        cfg.update({name: 1})
    elif how == "setdefault":
        ADict.setdefault(cfg, name, 1)
    elif how == "set_path":
        ADict.set_path(cfg, name, 1)
    else:
        cfg[name].x = 1
    assert name in cfg
    assert pickle.loads(pickle.dumps(cfg)) == cfg == copy.deepcopy(cfg)


@pytest.mark.parametrize("name", ["__version__", "__array__", "__wrapped__", "__author__"])
def test_dunder_attribute_never_reads_a_key(name: str) -> None:
    cfg = ADict({name: "data"})
    assert not hasattr(cfg, name)
    with pytest.raises(AttributeError, match=rf"cfg\['{name}'\]"):
        getattr(cfg, name)
    assert cfg[name] == "data"


def test_class_attributes_come_from_the_class() -> None:
    cfg = ADict({"__class__": 1, "__dict__": 2, "__module__": 3, "__doc__": 4})
    assert cfg.__class__ is type(cfg) and isinstance(cfg, ADict)
    assert cfg.__dict__ is cfg
    assert cfg.__module__ == "ato.adict.core"
    assert cfg["__doc__"] == 4 and cfg.__doc__ != 4


def test_registered_keys_are_readable_as_attributes() -> None:
    register_attribute_keys(["__registered_key__"])
    assert "__registered_key__" in attribute_keys()
    cfg = ADict({"__registered_key__": 1, "model": {"__registered_key__": 2}})
    assert type(cfg) is ADict and type(cfg.model) is ADict  # no guard for registered keys
    assert cfg.__registered_key__ == 1 and cfg.model.__registered_key__ == 2
    cfg.__registered_key__ = 7
    assert pickle.loads(pickle.dumps(cfg)).__registered_key__ == 7


@pytest.mark.parametrize("bad", ["plain", "__x", "x__", "____", 5, None])
def test_register_attribute_keys_takes_dunder_strings_only(bad: object) -> None:
    before = attribute_keys()
    with pytest.raises(TypeError, match="__name__"):
        register_attribute_keys(["__fine_one__", bad])  # type: ignore[list-item]
    assert attribute_keys() == before  # nothing registered


def test_guard_survives_freeze_auto_and_tracking() -> None:
    cfg = ADict({"__reduce_ex__": 1, "a": {"b": 1}})
    cfg.freeze()
    assert pickle.loads(pickle.dumps(cfg)) == cfg and ADict.frozen(copy.deepcopy(cfg))
    cfg.defrost().set_auto(True)
    cfg.new.deep = 1
    assert copy.deepcopy(cfg) == cfg
    cfg.set_auto(False).track_access()
    assert cfg.a.b == 1 and "a.b" in ADict.accessed_keys(cfg)
    assert pickle.loads(pickle.dumps(cfg)) == cfg


dunder = st.from_regex(r"__[a-z][a-z_]{0,10}__", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.one_of(dunder, st.text(max_size=5)), st.integers(), max_size=6))
def test_any_keys_pickle_and_deepcopy(data: dict) -> None:
    cfg = ADict({"outer": data, **data})
    for copied in _copies(cfg):
        assert copied == cfg
    for key in data:
        if (
            key.startswith("__")
            and key.endswith("__")
            and key not in attribute_keys()
            and len(key) > 4
        ):
            assert type(getattr(cfg, key, None)) is not int  # never the key's value
