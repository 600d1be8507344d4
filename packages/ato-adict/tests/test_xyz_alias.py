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
