"""``Scope.build(extra=..., source=...)``: a layer of values above views and the command line."""

from __future__ import annotations

import pytest

from ato.scope import DELETED, Scope


def make_scope() -> Scope:
    scope = Scope()

    @scope.observe(default=True)
    def base(config):
        config.lr = 0.1
        config.model.depth = 18
        config.model.width = 64

    @scope.observe(default=True, lazy=True)
    def derived(config):
        config.steps = int(config.lr * 1000)

    return scope


def test_extra_wins_over_views_and_cli_and_lazy_views_see_it() -> None:
    scope = make_scope()
    config = scope.build(["lr=0.5", "model.depth=50"], extra={"lr": 0.01}, source="search")
    assert config.lr == 0.01 and config.model.depth == 50
    assert config.steps == 10  # the lazy view ran after the extra values
    writes = scope.provenance["lr"]
    assert [str(w.source) for w in writes] == [
        "base (" + writes[0].source.where + ")",
        "CLI lr=0.5",
        "search",
    ]
    assert writes[-1].source.kind == "extra" and writes[-1].value == 0.01
    assert scope.applied_views == ["base", "(CLI Inputs)", "(search)", "derived"]


def test_dotted_keys_create_nested_values_and_values_are_copied() -> None:
    scope = make_scope()
    layers = [64, 128]
    config = scope.build([], extra={"model.layers": layers, "optim.name": "adam"})
    layers.append(256)
    assert config.model.layers == [64, 128] and config.optim.name == "adam"
    assert str(scope.provenance["optim.name"][-1].source) == "extra"


def test_replacing_a_mapping_records_its_leaves_as_deleted() -> None:
    scope = make_scope()
    config = scope.build([], extra={"model": "resnet"}, source="search")
    assert config.model == "resnet"
    assert scope.provenance["model.depth"][-1].value is DELETED
    assert str(scope.provenance["model.depth"][-1].source) == "search"


def test_explain_names_the_source(capsys) -> None:
    scope = make_scope()
    with pytest.raises(SystemExit) as info:
        scope.build(["explain", "lr"], extra={"lr": 0.02}, source="search")
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "lr = 0.02 ← search" in out and "overrode 0.1 ← base" in out


def test_a_build_without_extra_is_unchanged() -> None:
    scope = make_scope()
    scope.build([], extra={"lr": 0.3})
    assert scope.build([]).lr == 0.1
    assert "(extra)" not in scope.applied_views


@pytest.mark.parametrize(
    ("extra", "source"),
    [([("lr", 1)], "x"), ({1: 2}, "x"), ({"a..b": 1}, "x"), ({"": 1}, "x"), ({}, ""), ({}, 3)],
)
def test_bad_arguments(extra, source) -> None:
    with pytest.raises(TypeError):
        make_scope().build([], extra=extra, source=source)


def test_extra_through_the_process_command_line(monkeypatch) -> None:
    monkeypatch.setattr("sys.argv", ["train.py", "lr=0.7"])
    scope = make_scope()
    assert scope.build(extra={"model.depth": 101}).to_dict()["model"]["depth"] == 101
    assert scope.config.lr == 0.7
