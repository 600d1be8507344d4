"""Command-line fault kinds: overrides never lost silently, YAML-style words, typed overrides,
shell-split values joined back, flags, and ato 2.x ``key:="text"``."""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ato.scope import (
    CLIParseError,
    KeyExistsError,
    OverrideTypeError,
    OverrideTypeWarning,
    Scope,
    UnknownKeyError,
    UnknownKeyWarning,
    parse_argv,
    parse_value,
)
from ato.scope.cli import Override, Word


def overrides(argv: list[str]) -> dict:
    return {i.key: i.value for i in parse_argv(argv) if isinstance(i, Override)}


def typed_scope(strict: bool = False) -> Scope:
    scope = Scope(strict=strict)
    scope.observe(
        "base",
        {
            "lr": 1e-3,
            "epochs": 10,
            "use_amp": True,
            "name": "run",
            "layers": [64],
            "optim": {"kind": "adam"},
            "note": None,
        },
        default=True,
    )
    return scope


# -- 1. a value that starts with % never swallows later overrides ------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["date_fmt=%H-%M", "lr=0.5", "note=drop 10%"],
        ["fmt=%Y-%m-%d", "epochs=3"],
        ["x=%a", "lr=1"],
        ["x=%a", "print"],
        ["x=%a", "--flag"],
        ["x=%a", "high_lr"],
        ["x=%", "y=%"],
        ["x=%open"],
    ],
)
def test_unclosed_percent_string_is_an_error_naming_its_token(argv: list[str]) -> None:
    with pytest.raises(CLIParseError) as info:
        parse_argv(argv)
    assert info.value.token == argv[0]
    assert "never closed" in str(info.value) and ":=" in str(info.value)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["name=%my", "first", "run%", "lr=1"], {"name": "my first run", "lr": 1}),
        (["date_fmt=%%H-%M%", "lr=0.5"], {"date_fmt": "%H-%M", "lr": 0.5}),
        (["date_fmt:=%H-%M", "lr=0.5"], {"date_fmt": "%H-%M", "lr": 0.5}),
        (["note=drop 10%", "lr=0.5"], {"note": "drop 10%", "lr": 0.5}),
        (["a=%x%", "b=%y z%"], {"a": "x", "b": "y z"}),
        (["a=%1", "2%"], {"a": "1 2"}),
    ],
)
def test_percent_strings_close_in_their_token_or_a_continuation(
    argv: list[str], expected: dict
) -> None:
    assert overrides(argv) == expected


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet="%HMYmd-_: ab", max_size=8).map(lambda t: "%" + t),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
def test_no_override_after_a_percent_value_is_ever_lost(text: str, lr: float) -> None:
    argv = [f"fmt={text}", f"lr={lr!r}"]
    try:
        items = overrides(argv)
    except CLIParseError as exc:  # either outcome is fine; a refusal names the token
        assert exc.token == argv[0]  # noqa: PT017
        return
    assert items["lr"] == lr  # the override after it is still there


def test_scope_reproducer_keeps_every_override() -> None:
    scope = typed_scope()
    with pytest.raises(CLIParseError, match="date_fmt=%H-%M"):
        scope.build(["date_fmt=%H-%M", "lr=0.5", "note=drop 10%"])
    config = scope.build(["+date_fmt:=%H-%M", "lr=0.5", "note=drop 10%"])
    assert (config.date_fmt, config.lr, config.note) == ("%H-%M", 0.5, "drop 10%")


# -- 2. YAML-style spellings -------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("True", True),
        ("false", False),
        ("False", False),
        ("null", None),
        ("NULL", None),
        ("none", None),
        ("None", None),
        ("inf", math.inf),
        ("+inf", math.inf),
        ("-inf", -math.inf),
        ("Inf", math.inf),
    ],
)
def test_yaml_style_words_are_bool_none_float(word: str, expected: object) -> None:
    value = parse_value(word)
    assert value == expected and type(value) is type(expected)


def test_nan_spellings() -> None:
    for word in ("nan", "NaN", "NAN"):
        assert math.isnan(parse_value(word))


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "truthy", "nulls", "infinity_x"])
def test_other_words_stay_strings(word: str) -> None:
    assert parse_value(word) == word


@pytest.mark.parametrize("word", ["false", "False", "FALSE", "0" if False else "false"])
def test_bool_key_never_gets_a_truthy_string(word: str) -> None:
    config = typed_scope(strict=True).build([f"use_amp={word}"])
    assert config.use_amp is False


