"""Injection by parameter name; pause/activate/deactivate."""

from __future__ import annotations

import sys

import pytest

from ato.scope import Scope, ViewDefinitionError


@pytest.fixture
def scope(monkeypatch: pytest.MonkeyPatch) -> Scope:
    monkeypatch.setattr(sys, "argv", ["train.py", "lr=0.5"])
    scope = Scope()
    scope.observe("defaults", {"lr": 0.1, "epochs": 3}, default=True)
    return scope


def test_injects_from_the_real_command_line(scope: Scope) -> None:
    @scope
    def train(config):
        return config.lr

    assert train() == 0.5


def test_other_arguments_are_untouched(scope: Scope) -> None:
    @scope
    def train(epochs, config, *rest, tag="x"):
        return epochs, config.lr, rest, tag

    assert train(7) == (7, 0.5, (), "x")
    assert train(7, 8, 9, tag="y") == (7, 0.5, (8, 9), "y")
    assert train(epochs=2) == (2, 0.5, (), "x")


def test_config_first_positional(scope: Scope) -> None:
    @scope
    def train(config, epochs=1):
        return config.lr, epochs

    assert train() == (0.5, 1)
    assert train(4) == (0.5, 4)


def test_explicit_keyword_config_wins(scope: Scope) -> None:
    @scope
    def train(config):
        return config

    assert train(config="mine") == "mine"


def test_each_call_builds_a_fresh_config(scope: Scope) -> None:
    seen = []

    @scope
    def train(config):
        seen.append(config.lr)
        config.lr = 99
        return config

    first, second = train(), train()
    assert seen == [0.5, 0.5] and first is not second and scope.config is second


def test_pause_activate_deactivate(scope: Scope) -> None:
    @scope
    def train(config=None):
        return config

    scope.deactivate()
    assert train() is None and not scope.active
    scope.activate()
    assert train().lr == 0.5
    with scope.pause():
        assert train() is None
    assert scope.active
    scope.pause()
    assert train("given") == "given"
    scope.activate()


def test_missing_parameter_is_a_clear_error(scope: Scope) -> None:
    with pytest.raises(ViewDefinitionError, match="no parameter named 'config'"):

        @scope
        def train(cfg):
            return cfg


def test_wrapper_keeps_metadata(scope: Scope) -> None:
    @scope
    def train(config):
        """Doc."""

    assert train.__name__ == "train" and train.__doc__ == "Doc."


@pytest.mark.parametrize(
    "launcher", ["/env/lib/ipykernel_launcher.py", "/usr/local/colab_kernel_launcher.py"]
)
def test_notebook_kernel_argv_is_not_a_command_line(
    monkeypatch: pytest.MonkeyPatch, launcher: str
) -> None:
    from ato.scope import MultiScope

    monkeypatch.setattr(sys, "argv", [launcher, "-f", "/run/kernel-1.json"])
    scope = Scope()
    scope.observe("defaults", {"lr": 0.1}, default=True)
    other = Scope(name="data")
    other.observe("data_defaults", {"root": "/data"}, default=True)

    @scope
    def train(config):
        return config.lr

    @MultiScope(scope, other)
    def train_both(config, data):
        return config.lr, data.root

    assert train() == 0.1
    assert train_both() == (0.1, "/data")


def test_rerunning_a_notebook_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Running the same cell twice gives the same result: no stale views, no errors."""
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py", "-f", "k.json"])

    def cell(lr: float):
        scope = Scope()

        @scope.observe(default=True)
        def defaults(config):
            config.lr = lr
            with Scope.lazy():
                config.scaled = config.lr * 10

        @scope.manual
        def docs(config):
            config.lr = "learning rate"

        @scope
        def train(config):
            return config.to_dict()

        return scope, train()

    _, result = cell(0.1)
    second, again = cell(0.2)
    assert result == {"lr": 0.1, "scaled": 1.0}
    assert again == {"lr": 0.2, "scaled": 2.0}
    assert second.view_names == ["defaults"] and second.manual_entries() == {"lr": "learning rate"}


def test_import_pulls_in_no_heavy_libraries() -> None:
    """``import ato.scope`` must not import sqlalchemy, torch, numpy, omegaconf or yaml."""
    import subprocess

    code = (
        "import sys, ato.scope\n"
        "heavy = {'sqlalchemy', 'torch', 'numpy', 'omegaconf', 'yaml'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
