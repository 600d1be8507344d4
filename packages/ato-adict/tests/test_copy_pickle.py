"""Pickle, copy, deepcopy and clone."""

from __future__ import annotations

import copy
import pickle

from ato.adict import ADict


def _sample():
    return ADict(model={"lr": 0.1, "layers": [{"d": 1}, 2]}, name="x")


def test_pickle_round_trip_keeps_types_and_attribute_access():
    cfg = _sample()
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(cfg, protocol=protocol))
        assert back == cfg and type(back) is ADict
        assert back.model.layers[0].d == 1
        back.extra = {"a": 1}
        assert back.extra.a == 1


def test_pickle_keeps_frozen_flag():
    back = pickle.loads(pickle.dumps(_sample().freeze()))
    assert back.frozen and back.model.frozen


def test_deepcopy_and_clone_are_independent():
    cfg = _sample()
    for other in (copy.deepcopy(cfg), cfg.clone()):
        other.model.layers[0].d = 99
        other.model.lr = 1.0
        assert cfg.model.layers[0].d == 1 and cfg.model.lr == 0.1
        assert type(other.model) is ADict


def test_deepcopy_keeps_shared_references_shared():
    shared = ADict(v=1)
    cfg = ADict(a=shared, b=shared)
    cfg.a = shared
    cfg.b = shared
    other = copy.deepcopy(cfg)
    assert other.a is other.b


def test_shallow_copy_shares_children():
    cfg = _sample()
    for other in (copy.copy(cfg), cfg.copy()):
        assert type(other) is ADict and other.model is cfg.model
        other.name = "y"
        assert cfg.name == "x"


class Custom(ADict):
    pass


def test_subclass_survives_pickle_and_copies():
    cfg = Custom(a={"b": 1})
    assert type(cfg.a) is Custom
    assert type(pickle.loads(pickle.dumps(cfg))) is Custom
    assert type(copy.deepcopy(cfg).a) is Custom