@pytest.mark.parametrize("word", ["none", "null", "true", "123", "1e-3", "inf"])
def test_str_key_keeps_unquoted_text_as_typed(word: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert typed_scope(strict=True).build([f"name={word}"]).name == word


def test_python_none_unsets_any_key() -> None:
    config = typed_scope(strict=True).build(["name=None", "lr=None", "layers=null"])
    assert config.name is None and config.lr is None and config.layers is None


# -- 3. typed overrides ------------------------------------------------------------------
@pytest.mark.parametrize(
    "token",
    [
        "lr=abc",
        "lr=[1]",
        "lr=True",
        "epochs=1.5",
        "epochs=2.0",
        "epochs=true",
        "epochs='10'",
        "use_amp=2",
        "use_amp=maybe",
        "layers=64",
        "layers={'a': 1}",
        "optim=5",
        "name=[1, 2]",
    ],
)
def test_mistyped_override_is_an_error_when_strict_and_a_warning_otherwise(token: str) -> None:
    key = token.partition("=")[0]
    with pytest.raises(OverrideTypeError, match=f"'{key}'") as info:
        typed_scope(strict=True).build([token])
    assert isinstance(info.value, ValueError) and "write" in str(info.value)
    with pytest.warns(OverrideTypeWarning, match=f"'{key}'"):
        typed_scope().build([token])


@pytest.mark.parametrize(
    ("token", "key", "expected"),
    [
        ("lr=1", "lr", 1.0),
        ("lr=5e-4", "lr", 5e-4),
        ("lr=-inf", "lr", -math.inf),
        ("epochs=3", "epochs", 3),
        ("use_amp=False", "use_amp", False),
        ("layers=(1, 2)", "layers", (1, 2)),
        ("layers=[]", "layers", []),
        ("optim={'kind': 'sgd'}", "optim", {"kind": "sgd"}),
        ("note=[1]", "note", [1]),
        ("name='quoted text'", "name", "quoted text"),
    ],
)
def test_fitting_overrides_pass_strict_checks(token: str, key: str, expected: object) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = typed_scope(strict=True).build([token])[key]
    assert value == expected and (type(value) is type(expected) or isinstance(expected, dict))


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_int_widens_to_float_for_float_keys(n: int) -> None:
    value = typed_scope(strict=True).build([f"lr={n}"]).lr
    assert type(value) is float and value == float(n)


@settings(max_examples=100, deadline=None)
@given(st.floats(allow_nan=False).filter(lambda f: not f.is_integer() or abs(f) > 1e300))
def test_floats_never_fit_int_keys(f: float) -> None:
    with pytest.raises(OverrideTypeError):
        typed_scope(strict=True).build([f"epochs={f!r}"])


def test_unknown_key_under_strict_says_how_to_add_a_key_on_purpose() -> None:
    with pytest.raises(UnknownKeyError, match=r"\+nonexistent=3"):
        typed_scope(strict=True).build(["nonexistent=3"])
    with pytest.raises(UnknownKeyError, match=r"Did you mean 'epochs'.*\+epoch=3"):
        typed_scope(strict=True).build(["epoch=3"])


def test_plus_adds_a_new_key_on_purpose_without_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = typed_scope(strict=True).build(["+seed=3", "+optim.beta=0.9", "+lrr=1"])
    assert config.seed == 3 and config.optim.beta == 0.9 and config.lrr == 1


def test_plus_on_an_existing_key_is_an_error() -> None:
    for strict in (True, False):
        with pytest.raises(KeyExistsError, match=r"'lr'.*lr=\.\.\..*\+\+lr"):
            typed_scope(strict=strict).build(["+lr=0.1"])


def test_double_plus_sets_either_way() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = typed_scope(strict=True).build(["++lr=0.5", "++seed=1"])
    assert config.lr == 0.5 and config.seed == 1


def test_unknown_key_warning_names_the_plus_spelling() -> None:
    with pytest.warns(UnknownKeyWarning, match=r"\+epoch=3"):
        typed_scope().build(["epoch=3"])


# -- 4. shell-split values are joined back -----------------------------------------------
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["layers=[64,", "128]"], {"layers": [64, 128]}),
        (["layers=[64,", "128,", "256]", "lr=1"], {"layers": [64, 128, 256], "lr": 1}),
        (["opt={'lr':", "0.1}"], {"opt": {"lr": 0.1}}),
        (["opt={'a':", "[1,", "2]}"], {"opt": {"a": [1, 2]}}),
        (["t=(1,", "2)"], {"t": (1, 2)}),
        (["name='my", "run'"], {"name": "my run"}),
        (['name="a', "b", 'c"'], {"name": "a b c"}),
        (["x=['a b',", "'c']"], {"x": ["a b", "c"]}),
    ],
)
def test_shell_split_values_are_joined_back(argv: list[str], expected: dict) -> None:
    assert overrides(argv) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=-1000, max_value=1000), min_size=1, max_size=6))
def test_any_list_split_at_its_spaces_reads_back(values: list[int]) -> None:
    argv = [*f"layers={values!r}".split(" "), "lr=0.5"]
    assert overrides(argv) == {"layers": values, "lr": 0.5}


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.text(alphabet="abcxyz_", min_size=1, max_size=5),
        st.one_of(st.integers(), st.text(alphabet="ab c", max_size=5)),
        max_size=4,
    )
)
def test_any_dict_split_at_its_spaces_reads_back(mapping: dict) -> None:
    argv = f"opt={mapping!r}".split(" ")
    assert overrides(argv) == {"opt": mapping}


