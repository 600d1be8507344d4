"""Deep nesting, over-long integers and self-containing values: clear errors, both ways."""

from __future__ import annotations

import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ato.adict import ConfigFileError, dump_file, load_file
from ato.adict.limits import MAX_DEPTH
from ato.adict.xyz import dumps, loads

FORMATS = ["json", "yaml", "toml", "xyz", "py"]
DIGITS = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300


def nested_text(fmt: str, levels: int) -> str:
    """A file whose top-level mapping holds ``levels`` levels in all (lists inside one key)."""
    inner = levels - 1
    if fmt == "json":
        return '{"a": 1,\n"deep": ' + "[" * inner + "]" * inner + "}\n"
    if fmt == "yaml":
        return "a: 1\ndeep: " + "[" * inner + "]" * inner + "\n"
    if fmt == "toml":
        return "a = 1\ndeep = " + "[" * inner + "]" * inner + "\n"
    lines = ["a: 1", "deep:"] + [f"{'  ' * i}0)" for i in range(1, inner)]
    return "\n".join(lines) + f"\n{'  ' * inner}0) 1\n"


def nested_value(levels: int) -> dict:
    value: object = []
    for _ in range(levels - 2):
        value = [value]
    return {"a": 1, "deep": value}


@pytest.mark.parametrize("fmt", ["json", "yaml", "toml", "xyz"])
@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 1000, 10_000])
def test_too_deep_files_name_file_and_line(write, fmt, levels):
    if fmt == "xyz":  # one indented line per level: 10,000 levels would be a 100 MB file
        levels = min(levels, 1000)
    path = write(f"deep.{fmt}", nested_text(fmt, levels))
    with pytest.raises(ConfigFileError, match=f"deeper than {MAX_DEPTH} levels") as info:
        load_file(path)
    # XYZ puts each level on its own line: the first line past the limit is reported
    assert info.value.path == str(path)
    assert info.value.line == (MAX_DEPTH + 2 if fmt == "xyz" else 2)


@pytest.mark.parametrize("fmt", ["json", "yaml", "toml", "xyz"])
def test_the_deepest_allowed_file_loads(write, fmt):
    data = load_file(write(f"ok.{fmt}", nested_text(fmt, MAX_DEPTH)))
    depth, value = 1, data["deep"]
    while isinstance(value, list) and value:
        depth, value = depth + 1, value[0]
    assert depth + (1 if fmt == "xyz" else 0) >= MAX_DEPTH - 1


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 350])
def test_writers_refuse_what_readers_refuse(tmp_path, fmt, levels):
    path = tmp_path / f"deep.{fmt}"
    with pytest.raises(ConfigFileError, match=r"key 'deep\.0\.0.*deeper than") as info:
        dump_file(nested_value(levels), path)
    assert info.value.path == str(path) and not path.exists()


@pytest.mark.parametrize("fmt", ["json", "yaml", "xyz", "py"])
def test_the_deepest_writable_config_reads_back(tmp_path, fmt):
    data = nested_value(MAX_DEPTH)
    dump_file(data, tmp_path / f"ok.{fmt}")
    assert load_file(tmp_path / f"ok.{fmt}") == data


def test_xyz_text_refuses_deep_data_instead_of_writing_unreadable_text():
    with pytest.raises(ConfigFileError, match="deeper than"):
        dumps(nested_value(350))
    assert loads(dumps(nested_value(MAX_DEPTH))) == nested_value(MAX_DEPTH)


# A depth up to a bit over the limit, built from mappings and lists.
def deep_trees(max_levels: int):
    def build(levels: list[bool]) -> dict:
        value: object = 0
        for is_list in levels:
            value = [value] if is_list else {"k": value}
        return {"top": value}

    return st.lists(st.booleans(), min_size=0, max_size=max_levels).map(build)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=deep_trees(MAX_DEPTH + 5), fmt=st.sampled_from(["json", "yaml", "xyz", "py"]))
def test_every_writer_round_trips_or_refuses(tmp_path, data, fmt):
    path = tmp_path / f"t.{fmt}"
    levels = 1
    value = data["top"]
    while isinstance(value, (list, dict)):
        levels += 1
        value = value[0] if isinstance(value, list) else value["k"]
    if levels > MAX_DEPTH:
        with pytest.raises(ConfigFileError, match="deeper than"):
            dump_file(data, path)
    else:
        dump_file(data, path)
        assert load_file(path) == data


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("yaml", "a: 1\nb: 1{}\n"),
        ("json", '{"a": 1,\n"b": 1{}}\n'),
        ("toml", "a = 1\nb = 1{}\n"),
        ("xyz", "a: 1\nb: 1{}\n"),
        ("yaml", "a: 1\nb: [1, -1{}]\n"),
        ("json", '{"a": "1111",\n"b": [-1{}]}\n'),
    ],
)
def test_over_long_integers_name_file_and_line(write, fmt, text):
    path = write(f"big.{fmt}", text.replace("{}", "0" * DIGITS))
    with pytest.raises(ConfigFileError, match=f"more than {DIGITS} digits") as info:
        load_file(path)
    assert info.value.path == str(path) and info.value.line == 2


