"""Typed overrides: a command-line value is converted to the type the views gave the key, or
refused with an error naming the key, the value and the expected type."""

from __future__ import annotations

import warnings

import pytest

from ato.scope import MultiScope, OverrideTypeError, OverrideTypeWarning, Scope


def typed(**options) -> Scope:
    scope = Scope(**options)
    scope.observe(
        "base",
        {
            "use_amp": True,
            "deterministic": False,
            "epochs": 10,
            "lr": 1e-3,
            "name": "run",
            "layers": [64, 128],
            "flags": [True, False],
            "scales": [0.5, 1],
            "grid": [[1, 2], [3]],
            "mixed": [1, "a"],
            "empty": [],
            "optim": {"lr": 1e-3, "name": "adam", "nesterov": False},
            "weights": {"a": 1.0, "b": 2.0},
        },
        default=True,
    )
    return scope


def build(*argv: str, **options) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return typed(**options).build(list(argv))


def refusal(scope: Scope, token: str, path: str, expected_type: str) -> str:
    """The message of the OverrideTypeError ``token`` raises; it names where and what type."""
    with pytest.raises(OverrideTypeError) as info:
        scope.build([token])
    message = str(info.value)
    assert f"gives {path!r}" in message and expected_type in message and "\n" not in message
    return message


TRUE_WORDS = ["true", "yes", "on", "1"]
FALSE_WORDS = ["false", "no", "off", "0"]


def spellings(words: list[str]) -> list[str]:
    return [w for word in words for w in dict.fromkeys([word, word.upper(), word.title()])]


@pytest.mark.parametrize("word", spellings(TRUE_WORDS))
def test_every_true_spelling_is_true(word: str) -> None:
    config = build(f"use_amp={word}", f"deterministic={word}", f"optim.nesterov={word}")
    assert config.use_amp is True and config.deterministic is True
    assert config.optim.nesterov is True


@pytest.mark.parametrize("word", spellings(FALSE_WORDS))
def test_every_false_spelling_is_false(word: str) -> None:
    config = build(f"use_amp={word}", f"deterministic={word}", f"optim.nesterov={word}")
    assert config.use_amp is False and config.deterministic is False
    assert config.optim.nesterov is False


NOT_BOOLS = ["2", "-1", "1.0", "0.0", "maybe", "y", "n", "t", "enable", "nope", "", "[1]"]
NOT_BOOLS += ["{'a': 1}", "'yes please'", "%on off%"]


@pytest.mark.parametrize("value", NOT_BOOLS)
def test_a_value_that_is_not_a_bool_spelling_is_refused_for_a_bool_key(value: str) -> None:
    message = refusal(typed(), f"use_amp={value}", "use_amp", "a bool")
    assert "yes/no" in message and repr(_parsed(value)) in message


def _parsed(text: str) -> object:
    from ato.scope import parse_argv

    return parse_argv([f"x={text}"])[0].value


@pytest.mark.parametrize(
    ("token", "key", "expected_type"),
    [
        ("epochs=1.5", "epochs", "an int"),
        ("epochs=2.0", "epochs", "an int"),
        ("epochs=abc", "epochs", "an int"),
        ("epochs=true", "epochs", "an int"),
        ("epochs=yes", "epochs", "an int"),
        ("epochs='10'", "epochs", "an int"),
        ("lr=abc", "lr", "a float"),
        ("lr=true", "lr", "a float"),
        ("lr=off", "lr", "a float"),
        ("lr=[1]", "lr", "a float"),
        ("lr=1e-3x", "lr", "a float"),
        ("optim.lr=fast", "optim.lr", "a float"),
        ("name=[1, 2]", "name", "a str"),
    ],
)
def test_anything_else_is_refused_for_a_number_key(token: str, key: str, expected_type: str):
    message = refusal(typed(), token, key, expected_type)
    assert repr(_parsed(token.partition("=")[2])) in message


