"""Views: order of application, priorities, chain_with, config views, re-definition."""

from __future__ import annotations

import pytest

from ato.adict import ADict, ConfigKeyError
from ato.scope import Scope, UnknownViewError, ViewChainError, ViewDefinitionError


def make_scope() -> Scope:
    scope = Scope()

    @scope.observe(default=True)
    def defaults(config):
        config.lr = 0.001
        config.epochs = 100
        config.trail = ["defaults"]

    @scope.observe(priority=1)
    def high_lr(config):
        config.lr = 0.01
        config.trail.append("high_lr")

    @scope.observe(priority=2)
    def long_training(config):
        config.epochs = 300
        config.trail.append("long_training")

    return scope


def test_defaults_only() -> None:
    config = make_scope().build([])
    assert config.to_dict() == {"lr": 0.001, "epochs": 100, "trail": ["defaults"]}


def test_named_views_apply_by_priority_not_cli_order() -> None:
    config = make_scope().build(["long_training", "high_lr"])
    assert config.trail == ["defaults", "high_lr", "long_training"]
    assert (config.lr, config.epochs) == (0.01, 300)


def test_cli_overrides_beat_views() -> None:
    config = make_scope().build(["high_lr", "lr=0.5"])
    assert config.lr == 0.5


def test_ties_keep_definition_order() -> None:
    scope = Scope()
    for name in ["c", "a", "b"]:
        scope.observe(name, {"order": [name]}, priority=3)

    @scope.observe(priority=3)
    def d(config):
        config.seen = list(config.order)

    assert scope.build(["d", "b", "a", "c"]).seen == ["b"]
    assert scope.applied_views == ["c", "a", "b", "d", "(CLI Inputs)"]


def test_config_view_is_deep_merged_and_not_aliased() -> None:
    scope = Scope()
    preset = ADict(model=ADict(depth=50))

    @scope.observe(default=True)
    def defaults(config):
        config.model.width = 64

    scope.observe("preset", preset, priority=2)
    first = scope.build(["preset"])
    first.model.depth = 1
    assert scope.build(["preset"]).model.to_dict() == {"width": 64, "depth": 50}
    assert preset.model.depth == 50


def test_initial_config_is_below_views_and_copied() -> None:
    base = {"lr": 1, "keep": {"x": 1}}
    scope = Scope(config=base)
    scope.observe("v", {"lr": 2}, default=True)
    config = scope.build([])
    config.keep.x = 5
    assert config.lr == 2 and base == {"lr": 1, "keep": {"x": 1}}


def test_views_see_an_auto_config_but_result_is_not_auto() -> None:
    scope = Scope()

    @scope.observe(default=True)
    def nested(config):
        config.training.optimizer.name = "AdamW"
        config.data = ADict(dataset="cifar10")

    @scope.observe(default=True)
    def later(config):
        config.data.aug.flip = True  # an assigned ADict is auto-nesting in later views

    config = scope.build([])
    assert config.training.optimizer.name == "AdamW" and config.data.aug.flip is True
    with pytest.raises(ConfigKeyError, match=r"did you mean|Did you mean"):
        config.trainin  # noqa: B018


def test_chain_with_is_transitive_and_accepts_lists() -> None:
    scope = Scope()
    scope.observe("a", {"a": 1}, chain_with="b")
    scope.observe("b", {"b": 1}, chain_with=["c", "d"])
    scope.observe("c", {"c": 1})
    scope.observe("d", {"d": 1})
    scope.observe("e", {"e": 1})
    assert sorted(scope.build(["a"])) == ["a", "b", "c", "d"]


def test_chain_cycle_is_named() -> None:
    scope = Scope()
    scope.observe("a", {"a": 1}, chain_with="b")
    scope.observe("b", {"b": 1}, chain_with="c")
    scope.observe("c", {"c": 1}, chain_with="a")
    with pytest.raises(ViewChainError, match="a → b → c → a"):
        scope.build(["a"])


def test_unknown_chain_target() -> None:
    scope = Scope()
    scope.observe("a", {"a": 1}, chain_with="hihg_lr")
    scope.observe("high_lr", {"lr": 1})
    with pytest.raises(UnknownViewError, match=r"chain_with of 'a'.*Did you mean 'high_lr'"):
        scope.build(["a"])


def test_unknown_view_on_cli_suggests() -> None:
    with pytest.raises(UnknownViewError, match=r"'hihg_lr'.*Did you mean 'high_lr'") as info:
        make_scope().build(["hihg_lr"])
    assert isinstance(info.value, KeyError)


def test_redefining_a_view_replaces_it() -> None:
    scope = make_scope()

    @scope.observe(priority=1)
    def high_lr(config):
        config.lr = 0.02

    assert scope.view_names.count("high_lr") == 1
    assert scope.build(["high_lr"]).lr == 0.02


def test_recreating_a_scope_leaves_no_stale_views() -> None:
    first = make_scope()
    second = Scope()
    second.observe("only", {"x": 1}, default=True)
    assert second.build([]).to_dict() == {"x": 1}
    assert "high_lr" in first.view_names and "high_lr" not in second.view_names


@pytest.mark.parametrize("name", ["print", "manual", "explain", "1abc", "a.b", "has space"])
def test_bad_view_names(name: str) -> None:
    with pytest.raises(ViewDefinitionError, match=repr(name)):
        Scope().observe(name, {"a": 1})


def test_observe_forms() -> None:
    scope = Scope()

    @scope.observe
    def bare(config):
        config.a = 1

    @scope.observe("renamed", default=True)
    def original(config):
        config.b = 2

    assert scope.view_names == ["bare", "renamed"]
    assert scope.build(["bare"]).to_dict() == {"b": 2, "a": 1}
    with pytest.raises(ViewDefinitionError):
        scope.observe("x", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(ViewDefinitionError):
        scope.observe(priority="high")  # type: ignore[arg-type]


def test_bad_scope_arguments() -> None:
    with pytest.raises(ViewDefinitionError):
        Scope(name="not valid")
    with pytest.raises(TypeError, match=r"^Scope\(config=\.\.\.\) takes a mapping, not list$"):
        Scope(config=[1, 2])  # type: ignore[arg-type]
