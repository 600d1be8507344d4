"""argparse integration in process (parse_args with an explicit args list)."""

from __future__ import annotations

import argparse

import pytest

from ato.scope import Scope


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="train")
    parser.add_argument("--gpu", type=int, default=0)
    parser.add_argument("--tags", action="append", default=[])
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.set_defaults(mode="train")
    return parser


def test_values_and_explicit_flags() -> None:
    scope = Scope(use_external_parser=True)
    scope.observe("defaults", {"gpu": 5, "verbose": 9, "lr": 0.1}, default=True)
    parser = make_parser()
    ns = parser.parse_args(["--gpu", "2", "lr=0.3", "--tags", "a", "--tags=b"])
    assert ns.gpu == 2 and ns.tags == ["a", "b"] and not hasattr(ns, "lr")
    config = scope.build()
    assert config.to_dict() == {
        "gpu": 2,
        "tags": ["a", "b"],
        "verbose": 9,
        "mode": "train",
        "lr": 0.3,
    }
    assert str(scope.provenance["gpu"][-1].source) == "argparse --gpu"


def test_count_flag_and_short_option() -> None:
    scope = Scope(use_external_parser=True)
    scope.observe("defaults", {"verbose": 9}, default=True)
    make_parser().parse_args(["-vv"])
    assert scope.build().verbose == 2
    assert str(scope.provenance["verbose"][-1].source) == "argparse -v"


def test_parser_errors_stay_argparse_errors() -> None:
    Scope(use_external_parser=True)
    with pytest.raises(SystemExit) as info:
        make_parser().parse_args(["--gpu", "x"])
    assert info.value.code == 2


def test_scope_without_external_parser_ignores_argparse() -> None:
    keep_alive = Scope(use_external_parser=True)  # noqa: F841 - keeps the interception on
    scope = Scope()
    scope.observe("defaults", {"lr": 1}, default=True)
    make_parser().parse_args(["--gpu", "3"])
    assert scope.build([]).to_dict() == {"lr": 1}


def test_explicit_argv_bypasses_parsed_leftovers() -> None:
    scope = Scope(use_external_parser=True)
    make_parser().parse_args(["lr=2"])
    assert scope.build().lr == 2
    assert scope.build(["lr=4"]).lr == 4
