"""The command-line grammar: literals, strings, %spans%, raw text, words, commands, errors."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ato.scope import CLIParseError, parse_argv, parse_value
from ato.scope.cli import Command, Override, Word


def overrides(argv: list[str]) -> dict:
    return {i.key: i.value for i in parse_argv(argv) if isinstance(i, Override)}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1", 1),
        ("-3", -3),
        ("1e-3", 1e-3),
        ("0.5", 0.5),
        ("True", True),
        ("False", False),
        ("None", None),
        ("[1, 2]", [1, 2]),
        ("(1, 'a')", (1, "a")),
        ("{'a': 1}", {"a": 1}),
        ("'quoted'", "quoted"),
        ('"dq"', "dq"),
        ("resnet50", "resnet50"),
        ("/tmp/data.csv", "/tmp/data.csv"),
        ("a@b|c", "a@b|c"),
        ("1#2", "1#2"),
        ("none", "none"),
        ("ünïcode", "ünïcode"),
        ("", ""),
    ],
)
def test_values(text: str, expected: object) -> None:
    value = parse_value(text)
    assert value == expected and type(value) is type(expected)


def test_dotted_keys_and_order() -> None:
    items = parse_argv(["model.backbone.depth=50", "high_lr", "lr=0.1"])
    assert items == [
        Override("model.backbone.depth", 50, "model.backbone.depth=50"),
        Word("high_lr"),
        Override("lr", 0.1, "lr=0.1"),
    ]


def test_percent_string_spans_tokens() -> None:
    assert overrides(["name=%my", "first", "run%", "lr=1"]) == {"name": "my first run", "lr": 1}
    assert overrides(["model=%resnet101%"]) == {"model": "resnet101"}
    assert overrides(["x=%%"]) == {"x": ""}
    assert overrides(["x=%1%"]) == {"x": "1"}


def test_unterminated_percent_string_names_token() -> None:
    with pytest.raises(CLIParseError, match="name=%my") as info:
        parse_argv(["name=%my", "run"])
    assert info.value.token == "name=%my"


def test_raw_text() -> None:
    assert overrides(["cmd:=echo 'a' (b) = c"]) == {"cmd": "echo 'a' (b) = c"}
    assert overrides(["x:=1"]) == {"x": "1"}


def test_commands_and_help_flags() -> None:
    assert parse_argv(["manual", "print", "explain", "-h", "--help"]) == [
        Command("manual"),
        Command("print"),
        Command("explain"),
        Command("manual"),
        Command("manual"),
    ]


@pytest.mark.parametrize(
    "token",
    [
        "lr=[1, 2",
        "lr={'a': 1",
        "x=(1,",
        "x='unclosed",
        "x=__import__('os').system('touch PWNED')",
        "x=().__class__.__bases__[0].__subclasses__()",
        "x=open('f').read()",
        "x=f'{1}'",
        "1x=2",
        "a..b=1",
        "=1",
        "--flag",
        "-x",
        "%loose%",
        "a/b",
    ],
)
def test_malformed_tokens_raise_parse_error_naming_token(token: str) -> None:
    with pytest.raises(CLIParseError) as info:
        parse_argv([token])
    assert info.value.token == token
    assert isinstance(info.value, ValueError)


def test_hostile_value_is_never_executed(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for token in ["x=__import__('os').system('touch PWNED')", "x:=__import__('os')"]:
        try:
            parse_argv([token])
        except CLIParseError:
            pass
    assert not os.path.exists("PWNED")


HOSTILE = [
    "x=__import__('os').system('touch PWNED')",
    "x=().__class__.__bases__[0].__subclasses__()",
    "x=%",
    "x=@",
    "x=|",
    "x=#",
    "x==",
    "x=:",
    "x=\\",
    "x='",
    'x="',
    "x=ü",
    "x=",
    "=",
    ":=",
    "x:=",
    "%",
    "x=" + "[" * 500,
    "x=" + "a" * 10000,
    "x=" + "(" * 200 + ")" * 200,
]

token_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(min_size=0, max_size=40),
    st.builds(
        lambda k, v: f"{k}={v}",
        st.sampled_from(["lr", "model.depth", "a-b", "x", "é"]),
        st.text(alphabet="%@|#=:\\'\"()[]{}, .-_1aé\n", max_size=30),
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(token_text, max_size=6))
def test_fuzz_parses_or_raises_parse_error(argv: list[str]) -> None:
    try:
        items = parse_argv(argv)
    except CLIParseError as exc:
        assert exc.token in argv or any(exc.token == repr(t) for t in argv)
        return
    for item in items:
        assert isinstance(item, (Override, Word, Command))
    assert not os.path.exists("PWNED")


def _fuzz_scope():
    from ato.scope import Scope

    scope = Scope()
    scope.observe("base", {"lr": 0.1, "model": {"depth": 18}}, default=True)
    scope.observe("deep", {"model": {"depth": 50}}, priority=1)
    return scope


scope_token = st.one_of(
    token_text,
    st.sampled_from(["deep", "print", "manual", "explain", "lr", "to_dict=1", "update=2"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(scope_token, max_size=5))
def test_fuzz_scope_build_only_raises_scope_errors(argv: list[str]) -> None:
    import contextlib
    import io
    import warnings

    from ato.scope import ScopeError

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            _fuzz_scope().build(argv)
        except (ScopeError, SystemExit):
            pass
    assert not os.path.exists("PWNED")
