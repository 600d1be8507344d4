"""freeze / defrost / frozen and convert_to_immutable."""

from __future__ import annotations

import pytest

from ato.adict import ADict, FrozenConfigError


def _writes(cfg):
    return [
        lambda: setattr(cfg, "a", 2),
        lambda: cfg.__setitem__("a", 2),
        lambda: cfg.__delitem__("a"),
        lambda: delattr(cfg, "a"),
        lambda: cfg.update(a=2),
        lambda: cfg.update_if_absent(z=1),
        lambda: cfg.setdefault("z", 1),
        lambda: cfg.pop("a"),
        lambda: cfg.popitem(),
        lambda: cfg.clear(),
        lambda: cfg.set_path("x.y", 1),
    ]


def test_every_write_to_a_frozen_adict_raises():
    cfg = ADict(a=1, n={"b": 2}).freeze()
    for write in _writes(cfg):
        with pytest.raises(FrozenConfigError, match="defrost"):
            write()
    with pytest.raises(FrozenConfigError):
        cfg.n.b = 3
    with pytest.raises(FrozenConfigError):
        cfg |= {"c": 1}
    assert cfg.to_dict() == {"a": 1, "n": {"b": 2}}


def test_frozen_error_is_a_type_error():
    cfg = ADict(a=1).freeze()
    with pytest.raises(TypeError, match=r"^cannot set key 'a': this ADict is frozen"):
        cfg.a = 2


def test_defrost_allows_writes_again_everywhere():
    cfg = ADict(n={"b": 2}).freeze()
    assert cfg.frozen and cfg.n.frozen
    cfg.defrost()
    assert not cfg.frozen and not cfg.n.frozen
    cfg.n.b = 3
    assert cfg.n.b == 3


def test_freeze_reaches_adicts_inside_lists():
    cfg = ADict(layers=[{"d": 1}]).freeze()
    with pytest.raises(FrozenConfigError):
        cfg.layers[0].d = 2


def test_convert_to_immutable_turns_lists_into_tuples_and_freezes():
    cfg = ADict(a=[1, [2, {"b": [3]}]]).convert_to_immutable()
    assert cfg.a == (1, (2, {"b": (3,)}))
    assert cfg.frozen and cfg.a[1][1].frozen
    with pytest.raises(FrozenConfigError):
        cfg.a[1][1].b = 1


def test_frozen_adict_still_reads_and_copies():
    cfg = ADict(a={"b": 1}).freeze()
    assert cfg.a.b == 1 and cfg.get("zz") is None
    clone = cfg.clone()
    assert clone.frozen and clone == cfg


def test_frozen_error_names_the_write_the_key_and_the_way_out():
    cfg = ADict(model={"depth": 50}).freeze()
    with pytest.raises(FrozenConfigError, match=r"cannot set key 'depth'.*defrost") as info:
        cfg.model.depth = 101
    assert "clone().defrost()" in str(info.value)
    with pytest.raises(FrozenConfigError, match=r"cannot delete key 'model'"):
        del cfg["model"]
    with pytest.raises(FrozenConfigError, match=r"cannot set path 'model\.depth'"):
        cfg.set_path("model.depth", 1)
    with pytest.raises(FrozenConfigError, match=r"cannot update"):
        cfg.update(model={})


def test_a_mutable_copy_of_a_frozen_config():
    cfg = ADict(model={"depth": 50}).freeze()
    copy = cfg.clone().defrost()
    copy.model.depth = 101
    assert cfg.model.depth == 50 and cfg.frozen and not copy.frozen
