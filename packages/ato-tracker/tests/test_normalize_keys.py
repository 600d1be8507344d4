"""Config keys that are not strings: stored under their string form, and never two keys
silently merged into one JSON key."""

from __future__ import annotations

import enum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ato.adict import ADict
from ato.tracker import ConfigKeyCollisionError, normalize_config


class Color(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("config", "names"),
    [
        ({1: "int", "1": "str"}, ("1", "'1'")),
        ({"a": {True: 1, "True": 2}}, ("True", "'True'")),
        ({"x": {1.5: "f", "1.5": "s"}}, ("1.5", "'1.5'")),
        (ADict({"m": {0: "a", "0": "b"}}), ("0", "'0'")),
        ({Color.RED: 1, "red": 2}, ("Color.RED", "'red'")),
    ],
)
def test_colliding_keys_raise_naming_both(config: dict, names: tuple[str, str]) -> None:
    with pytest.raises(ConfigKeyCollisionError) as info:
        normalize_config(config)
    assert all(name in str(info.value) for name in names)
    assert isinstance(info.value, ValueError)


def test_int_keys_without_collision_are_stored_as_strings() -> None:
    assert normalize_config({"demo": {0: "a", 1: "b"}, 2: [1]}) == {
        "demo": {"0": "a", "1": "b"},
        "2": [1],
    }


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.one_of(st.integers(-5, 5), st.sampled_from(["-1", "0", "1", "a", "2"])),
        st.integers(),
        max_size=6,
    )
)
def test_no_value_is_ever_dropped(data: dict) -> None:
    try:
        stored = normalize_config({"c": data})
    except ConfigKeyCollisionError:
        assert len({str(k) for k in data}) < len(data)
        return
    assert len(stored["c"]) == len(data)
    assert sorted(stored["c"].values()) == sorted(data.values())


def test_logger_refuses_a_colliding_config(tmp_path) -> None:
    from ato.tracker import SQLLogger

    config = {
        "experiment": {"project_name": "p", "sql": {"db_path": f"sqlite:///{tmp_path}/x.db"}},
        "layers": {1: 64, "1": 128},
    }
    with pytest.raises(ConfigKeyCollisionError, match="'1'"):
        SQLLogger(config).run()
