"""Integer keys and list indexes in dotted paths (get_path / set_path)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ato.adict import ADict, ConfigKeyError
from ato.adict.paths import as_int, get_path, set_path


def test_reproducer_int_key_is_found_by_path() -> None:
    assert ADict({"demo": {0: "a"}}).get_path("demo.0") == "a"


@pytest.mark.parametrize(
    ("data", "path", "expected"),
    [
        ({"a": {0: "x"}}, "a.0", "x"),
        ({"a": {-1: "neg"}}, "a.-1", "neg"),
        ({"a": {12: {"b": 1}}}, "a.12.b", 1),
        ({"a": {"0": "str", 0: "int"}}, "a.0", "str"),
        ({"a": [10, {"b": [5, 6]}]}, "a.1.b.1", 6),
        ({"a": (1, 2)}, "a.1", 2),
        ({3: {"x": 1}}, "3.x", 1),
    ],
)
def test_integer_segments(data: dict, path: str, expected: object) -> None:
    assert get_path(data, path) == expected
    assert ADict(data).get_path(path) == expected


@pytest.mark.parametrize("part", ["007", "+1", "1.0", "\u0661", " 1", "-", ""])
def test_only_canonical_integers_match_int_keys(part: str) -> None:
    assert as_int(part) is None
    assert get_path({7: "x", 1: "y", -1: "z"}, part, "missing") == "missing"


def test_missing_int_key_error_lists_the_keys_not_an_empty_config() -> None:
    with pytest.raises(ConfigKeyError, match=r"Available keys: 0, 1") as info:
        ADict({"demo": {0: "a", 1: "b"}}).get_path("demo.3")
    assert "empty" not in str(info.value)


def test_set_path_writes_int_keys_and_list_items_in_place() -> None:
    cfg = ADict({"demo": {0: "a"}, "layers": [{"w": 1}, 2]})
    cfg.set_path("demo.0", "A")
    cfg.set_path("layers.0.w", 5)
    cfg.set_path("layers.1", 9)
    cfg.set_path("demo.5", "new")  # no int key 5: a new str key
    assert cfg.to_dict() == {"demo": {0: "A", "5": "new"}, "layers": [{"w": 5}, 9]}


def test_set_path_out_of_range_index_is_an_error_not_a_lost_list() -> None:
    cfg = ADict(layers=[1, 2])
    with pytest.raises(ConfigKeyError, match="not an index of the list at 'layers'"):
        cfg.set_path("layers.5", 1)
    with pytest.raises(ConfigKeyError):
        cfg.set_path("layers.x.y", 1)
    assert cfg.layers == [1, 2]


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.one_of(st.integers(-50, 50), st.text(alphabet="abc", min_size=1, max_size=3)),
        st.integers(),
        min_size=1,
        max_size=8,
    )
)
def test_every_key_is_reachable_by_its_path(inner: dict) -> None:
    data = {"root": inner}
    for key, value in inner.items():
        path = f"root.{key}"
        str_twin = isinstance(key, int) and str(key) in inner
        assert get_path(data, path) == (inner[str(key)] if str_twin else value)
        copy = {"root": dict(inner)}
        set_path(copy, path, "changed")
        target = str(key) if str_twin else key
        assert copy["root"][target] == "changed" and len(copy["root"]) == len(inner)
