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
    make_parser().parse_args(["+lr=2"])
    assert scope.build().lr == 2
    assert scope.build(["+lr=4"]).lr == 4


# -- a registered parser: nothing is replaced for the process ------------------------------
ORIGINAL = argparse.ArgumentParser.parse_args


def test_registered_parser_parses_flags_in_argv() -> None:
    parser = make_parser()
    scope = Scope(parser=parser)
    scope.observe("defaults", {"gpu": 5, "lr": 0.1}, default=True)
    assert argparse.ArgumentParser.parse_args is ORIGINAL
    config = scope.build(["--gpu", "2", "lr=0.3", "-vv"])
    assert (config.gpu, config.lr, config.verbose, config.mode) == (2, 0.3, 2, "train")
    assert str(scope.provenance["gpu"][-1].source) == "argparse --gpu"
    assert scope.build([]).gpu == 5  # argparse default below the view
    assert scope.use_external_parser and scope.parser is parser


def test_use_parser_after_creation_and_type_check() -> None:
    scope = Scope(use_external_parser=True)
    parser = scope.use_parser(make_parser())
    assert argparse.ArgumentParser.parse_args is ORIGINAL  # no waiting 2.x capture any more
    assert scope.build(["--gpu=7"]).gpu == 7 and scope.parser is parser
    with pytest.raises(TypeError, match="ArgumentParser"):
        scope.use_parser("--gpu")  # type: ignore[arg-type]


def test_only_the_registered_parser_answers_and_only_during_setup(monkeypatch) -> None:
    monkeypatch.setattr("sys.argv", ["train.py", "--gpu", "3", "lr=0.2"])
    parser = make_parser()
    other = argparse.ArgumentParser(prog="other")
    other.add_argument("--gpu", type=int, default=0)
    scope = Scope(parser=parser)
    seen = {}

    @scope.observe(default=True)
    def base(config):
        seen["registered"] = parser.parse_args()  # answered the ato way: lr=0.2 tolerated
        seen["patched"] = "parse_args" in vars(parser)
        seen["class"] = argparse.ArgumentParser.parse_args is ORIGINAL
        with pytest.raises(SystemExit):  # the other parser is plain argparse
            other.parse_args()
        config.lr = 0.1

    @scope
    def train(config):
        seen["in_body"] = "parse_args" in vars(parser)
        return config

    config = train()
    assert (config.gpu, config.lr) == (3, 0.2)
    assert seen["registered"].gpu == 3 and seen["patched"] and seen["class"]
    assert seen["in_body"] is False  # the window closed before the function ran
    assert "parse_args" not in vars(parser) and argparse.ArgumentParser.parse_args is ORIGINAL
    with pytest.raises(SystemExit):  # afterwards the parser is argparse's own again
        parser.parse_args()


def test_window_closes_when_the_build_fails(monkeypatch) -> None:
    monkeypatch.setattr("sys.argv", ["train.py", "lr=0.2"])
    parser = make_parser()
    scope = Scope(parser=parser)

    @scope.observe(default=True)
    def base(config):
        raise RuntimeError("view failed")

    with pytest.raises(RuntimeError, match="view failed"):
        scope.build()
    assert "parse_args" not in vars(parser)


def test_instance_attribute_set_by_the_user_is_restored(monkeypatch) -> None:
    monkeypatch.setattr("sys.argv", ["train.py"])
    parser = make_parser()
    mine = parser.parse_args
    parser.parse_args = mine  # type: ignore[method-assign]
    Scope(parser=parser).build()
    assert vars(parser)["parse_args"] is mine


def test_2x_form_restores_argparse_at_the_first_parse(monkeypatch) -> None:
    monkeypatch.setattr("sys.argv", ["train.py", "--gpu", "4", "lr=0.6"])
    scope = Scope(use_external_parser=True)
    scope.observe("defaults", {"lr": 0.1}, default=True)
    assert argparse.ArgumentParser.parse_args is not ORIGINAL  # waiting for the first call
    parser = make_parser()
    assert parser.parse_args().gpu == 4
    assert argparse.ArgumentParser.parse_args is ORIGINAL
    other = argparse.ArgumentParser()
    with pytest.raises(SystemExit):  # a later parser is plain argparse: lr=0.6 is unknown
        other.parse_args()
    config = scope.build()
    assert (config.gpu, config.lr) == (4, 0.6) and scope.parser is parser


def test_initialize_registry_stops_a_waiting_capture() -> None:
    Scope(use_external_parser=True)
    assert argparse.ArgumentParser.parse_args is not ORIGINAL
    Scope.initialize_registry()
    assert argparse.ArgumentParser.parse_args is ORIGINAL


def test_help_prints_manual_and_the_parser_help(capsys) -> None:
    scope = Scope(parser=make_parser())
    with pytest.raises(SystemExit) as info:
        scope.build(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "(argparse defaults)" in out and "--gpu GPU" in out
