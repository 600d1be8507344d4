"""The Scope path without ato-scope installed: any object matching ``ScopeLike`` (a ``build``
taking ``extra=`` and ``source=``)."""

from __future__ import annotations

import pytest

from ato.adict import ADict
from ato.hyperopt import ConfigTypeError, HyperBand, HyperoptError, ScopeLike
from ato.hyperopt.targets import SEARCH_SOURCE, is_scope


class MiniScope:
    """Just enough of ato-scope's Scope: views by priority, then the ``extra`` layer, then
    lazy views."""

    def __init__(self) -> None:
        self.views: dict[str, tuple[bool, float, object]] = {}
        self.builds = 0
        self.sources: list[str | None] = []

    def observe(self, default: bool = False, lazy: bool = False, priority: float = 0):
        def register(fn):
            self.views[fn.__name__] = (lazy, priority, fn)
            return fn

        return register

    def build(self, argv=None, *, extra=None, source="extra") -> ADict:
        self.builds += 1
        self.sources.append(source if extra is not None else None)
        config = ADict()
        ordered = sorted(self.views.values(), key=lambda v: (v[0], v[1]))
        for _, _, fn in (v for v in ordered if not v[0]):
            fn(config)
        for path, value in (extra or {}).items():
            ADict.set_path(config, path, value)
        for _, _, fn in (v for v in ordered if v[0]):
            fn(config)
        return config

    def __call__(self, fn):
        return fn


def _scope() -> MiniScope:
    scope = MiniScope()

    @scope.observe()
    def defaults(config):
        config.optimizer = ADict(lr=1.0, momentum=0.9)

    @scope.observe(lazy=True)
    def derived(config):
        config.optimizer.min_lr = config.optimizer.lr / 100

    return scope


SPACES = {
    "optimizer.lr": dict(
        param_type="FLOAT", param_range=(0.001, 0.1), num_samples=3, space_type="LOG"
    )
}


def test_duck_typed_scope_is_detected() -> None:
    assert is_scope(_scope()) and isinstance(_scope(), ScopeLike)
    assert not is_scope(ADict(observe=1, build=2))
    assert not is_scope({"observe": print})


def test_trials_are_built_by_the_scope_with_the_search_layer() -> None:
    scope = _scope()
    hb = HyperBand(scope, SPACES, halving_rate=0.5, num_min_samples=2, mode="min")
    assert set(scope.views) == {"defaults", "derived"}  # nothing registered on the scope
    seen = []

    @hb.main
    def train(config):
        seen.append(config)
        assert config.optimizer.min_lr == config.optimizer.lr / 100
        return abs(config.optimizer.lr - 0.01)

    result = train()
    assert [c.optimizer.lr for c in seen[:3]] == [0.001, 0.01, 0.1]
    assert all(c.optimizer.momentum == 0.9 for c in seen)
    assert result.config.optimizer.lr == 0.01 and result.config.optimizer.min_lr == 0.0001
    assert scope.builds == len(seen) + 1  # one plain build before the first trial
    assert scope.sources[0] is None and set(scope.sources[1:]) == {SEARCH_SOURCE}
    assert hb.config.optimizer.lr == 1.0 and "__num_halved__" not in hb.config


def test_the_scope_is_built_once_without_trial_values_before_any_trial() -> None:
    scope = _scope()
    builds = []
    plain_build = scope.build

    def recording_build(argv=None, *, extra=None, source="extra"):
        config = plain_build(argv, extra=extra, source=source)
        builds.append(config)
        return config

    scope.build = recording_build
    hb = HyperBand(scope, SPACES, halving_rate=0.5, num_min_samples=2)
    hb.main(lambda config: config.optimizer.lr)()
    assert builds[0].optimizer.lr == 1.0 and "__num_halved__" not in builds[0]
    assert all("__num_halved__" in config for config in builds[1:])


def test_a_misspelt_search_key_warns_for_a_scope() -> None:
    import pytest

    from ato.hyperopt.errors import NewKeyWarning

    spaces = {"optimizer.lrr": SPACES["optimizer.lr"]}
    hb = HyperBand(_scope(), spaces, halving_rate=0.5, num_min_samples=2)
    with pytest.warns(NewKeyWarning, match=r"'optimizer.lrr'.*Did you mean 'lr'"):
        hb.main(lambda config: config.optimizer.lr)()


class FingerprintLogger:
    """A logger that also stores code fingerprints, like ato-tracker's SQLLogger."""

    def __init__(self, config) -> None:
        self.stored: list[dict] = []
        STORED.append(self)

    def run(self, tags=None) -> int:
        return len(STORED)

    def log_metric(self, key, value, step) -> None:
        pass

    def log_fingerprints(self, source) -> int:
        self.stored.append(dict(source.fingerprints))
        return len(source.fingerprints)

    def finish(self, status="completed") -> None:
        pass


STORED: list[FingerprintLogger] = []


def test_scope_fingerprints_are_stored_with_every_trial_run() -> None:
    scope = _scope()
    scope.fingerprints = {"forward": ("static", "abc123")}
    STORED.clear()
    search = HyperBand(
        scope, SPACES, halving_rate=0.5, num_min_samples=2, tracker=FingerprintLogger
    )
    search.main(lambda config: config.optimizer.lr)()
    assert len(STORED) == sum(search.round_sizes())
    assert all(logger.stored == [{"forward": ("static", "abc123")}] for logger in STORED)


def test_config_searches_store_no_fingerprints() -> None:
    STORED.clear()
    config = ADict(optimizer=ADict(lr=1.0))
    search = HyperBand(
        config, SPACES, halving_rate=0.5, num_min_samples=2, tracker=FingerprintLogger
    )
    search.main(lambda config: config.optimizer.lr)()
    assert STORED and all(logger.stored == [] for logger in STORED)


def test_a_searched_key_set_on_the_command_line_warns() -> None:
    import collections

    import pytest

    from ato.hyperopt import OverriddenBySearchWarning

    Source = collections.namedtuple("Source", "kind label where")
    Write = collections.namedtuple("Write", "value source")
    scope = _scope()
    scope.provenance = {
        "optimizer.lr": [
            Write(1.0, Source("view", "defaults", "")),
            Write(0.5, Source("cli", "optimizer.lr=0.5", "")),
        ],
        "optimizer.momentum": [Write(0.9, Source("cli", "optimizer.momentum=0.9", ""))],
    }
    hb = HyperBand(scope, SPACES, halving_rate=0.5, num_min_samples=2)
    with pytest.warns(
        OverriddenBySearchWarning, match=r"optimizer.lr=0.5 from the command line"
    ) as seen:
        hb.main(lambda config: config.optimizer.lr)()
    overridden = [w for w in seen if w.category is OverriddenBySearchWarning]
    assert len(overridden) == 1
    assert overridden[0].filename == __file__  # the warning names the user's line


def test_a_scope_whose_build_takes_no_extra_is_a_clear_error() -> None:
    class OldScope:
        def observe(self, **kw):
            return lambda fn: fn

        def build(self):
            return ADict(lr=1.0)

    with pytest.raises(ConfigTypeError, match="extra") as info:
        HyperBand(OldScope(), SPACES, halving_rate=0.5, num_min_samples=2)
    assert isinstance(info.value, HyperoptError) and isinstance(info.value, TypeError)
