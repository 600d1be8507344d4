"""Property tests: dump-then-load equality for each format, for the data it can hold."""

from __future__ import annotations

import keyword
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ato.adict import ADict, dump_file, load_file
from ato.adict.xyz import dumps, loads

# Text that can be stored in a UTF-8 file (no lone surrogates).
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
finite = st.floats(allow_nan=False, allow_infinity=False)
json_scalars = st.none() | st.booleans() | st.integers() | finite | text
toml_scalars = st.booleans() | st.integers(-(2**63), 2**63 - 1) | finite | text


def tree(scalars):
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
        max_leaves=16,
    )


json_configs = st.dictionaries(text, tree(json_scalars), max_size=5)
toml_configs = st.dictionaries(text, tree(toml_scalars), max_size=5)
file_settings = settings(
    max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@given(json_configs)
def test_xyz_text_round_trip(data):
    assert loads(dumps(data)) == data


@given(st.dictionaries(st.text(), tree(json_scalars | st.text()), max_size=4))
def test_xyz_round_trip_survives_any_text_including_surrogates(data):
    assert loads(dumps(data)) == data


@given(st.dictionaries(text, st.floats(), min_size=1, max_size=4))
def test_xyz_round_trip_of_special_floats(data):
    back = loads(dumps(data))
    for key, value in data.items():
        assert (math.isnan(value) and math.isnan(back[key])) or back[key] == value


@file_settings
@given(data=json_configs)
def test_json_file_round_trip(tmp_path, data):
    path = tmp_path / "p.json"
    dump_file(data, path)
    assert load_file(path) == data


@file_settings
@given(data=json_configs)
def test_yaml_file_round_trip(tmp_path, data):
    path = tmp_path / "p.yaml"
    dump_file(data, path)
    assert load_file(path) == data


@file_settings
@given(data=toml_configs)
def test_toml_file_round_trip(tmp_path, data):
    path = tmp_path / "p.toml"
    dump_file(data, path)
    assert load_file(path) == data


@file_settings
@given(data=json_configs)
def test_xyz_file_round_trip_through_adict(tmp_path, data):
    path = tmp_path / "p.xyz"
    ADict.dump(ADict(data), path)  # through the class: a key such as "dump" hides the method
    assert ADict.to_dict(ADict.from_file(path)) == data


identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda name: not keyword.iskeyword(name)
)


@file_settings
@given(data=st.dictionaries(identifiers, tree(json_scalars | st.floats()), max_size=5))
def test_python_file_round_trip(tmp_path, data):
    path = tmp_path / "p.py"
    dump_file(data, path)
    back = load_file(path)
    assert dumps(back) == dumps(data)  # XYZ text compares nan as equal to nan
