"""ADict.auto(): reading a missing key creates a nested child."""

from __future__ import annotations

import copy
import pickle

import pytest

from ato.adict import ADict, ConfigKeyError


def test_deep_assignment_creates_parents():
    cfg = ADict.auto()
    cfg.model.backbone.depth = 50
    cfg["data"]["augment"]["flip"] = True
    assert cfg.to_dict() == {
        "model": {"backbone": {"depth": 50}},
        "data": {"augment": {"flip": True}},
    }
    assert cfg.is_auto and cfg.model.backbone.is_auto


def test_auto_accepts_initial_content_and_converts_it_to_auto():
    cfg = ADict.auto({"a": {"b": 1}}, c=2)
    assert cfg.a.b == 1 and cfg.c == 2
    cfg.a.new.leaf = 3
    assert cfg.a.new.leaf == 3


def test_reading_missing_key_stores_an_empty_child():
    cfg = ADict.auto()
    child = cfg.missing
    assert child == {} and "missing" in cfg and cfg.missing is child


def test_dunder_probes_are_not_auto_created():
    cfg = ADict.auto()
    assert not hasattr(cfg, "__array__")
    assert "__array__" not in cfg
    assert copy.deepcopy(cfg) == {}


def test_plain_adict_is_not_auto():
    cfg = ADict()
    assert not cfg.is_auto
    with pytest.raises(ConfigKeyError):
        cfg.a.b = 1


def test_set_auto_switches_recursively():
    cfg = ADict(a={"b": {}})
    cfg.set_auto()
    cfg.a.b.c.d = 1
    assert cfg.a.b.c.d == 1
    cfg.set_auto(False)
    with pytest.raises(ConfigKeyError):
        _ = cfg.zzz


def test_auto_flag_survives_pickle_and_copies():
    cfg = ADict.auto(a=1)
    for other in (pickle.loads(pickle.dumps(cfg)), copy.deepcopy(cfg), cfg.copy(), cfg.clone()):
        assert other.is_auto
        other.x.y = 1
        assert other.x.y == 1


def test_frozen_auto_does_not_create():
    cfg = ADict.auto(a=1).freeze()
    with pytest.raises(ConfigKeyError, match="frozen"):
        _ = cfg.b
