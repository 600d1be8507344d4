"""Behaviour shared by every file format: dispatch, missing files, top-level checks, dump."""

from __future__ import annotations

import pytest

from ato.adict import (
    ADict,
    ConfigFileError,
    ConfigFileNotFoundError,
    UnsupportedFormatError,
    dump_file,
    load_file,
)

SAMPLE = {"model": {"lr": 0.001, "layers": [64, 128]}, "name": "run", "debug": False}


@pytest.mark.parametrize("ext", [".json", ".yaml", ".yml", ".toml", ".xyz", ".py"])
def test_from_file_and_dump_round_trip(tmp_path, ext):
    path = tmp_path / f"cfg{ext}"
    ADict(SAMPLE).dump(path)
    loaded = ADict.from_file(path)
    assert loaded == SAMPLE and type(loaded.model) is ADict


def test_extension_is_case_insensitive(tmp_path):
    path = tmp_path / "CFG.JSON"
    dump_file(SAMPLE, path)
    assert load_file(path) == SAMPLE


def test_unsupported_extension_lists_supported_ones(tmp_path):
    path = tmp_path / "cfg.ini"
    path.write_text("[a]\nb=1\n")
    with pytest.raises(UnsupportedFormatError) as info:
        load_file(path)
    for ext in (".json", ".yaml", ".yml", ".toml", ".xyz", ".py"):
        assert ext in str(info.value)
    assert str(path) in str(info.value)
    with pytest.raises(UnsupportedFormatError, match=r"\.json"):
        ADict(a=1).dump(tmp_path / "out.ini")


def test_dump_to_unknown_extension_lists_writable_ones(tmp_path):
    with pytest.raises(UnsupportedFormatError, match=r"cannot write.*\.xyz, \.py"):
        dump_file({"a": 1}, tmp_path / "out.cfg")


def test_missing_file_is_a_file_not_found_error_naming_the_path(tmp_path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(FileNotFoundError) as info:
        ADict.from_file(path)
    assert isinstance(info.value, ConfigFileNotFoundError)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("list.json", "[1, 2]"),
        ("list.yaml", "- 1\n- 2\n"),
        ("scalar.yaml", "3\n"),
        ("null.yaml", "~\n"),
        ("scalar.json", '"text"'),
    ],
)
def test_top_level_must_be_a_mapping(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigFileError, match="top level must be a mapping") as info:
        load_file(path)
    assert name in str(info.value)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_yaml_file_without_a_document_is_an_empty_config(tmp_path, text):
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    assert load_file(path) == {}


def test_top_level_error_says_what_was_found(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    with pytest.raises(ConfigFileError, match="not a list"):
        load_file(path)


def test_dump_refuses_objects_naming_the_key(tmp_path):
    for ext in (".json", ".yaml", ".toml", ".xyz", ".py"):
        with pytest.raises(ConfigFileError, match=r"'model\.opt'.*object"):
            dump_file({"model": {"opt": object()}}, tmp_path / f"o{ext}")


def test_dump_refuses_non_string_keys(tmp_path):
    with pytest.raises(ConfigFileError, match="string keys"):
        dump_file({1: "a"}, tmp_path / "o.json")


def test_dump_writes_tuples_as_lists(tmp_path):
    path = tmp_path / "t.json"
    ADict(a=(1, 2)).convert_to_immutable().dump(path)
    assert load_file(path) == {"a": [1, 2]}


def test_non_utf8_file_is_reported(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(ConfigFileError, match="UTF-8"):
        load_file(path)


def test_error_types_fit_builtin_excepts():
    assert issubclass(ConfigFileError, ValueError)
    assert issubclass(UnsupportedFormatError, ConfigFileError)


# -- a UTF-8 byte order mark is not part of the config (issue 29, item 12) ------------------
BOM_TEXTS = {
    ".json": '{"lr": 0.1, "name": "a\ufeffb"}',
    ".yaml": 'lr: 0.1\nname: "a\ufeffb"\n',
    ".yml": 'lr: 0.1\nname: "a\ufeffb"\n',
    ".toml": 'lr = 0.1\nname = "a\ufeffb"\n',
    ".xyz": "lr: 0.1\nname: a\ufeffb\n",
    ".py": "lr = 0.1\nname = 'a\\ufeffb'\n",
}


@pytest.mark.parametrize("ext", sorted(BOM_TEXTS))
def test_a_leading_byte_order_mark_is_ignored_by_every_loader(tmp_path, ext):
    path = tmp_path / f"cfg{ext}"
    path.write_bytes(b"\xef\xbb\xbf" + BOM_TEXTS[ext].encode("utf-8"))
    assert load_file(path) == {"lr": 0.1, "name": "a\ufeffb"}  # only the leading mark goes


@pytest.mark.parametrize("ext", [".yaml", ".toml", ".xyz"])
def test_a_byte_order_mark_does_not_hide_a_package_header(tmp_path, ext):
    from ato.adict import compose_hierarchy

    body = {".yaml": "name: vit\n", ".toml": 'name = "vit"\n', ".xyz": "name: vit\n"}[ext]
    (tmp_path / "model").mkdir()
    text = "# @package _global_.net\n" + body
    (tmp_path / "model" / f"vit{ext}").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert compose_hierarchy(tmp_path, None, select={"model": "vit"}) == {"net": {"name": "vit"}}


def test_xyz_text_and_streams_ignore_a_leading_byte_order_mark(tmp_path):
    import io
    import warnings

    from ato.adict.xyz import loads

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the 2.x module path, still served
        from ato import xyz

    text = "\ufefflr: 0.1\nlayers:\n  0) 64\n"
    expected = {"lr": 0.1, "layers": [64]}
    assert loads(text) == expected
    assert xyz.loads(text) == expected
    assert xyz.loads(text.encode("utf-8")) == expected
    assert xyz.load(io.BytesIO(text.encode("utf-8"))) == expected
    assert xyz.load(io.StringIO(text)) == expected
    path = tmp_path / "cfg.xyz"
    path.write_text(text, encoding="utf-8")
    assert xyz.load(path) == expected
