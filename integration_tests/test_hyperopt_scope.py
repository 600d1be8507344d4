"""HyperBand driven by a real ato-scope Scope: trial values arrive through the scope."""

from __future__ import annotations

import sys

import pytest

from ato import scope as scope_mod
from ato.adict import ADict
from ato.hyperopt import HyperBand, OverriddenBySearchWarning

SPACES = ADict(
    {
        "train.lr": ADict(
            param_type="FLOAT", param_range=(1e-4, 1e-1), num_samples=4, space_type="LOG"
        ),
        "model.depth": ADict(param_type="CATEGORY", categories=[18, 34, 50]),
    }
)


def _scope() -> scope_mod.Scope:
    scope = scope_mod.Scope()

    @scope.observe(default=True)
    def defaults(config):
        config.train = ADict(lr=1.0, epochs=5)
        config.model = ADict(depth=10, width=64)

    @scope.observe(lazy=True, default=True)
    def derived(config):
        config.train.warmup_lr = config.train.lr / 10

    @scope.observe(priority=1)
    def wide(config):
        config.model.width = 256

    return scope


def _metric(config) -> float:
    return -abs(config.train.lr - 1e-2) * 100 - abs(config.model.depth - 34) / 100


def test_trial_values_reach_the_function_through_the_scope(monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["train.py", "wide", "train.epochs=9"])
    scope = _scope()
    hb = HyperBand(scope, SPACES, halving_rate=0.3, num_min_samples=3, mode="max")
    seen = []

    @hb.main
    def train(config):
        seen.append(config)
        assert config.train.warmup_lr == pytest.approx(config.train.lr / 10)
        return _metric(config)

    result = train()
    assert len(seen) == sum(len(r) for r in result.logs)
    assert all(c.model.width == 256 and c.train.epochs == 9 for c in seen)
    assert (result.config.train.lr, result.config.model.depth) == (1e-2, 34)
    assert result.config.__num_halved__ == len(result.logs) - 1
    assert {c.__num_halved__ for c in seen} == set(range(len(result.logs)))


def test_searched_values_win_over_the_command_line(monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["train.py", "train.lr=0.5"])
    hb = HyperBand(_scope(), SPACES, halving_rate=0.3, num_min_samples=3)
    lrs = set()

    @hb.main
    def train(config):
        lrs.add(config.train.lr)
        return _metric(config)

    with pytest.warns(OverriddenBySearchWarning, match="train.lr=0.5 from the command line"):
        train()
    assert lrs == {1e-4, 1e-3, 1e-2, 1e-1}


def test_scope_provenance_names_the_search(monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["train.py"])
    scope = _scope()
    hb = HyperBand(scope, SPACES, halving_rate=0.3, num_min_samples=3)
    hb.main(_metric)()
    writes = scope.provenance["train.lr"]
    assert writes[-1].source.kind == "extra" and str(writes[-1].source) == "search"
    assert "(search)" in scope.applied_views and "hyperopt_trial" not in scope.view_names


def test_outside_a_search_the_scope_is_unchanged(monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["train.py"])
    scope = _scope()
    hb = HyperBand(scope, SPACES, halving_rate=0.3, num_min_samples=3)
    assert hb.config.train.lr == 1.0 and "__num_halved__" not in hb.config

    @scope
    def plain(config):
        return config

    assert plain().train.lr == 1.0


def test_seed_style_scope_example_with_stand_in_training(monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["train.py"])
    scope = scope_mod.Scope()

    @scope.observe(default=True)
    def config(config):
        config.lr = 0.001
        config.batch_size = 32
        config.model = "resnet50"

    search_spaces = ADict(
        lr=ADict(param_type="FLOAT", param_range=(1e-5, 1e-1), num_samples=5, space_type="LOG"),
        batch_size=ADict(
            param_type="INTEGER", param_range=(16, 128), num_samples=4, space_type="LOG"
        ),
        model=ADict(param_type="CATEGORY", categories=["resnet50", "resnet101"]),
    )
    hyperband = HyperBand(scope, search_spaces, halving_rate=0.3, num_min_samples=3, mode="max")
    steps = hyperband.compute_optimized_initial_training_steps(1000)

    @hyperband.main
    def train(config):
        budget = steps[config.__num_halved__]
        return (
            (config.model == "resnet101")
            + config.batch_size / 128
            - abs(config.lr - 1e-3)
            + budget / 1e6
        )

    result = train()
    assert result.config.model == "resnet101" and result.config.batch_size == 128
    assert result.config.lr == 1e-3
    assert [len(r) for r in result.logs] == [40, 12, 3, 1]


PRINT_SCRIPT = """
from ato.adict import ADict
from ato.hyperopt import HyperBand
from ato.scope import Scope

scope = Scope()


@scope.observe(default=True)
def defaults(config):
    config.optim = ADict(lr=0.5, momentum=0.9)


spaces = {"optim.lr": {"param_type": "FLOAT", "param_range": (0.001, 0.1), "num_samples": 3}}
search = HyperBand(scope, spaces, halving_rate=0.5, num_min_samples=2)


@search.main
def train(config):
    print("TRIAL RAN")
    return config.optim.lr


train()
"""


@pytest.mark.parametrize("command", ["print", "manual", "explain"])
def test_command_words_report_the_users_config_before_any_trial(tmp_path, command) -> None:
    import subprocess

    script = tmp_path / "search.py"
    script.write_text(PRINT_SCRIPT, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), command], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "TRIAL RAN" not in proc.stdout
    if command == "print":
        assert "lr: 0.5" in proc.stdout and "__num_halved__" not in proc.stdout
    if command == "explain":
        assert "optim.lr = 0.5 ← defaults" in proc.stdout


def test_a_searched_key_set_on_the_command_line_warns(tmp_path) -> None:
    import subprocess

    script = tmp_path / "search.py"
    script.write_text(PRINT_SCRIPT, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), "optim.lr=0.5"], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "OverriddenBySearchWarning" in proc.stderr
    assert "optim.lr=0.5 from the command line is replaced by the search" in proc.stderr
    quiet = subprocess.run(
        [sys.executable, str(script), "optim.momentum=0.5"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert quiet.returncode == 0 and "Warning" not in quiet.stderr, quiet.stderr
