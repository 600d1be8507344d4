"""Configs whose keys have the names of ADict/dict methods or flags still work in ato's code.

An ADict's keys are its instance attributes, so ``cfg.items`` is the value of the key
``items``. Every ato code path must therefore reach methods through the class, never the
instance; these tests put such keys at the top level and nested, and run each path.
"""

from __future__ import annotations

import copy
import pickle

import pytest

from ato.adict import ADict, FrozenConfigError, dump_file, load_file
from ato.adict.xyz import loads

SHADOWING = [
    "items",
    "keys",
    "values",
    "get",
    "update",
    "update_if_absent",
    "filter",
    "copy",
    "clone",
    "to_dict",
    "json",
    "raw",
    "dump",
    "freeze",
    "defrost",
    "frozen",
    "is_auto",
    "convert_to_immutable",
    "set_path",
    "get_path",
    "accessed_keys",
    "get_minimal_config",
    "track_access",
    "_set_many",
]


def _plain(name):
    return {name: 1, "model": {name: 2, "lr": 0.1}, "layers": [{name: 3}]}


@pytest.fixture(params=SHADOWING)
def name(request):
    return request.param


def test_attribute_read_returns_the_value_and_method_stays_reachable(name):
    cfg = ADict(_plain(name))
    assert getattr(cfg, name) == 1 and getattr(cfg.model, name) == 2
    setattr(cfg, name, 5)
    assert getattr(cfg, name) == 5 and cfg[name] == 5


def test_conversion_copies_and_pickle(name):
    cfg = ADict(_plain(name))
    expected = _plain(name)
    assert cfg.__class__.to_dict(cfg) == expected
    assert ADict(cfg) == expected and type(ADict(cfg).model) is ADict
    assert ADict.auto(cfg) == expected
    for other in (copy.copy(cfg), copy.deepcopy(cfg), ADict.clone(cfg), ADict.copy(cfg)):
        assert other == expected and type(other) is ADict
    back = pickle.loads(pickle.dumps(cfg))
    assert back == expected and getattr(back.model, name) == 2


def test_merges(name):
    cfg = ADict(_plain(name))
    ADict.update(cfg, {"model": {"depth": 4}}, recurrent=True)
    ADict.update_if_absent(cfg, {"model": {"width": 8, name: 99}})
    assert cfg.model == {name: 2, "lr": 0.1, "depth": 4, "width": 8}
    merged = cfg | {"extra": {name: 7}}
    assert type(merged) is ADict and merged.extra[name] == 7
    merged = {"first": 0} | cfg
    assert type(merged) is ADict and merged[name] == 1
    cfg |= {"more": 1}
    assert cfg.more == 1


def test_freeze_defrost_and_immutable(name):
    cfg = ADict(_plain(name))
    ADict.freeze(cfg)
    assert ADict.frozen(cfg) and ADict.frozen(cfg.model)
    with pytest.raises(FrozenConfigError):
        cfg[name] = 0
    with pytest.raises(FrozenConfigError):
        cfg.model.lr = 0
    ADict.defrost(cfg)
    assert not ADict.frozen(cfg.model)
    ADict.convert_to_immutable(cfg)
    assert ADict.frozen(cfg.layers[0]) and isinstance(cfg.layers, tuple)


def test_structural_hash_xyz_and_json(name):
    cfg = ADict(_plain(name))
    lines = ADict.get_structural_repr(cfg).splitlines()
    assert f"model.{name}: int" in lines and "layers: list" in lines
    assert ADict.get_structural_hash(cfg) == ADict.get_structural_hash(ADict(_plain(name)))
    assert loads(ADict.to_xyz(cfg)) == _plain(name)
    assert ADict.json(cfg, sort_keys=True).startswith('{"' if name > "_" else '{"_')


@pytest.mark.parametrize("ext", [".json", ".yaml", ".toml", ".xyz"])
def test_dump_and_load_every_format(tmp_path, name, ext):
    cfg = ADict(_plain(name))
    path = tmp_path / f"c{ext}"
    ADict.dump(cfg, path)
    assert ADict.from_file(path) == _plain(name)
    dump_file(cfg, tmp_path / f"direct{ext}")
    assert load_file(tmp_path / f"direct{ext}") == _plain(name)


def test_paths(name):
    cfg = ADict(_plain(name))
    ADict.set_path(cfg, f"model.{name}", 5)
    ADict.set_path(cfg, f"{name}_group.sub.x", 1)
    assert ADict.get_path(cfg, f"model.{name}") == 5
    assert cfg[f"{name}_group"].sub.x == 1


def test_access_tracking(name):
    cfg = ADict(_plain(name))
    ADict.track_access(cfg)
    _ = cfg[name]
    _ = getattr(cfg.model, name)
    assert ADict.accessed_keys(cfg) == sorted([name, "model", f"model.{name}"])
    assert ADict.get_minimal_config(cfg) == {name: 1, "model": {name: 2}}


def test_multi_key_set_with_shadowing_keys(name):
    cfg = ADict()
    cfg[name, "b"] = [{"x": 1}, 2]
    assert cfg[name].x == 1 and cfg.b == 2


def test_mm_config_merge_into_shadowing_config(write, name):
    path = write("c.json", '{"model": {"depth": 3}}')
    cfg = ADict(_plain(name))
    assert ADict.load_mm_config(cfg, path) is cfg
    assert cfg.model == {name: 2, "lr": 0.1, "depth": 3}


def test_a_frozen_key_is_a_value_and_the_flag_is_reached_through_the_class():
    cfg = ADict(backbone={"frozen": True, "depth": 50})
    assert cfg.backbone.frozen is True
    assert ADict.frozen(cfg.backbone) is False
    cfg.backbone.frozen = False
    assert cfg.backbone.frozen is False and cfg.backbone["frozen"] is False
    ADict.freeze(cfg)
    assert cfg.backbone.frozen is False and ADict.frozen(cfg.backbone) is True


def test_builtin_dict_operations_ignore_shadowing_keys():
    cfg = ADict(keys=1, items=2, values=3, __iter__=4)
    assert dict(cfg) == {"keys": 1, "items": 2, "values": 3, "__iter__": 4}
    assert {**cfg} == dict(cfg) and list(cfg) == ["keys", "items", "values", "__iter__"]

    def takes(**kwargs):
        return kwargs

    assert takes(**cfg) == dict(cfg)
