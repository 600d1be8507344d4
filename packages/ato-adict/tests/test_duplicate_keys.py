"""One rule for every format: a key written twice in one mapping is refused, naming it and
the line."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ato.adict import ConfigFileError, load_file


@pytest.mark.parametrize(
    ("name", "text", "key", "line"),
    [
        ("top.json", '{"a": 1,\n "b": 2,\n "a": 3}', "a", 3),
        ("nested.json", '{"a": {"x": 1,\n  "y": [{"z": 1}, {"z": 2}],\n  "x": 2}}', "x", 3),
        ("escaped.json", '{"a\\u0062": 1,\n "ab": 2}', "ab", 2),
        ("top.yaml", "a: 1\nb: 2\na: 3\n", "a", 3),
        ("nested.yaml", "m:\n  x: 1\n  y: {z: 1}\n  x: 2\n", "x", 4),
        ("flow.yaml", "m: {x: 1, x: 2}\n", "x", 1),
        ("quoted.yaml", "a: 1\n'a': 2\n", "a", 2),
        ("number.yaml", "1: one\n01: also one\n", 1, 2),
        ("bool.yaml", "yes: 1\ntrue: 2\n", True, 2),
        ("top.toml", "a = 1\nb = 2\na = 3\n", "a", 3),
        ("table.toml", "[t]\nx = 1\n[t]\ny = 2\n", "('t',)", 3),
        ("inline.toml", "t = {x = 1, x = 2}\n", "x", 1),
        ("top.xyz", "a: 1\nb: 2\na: 3\n", "a", 3),
        ("nested.xyz", "m:\n  x: 1\n  x: 2\n", "x", 3),
    ],
)
def test_duplicate_keys_are_refused_naming_key_and_line(write, name, text, key, line):
    path = write(name, text)
    with pytest.raises(ConfigFileError, match="duplicate") as info:
        load_file(path)
    assert info.value.line == line and info.value.path == str(path)
    assert (repr(key) if not isinstance(key, str) or "(" not in key else key) in str(info.value)


def test_yaml_merge_keys_may_be_overridden_by_the_mapping_itself(write):
    text = "base: &b {lr: 0.1, wd: 0}\nrun:\n  <<: *b\n  lr: 0.2\n"
    assert load_file(write("m.yaml", text))["run"] == {"lr": 0.2, "wd": 0}


def test_the_same_key_in_different_mappings_is_fine(write):
    assert load_file(write("ok.json", '{"a": {"x": 1}, "b": {"x": 2}}')) == {
        "a": {"x": 1},
        "b": {"x": 2},
    }
    assert load_file(write("ok.yaml", "a: {x: 1}\nb: [{x: 1}, {x: 2}]\n"))["b"][1] == {"x": 2}


def test_python_configs_follow_python_a_later_assignment_wins(write):
    assert load_file(write("c.py", "a = 1\na = 2\n")) == {"a": 2}


YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}  # not string keys
names_ = st.from_regex(r"[a-z]{1,6}", fullmatch=True).filter(lambda k: k not in YAML_WORDS)
keys = st.lists(names_, min_size=1, max_size=8, unique=True)


def _lines(fmt: str, key: str, value: int) -> str:
    if fmt == "json":
        return f"{json.dumps(key)}: {value},"
    if fmt == "toml":
        return f"{key} = {value}"
    return f"{key}: {value}"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=keys,
    data=st.data(),
    fmt=st.sampled_from(["json", "yaml", "toml", "xyz"]),
)
def test_a_repeated_key_anywhere_is_reported_at_its_second_line(write, names, data, fmt):
    repeated = data.draw(st.sampled_from(names))
    position = data.draw(st.integers(names.index(repeated) + 1, len(names)))
    order = [*names[:position], repeated, *names[position:]]
    body = [_lines(fmt, k, i) for i, k in enumerate(order)]
    if fmt == "json":
        body = ["{", *body, '"zz_end": 0', "}"]
    path = write(f"d.{fmt}", "\n".join(body) + "\n")
    with pytest.raises(ConfigFileError, match=f"duplicate key '{repeated}'") as info:
        load_file(path)
    offset = 2 if fmt == "json" else 1
    assert info.value.line == position + offset