@pytest.mark.parametrize(
    ("token", "key", "expected"),
    [
        ("layers=[32, 64, 128]", "layers", [32, 64, 128]),
        ("layers=(32,)", "layers", (32,)),
        ("flags=['yes', 'off', 'TRUE']", "flags", [True, False, True]),
        ("flags=[1, 0]", "flags", [True, False]),
        ("scales=[1, 2.5]", "scales", [1.0, 2.5]),
        ("grid=[[4], [5, 6]]", "grid", [[4], [5, 6]]),
        ("mixed=[2.5, None, 'b']", "mixed", [2.5, None, "b"]),
        ("empty=['anything', 1]", "empty", ["anything", 1]),
        ("optim={'lr': 1, 'nesterov': 'on'}", "optim", {"lr": 1.0, "nesterov": True}),
        ("optim={'lr': 0.1, 'momentum': 'x'}", "optim", {"lr": 0.1, "momentum": "x"}),
        ("weights={'c': 3}", "weights", {"c": 3.0}),
    ],
)
def test_lists_and_dicts_convert_by_their_item_types(token: str, key: str, expected: object):
    value = build(token).get_path(key)
    assert value == expected and isinstance(value, type(expected))
    items = value.values() if isinstance(value, dict) else value
    model = expected.values() if isinstance(expected, dict) else expected
    assert [type(v) for v in items] == [type(v) for v in model]


@pytest.mark.parametrize(
    ("token", "path", "expected_type"),
    [
        ("layers=[64, 1.5]", "layers[1]", "an int"),
        ("layers=[64, true]", "layers[1]", "an int"),
        ("layers=64", "layers", "a list"),
        ("flags=['maybe']", "flags[0]", "a bool"),
        ("scales=[1, 'x']", "scales[1]", "a float"),
        ("grid=[[4], [5, 'x']]", "grid[1][1]", "an int"),
        ("grid=[4]", "grid[0]", "a list"),
        ("optim={'lr': 'fast'}", "optim.lr", "a float"),
        ("optim={'nesterov': 2}", "optim.nesterov", "a bool"),
        ("optim=5", "optim", "a dict"),
        ("weights={'c': 'heavy'}", "weights.c", "a float"),
    ],
)
def test_an_item_of_the_wrong_type_is_refused_naming_where(
    token: str, path: str, expected_type: str
) -> None:
    refusal(typed(), token, path, expected_type)


def test_strict_false_warns_and_keeps_the_value_as_parsed_but_still_converts() -> None:
    scope = typed(strict=False)
    with pytest.warns(OverrideTypeWarning, match="'use_amp'.*'maybe'.*bool"):
        assert scope.build(["use_amp=maybe"]).use_amp == "maybe"
    with pytest.warns(OverrideTypeWarning, match=r"'layers\[1\]'"):
        assert scope.build(["layers=[1, 1.5]"]).layers == [1, 1.5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert scope.build(["use_amp=no", "flags=['on']"]).to_dict()["flags"] == [True]


def lazy_scope() -> Scope:
    scope = typed()

    @scope.observe(default=True, lazy=True)
    def precision(config):
        config.precision = 16 if config.use_amp else 32
        config.warmup = 100
        config.schedule = {"decay": 0.5, "milestones": [10, 20]}

    @scope.observe(default=True)
    def derived(config):
        config.tail = 0
        with Scope.lazy():
            config.half = config.epochs // 2

    return scope


@pytest.mark.parametrize(("word", "precision"), [("off", 32), ("NO", 32), ("on", 16), ("0", 32)])
def test_lazy_views_see_the_converted_value(word: str, precision: int) -> None:
    assert lazy_scope().build([f"use_amp={word}"]).precision == precision


@pytest.mark.parametrize(
    ("token", "path", "expected_type"),
    [
        ("warmup=abc", "warmup", "an int"),
        ("warmup=1.5", "warmup", "an int"),
        ("half=yes", "half", "an int"),
        ("schedule.decay=fast", "schedule.decay", "a float"),
        ("schedule.milestones=[1, 'x']", "schedule.milestones[1]", "an int"),
        ("schedule=3", "schedule", "a dict"),
    ],
)
def test_keys_only_lazy_steps_write_are_checked_the_same_way(
    token: str, path: str, expected_type: str
) -> None:
    assert "lazy step" in refusal(lazy_scope(), token, path, expected_type)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lazy_scope().build([token.partition("=")[0] + "=" + _fitting(path)])


def _fitting(path: str) -> str:
    return {
        "schedule": "{'decay': 0.1}",
        "schedule.decay": "1",
        "schedule.milestones[1]": "[1]",
    }.get(path, "7")


def test_multiscope_overrides_are_converted_per_scope() -> None:
    model, data = typed(name="model"), Scope(name="data")
    data.observe("data_base", {"shuffle": True, "workers": 4}, default=True)
    configs = MultiScope(model, data).build(["model.use_amp=off", "data.shuffle=NO"])
    assert configs["model"].use_amp is False and configs["data"].shuffle is False
    with pytest.raises(OverrideTypeError, match=r"'workers'.*an int"):
        MultiScope(model, data).build(["data.workers=many"])
