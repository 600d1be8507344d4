"""TOML files."""

from __future__ import annotations

import pytest

from ato.adict import ADict, ConfigFileError, load_file


def test_reads_toml_tables_and_arrays_of_tables(write):
    path = write(
        "c.toml",
        """
        name = "run"
        [model]
        lr = 1e-3
        [[model.heads]]
        kind = "linear"
        """,
    )
    assert load_file(path) == {"name": "run", "model": {"lr": 0.001, "heads": [{"kind": "linear"}]}}


def test_malformed_toml_names_file_and_line(write):
    path = write("bad.toml", 'a = 1\nb = "x"\nc = = 3\n')
    with pytest.raises(ConfigFileError, match="invalid TOML") as info:
        load_file(path)
    assert info.value.line == 3 and "bad.toml, line 3" in str(info.value)


def test_none_cannot_be_written_and_the_key_is_named(tmp_path):
    path = tmp_path / "o.toml"
    with pytest.raises(ConfigFileError, match=r"'model\.opt\.wd' is None"):
        ADict(model={"opt": {"wd": None}}).dump(path)
    with pytest.raises(ConfigFileError, match=r"'xs\.1' is None"):
        ADict(xs=[1, None]).dump(path)
    assert not path.exists()


def test_dump_round_trip_nested_lists(tmp_path):
    data = {"a": [[1, 2], [3]], "t": {"u": {"v": "w"}}, "mixed": [1, "a"]}
    path = tmp_path / "o.toml"
    ADict(data).dump(path)
    assert load_file(path) == data
