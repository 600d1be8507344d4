"""MultiScope routing and errors (in process)."""

from __future__ import annotations

import sys

import pytest

from ato.scope import CLIParseError, MultiScope, Scope, UnknownViewError, ViewDefinitionError


def make() -> tuple[Scope, Scope, MultiScope]:
    model, data = Scope(name="model"), Scope(name="data")
    model.observe("model_defaults", {"lr": 0.1, "depth": 50}, default=True)
    model.observe("big", {"depth": 101})
    model.observe("shared", {"tag": "m"})
    data.observe("data_defaults", {"lr": 0.001}, default=True)
    data.observe("shared", {"tag": "d"})
    return model, data, MultiScope(model, data)


def test_overrides_reach_only_their_scope() -> None:
    _, _, multi = make()
    configs = multi.build(["model.lr=0.5", "big"])
    assert configs["model"].to_dict() == {"lr": 0.5, "depth": 101}
    assert configs["data"].to_dict() == {"lr": 0.001}


def test_unprefixed_key_is_an_error_listing_prefixes() -> None:
    with pytest.raises(CLIParseError, match=r"model\.lr, data\.lr"):
        make()[2].build(["lr=1"])


def test_view_in_two_scopes_needs_a_prefix() -> None:
    _, _, multi = make()
    with pytest.raises(UnknownViewError, match=r"model\.shared"):
        multi.build(["shared"])
    assert multi.build(["data.shared"])["data"].tag == "d"


def test_unknown_view_suggests_across_scopes() -> None:
    with pytest.raises(UnknownViewError, match="Did you mean 'big'"):
        make()[2].build(["bgi"])
    with pytest.raises(UnknownViewError, match="in scope 'data'"):
        make()[2].build(["data.big"])


def test_injection_by_name_and_keyword_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["train.py", "data.lr=0.2"])
    _, _, multi = make()

    @multi
    def train(data, epochs=1, model=None):
        return model.lr, data.lr, epochs

    assert train() == (0.1, 0.2, 1)
    assert train(epochs=3) == (0.1, 0.2, 3)

    @multi
    def only_model(model, data):
        return model, data.lr

    assert only_model(model="mine") == ("mine", 0.2)

    @multi
    def echo(model, data):
        return model, data

    with multi.pause():
        assert echo(1, 2) == (1, 2)
    assert multi.active


def test_multiscope_definition_errors() -> None:
    with pytest.raises(ViewDefinitionError, match="distinct names"):
        MultiScope(Scope(), Scope())
    with pytest.raises(ViewDefinitionError):
        MultiScope()
    with pytest.raises(ViewDefinitionError, match="no parameter named 'data'"):

        @make()[2]
        def train(model):
            return model


def test_fingerprints_and_provenance_are_merged() -> None:
    model, data, multi = make()

    @model.trace(trace_id="fwd")
    def forward(x):
        return x

    @data.trace(trace_id="load")
    def load(x):
        return x

    assert set(multi.fingerprints) == {"fwd", "load"}
    multi.build(["data.lr=3"])
    assert [w.value for w in multi.provenance["data"]["lr"]] == [0.001, 3]
