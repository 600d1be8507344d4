"""ato 2.x names kept as thin aliases: ato.parser, parse_args_pythonic, Scope.registry."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ato.scope import CLIParseError, Scope, parse_args_pythonic


def _parser_module():
    sys.modules.pop("ato.parser", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module("ato.parser")
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    return module


parser = _parser_module()


@pytest.mark.parametrize(
    ("command", "tokens"),
    [
        (
            "train.py layers=[64, 128] name=%my run% lr=1e-3",
            ["train.py", "layers=[64, 128]", "name=%my run%", "lr=1e-3"],
        ),
        ("a=1   b=2\tc=3", ["a=1", "b=2", "c=3"]),
        ("opt={'lr': 0.1, 'b': [1, 2]} high_lr", ["opt={'lr': 0.1, 'b': [1, 2]}", "high_lr"]),
        ('note="hello world" x:=raw', ['note="hello world"', "x:=raw"]),
        ("--local-rank=0 manual", ["--local-rank=0", "manual"]),
        ("", []),
    ],
)
def test_parse_command_keeps_values_whole(command: str, tokens: list[str]) -> None:
    assert parser.parse_command(command) == tokens


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(-99, 99), max_size=5),
    st.text(alphabet="abc ", min_size=1, max_size=10).filter(lambda t: t.strip() == t),
)
def test_parse_command_tokens_build_the_same_config(values: list[int], name: str) -> None:
    tokens = parser.parse_command(f"layers={values!r} name=%{name}% lr=0.5")
    scope = Scope()
    scope.observe("base", {"layers": [], "name": "", "lr": 0.1}, default=True)
    config = scope.build(tokens)
    assert (config.layers, config.name, config.lr) == (values, " ".join(name.split()), 0.5)


@pytest.mark.parametrize("command", ["x=[1, 2", "name=%open lr=1", "s='a b"])
def test_parse_command_unclosed_values_raise(command: str) -> None:
    with pytest.raises(CLIParseError):
        parser.parse_command(command)


def test_parse_args_pythonic() -> None:
    result = parse_args_pythonic(["model.depth=50", "high_lr", "name=%my", "run%", "lr=true"])
    assert result.to_dict() == {"model": {"depth": 50}, "name": "my run", "lr": True}
    assert parser.parse_args_pythonic is parse_args_pythonic


def test_parse_args_pythonic_reads_sys_argv(monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["train.py", "a.b=[1, 2]", "c=x"])
    assert parse_args_pythonic().to_dict() == {"a": {"b": [1, 2]}, "c": "x"}


def test_registry_holds_scopes_by_name_and_initialize_clears_it() -> None:
    Scope.initialize_registry()
    first, model = Scope(), Scope(name="model")
    assert Scope.registry["config"] is first and Scope.registry["model"] is model
    second = Scope()
    assert Scope.registry["config"] is second
    Scope.initialize_registry()
    assert dict(Scope.registry) == {}
    second.observe("base", {"lr": 1}, default=True)
    assert second.build([]).lr == 1  # a scope still referenced keeps working


def test_initialize_registry_stops_argparse_interception(monkeypatch) -> None:
    Scope.initialize_registry()
    scope = Scope(use_external_parser=True)
    scope.observe("base", {"lr": 0.1}, default=True)
    monkeypatch.setattr(sys, "argv", ["train.py", "--gpu", "1", "lr=0.5"])
    cli = argparse.ArgumentParser()
    cli.add_argument("--gpu", type=int, default=0)
    cli.parse_args()
    assert scope.build().gpu == 1
    Scope.initialize_registry()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SystemExit):  # plain argparse again: 'lr=0.5' is not its argument
            cli.parse_args()
