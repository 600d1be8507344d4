"""The XYZ text format: rendering, typing of scalars, quoting and parse errors."""

from __future__ import annotations

import math

import pytest

from ato.adict import ADict, ConfigFileError, XYZSyntaxError, load_file
from ato.adict.xyz import dumps, loads


def test_renders_nested_mappings_lists_and_empty_containers():
    cfg = ADict(
        model={"name": "resnet50", "layers": [64, [1, 2]], "heads": [{"kind": "fc"}, {}]},
        tags=[],
        extra={},
    )
    assert cfg.to_xyz() == (
        "model:\n"
        "  name: resnet50\n"
        "  layers:\n"
        "    0) 64\n"
        "    1)\n"
        "      0) 1\n"
        "      1) 2\n"
        "  heads:\n"
        "    0)\n"
        "      kind: fc\n"
        "    1) [Empty Mapping]\n"
        "tags: [Empty Sequence]\n"
        "extra: [Empty Mapping]\n"
    )
    assert loads(cfg.to_xyz()) == cfg.to_dict()


def test_empty_mapping_renders_and_reads_back():
    assert dumps({}) == "[Empty Mapping]\n"
    assert loads("[Empty Mapping]\n") == {} and loads("") == {}


def test_scalars_are_typed_back():
    text = "a: None\nb: True\nc: False\nd: -12\ne: 0.5\nf: 1e-05\ng: inf\nh: nan\ni: hello world\n"
    data = loads(text)
    assert data["a"] is None and data["b"] is True and data["c"] is False
    assert data["d"] == -12 and type(data["d"]) is int
    assert data["e"] == 0.5 and data["f"] == 1e-05 and data["g"] == math.inf
    assert math.isnan(data["h"]) and data["i"] == "hello world"


@pytest.mark.parametrize(
    "text",
    [
        "12",
        "1.5",
        "None",
        "True",
        "nan",
        "-inf",
        "",
        " lead",
        "trail ",
        "two\nlines",
        '"quoted"',
        "[Empty Sequence]",
        "[Empty Mapping]",
        "tab\there",
        "1e5",
        "007",
    ],
)
def test_strings_that_would_read_back_differently_are_quoted(text):
    rendered = dumps({"k": text})
    assert rendered.startswith('k: "')
    assert loads(rendered) == {"k": text}


def test_plain_strings_stay_unquoted():
    assert dumps({"k": "resnet50", "p": "a: b", "h": "# not a comment", "u": "añ"}) == (
        "k: resnet50\np: a: b\nh: # not a comment\nu: añ\n"
    )


@pytest.mark.parametrize("key", ["", "a:b", " x", "0)", "3) y", '"q', "#c", "line\nbreak"])
def test_awkward_keys_are_quoted(key):
    rendered = dumps({key: 1})
    assert rendered.startswith('"')
    assert loads(rendered) == {key: 1}


def test_comments_and_blank_lines_are_ignored():
    assert loads("# header\n\na: 1\n  # indented comment\nb:\n  c: 2\n") == {"a": 1, "b": {"c": 2}}


def test_tuples_and_other_objects():
    assert loads(dumps({"t": (1, 2)})) == {"t": [1, 2]}
    assert loads(dumps({"o": complex(1, 2)})) == {"o": "(1+2j)"}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: 1\n b: 2\n", 2, "indentation"),
        ("a:\n    b: 1\n", 2, "exactly 2"),
        ("a:\nb: 1\n", 1, "no value"),
        ("a: 1\njust text\n", 2, "expected 'key: value'"),
        ("a: 1\na: 2\n", 2, "duplicate key 'a'"),
        ("a:\n  0) x\n  2) y\n", 3, "number 2"),
        ("a:\n  0) x\n  b: y\n", 3, "among list items"),
        ("a:\n  b: y\n  0) x\n", 3, "list item among"),
        ('"a: 1\n', 1, "quoted key"),
        ('a: "x\n', 1, "quoted string"),
        ('a: "x" y\n', 1, "after a quoted string"),
        ("0) 1\n", 1, "top level is a list"),
        ("a:\n\t b: 1\n", 2, "tabs"),
        ("  a: 1\n", 1, "indented"),
    ],
)
def test_parse_errors_name_the_line(text, line, message):
    with pytest.raises(XYZSyntaxError, match=message) as info:
        loads(text, path="conf.xyz")
    assert info.value.line == line
    assert f"conf.xyz, line {line}" in str(info.value)


def test_malformed_xyz_file_names_file_and_line(write):
    path = write("bad.xyz", "model:\n  lr: 1\n   depth: 2\n")
    with pytest.raises(ConfigFileError) as info:
        load_file(path)
    assert info.value.line == 3 and "bad.xyz" in str(info.value)


def test_dumps_needs_a_mapping():
    with pytest.raises(TypeError, match=r"^xyz\.dumps\(\) needs a mapping, not list$"):
        dumps([1, 2])
