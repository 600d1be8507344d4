"""Multi-key access: ``cfg['a', 'b']``."""

from __future__ import annotations

import pytest

from ato.adict import ADict, ConfigKeyError


def test_get_several_keys_returns_a_list_in_order():
    cfg = ADict(a=1, b=2, c=3)
    assert cfg["c", "a"] == [3, 1]


def test_set_several_keys_converts_values():
    cfg = ADict()
    cfg["a", "b"] = [1, {"c": 2}]
    assert cfg.a == 1 and cfg.b.c == 2


def test_set_with_wrong_number_of_values_raises_and_changes_nothing():
    cfg = ADict()
    with pytest.raises(ValueError, match="2 keys"):
        cfg["a", "b"] = [1, 2, 3]
    assert cfg == {}


def test_get_with_a_missing_key_raises():
    with pytest.raises(ConfigKeyError, match="'z'"):
        ADict(a=1)["a", "z"]


def test_auto_multi_get_creates_children():
    cfg = ADict.auto()
    first, second = cfg["x", "y"]
    assert first == {} and second == {} and set(cfg) == {"x", "y"}
