"""Behaviours of ``ato.scope.cli`` that mutation testing showed no other test would notice:
exact messages, modes of every override form, what ends a continued value, quote and escape
handling, and the usage-error exit of a script, checked in-process."""

from __future__ import annotations

import sys

import pytest

from ato.scope import CLIParseError, parse_argv
from ato.scope.cli import command_line, exit_on_usage_error

NOT_LITERAL = (
    "the value is not a Python literal (unbalanced brackets or quotes, or code); write a literal "
    "such as [1, 2] or 'text', or pass text as key=%text% or key:=text"
)


def reason(argv: list[str]) -> tuple[str, str]:
    """``(token, reason)`` of the parse error ``argv`` raises."""
    with pytest.raises(CLIParseError) as info:
        parse_argv(argv)
    return info.value.token, info.value.reason


# -- exact messages -------------------------------------------------------------------------------
def test_a_token_that_is_not_a_string_is_named_with_its_type() -> None:
    assert reason(["a=1", 3]) == ("3", "argv must hold strings, got int")  # type: ignore[list-item]
    assert reason([b"a=1"]) == ("b'a=1'", "argv must hold strings, got bytes")  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("token", "flag", "dest", "value"),
    [
        ("--local-rank=0", "--local-rank", "local_rank", "0"),
        ("--dry-run", "--dry-run", "dry_run", "..."),
        ("--opt=a=b", "--opt", "opt", "a=b"),
        ("--=1", "--", "name", "1"),
        ("-v", "-v", "v", "..."),
        ("--Xla", "--Xla", "Xla", "..."),
    ],
)
def test_a_flag_error_says_how_to_declare_it_and_how_to_write_it_as_an_override(
    token: str, flag: str, dest: str, value: str
) -> None:
    assert reason([token]) == (
        token,
        f"{flag!r} is a flag, and ato's command line has no flags of its own: declare it with "
        f"argparse (parser.add_argument({flag!r}, ...)) and build the scope with "
        f"Scope(use_external_parser=True), which merges it into the config as {dest}; "
        f"or write it as an override, {dest}={value}",
    )


def test_messages_of_unclosed_values_malformed_values_and_bad_words() -> None:
    assert reason(["x=%"])[1] == (
        "the %-quoted string is never closed; end it with % in the same token or a later plain "
        "word (name=%my run%), or pass text that starts with % as key:=text"
    )
    assert reason(["x=[1,", "print"]) == (
        "x=[1,",
        "the value's brackets or quotes are not closed before 'print'; close them, or quote the "
        "whole value for the shell (e.g. 'layers=[64, 128]')",
    )
    assert reason(["x=[1,"])[1].startswith(
        "the value's brackets or quotes are not closed by the end of argv;"
    )
    assert reason(["x=foo(1)"]) == ("x=foo(1)", NOT_LITERAL)
    assert reason(["x=[X", "]"]) == (
        "x=[X",
        f"joined with the next 1 token(s) into '[X ]': {NOT_LITERAL}",
    )
    assert reason(["x=1)"]) == ("x=1)", NOT_LITERAL)
    assert reason(["a/b"]) == (
        "a/b",
        "this is neither key=value nor a view name (views are identifiers such as high_lr)",
    )
    assert reason(["-"])[1].startswith("this is neither key=value nor a view name")


# -- modes --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "key", "value", "mode"),
    [
        (["++a=1"], "a", 1, "force"),
        (["+a=1"], "a", 1, "add"),
        (["a=1"], "a", 1, "set"),
        (["++a:=x y"], "a", "x y", "force"),
        (["+a:=x"], "a", "x", "add"),
        (["++a=%x", "y%"], "a", "x y", "force"),
        (["+a=%x%"], "a", "x", "add"),
        (["++a=[1,", "2]"], "a", [1, 2], "force"),
        (["+a=[1,", "2]"], "a", [1, 2], "add"),
    ],
)
def test_every_override_form_keeps_its_mode(
    argv: list[str], key: str, value: object, mode: str
) -> None:
    [item] = parse_argv(argv)
    assert (item.key, item.value, item.mode) == (key, value, mode)


