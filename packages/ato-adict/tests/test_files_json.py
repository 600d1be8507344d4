"""JSON files."""

from __future__ import annotations

import json

import pytest

from ato.adict import ADict, ConfigFileError, load_file


def test_reads_json(write):
    path = write("c.json", '{"a": {"b": [1, 2.5, null, true, "x"]}}')
    assert load_file(path) == {"a": {"b": [1, 2.5, None, True, "x"]}}


def test_malformed_json_names_file_and_line(write):
    path = write("bad.json", '{\n  "a": 1,\n  "b": \n}\n')
    with pytest.raises(ConfigFileError) as info:
        load_file(path)
    assert info.value.line == 4 and info.value.path == str(path)
    assert "bad.json, line 4" in str(info.value) and "invalid JSON" in str(info.value)


def test_dump_is_indented_utf8_and_keeps_order(tmp_path):
    path = tmp_path / "o.json"
    ADict(z=1, a="é").dump(path)
    text = path.read_text(encoding="utf-8")
    assert text == '{\n  "z": 1,\n  "a": "é"\n}\n'
    assert list(json.loads(text)) == ["z", "a"]