@pytest.mark.parametrize(
    "argv",
    [
        ["layers=[64,", "lr=1", "128]"],
        ["layers=[64,", "print"],
        ["layers=[64,", "--x"],
        ["layers=[64,", "128"],
        ["name='my", "run"],
    ],
)
def test_unclosed_brackets_are_an_error_naming_the_first_token(argv: list[str]) -> None:
    with pytest.raises(CLIParseError) as info:
        parse_argv(argv)
    assert info.value.token == argv[0]


def test_joined_value_that_is_not_a_literal_names_the_joined_text() -> None:
    with pytest.raises(CLIParseError, match=r"joined with the next 1 token\(s\)") as info:
        parse_argv(["layers=[64,", "abc]"])
    assert info.value.token == "layers=[64,"


def test_joined_override_records_the_joined_token() -> None:
    (item,) = parse_argv(["layers=[64,", "128]"])
    assert isinstance(item, Override) and item.token == "layers=[64, 128]"


def test_words_after_a_closed_value_are_views() -> None:
    assert parse_argv(["layers=[64, 128]", "high_lr"])[1] == Word("high_lr")


# -- 5. flags without an argparse parser -------------------------------------------------
@pytest.mark.parametrize(
    "token", ["--local-rank=0", "--local_rank=1", "--local-rank", "-v", "--seed=3", "-lr=1", "-_x"]
)
def test_flags_get_an_error_about_argparse(token: str) -> None:
    with pytest.raises(CLIParseError) as info:
        parse_argv(["lr=1", token])
    message = str(info.value)
    assert info.value.token == token
    assert "is a flag" in message and "add_argument" in message
    assert "use_external_parser=True" in message and "not a valid key" not in message


def test_local_rank_flag_is_merged_with_an_argparse_parser(monkeypatch) -> None:
    import argparse

    scope = Scope(use_external_parser=True)
    scope.observe("base", {"lr": 0.1}, default=True)
    parser = argparse.ArgumentParser()
    parser.add_argument("--local-rank", type=int, default=0)
    monkeypatch.setattr("sys.argv", ["train.py", "--local-rank=1", "lr=0.5"])
    parser.parse_args()
    config = scope.build()
    assert config.local_rank == 1 and config.lr == 0.5


# -- 6. ato 2.x key:="text" --------------------------------------------------------------
@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ('prompt:="hello world"', "hello world"),
        ("prompt:='hello world'", "hello world"),
        ('prompt:=""', ""),
        ("prompt:=plain text", "plain text"),
        ('prompt:="a" and "b"', '"a" and "b"'),
        ('prompt:=""quoted""', '""quoted""'),
        ("prompt:='it''s'", "'it''s'"),
        ("prompt:='x\"", "'x\""),
        ('prompt:="', '"'),
    ],
)
def test_raw_text_drops_one_pair_of_surrounding_quotes(token: str, expected: str) -> None:
    assert overrides([token]) == {"prompt": expected}


def test_two_x_reproducer() -> None:
    scope = Scope()
    scope.observe("base", {"data": {"prompt": "x"}}, default=True)
    assert scope.build(['data.prompt:="hello world"']).data.prompt == "hello world"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[true, false]", [True, False]),
        ("[True, null, None]", [True, None, None]),
        ("{'amp': false, 'clip': none}", {"amp": False, "clip": None}),
        ("(TRUE, -inf)", (True, -math.inf)),
        ("{'nested': [[null], {'x': true}]}", {"nested": [[None], {"x": True}]}),
    ],
)
def test_yaml_words_inside_literals(text: str, expected: object) -> None:
    assert parse_value(text) == expected


@pytest.mark.parametrize("text", ["[x]", "[true, f()]", "[-true]", "[yes]", "[true] # c"])
def test_other_names_inside_literals_are_errors(text: str) -> None:
    with pytest.raises(CLIParseError):
        parse_value(text)


def test_multiscope_overrides_are_typed_and_plus_works() -> None:
    from ato.scope import MultiScope

    model, data = Scope(name="model", strict=True), Scope(name="data")
    model.observe("base", {"lr": 0.1, "depth": 18}, default=True)
    data.observe("base", {"name": "cifar"}, default=True)
    multi = MultiScope(model, data)
    configs = multi.build(["model.lr=1", "+model.seed=3", "data.name=123", "++data.extra=true"])
    assert configs["model"].lr == 1.0 and type(configs["model"].lr) is float
    assert configs["model"].seed == 3 and configs["data"].name == "123"
    assert configs["data"].extra is True
    with pytest.raises(OverrideTypeError, match="'depth'"):
        multi.build(["model.depth=1.5"])
    with pytest.raises(UnknownKeyError, match=r"\+model.sed=1"):
        multi.build(["model.sed=1"])
