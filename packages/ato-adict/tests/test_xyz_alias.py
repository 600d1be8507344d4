"""``ato.xyz``: the ato 2.x module path, on strings, paths and open files."""

from __future__ import annotations

import importlib
import io
import sys
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ato.adict import ADict, XYZSyntaxError


def _alias():
    sys.modules.pop("ato.xyz", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module("ato.xyz")
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    return module


xyz = _alias()
CONFIG = {"model": {"name": "resnet50", "layers": [64, 128]}, "lr": 0.001, "tags": [], "x": None}


def test_import_warns_and_names_the_new_spelling() -> None:
    sys.modules.pop("ato.xyz", None)
    with pytest.warns(DeprecationWarning, match="ato.adict"):
        importlib.import_module("ato.xyz")


def test_strings() -> None:
    text = xyz.dumps(CONFIG)
    assert text == ADict(CONFIG).to_xyz()
    loaded = xyz.loads(text)
    assert isinstance(loaded, ADict) and loaded == CONFIG and loaded.model.layers == [64, 128]
    assert xyz.loads(text.encode("utf-8")) == CONFIG


def test_paths(tmp_path) -> None:
    for path in (tmp_path / "a.xyz", str(tmp_path / "b.xyz")):
        xyz.dump(CONFIG, path)
        assert xyz.load(path) == CONFIG
        assert ADict.from_file(path) == CONFIG


def test_open_files(tmp_path) -> None:
    with open(tmp_path / "t.xyz", "w", encoding="utf-8") as handle:
        xyz.dump(CONFIG, handle)
    with open(tmp_path / "t.xyz", encoding="utf-8") as handle:
        assert xyz.load(handle) == CONFIG
    with open(tmp_path / "b.xyz", "wb") as handle:
        xyz.dump(CONFIG, handle)
    with open(tmp_path / "b.xyz", "rb") as handle:
        assert xyz.load(handle) == CONFIG
    buffer = io.StringIO()
    xyz.dump(CONFIG, buffer)
    assert xyz.load(io.StringIO(buffer.getvalue())) == CONFIG


def test_errors_name_the_line(tmp_path) -> None:
    bad = tmp_path / "bad.xyz"
    bad.write_text("a:\n  b: 1\n c: 2\n")
    with pytest.raises(XYZSyntaxError, match=r"bad\.xyz"):
        xyz.load(bad)
    with pytest.raises(FileNotFoundError):
        xyz.load(tmp_path / "missing.xyz")


json_like = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(alphabet="abcxyz_", min_size=1, max_size=5), inner, max_size=3),
    ),
    max_leaves=10,
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(alphabet="abcxyz_", min_size=1, max_size=5), json_like, max_size=4))
def test_round_trip_matches_adict(data: dict) -> None:
    assert xyz.loads(xyz.dumps(data)) == data


# -- documents that are not mappings, as ato 2.x wrote them -----------------------------
@pytest.mark.parametrize(
    ("value", "text"),
    [
        ([1, 2, 3], "0) 1\n1) 2\n2) 3\n"),
        ([[1, 2], [3, [4]]], "0)\n  0) 1\n  1) 2\n1)\n  0) 3\n  1)\n    0) 4\n"),
        ([{"a": 1}, [], {}], "0)\n  a: 1\n1) [Empty Sequence]\n2) [Empty Mapping]\n"),
        ([], "[Empty Sequence]\n"),
        (5, "5\n"),
        (-0.25, "-0.25\n"),
        (None, "None\n"),
        (False, "False\n"),
        ("hello world", "hello world\n"),
        ("12", '"12"\n'),
        ("a: b", '"a: b"\n'),
        ("0) x", '"0) x"\n'),
        ("# not a comment", '"# not a comment"\n'),
        ("", '""\n'),
    ],
)
def test_lists_nested_lists_and_scalars_round_trip(value, text) -> None:
    assert xyz.dumps(value) == text
    back = xyz.loads(text)
    assert back == value and type(back) is type(value)


def test_mappings_inside_list_documents_load_as_adicts(tmp_path) -> None:
    loaded = xyz.loads("0)\n  model:\n    depth: 50\n1) 7\n")
    assert loaded == [{"model": {"depth": 50}}, 7] and loaded[0].model.depth == 50
    xyz.dump([1, [2, {"a": "b"}]], tmp_path / "list.xyz")
    assert xyz.load(tmp_path / "list.xyz") == [1, [2, {"a": "b"}]]
    xyz.dump(3.5, tmp_path / "scalar.xyz")
    assert xyz.load(tmp_path / "scalar.xyz") == 3.5


@pytest.mark.parametrize(
    ("text", "line"),
    [("0) 1\n2) 3\n", 2), ("0) 1\nkey: 2\n", 2), ("  0) 1\n", 1), ('"open\n', 1), ("0)\n", 1)],
)
def test_bad_list_and_scalar_documents_name_the_line(text, line) -> None:
    with pytest.raises(XYZSyntaxError) as raised:
        xyz.loads(text)
    assert raised.value.line == line


@settings(max_examples=100, deadline=None)
@given(json_like)
def test_any_json_like_document_round_trips(data) -> None:
    assert xyz.loads(xyz.dumps(data)) == data


@pytest.mark.parametrize(
    "structure",
    [{"a": [1, {"b": None}]}, [[1, 2], [3]], [], {}, 4, "text", [{"x": []}]],
)
def test_structure_tree_round_trip(structure) -> None:
    tree = xyz.convert_structure_to_tree(structure)
    assert tree.value == "root" and tree.value_type == "key" and tree.parent is None
    assert xyz.convert_tree_to_structure(tree) == structure
    assert tree.dumps() == xyz.dumps(structure)


def test_tree_nodes_carry_2x_kinds() -> None:
    tree = xyz.convert_structure_to_tree({"lr": 0.1, "layers": [64, 128]})
    assert tree.node_type == "dict"
    lr, layers = tree.children
    assert (lr.value, lr.value_type, lr.node_type) == ("lr", "key", "item")
    assert lr.children[0].value == 0.1 and lr.children[0].value_type == "value"
    assert (layers.node_type, [c.value for c in layers.children]) == ("iter", [0, 1])
    assert all(c.value_type == "index" and c.parent is layers for c in layers.children)
    assert layers.dumps() == "0) 64\n1) 128\n"


def test_hand_built_tree_converts_and_bad_trees_raise() -> None:
    root = xyz.Node("root", "key")
    item = root.add_child(xyz.Node("depth", "key"))
    item.add_child(xyz.Node(50, "value"))
    assert xyz.convert_tree_to_structure(root) == {"depth": 50}
    gap = xyz.Node("root", "key")
    gap.add_child(xyz.Node(1, "index")).add_child(xyz.Node("x", "value"))
    with pytest.raises(ValueError, match="positions"):
        xyz.convert_tree_to_structure(gap)
    odd = xyz.Node("root", "key")
    odd.node_type = "set"
    with pytest.raises(ValueError, match="node_type"):
        xyz.convert_tree_to_structure(odd)


@pytest.mark.parametrize("format_dict", [{}, {"key_prefix": "-"}, {"index_postfix": "]"}])
def test_2x_custom_formats_are_refused_naming_the_way_out(tmp_path, format_dict) -> None:
    with pytest.raises(TypeError, match="drop the argument"):
        xyz.dumps({"a": 1}, format_dict=format_dict)
    with pytest.raises(TypeError, match="drop the argument"):
        xyz.dump([1], tmp_path / "x.xyz", format_dict)
    assert xyz.dumps({"a": 1}, format_dict=None) == "a: 1\n"
