"""Construction, attribute/item access, nested conversion and plain-dict conversion."""

from __future__ import annotations

import json
from collections import OrderedDict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ato.adict import ADict, ConfigKeyError

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_data = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def test_construct_from_mapping_pairs_and_kwargs():
    assert ADict({"a": 1}) == {"a": 1}
    assert ADict([("a", 1), ("b", 2)]) == {"a": 1, "b": 2}
    assert ADict(a=1, b=2) == {"a": 1, "b": 2}
    assert ADict({"a": 1}, b=2) == {"a": 1, "b": 2}
    assert ADict(OrderedDict(x=1)).x == 1


@pytest.mark.parametrize("bad", [1, "ab", b"ab", 3.5, None])
def test_construct_from_non_mapping_raises_type_error(bad):
    with pytest.raises(TypeError, match="mapping"):
        ADict(bad)


def test_construct_from_bad_pairs_names_the_element():
    with pytest.raises(TypeError, match="#1"):
        ADict([("a", 1), (1, 2, 3)])


def test_two_positional_arguments_raise():
    with pytest.raises(TypeError, match=r"^ADict expected at most 1 positional argument, got 2$"):
        ADict({}, {})


def test_attribute_and_item_access_agree():
    cfg = ADict(lr=0.1)
    cfg.epochs = 10
    cfg["batch"] = 32
    assert cfg.lr == cfg["lr"] == 0.1
    assert cfg["epochs"] == 10 and cfg.batch == 32


def test_construct_from_a_plain_dict_converts_nested_values_and_leaves_the_source_alone():
    inner, child, items, marker = {"k": 1}, ADict(c=2), [{"d": 3}, 4], object()
    source = {"s": "x", "n": None, "inner": inner, "child": child, "items": items, "o": marker}
    cfg = ADict(source)
    assert list(cfg) == list(source) and cfg == source
    assert type(cfg.inner) is ADict and cfg.inner == inner and cfg.inner is not inner
    assert cfg.child is child  # an ADict value is kept, not copied
    assert type(cfg["items"][0]) is ADict and cfg["items"] is not items
    assert cfg.o is marker and cfg.s == "x" and cfg.n is None
    assert source == {
        "s": "x",
        "n": None,
        "inner": {"k": 1},
        "child": child,
        "items": [{"d": 3}, 4],
        "o": marker,
    }
    assert type(source["inner"]) is dict and type(items[0]) is dict


def test_nested_mappings_become_adicts_including_inside_lists_and_tuples():
    cfg = ADict(model={"enc": {"depth": 2}}, heads=[{"n": 1}, 3], pair=({"k": 1}, "x"))
    assert type(cfg.model) is ADict and cfg.model.enc.depth == 2
    assert type(cfg.heads[0]) is ADict and cfg.heads[0].n == 1 and cfg.heads[1] == 3
    assert isinstance(cfg.pair, tuple) and cfg.pair[0].k == 1
    cfg.extra = {"a": [{"b": 2}]}
    assert cfg.extra.a[0].b == 2
    cfg["item"] = {"c": 3}
    assert cfg.item.c == 3


def test_missing_key_is_key_and_attribute_error_with_suggestion():
    cfg = ADict(learning_rate=0.1)
    with pytest.raises(ConfigKeyError, match="Did you mean 'learning_rate'"):
        _ = cfg.learning_rat
    with pytest.raises(KeyError):
        cfg["nope"]
    with pytest.raises(AttributeError):
        _ = cfg.nope
    assert not hasattr(cfg, "nope")
    assert getattr(cfg, "nope", 5) == 5
    assert cfg.get("nope", 7) == 7


def test_missing_key_on_empty_adict_says_empty():
    with pytest.raises(ConfigKeyError, match="empty"):
        _ = ADict().x


def test_key_named_like_a_method_shadows_it_for_attributes_only():
    cfg = ADict(items=3)
    assert cfg.items == 3
    assert list(ADict.items(cfg)) == [("items", 3)]
    assert cfg["items"] == 3


def test_delete_by_attribute_and_item():
    cfg = ADict(a=1, b=2)
    del cfg.a
    del cfg["b"]
    assert cfg == {}


def test_to_dict_returns_plain_nested_containers():
    cfg = ADict(a={"b": [{"c": 1}]}, t=(1, {"d": 2}))
    plain = cfg.to_dict()
    assert plain == {"a": {"b": [{"c": 1}]}, "t": (1, {"d": 2})}
    assert type(plain["a"]) is dict and type(plain["a"]["b"][0]) is dict
    assert type(plain["t"][1]) is dict


@given(st.dictionaries(st.text(), json_data, max_size=6))
def test_to_dict_round_trips_json_like_data(data):
    assert ADict(data).to_dict() == data


def test_json_serializes_and_passes_options():
    cfg = ADict(b=1, a={"c": None})
    assert json.loads(cfg.json()) == {"b": 1, "a": {"c": None}}
    assert cfg.json(sort_keys=True) == '{"a": {"c": null}, "b": 1}'


def test_merge_operators_return_adicts():
    merged = ADict(a=1) | {"b": {"c": 2}}
    assert type(merged) is ADict and merged.b.c == 2
    left = {"x": 1} | ADict(y=2)
    assert type(left) is ADict and left == {"x": 1, "y": 2}
    cfg = ADict(a=1)
    cfg |= {"n": {"m": 1}}
    assert cfg.n.m == 1


def test_setdefault_converts_and_returns_stored_value():
    cfg = ADict()
    child = cfg.setdefault("opt", {"lr": 1})
    assert type(child) is ADict and child is cfg.opt
    assert cfg.setdefault("opt", {"lr": 2}).lr == 1


def test_repr_shows_adict():
    assert repr(ADict(a=ADict(b=1))) == "ADict({'a': ADict({'b': 1})})"


def test_is_a_real_dict():
    cfg = ADict(a=1)
    assert isinstance(cfg, dict)
    assert json.dumps(cfg) == '{"a": 1}'
    assert vars(cfg) is cfg


def test_keywords_named_self_and_cls_are_keys():
    assert ADict(self=1, cls=2) == {"self": 1, "cls": 2}
    assert ADict.auto(self=1).self == 1
    cfg = ADict()
    cfg.update(self={"a": 1})
    cfg.update_if_absent(cls=3)
    assert cfg.self.a == 1 and cfg.cls == 3
