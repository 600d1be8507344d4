"""Lazy views and ``with Scope.lazy():`` blocks run after the command-line overrides."""

from __future__ import annotations

import pytest

from ato.scope import LazyBlockError, Scope


def test_lazy_view_sees_cli_values() -> None:
    scope = Scope()

    @scope.observe()
    def base_config(config):
        config.model = "resnet50"
        config.dataset = "imagenet"

    @scope.observe(lazy=True)
    def computed_config(config):
        if config.dataset == "imagenet":
            config.num_classes = 1000
        elif config.dataset == "cifar10":
            config.num_classes = 10

    assert scope.build(["base_config", "computed_config"]).num_classes == 1000
    config = scope.build(["base_config", "dataset=%cifar10%", "computed_config"])
    assert config.num_classes == 10
    assert scope.applied_views == ["base_config", "(CLI Inputs)", "computed_config"]


def test_lazy_views_order_by_priority() -> None:
    scope = Scope()

    @scope.observe(lazy=True, default=True, priority=5)
    def late(config):
        config.trail = [*config.trail, "late"]

    @scope.observe(lazy=True, default=True, priority=1)
    def early(config):
        config.trail = ["early"]

    assert scope.build([]).trail == ["early", "late"]


def _block_scope() -> Scope:
    scope = Scope()

    @scope.observe(default=True)
    def my_config(config):
        config.model = "resnet50"
        config.num_layers = 50
        config.lr = 0.1
        factor = 2
        with Scope.lazy():
            if config.model == "resnet101":
                config.num_layers = 101
            config.lr = config.lr * factor
        config.after_block = config.num_layers

    return scope


def test_lazy_block_is_deferred_and_sees_cli() -> None:
    config = _block_scope().build(["model=%resnet101%"])
    assert config.num_layers == 101
    assert config.after_block == 50  # the rest of the view ran before the CLI, skipping the block


def test_lazy_block_runs_exactly_once() -> None:
    assert _block_scope().build([]).lr == 0.2
    assert _block_scope().build(["lr=1"]).lr == 2


def test_lazy_block_outside_a_build_runs_inline() -> None:
    ran = []
    with Scope.lazy():
        ran.append(1)
    assert ran == [1]


def test_lazy_block_provenance_points_at_block() -> None:
    scope = _block_scope()
    scope.build(["model=%resnet101%"])
    writes = scope.provenance["num_layers"]
    assert [w.value for w in writes] == [50, 101]
    assert writes[-1].source.kind == "lazy" and writes[-1].source.label == "my_config"
    assert "test_lazy.py:" in writes[-1].source.where


def test_exception_in_lazy_block_has_original_line() -> None:
    scope = Scope()

    @scope.observe(default=True)
    def broken(config):
        config.x = 1
        with Scope.lazy():
            raise RuntimeError("boom in block")

    with pytest.raises(RuntimeError, match="boom in block") as info:
        scope.build([])
    assert info.traceback[-1].path.name == "test_lazy.py"


def test_one_line_lazy_block_is_rejected_clearly() -> None:
    scope = Scope()

    @scope.observe(default=True)
    def oneliner(config):
        # fmt: off
        with Scope.lazy(): config.x = 1  # noqa: E701
        # fmt: on

    with pytest.raises(LazyBlockError, match="own lines"):
        scope.build([])
