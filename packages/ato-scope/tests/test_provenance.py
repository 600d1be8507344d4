"""Provenance records, unknown-key warnings and strict scopes."""

from __future__ import annotations

import warnings

import pytest

from ato.adict import ADict
from ato.scope import DELETED, OverrideTypeWarning, Scope, UnknownKeyError, UnknownKeyWarning


def lr_scope(strict: bool = False) -> Scope:
    scope = Scope(strict=strict)

    @scope.observe(default=True)
    def defaults(config):
        config.lr = 0.001
        config.model.depth = 50
        config.model.width = 64

    @scope.observe(priority=1)
    def experiment_config(config):
        config.lr = 0.01

    @scope.observe(priority=2)
    def another_config(config):
        config.lr = 0.1

    return scope


def test_history_of_a_key_in_order() -> None:
    scope = lr_scope()
    scope.build(["experiment_config", "another_config"])
    history = scope.provenance["lr"]
    assert [(w.value, w.source.label) for w in history] == [
        (0.001, "defaults"),
        (0.01, "experiment_config"),
        (0.1, "another_config"),
    ]
    assert history[0].source.kind == "view" and "test_provenance.py:" in history[0].source.where


def test_cli_writes_are_recorded_per_token() -> None:
    scope = lr_scope()
    scope.build(["lr=0.2", "lr=0.3"])
    assert [(w.value, str(w.source)) for w in scope.provenance["lr"]] == [
        (0.001, f"defaults ({scope.provenance['lr'][0].source.where})"),
        (0.2, "CLI lr=0.2"),
        (0.3, "CLI lr=0.3"),
    ]


def test_replacing_a_subtree_records_deletions() -> None:
    scope = lr_scope()
    with pytest.warns(OverrideTypeWarning, match="holds? a dict"):  # a mapping replaced by a str
        config = scope.build(["model=%vit%"])
    assert config.model == "vit"
    assert scope.provenance["model.depth"][-1].value is DELETED
    assert scope.provenance["model"][-1].value == "vit"


def test_in_place_list_edits_are_seen() -> None:
    scope = Scope()
    scope.observe("a", {"layers": [1]}, default=True)

    @scope.observe(default=True, priority=1)
    def grow(config):
        config.layers.append(2)

    scope.build([])
    assert [w.value for w in scope.provenance["layers"]] == [[1], [1, 2]]


def test_unknown_cli_key_warns_with_suggestion_and_is_added() -> None:
    with pytest.warns(UnknownKeyWarning, match="'lrr'.*Did you mean 'lr'"):
        config = lr_scope().build(["lrr=1"])
    assert config.lrr == 1


def test_key_at_the_wrong_level_suggests_the_nested_key() -> None:
    scope = Scope()
    scope.observe("base", {"optim": {"lr": 0.1}}, default=True)
    with pytest.raises(UnknownKeyError, match=r"'lr'.*Did you mean 'optim\.lr'"):
        scope.build(["lr=1"])
    scope.strict = False
    with pytest.warns(UnknownKeyWarning, match="'lr'.*Did you mean 'optim.lr'"):
        scope.build(["lr=1"])


def test_new_key_without_close_match_is_added_silently() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lr_scope().build(["seed=3", "model.depth=18"]).seed == 3


def test_key_set_by_a_lazy_view_is_known() -> None:
    scope = lr_scope()
    scope.observe("late", {"lr_decay": 0.9}, lazy=True, default=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert scope.build(["lr_decay=0.5"]).lr_decay == 0.9


def test_strict_scope_rejects_unknown_keys() -> None:
    with pytest.raises(UnknownKeyError, match=r"'model\.dpth'.*Did you mean 'model\.depth'"):
        lr_scope(strict=True).build(["model.dpth=1"])
    with pytest.raises(UnknownKeyError, match="'seed'"):
        lr_scope(strict=True).build(["seed=1"])
    assert lr_scope(strict=True).build(["model.depth=1"]).model.depth == 1


def test_provenance_is_read_only_and_empty_before_build() -> None:
    scope = lr_scope()
    assert dict(scope.provenance) == {} and scope.config is None
    scope.build([])
    with pytest.raises(TypeError, match="does not support item assignment"):
        scope.provenance["x"] = []  # type: ignore[index]


def test_explain_words_that_name_views_are_views(capsys: pytest.CaptureFixture[str]) -> None:
    scope = lr_scope()
    with pytest.raises(SystemExit) as info:
        scope.build(["explain", "lr", "another_config"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "lr = 0.1 ← another_config" in out and "model.depth" not in out


def test_initial_config_source_and_method_named_keys() -> None:
    scope = Scope(config={"update": 1})
    scope.observe("v", {"to_dict": 2}, default=True)
    config = scope.build(["+items=3"])
    assert dict(config) == {"update": 1, "to_dict": 2, "items": 3}
    assert scope.provenance["update"][0].source.kind == "initial"


# -- the record a built config carries (read by the tracker without scope=) -----------------
def test_a_built_config_carries_the_record_of_its_own_build() -> None:
    import pickle

    scope = lr_scope(strict=True)
    first = scope.build(["lr=0.5"])
    second = scope.build([], extra={"lr": 0.25}, source="search")
    for config, lr_sources in ((first, ["view", "cli"]), (second, ["view", "extra"])):
        record = config.__ato_scope__
        assert record.name == "config"
        assert [w.source.kind for w in record.provenance["lr"]] == lr_sources
        assert "__ato_scope__" not in config and "__ato_scope__" not in config.to_dict()
    assert first.__ato_scope__.applied_views == ["defaults", "(CLI Inputs)"]
    assert second.__ato_scope__.applied_views == scope.applied_views  # the latest build
    for copied in (first.copy(), first.clone(), pickle.loads(pickle.dumps(first))):
        assert copied == first and getattr(copied, "__ato_scope__", None) is None
    assert type(pickle.loads(pickle.dumps(first))) is ADict
    assert getattr(ADict(lr=1), "__ato_scope__", None) is None


def test_each_scope_of_a_multiscope_config_carries_its_own_record() -> None:
    from ato.scope import MultiScope

    model, data = Scope(name="model"), Scope(name="data")
    model.observe("model_base", {"lr": 0.1}, default=True)
    data.observe("data_base", {"root": "/data"}, default=True)
    configs = MultiScope(model, data).build(["data.root=/tmp"])
    assert configs["model"].__ato_scope__.applied_views == ["model_base", "(CLI Inputs)"]
    assert configs["data"].__ato_scope__.name == "data"
    assert configs["data"].__ato_scope__.provenance["root"][-1].source.label == "data.root=/tmp"
