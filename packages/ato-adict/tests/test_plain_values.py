"""Subclass values (IntEnum, (str, Enum), numpy scalars, dict/list subclasses) are written as
plain values by every writer, or refused naming the key; every written file loads back equal."""

from __future__ import annotations

import collections
import enum
import math
from keyword import iskeyword

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ato.adict import ADict, ConfigFileError, dump_file, load_file
from ato.adict.xyz import dumps, loads

FORMATS = ["json", "yaml", "toml", "xyz", "py"]


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mode(str, enum.Enum):
    TRAIN = "train"
    EVAL = "eval"


class Perm(enum.IntFlag):
    R = 4
    W = 2


class Color(enum.Enum):  # a plain Enum: no builtin value to write
    RED = 1


class Ratio(float):
    pass


class Name(str):
    pass


class Items(list):
    pass


VALUES = {
    "int_enum": Level.HIGH,
    "int_flag": Perm.R | Perm.W,
    "str_enum": Mode.TRAIN,
    "float_subclass": Ratio(0.25),
    "str_subclass": Name("hello"),
    "np_float64": np.float64(0.1),
    "np_float32": np.float32(0.5),
    "np_int64": np.int64(7),
    "np_int8": np.int8(-3),
    "np_uint16": np.uint16(9),
    "np_bool": np.bool_(True),
    "np_str": np.str_("text"),
    "list_subclass": Items([1, Level.LOW]),
    "ordered": collections.OrderedDict(a=1, b=Mode.EVAL),
    "hash": "695e0514",
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(VALUES))
def test_each_subclass_value_is_written_plain_and_loads_back_equal(tmp_path, fmt, name):
    data = {"value": VALUES[name], "nested": {"items": [VALUES[name]]}}
    path = tmp_path / f"c.{fmt}"
    ADict(data).dump(path)
    assert load_file(path) == data
    text = path.read_text()
    for marker in ("np.", "numpy", "Level", "Mode", "Perm", "Ratio", "Name(", "<"):
        assert marker not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_enum_keys_are_written_as_their_text(tmp_path, fmt):
    path = tmp_path / f"k.{fmt}"
    dump_file({"by_mode": {Mode.TRAIN: 1, Name("x"): 2}}, path)
    assert load_file(path) == {"by_mode": {"train": 1, "x": 2}}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (Color.RED, "Color"),
        (np.array([1, 2]), "ndarray"),
        (1 + 2j, "complex"),
        (object(), "object"),
    ],
)
def test_values_without_a_plain_equivalent_are_refused_naming_the_key(
    tmp_path, fmt, value, type_name
):
    path = tmp_path / f"c.{fmt}"
    with pytest.raises(ConfigFileError, match=rf"key 'a\.b\.0' has type {type_name}") as info:
        dump_file({"a": {"b": [value]}}, path)
    assert info.value.path == str(path) and not path.exists()


def test_xyz_text_writes_plain_values():
    text = dumps({"m": Mode.TRAIN, "l": Level.LOW, "f": np.float64(0.5), Mode.EVAL: 1})
    assert text == "m: train\nl: 1\nf: 0.5\neval: 1\n"
    assert loads(text) == {"m": "train", "l": 1, "f": 0.5, "eval": 1}


def test_the_reproducers(tmp_path):
    cfg = ADict(x=np.float64(0.1))
    cfg.dump(tmp_path / "c.yaml")
    cfg.dump(tmp_path / "c.py")
    assert (tmp_path / "c.py").read_text().splitlines()[-1] == "x = 0.1"
    assert ADict.from_file(tmp_path / "c.py") == ADict.from_file(tmp_path / "c.yaml") == cfg


scalars = (
    st.sampled_from(
        [
            Level.LOW,
            Level.HIGH,
            Mode.TRAIN,
            Mode.EVAL,
            Ratio(1.5),
            Name("n"),
            np.float64(2.5),
            np.int64(-4),
            np.bool_(False),
            np.str_("s"),
        ]
    )
    | st.integers(-1000, 1000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
)
trees = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.from_regex(r"[a-z]{1,4}", fullmatch=True), inner, max_size=3)
    ),
    max_leaves=10,
)


identifiers = st.from_regex(r"[a-z]{1,4}", fullmatch=True).filter(lambda k: not iskeyword(k))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(identifiers, trees, max_size=4))
def test_every_writer_loads_back_equal(tmp_path, data):
    for fmt in FORMATS:
        path = tmp_path / f"t.{fmt}"
        dump_file(data, path)
        back = load_file(path)
        assert back == data, fmt
        assert _all_plain(back)


def _all_plain(value: object) -> bool:
    if isinstance(value, dict):
        return all(type(k) is str and _all_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_all_plain(v) for v in value)
    if isinstance(value, float):
        return type(value) is float and not math.isnan(value)
    return type(value) in (type(None), bool, int, str)
