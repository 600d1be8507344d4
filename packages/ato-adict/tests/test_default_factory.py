"""``ADict(default=factory)``: ato 2.x's default factory creates missing keys."""

from __future__ import annotations

import copy
import pickle

import pytest

from ato.adict import ADict, ConfigKeyError, FrozenConfigError


def test_nested_factory_nests_without_limit():
    cfg = ADict(default=lambda: ADict.auto())
    cfg.training.optimizer.name = "AdamW"
    cfg["model"]["encoder"]["layers"] = 12
    assert cfg.to_dict() == {
        "training": {"optimizer": {"name": "AdamW"}},
        "model": {"encoder": {"layers": 12}},
    }


def test_one_level_factory_like_2x():
    cfg = ADict(default=ADict)
    cfg.model.depth = 50
    assert cfg.model == {"depth": 50}
    with pytest.raises(ConfigKeyError):
        _ = cfg.model.width  # the child is a plain ADict


@pytest.mark.parametrize(
    ("factory", "created"),
    [(list, []), (int, 0), (dict, {}), (lambda: {"lr": 0.1}, {"lr": 0.1}), (str, "")],
)
def test_missing_keys_are_created_and_stored(factory, created):
    cfg = ADict({"kept": 1}, default=factory)
    assert cfg.new == created and cfg["other"] == created
    assert cfg.to_dict() == {"kept": 1, "new": created, "other": created}
    assert "default" not in cfg


def test_created_values_are_updated_in_place():
    counts = ADict(default=int)
    for word in ["a", "b", "a", "c", "a"]:
        counts[word] += 1
    groups = ADict(default=list)
    groups.even.append(2)
    groups["odd"].append(1)
    assert counts == {"a": 3, "b": 1, "c": 1} and groups == {"even": [2], "odd": [1]}
    assert isinstance(ADict(default=dict).child, ADict)  # mappings become ADicts


@pytest.mark.parametrize("value", [0, None, "x", [1], {"a": 1}])
def test_only_a_callable_default_is_a_factory(value):
    cfg = ADict(default=value)
    assert dict(cfg) == {"default": value}
    with pytest.raises(ConfigKeyError):
        _ = cfg.missing
    assert ADict(default=lambda: value).missing == value


def test_membership_get_and_dunders_create_nothing():
    cfg = ADict(default=list)
    assert "a" not in cfg and cfg.get("a") is None and cfg.get("a", 5) == 5
    assert not hasattr(cfg, "__array__") and "__array__" not in cfg
    assert cfg["x", "y"] == [[], []]
    assert list(cfg) == ["x", "y"]


def test_frozen_creates_nothing_and_defrost_restores_the_factory():
    cfg = ADict(lr=0.1, default=list).freeze()
    with pytest.raises(ConfigKeyError, match="frozen"):
        _ = cfg.missing
    with pytest.raises(FrozenConfigError):
        cfg.lr = 1
    cfg.defrost()
    assert cfg.missing == [] and "missing" in cfg


@pytest.mark.parametrize("duplicate", [copy.copy, copy.deepcopy, ADict.clone, ADict.copy])
def test_copies_keep_the_factory(duplicate):
    cfg = ADict(a=1, default=list)
    twin = duplicate(cfg)
    twin.items_.append(1)
    assert twin == {"a": 1, "items_": [1]} and cfg == {"a": 1}


def test_pickling_refuses_with_a_way_out():
    cfg = ADict(a=1, default=lambda: 0)
    with pytest.raises(TypeError, match=r"ADict\(cfg\)"):
        pickle.dumps(cfg)
    assert pickle.loads(pickle.dumps(ADict(cfg))) == {"a": 1}


def test_one_class_per_factory():
    first, second = ADict(default=list), ADict(default=list)
    assert type(first) is type(second) and type(first) is not type(ADict(default=dict))
    assert type(first).__name__ == "ADict" and isinstance(first, ADict)