@pytest.mark.parametrize("fmt", ["yaml", "xyz"])
def test_a_quoted_long_number_stays_text(write, fmt):
    digits = "1" * (DIGITS + 10)
    assert load_file(write(f"s.{fmt}", f'n: "{digits}"\n')) == {"n": digits}


def test_long_integers_within_the_limit_round_trip(tmp_path):
    data = {"n": 10 ** (DIGITS - 1), "m": -(10 ** (DIGITS - 1))}
    for fmt in FORMATS:
        dump_file(data, tmp_path / f"n.{fmt}")
        assert load_file(tmp_path / f"n.{fmt}") == data


@pytest.mark.parametrize("fmt", FORMATS)
def test_writers_refuse_integers_too_long_for_text(tmp_path, fmt):
    path = tmp_path / f"n.{fmt}"
    with pytest.raises(ConfigFileError, match=r"key 'x\.y\.1'.*digits"):
        dump_file({"x": {"y": [1, 10**DIGITS]}}, path)
    assert not path.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_writers_refuse_values_that_contain_themselves(tmp_path, fmt):
    loop: list = [1]
    loop.append(loop)
    with pytest.raises(ConfigFileError, match=r"key 'a\.1' contains itself"):
        dump_file({"a": loop}, tmp_path / f"c.{fmt}")


@pytest.mark.parametrize(
    "code",
    [
        "a = [1]\na.append(a)\n",
        "d = {}\nd['self'] = d\n",
        "x = []\nfor _ in range(500):\n    x = [x]\n",
    ],
)
def test_python_configs_with_cycles_or_deep_values_give_config_file_errors(write, code):
    with pytest.raises(ConfigFileError, match="contains itself|deeper than") as info:
        load_file(write("c.py", code))
    assert info.value.path.endswith("c.py")


def test_python_config_sharing_one_list_is_bounded_and_unshared(write):
    path = write("s.py", "row = [0] * 10\ngrid = [row] * 10\n")
    data = load_file(path)
    data["grid"][0][0] = 1
    assert data["grid"][1][0] == 0
    bomb = "x = [0] * 10\nfor _ in range(9):\n    x = [x] * 10\n"
    with pytest.raises(ConfigFileError, match="expand"):
        load_file(write("bomb.py", bomb))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("text", ["\ud800", "x\udfff y"])
def test_lone_surrogates_round_trip_or_are_refused_naming_the_key(tmp_path, fmt, text):
    path = tmp_path / f"s.{fmt}"
    data = {"a": {"b": [text]}}
    if fmt == "toml":  # TOML strings are Unicode scalar values only
        with pytest.raises(ConfigFileError, match=r"key 'a\.b\.0' holds a lone surrogate"):
            dump_file(data, path)
        assert not path.exists()
    else:
        dump_file(data, path)
        assert load_file(path) == data


@st.composite
def json_documents(draw):
    """JSON text nesting lists and objects to a drawn depth, and that depth in levels."""
    levels = draw(st.integers(1, MAX_DEPTH + 20))
    kinds = draw(st.lists(st.booleans(), min_size=levels - 1, max_size=levels - 1))
    text = "1"
    for is_list in kinds:
        text = f"[{text}, 2]" if is_list else f'{{"k": {text}, "z": null}}'
    return '{"top": ' + text + "}", levels


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=json_documents(), fmt=st.sampled_from(["json", "yaml"]))
def test_nested_documents_load_exactly_up_to_the_limit(write, doc, fmt):
    import json

    text, levels = doc
    path = write(f"n.{fmt}", text)  # JSON text is also a YAML flow document
    if levels > MAX_DEPTH:
        with pytest.raises(ConfigFileError, match="deeper than") as info:
            load_file(path)
        assert info.value.line == 1
    else:
        assert load_file(path) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        "x = 1.5\n" + ".".join(["a"] * (MAX_DEPTH + 1)) + " = 1\n",
        "x = 1\n" + ".".join(["a"] * 20_000) + " = 1\n",
        "x = 1\n" + ".".join(['"q"'] * 50_000) + " = 1\n",
        "# c\n[" + " . ".join(["a"] * 5000) + "]\nx = 1\n",
        "x = 1\nt = {" + ".".join(["a"] * 300) + " = 1}\n",
    ],
    ids=["just-over", "bare-20k", "quoted-50k", "header-5k", "inline"],
)
def test_long_dotted_toml_keys_are_refused_quickly_with_their_line(write, text):
    path = write("k.toml", text)
    with pytest.raises(ConfigFileError, match="deeper than") as info:
        load_file(path)
    assert info.value.line == 2


def test_dots_inside_toml_strings_and_numbers_are_not_keys(write):
    dotted = ".".join(["1"] * 500)
    text = f'v = "{dotted}"\nw = """\n{dotted}\n"""\nf = 1.5\n' + ".".join(["a"] * MAX_DEPTH)
    data = load_file(write("ok.toml", text + " = 1\n"))
    assert data["v"] == dotted and data["f"] == 1.5
