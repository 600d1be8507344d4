"""Structural repr/hash: keys and value types only, stable across processes."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import example, given
from hypothesis import strategies as st

from ato.adict import ADict

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
keys = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)
configs = st.recursive(
    st.dictionaries(keys, scalars, max_size=4),
    lambda inner: st.dictionaries(keys, inner | scalars, min_size=1, max_size=4),
    max_leaves=12,
)


def _same_types_new_values(value):
    if isinstance(value, dict):
        return {k: _same_types_new_values(v) for k, v in value.items()}
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2 + 1.5
    if isinstance(value, str):
        return value + "x"
    return value


def _reversed_order(value):
    if isinstance(value, dict):
        return {k: _reversed_order(value[k]) for k in reversed(list(value))}
    return value


def test_structural_repr_lists_sorted_paths_and_type_names():
    cfg = ADict(model={"lr": 0.1, "name": "r"}, epochs=1, tags=[1, 2], empty={}, none=None)
    assert cfg.get_structural_repr().splitlines() == [
        "empty: dict",
        "epochs: int",
        "model.lr: float",
        "model.name: str",
        "none: NoneType",
        "tags: list",
    ]


def test_hash_is_sha256_hex_and_stable_across_processes():
    cfg = ADict(a={"b": 1}, c="x")
    code = "from ato.adict import ADict; print(ADict(c='y', a={'b': 7}).get_structural_hash())"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    digest = cfg.get_structural_hash()
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert other.stdout.strip() == digest


@given(configs)
def test_hash_ignores_values_and_key_order(data):
    digest = ADict(data).get_structural_hash()
    assert ADict(_same_types_new_values(data)).get_structural_hash() == digest
    assert ADict(_reversed_order(data)).get_structural_hash() == digest


@given(configs, keys)
def test_hash_changes_with_a_key_name(data, new_key):
    cfg = ADict(data)
    renamed = ADict(data)
    renamed[new_key + "_renamed"] = 0
    assert renamed.get_structural_hash() != cfg.get_structural_hash()
    if data:
        first = next(iter(data))
        moved = ADict({(k + "Z" if k == first else k): v for k, v in data.items()})
        assert moved.get_structural_hash() != cfg.get_structural_hash()


@given(configs.filter(bool))
def test_hash_changes_with_a_value_type(data):
    cfg = ADict(data)
    key = next(iter(data))
    changed = ADict(data)
    changed[key] = "a string" if not isinstance(data[key], str) else 1
    assert changed.get_structural_hash() != cfg.get_structural_hash()


# Keys chosen to collide if paths were joined naively: dots, colons, quotes, ints vs strings.
tricky_keys = st.sampled_from(["a", "b", "a.b", "", "1", 1, ":", "a: int", '"a"', "[1]", True])
tricky_configs = st.recursive(
    st.dictionaries(tricky_keys, st.integers() | st.text(max_size=2) | st.lists(st.none())),
    lambda inner: st.dictionaries(tricky_keys, inner, max_size=3),
    max_leaves=8,
)


def _shape(value):
    """The structure the hash must capture, as a comparable value."""
    if isinstance(value, dict):
        if not value:
            return "dict"
        return frozenset((type(k), k, _shape(v)) for k, v in value.items())
    return "list" if isinstance(value, list) else type(value).__name__


@given(tricky_configs, tricky_configs)
@example({"a.b": 1}, {"a": {"b": 2}})
@example({1: 0}, {"1": 0})
@example({"a: int": 1}, {"a": 1})
@example({"a": {"b": 1}}, {"a": {"b": 2}})
def test_equal_hash_exactly_when_equal_structure(first, second):
    same_hash = ADict(first).get_structural_hash() == ADict(second).get_structural_hash()
    assert same_hash == (_shape(first) == _shape(second))


def test_dotted_keys_and_int_keys_do_not_collide_with_nesting_and_strings():
    assert ADict({"a.b": 1}).get_structural_hash() != ADict(a={"b": 1}).get_structural_hash()
    assert ADict({1: 0}).get_structural_hash() != ADict({"1": 0}).get_structural_hash()
    assert ADict({"a.b": 1, 2: "x"}).get_structural_repr() == '"a.b": int\n[2]: str'