# -- what ends a continued value -----------------------------------------------------------------
@pytest.mark.parametrize(
    "stopper",
    [
        "print",
        "manual",
        "explain",
        "-h",
        "--help",
        "--flag",
        "y=2",
        "y=a=b",
        "+y=2",
        "++y=2",
        "y:=2",
        "+y:=2",
        "X1=2",
    ],
)
def test_a_command_flag_or_override_is_never_swallowed_by_an_open_value(stopper: str) -> None:
    token, message = reason(["x=[1,", stopper])
    assert token == "x=[1," and f"not closed before {stopper!r}" in message
    token, message = reason(["x=%a", stopper])
    assert token == "x=%a" and f"(the next token {stopper!r} is not part of it)" in message


@pytest.mark.parametrize(
    ("word", "joined"), [("3]", "['a', 3]"), ("=2]", "['a', =2]"), ("1=2]", "['a', 1=2]")]
)
def test_a_token_that_is_no_override_of_its_own_continues_an_open_value(
    word: str, joined: str
) -> None:
    if word == "3]":
        [item] = parse_argv(["x=['a',", word])
        assert item.value == ["a", 3] and item.token == "x=['a', 3]"
    else:
        assert reason(["x=['a',", word]) == (
            "x=['a',",
            f"joined with the next 1 token(s) into {joined!r}: {NOT_LITERAL}",
        )


# -- quotes, escapes and brackets ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "value"),
    [
        (["x=''"], ""),
        (['x=""'], ""),
        (["x='it\\'s'"], "it's"),
        (["x='a\\\\'"], "a\\"),
        (["model=Xception"], "Xception"),
        (["x=(1),(2,", "3)"], (1, (2, 3))),
        (["x=[true, +1, -2]"], [True, 1, -2]),
        (["x=[[1, 2],", "3]"], [[1, 2], 3]),
        (["x=('#', 1+2j)"], ("#", 1 + 2j)),
        (["_private=1"], 1),
        (["x:='''"], "'''"),
        (["x:='a''"], "'a''"),
        (["x:=XhelloX"], "XhelloX"),
        (["x:='hello'"], "hello"),
    ],
)
def test_quotes_escapes_and_brackets(argv: list[str], value: object) -> None:
    [item] = parse_argv(argv)
    assert item.value == value and type(item.value) is type(value)


# -- a script's usage errors ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv0", "prog"),
    [
        ("/home/me/train.py", "train.py"),
        ("C:\\runs\\train.py", "train.py"),
        ("train.py", "train.py"),
    ],
)
def test_a_usage_error_prints_one_line_with_the_program_name_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv0: str, prog: str
) -> None:
    monkeypatch.setattr(sys, "argv", [argv0, "a/b"])
    with pytest.raises(SystemExit) as info:
        exit_on_usage_error(lambda: parse_argv(command_line()))
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"{prog}: error: cannot parse command-line token 'a/b': this is neither key=value nor "
        "a view name (views are identifiers such as high_lr)\n"
    )


def test_without_argv_the_program_is_called_python_and_nothing_is_parsed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", [])
    assert command_line() == []
    with pytest.raises(SystemExit):
        exit_on_usage_error(lambda: parse_argv(["--x"]))
    assert capsys.readouterr().err.startswith(
        "python: error: cannot parse command-line token '--x'"
    )
    assert exit_on_usage_error(lambda: 42) == 42


@pytest.mark.parametrize("launcher", ["/x/ipykernel_launcher.py", "/y/colab_kernel_launcher.py"])
def test_a_notebook_kernel_argv_is_not_the_users_command_line(
    monkeypatch: pytest.MonkeyPatch, launcher: str
) -> None:
    monkeypatch.setattr(sys, "argv", [launcher, "-f", "/tmp/kernel.json"])
    assert command_line() == []
    monkeypatch.setattr(sys, "argv", ["/x/train.py", "lr=1"])
    assert command_line() == ["lr=1"]
