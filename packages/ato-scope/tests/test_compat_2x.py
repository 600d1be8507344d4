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


# -- parse_backtick_string ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("command", "start", "expected"),
    [
        ("name=%my run% lr=1", 5, ("%my run%", 13)),
        ("%a%", 0, ("%a%", 3)),
        ("x=%100%% sure% y=2", 2, ("%100%% sure%", 14)),
        ("%%", 0, ("%%", 2)),
        ("p=%a\\%b% q", 2, ("%a\\%b%", 8)),
        ("%[1, 2]% tail", 0, ("%[1, 2]%", 8)),
    ],
)
def test_parse_backtick_string(command: str, start: int, expected: tuple[str, int]) -> None:
    assert parser.parse_backtick_string(command, start) == expected


@pytest.mark.parametrize(
    ("command", "start", "reason"),
    [
        ("name=%open", 5, "never closes"),
        ("a=%x\\%", 2, "never closes"),
        ("%a%%", 0, "never closes"),
        ("name=x", 5, "no '%' at index 5"),
        ("abc", 7, "no '%' at index 7"),
        ("%a%", -1, "no '%' at index -1"),
    ],
)
def test_parse_backtick_string_refuses_what_is_not_one(
    command: str, start: int, reason: str
) -> None:
    with pytest.raises(CLIParseError, match=reason):
        parser.parse_backtick_string(command, start)


# -- Scope.assign / Scope.apply -------------------------------------------------------------
def _two_step_scope() -> Scope:
    scope = Scope(name="config")

    @scope.observe(default=True)
    def defaults(config):
        config.lr, config.model = 0.1, "resnet"

    @scope.observe()
    def high_lr(config):
        config.lr = 1.0

    @scope.observe(lazy=True)
    def wide(config):
        config.width = 2 * config.depth if "depth" in config else 64

    return scope


@pytest.mark.parametrize(
    ("literals", "expected"),
    [
        ((), {"lr": 0.1, "model": "resnet"}),
        (("high_lr",), {"lr": 1.0, "model": "resnet"}),
        (("high_lr", "lr=0.5"), {"lr": 0.5, "model": "resnet"}),
        ((["high_lr", "model=%vit b%"],), {"lr": 1.0, "model": "vit b"}),
        (("defaults", "wide", "+depth=8"), {"lr": 0.1, "model": "resnet", "depth": 8, "width": 16}),
        (
            ({"model": "mlp", "opt.name": "adam"},),
            {"lr": 0.1, "model": "mlp", "opt": {"name": "adam"}},
        ),
        (("lr=0.2", {"lr": 0.3}), {"lr": 0.3, "model": "resnet"}),
        ((("wide",), "model:=a b"), {"lr": 0.1, "model": "a b", "width": 64}),
    ],
)
def test_assign_then_apply_builds_like_2x(literals: tuple, expected: dict) -> None:
    scope = _two_step_scope()
    scope.assign(*literals)
    config = scope.apply()
    assert config.to_dict() == expected
    assert scope.config == expected


def test_assign_accumulates_until_reset() -> None:
    scope = _two_step_scope()
    scope.assign("high_lr")
    scope.assign("model=%vit%")
    assert scope.apply().to_dict() == {"lr": 1.0, "model": "vit"}
    assert scope.apply().to_dict() == {"lr": 1.0, "model": "vit"}  # applying twice: same
    scope.reset_user_inputs()
    assert scope.apply().to_dict() == {"lr": 0.1, "model": "resnet"}


@pytest.mark.parametrize(
    ("literal", "error"),
    [
        ("hihg_lr", "(?i)did you mean"),
        ("wdie", "(?i)did you mean"),
        ("x=[1, 2", "x=\\[1, 2"),
        ("name=%open", "name=%open"),
    ],
)
def test_apply_raises_what_build_raises(literal: str, error: str) -> None:
    scope = _two_step_scope()
    scope.assign(literal)
    with pytest.raises((CLIParseError, KeyError), match=error):
        scope.apply()


@pytest.mark.parametrize("literal", [3, None, 1.5, b"lr=1", {"a"}])
def test_assign_refuses_other_types(literal: object) -> None:
    with pytest.raises(TypeError, match="#1"):
        _two_step_scope().assign("high_lr", literal)
