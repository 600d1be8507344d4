"""raw, filter, get_path and set_path."""

from __future__ import annotations

import pytest

from ato.adict import ADict, ConfigKeyError


def test_raw_reads_without_auto_creation():
    cfg = ADict.auto(a=1)
    assert cfg.raw("a") == 1
    assert cfg.raw("b", None) is None and "b" not in cfg
    with pytest.raises(ConfigKeyError):
        cfg.raw("b")


def test_raw_reaches_a_key_shadowed_by_a_method_name():
    cfg = ADict(update=5)
    assert cfg.raw("update") == 5


def test_filter_keeps_top_level_items_matching_the_predicate():
    cfg = ADict(lr=0.1, epochs=10, name="x", model={"d": 1})
    numbers = cfg.filter(lambda k, v: isinstance(v, (int, float)))
    assert numbers == {"lr": 0.1, "epochs": 10} and type(numbers) is ADict
    assert cfg.filter(lambda k, v: k.startswith("m")).model.d == 1


def test_get_path_reads_nested_keys_and_list_indices():
    cfg = ADict(model={"layers": [{"d": 4}]})
    assert cfg.get_path("model.layers.0.d") == 4
    assert cfg.get_path("model.missing", "dflt") == "dflt"


def test_get_path_error_names_the_missing_segment():
    cfg = ADict(model={"depth": 1})
    with pytest.raises(ConfigKeyError, match=r"'dept' is not in model.*'depth'"):
        cfg.get_path("model.dept")


def test_set_path_creates_parents_as_adicts():
    cfg = ADict(model={"a": 1})
    cfg.set_path("model.enc.depth", 3)
    cfg.set_path("data.n", {"k": 1})
    assert cfg.model.enc.depth == 3 and cfg.model.a == 1
    assert type(cfg.data.n) is ADict and cfg.data.n.k == 1


def test_set_path_replaces_a_scalar_parent():
    cfg = ADict(model="resnet")
    cfg.set_path("model.depth", 50)
    assert cfg.model == {"depth": 50}
