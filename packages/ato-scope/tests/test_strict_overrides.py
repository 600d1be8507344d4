"""Strict overrides by default (as Hydra): a key no view defines is a usage error unless written
``+key=value`` or ``++key=value``; ``Scope(strict=False)`` keeps ato 2.x's permissive way."""

from __future__ import annotations

import warnings

import pytest

from ato.scope import MultiScope, OverrideTypeError, Scope, UnknownKeyError


def train_scope(**options) -> Scope:
    scope = Scope(**options)
    scope.observe(
        "base",
        {
            "lr": 1e-3,
            "epochs": 10,
            "use_amp": True,
            "optim": {"lr": 1e-3, "betas": [0.9, 0.999], "name": "adam"},
            "layers": [64, 128],
            "data": {"root": "/data", "loader": {"workers": 4}},
        },
        default=True,
    )
    return scope


NEAR_TYPOS = [
    (["lrr=3e-3"], "lr"),
    (["epoch=3"], "epochs"),
    (["optim.lrr=3e-3"], "optim.lr"),
    (["optim.lr_=3e-3"], "optim.lr"),
    (["data.loader.worker=2"], "data.loader.workers"),
    (["layer=[32, 64]"], "layers"),
    (["layerz=[32,", "64]"], "layers"),  # a list the shell split
    (["use-amp=false"], "use_amp"),
]


def assert_plus_forms_add(argv: list[str]) -> None:
    """``+key=value`` and ``++key=value`` add the key, without a warning."""
    key = argv[0].partition("=")[0]
    for prefix in ("+", "++"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            config = train_scope().build([prefix + argv[0], *argv[1:]])
        assert config.get_path(key) is not None


@pytest.mark.parametrize(("argv", "suggested"), NEAR_TYPOS)
def test_a_typo_near_a_real_key_is_an_error_with_a_suggestion_and_the_plus_hint(
    argv: list[str], suggested: str
) -> None:
    token = " ".join(argv)
    with pytest.raises(UnknownKeyError) as info:
        train_scope().build(argv)
    message = str(info.value)
    assert f"Did you mean '{suggested}'" in message
    assert f"write {'+' + token!r}" in message and "\n" not in message
    assert_plus_forms_add(argv)


FAR_KEYS = [
    ["seed=1"],
    ["optim.momentum=0.9"],
    ["data.loader.pin_memory=true"],
    ["callbacks=['ckpt', 'early_stop']"],
    ["model.depth=50"],
]


@pytest.mark.parametrize("argv", FAR_KEYS)
def test_a_key_far_from_every_real_key_is_an_error_with_the_plus_hint(argv: list[str]) -> None:
    with pytest.raises(UnknownKeyError) as info:
        train_scope().build(argv)
    assert "Did you mean" not in str(info.value)
    assert f"write {'+' + argv[0]!r}" in str(info.value)
    assert_plus_forms_add(argv)


@pytest.mark.parametrize(
    ("token", "key", "expected"),
    [
        ("++lr=0.1", "lr", 0.1),
        ("++optim.betas=[0.8, 0.99]", "optim.betas", [0.8, 0.99]),
        ("++layers=[1, 2, 3]", "layers", [1, 2, 3]),
        ("++use_amp=off", "use_amp", False),
    ],
)
def test_double_plus_overrides_an_existing_key_with_the_type_rules(
    token: str, key: str, expected: object
) -> None:
    assert train_scope().build([token]).get_path(key) == expected
    with pytest.raises(OverrideTypeError, match=repr(key)):
        train_scope().build([token.partition("=")[0] + "=abc"])


def test_multiscope_checks_each_scope_by_its_own_strictness() -> None:
    model, data = train_scope(name="model"), Scope(name="data", strict=False)
    data.observe("data_base", {"root": "/data"}, default=True)
    both = MultiScope(model, data)
    with pytest.raises(UnknownKeyError, match=r"scope 'model'.*Did you mean 'lr'.*'\+model.lrr=1'"):
        both.build(["model.lrr=1"])
    with pytest.raises(UnknownKeyError, match=r"'\+model.seed=1'"):
        both.build(["model.seed=1"])
    configs = both.build(["+model.seed=1", "++model.tag=x", "data.shards=4"])
    assert configs["model"].seed == 1 and configs["model"].tag == "x"
    assert configs["data"].shards == 4


def lazy_scope() -> Scope:
    scope = train_scope()

    @scope.observe(default=True, lazy=True)
    def schedule(config):
        config.warmup = 100
        config.steps = {"total": config.epochs * 10}

    @scope.observe(default=True)
    def tail(config):
        config.tail = 1
        with Scope.lazy():
            config.half_epochs = config.epochs // 2

    return scope


@pytest.mark.parametrize(
    ("token", "typo", "suggested"),
    [
        ("warmup=5", "warmpu=5", "warmup"),
        ("steps.total=3", "steps.totl=3", "steps.total"),
        ("steps={'total': 3}", "step={'total': 3}", "steps"),
        ("half_epochs=1", "half_epoch=1", "half_epochs"),
    ],
)
def test_keys_lazy_views_and_blocks_write_are_defined_and_their_typos_are_errors(
    token: str, typo: str, suggested: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lazy_scope().build([token])
    with pytest.raises(UnknownKeyError, match=f"Did you mean '{suggested}'"):
        lazy_scope().build([typo])


SCRIPT = """
from ato.scope import Scope

scope = Scope()


@scope.observe(default=True)
def defaults(config):
    config.lr = 1e-3
    config.use_amp = False
    config.optim.lr = 1e-3
    config.layers = [64, 128]


@scope
def train(config):
    print("trained", config.to_dict())


if __name__ == "__main__":
    train()
"""


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["optim.lrr=3e-3"], ["Did you mean 'optim.lr'?", "'+optim.lrr=3e-3'"]),
        (["lrr=3e-3"], ["Did you mean 'lr'?", "'+lrr=3e-3'"]),
        (["seed=1"], ["'seed'", "'+seed=1'"]),
        (["layerz=[1,", "2]"], ["Did you mean 'layers'?", "'+layerz=[1, 2]'"]),
        (["use_amp=maybe"], ["'use_amp'", "'maybe'", "bool"]),
        (["layers=[1.5]"], ["'layers[0]'", "1.5", "int"]),
    ],
)
def test_a_refused_override_on_the_command_line_exits_2_with_one_line(
    run_script, argv: list[str], expected: list[str]
) -> None:
    done = run_script(SCRIPT, *argv)
    assert done.returncode == 2, done.stderr
    assert "trained" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("train.py: error: ")
    for text in expected:
        assert text in lines[0]


def test_plus_adds_from_the_command_line(run_script) -> None:
    done = run_script(SCRIPT, "+seed=1", "++optim.momentum=0.9", "use_amp=yes")
    assert done.returncode == 0, done.stderr
    assert "'seed': 1" in done.stdout and "'momentum': 0.9" in done.stdout
    assert "'use_amp': True" in done.stdout
