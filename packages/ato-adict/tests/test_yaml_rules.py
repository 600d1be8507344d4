"""YAML is read as OmegaConf/Hydra read it and written so every YAML reader reads it back."""

from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from ato.adict import ADict, dump_file, load_file
from ato.adict.yaml_rules import Dumper


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e-3", 0.001),
        ("1E5", 100000.0),
        ("-2e+3", -2000.0),
        ("5e0", 5.0),
        ("1.0e-3", 0.001),
        ("0.5", 0.5),
        (".5", 0.5),
        ("1_000", 1000),
        ("12", 12),
        ("true", True),
        ("yes", True),
        ("off", False),
        ("~", None),
        ("null", None),
        (".inf", float("inf")),
        ("2024-01-01", "2024-01-01"),
        ("2024-01-01 10:20:30", "2024-01-01 10:20:30"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
        ("695e0514", float("inf")),  # unquoted: a float for OmegaConf and for ato alike
        ("'695e0514'", "695e0514"),
        ("abc", "abc"),
    ],
)
def test_scalars_read_like_omegaconf(write, text, value):
    data = load_file(write("c.yaml", f"v: {text}\n"))
    assert data["v"] == value and type(data["v"]) is type(value)
    assert OmegaConf.to_container(OmegaConf.create(f"v: {text}\n"))["v"] == value


def test_the_reproducer_lr_is_a_number(write, tmp_path):
    cfg = ADict.from_file(write("configs/optim/adam.yaml", "lr: 1e-3\nwhen: 2024-01-01\n"))
    assert cfg.lr * 10 == 0.01
    assert cfg.when == "2024-01-01"
    for fmt in ("json", "xyz", "py", "yaml"):  # a date string dumps anywhere and back
        cfg.dump(tmp_path / f"x.{fmt}")
        assert load_file(tmp_path / f"x.{fmt}") == cfg


def test_the_global_pyyaml_loaders_are_untouched():
    assert yaml.safe_load("a: 1e-3\nd: 2024-01-01\n")["a"] == "1e-3"


# Strings that some YAML reader takes for a number, bool, null or date when unquoted.
TRICKY = [
    "695e0514",
    "1e3",
    "1E-5",
    "0o17",
    "0x1F",
    "0b101",
    "1_000",
    "+12",
    ".5",
    "1:30",
    "12:30:00",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "N",
    "~",
    "null",
    "NULL",
    "True",
    "false",
    ".inf",
    "-.Inf",
    ".NaN",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    "",
    "=",
    "<<",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_strings_are_quoted_and_read_back_by_every_reader(tmp_path, text):
    path = tmp_path / "c.yaml"
    dump_file({"v": text, text: "key"}, path)
    written = path.read_text()
    assert load_file(path) == {"v": text, text: "key"}
    assert yaml.safe_load(written) == {"v": text, text: "key"}  # YAML 1.1 (PyYAML)
    assert OmegaConf.to_container(OmegaConf.load(path)) == {"v": text, text: "key"}
    assert _core_schema_value(written.splitlines()[0].split(": ", 1)[1]) == text


_CORE_NON_STRINGS = re.compile(
    r"""[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+
    |[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN
    |null|Null|NULL|~|true|True|TRUE|false|False|FALSE""",
    re.X,
)


def _core_schema_value(token: str) -> object:
    """How a YAML 1.2 core-schema reader types one scalar token: quoted -> its text,
    plain -> a non-string marker when the core schema resolves it (ruamel, go-yaml v3)."""
    if token[:1] in "'\"":
        return yaml.safe_load(token)
    return object() if _CORE_NON_STRINGS.fullmatch(token) else token


numberish = st.from_regex(
    r"[-+]?[0-9]{1,4}(\.[0-9]{0,3})?([eE][-+]?[0-9]{1,3})?|[0-9a-f]{8}|0[xob][0-9]{1,3}",
    fullmatch=True,
)
strings = numberish | st.text(st.characters(exclude_categories=("Cs",)), max_size=10)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), strings, max_size=5))
def test_any_string_written_reads_back_as_the_same_string_in_ato_pyyaml_and_omegaconf(
    tmp_path, data
):
    path = tmp_path / "s.yaml"
    dump_file(data, path)
    assert load_file(path) == data
    assert (yaml.safe_load(path.read_text()) or {}) == data
    assert OmegaConf.to_container(OmegaConf.load(path)) == data


@given(st.floats(allow_nan=False) | st.integers() | st.booleans() | st.none())
@settings(max_examples=100, deadline=None)
def test_numbers_written_by_ato_read_back_equal_in_omegaconf(value):
    text = yaml.dump({"v": value}, Dumper=Dumper)
    assert OmegaConf.to_container(OmegaConf.create(text))["v"] == value
