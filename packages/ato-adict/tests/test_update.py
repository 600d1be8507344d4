"""update (shallow and recurrent) and update_if_absent."""

from __future__ import annotations

import pytest

from ato.adict import ADict


def test_shallow_update_replaces_nested_mapping():
    cfg = ADict(model={"lr": 0.1, "depth": 2})
    cfg.update({"model": {"lr": 0.5}})
    assert cfg.model == {"lr": 0.5}
    assert type(cfg.model) is ADict


def test_recurrent_update_merges_nested_mappings():
    cfg = ADict(model={"lr": 0.1, "depth": 2}, name="a")
    cfg.update({"model": {"lr": 0.5, "opt": {"b": 1}}}, recurrent=True, name="b")
    assert cfg.to_dict() == {"model": {"lr": 0.5, "depth": 2, "opt": {"b": 1}}, "name": "b"}


def test_recurrent_update_replaces_when_types_differ():
    cfg = ADict(model={"lr": 0.1})
    cfg.update(model=3, recurrent=True)
    assert cfg.model == 3
    cfg.update(model={"x": 1}, recurrent=True)
    assert cfg.model.x == 1


def test_update_accepts_pairs_and_kwargs():
    cfg = ADict()
    cfg.update([("a", {"b": 1})], c=2)
    assert cfg.a.b == 1 and cfg.c == 2


def test_update_rejects_two_positionals():
    with pytest.raises(
        TypeError, match=r"^update\(\) expected at most 1 positional argument, got 2$"
    ):
        ADict().update({}, {})


def test_update_if_absent_never_overwrites():
    cfg = ADict(lr=0.1, epochs=10)
    cfg.update_if_absent(lr=0.01, scheduler="cosine")
    assert cfg == {"lr": 0.1, "epochs": 10, "scheduler": "cosine"}


def test_update_if_absent_fills_nested_keys():
    cfg = ADict(model={"lr": 0.1})
    cfg.update_if_absent({"model": {"lr": 9, "depth": 3}, "data": {"n": 1}})
    assert cfg.to_dict() == {"model": {"lr": 0.1, "depth": 3}, "data": {"n": 1}}
    assert type(cfg.data) is ADict


def test_update_if_absent_keeps_non_mapping_over_mapping():
    cfg = ADict(model="resnet")
    cfg.update_if_absent(model={"depth": 50})
    assert cfg.model == "resnet"
