"""YAML files: safe loading only."""

from __future__ import annotations

import datetime

import pytest

from ato.adict import ADict, ConfigFileError, load_file


def test_reads_yaml_and_yml(write):
    text = "model:\n  lr: 1.0e-3\n  layers: [1, 2]\nname: ~\n"
    for name in ("c.yaml", "c.yml"):
        assert load_file(write(name, text)) == {
            "model": {"lr": 0.001, "layers": [1, 2]},
            "name": None,
        }


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['echo hi']",
        "!!python/object:builtins.dict {}",
        "!!python/name:os.system",
        "!!python/tuple [1, 2]",
    ],
)
def test_python_object_tags_are_refused(write, tag):
    path = write("evil.yaml", f"safe: 1\npayload: {tag}\n")
    with pytest.raises(ConfigFileError, match="refused YAML tag") as info:
        load_file(path)
    assert info.value.line == 2 and "evil.yaml" in str(info.value)


def test_malformed_yaml_names_file_and_line(write):
    path = write("bad.yaml", "a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(ConfigFileError, match="invalid YAML") as info:
        load_file(path)
    assert info.value.line == 3 and "bad.yaml, line 3" in str(info.value)


def test_bad_indentation_is_reported_with_line(write):
    path = write("indent.yaml", "a:\n  b: 1\n c: 2\n")
    with pytest.raises(ConfigFileError) as info:
        load_file(path)
    assert info.value.line == 3


def test_dump_keeps_key_order(tmp_path):
    path = tmp_path / "o.yaml"
    ADict(z=1, a={"b": 2}).dump(path)
    assert path.read_text().splitlines()[0] == "z: 1"
    assert list(load_file(path)) == ["z", "a"]


def test_dates_are_refused_by_the_yaml_writer_since_yaml_dates_read_back_as_text(tmp_path):
    path = tmp_path / "o.yaml"
    with pytest.raises(ConfigFileError, match=r"key 'a\.when'.*isoformat") as info:
        ADict(a={"when": datetime.date(2024, 1, 2)}).dump(path)
    assert info.value.path == str(path) and not path.exists()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: 1\n? [1, 2]\n: x\n", "unhashable key"),
        ("a: 1\nb:\n  <<: [1, 2]\n", "expected a mapping for merging"),
    ],
)
def test_construction_errors_that_are_not_tags_are_invalid_yaml(write, text, problem):
    with pytest.raises(ConfigFileError, match=f"invalid YAML: .*{problem}") as info:
        load_file(write("c.yaml", text))
    assert info.value.line is not None and "tag" not in str(info.value)
