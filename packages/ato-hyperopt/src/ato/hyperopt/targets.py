"""What a search runs trials on: a config object, or a Scope (duck-typed, no ato.scope import).

A *target* builds each trial's config from the sampled values and calls the trial function
with it. ``on_config(config)`` is called with the trial's config just before the function
runs, so the search can log it and open a tracker run.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from .checks import warn_user
from .configs import NUM_HALVED, check_config, is_config, set_path, warn_new_keys, with_values
from .errors import ConfigTypeError, OverriddenBySearchWarning

TrialFn = Callable[..., Any]
OnConfig = Callable[[Any], None]

#: Name of the lazy default view a search registers on a Scope to inject trial values.
TRIAL_VIEW_NAME = "hyperopt_trial"
#: Its priority: the lowest of all lazy views, so trial values land right after the
#: command-line overrides and before the user's own lazy (derived) views.
TRIAL_VIEW_PRIORITY = -(2**31)


class ConfigTarget:
    """Trials on copies of a config object (ADict, dict, DictConfig or dataclass instance)."""

    def __init__(self, base: Any, sample: Mapping[str, Any]) -> None:
        """Apply one grid point ``sample`` (``{dotted path: value}``) to a copy of ``base`` now,
        so a bad path raises when the search is created rather than in its first trial.

        Raises:
            ConfigTypeError: ``base`` is not a supported config object.
            ConfigPathError: a path cannot be set in ``base``.
        """
        check_config(base)
        with_values(base, sample)
        warn_new_keys(base, list(sample))
        self._base = base

    def base_config(self) -> Any:
        """The config the search starts from (the object given by the caller)."""
        return self._base

    def fingerprint_source(self) -> Any:
        """A config object carries no code fingerprints."""
        return None

    def prepare(self, paths: list[str]) -> None:
        """Nothing to do: the config was checked when the target was created."""

    def build(
        self, values: Mapping[str, Any], num_halved: int, extra: Mapping[str, Any] | None = None
    ) -> Any:
        """The trial config: a copy of the base config with ``values``, ``__num_halved__`` and
        the top-level keys in ``extra`` set."""
        return with_values(self._base, values, num_halved, extra)

    def call(
        self,
        func: TrialFn,
        values: Mapping[str, Any],
        num_halved: int,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        on_config: OnConfig,
        extra: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run one trial: ``func(config, *args, **kwargs)`` on a copy of the base config with
        ``values`` (``{dotted path: value}``) and ``__num_halved__ = num_halved`` (the round)
        set (and the top-level keys in ``extra``); ``on_config(config)`` is called first.
        Returns what ``func`` returns.

        Raises:
            ConfigPathError: a path cannot be set in the config.
            Exception: whatever ``func`` or ``on_config`` raises.
        """
        config = self.build(values, num_halved, extra)
        on_config(config)
        return func(config, *args, **kwargs)


class ScopeTarget:
    """Trials through an ato-scope ``Scope`` (duck-typed: ``observe`` and ``build``).

    Each trial builds the scope's config as usual (views, command line) with ``scope.build()``
    and passes it to the trial function. The sampled values and ``__num_halved__`` are
    written by a lazy default view that the search registers once on the scope
    (`TRIAL_VIEW_NAME`): it runs right after the command-line overrides, so the
    searched values win over the command line, and the scope's own lazy views (derived
    values) see them. Outside a search that view changes nothing.
    """

    def __init__(self, scope: Any) -> None:
        self._scope = scope
        scope.observe(default=True, lazy=True, priority=TRIAL_VIEW_PRIORITY)(_trial_view(scope))

    def base_config(self) -> Any:
        """The config the scope builds right now (views and command line), without trial values."""
        return self._scope.build()

    def fingerprint_source(self) -> Any:
        """The scope, when it records code fingerprints (``scope.fingerprints``)."""
        return self._scope if hasattr(self._scope, "fingerprints") else None

    def prepare(self, paths: list[str]) -> None:
        """Build the scope once without trial values before the first trial: command words
        (``manual``, ``print``, ``explain``) then report the user's config, not a trial's;
        searched keys the config lacks get a [`NewKeyWarning`][ato.hyperopt.NewKeyWarning], and
        searched keys also set on the command line a [`OverriddenBySearchWarning`][ato.hyperopt.OverriddenBySearchWarning]."""
        warn_new_keys(self._scope.build(), paths)
        _warn_cli_overrides(getattr(self._scope, "provenance", {}), paths)

    def build(
        self, values: Mapping[str, Any], num_halved: int, extra: Mapping[str, Any] | None = None
    ) -> Any:
        """The trial config: ``scope.build()`` while the trial view injects ``values``,
        ``__num_halved__`` and the top-level keys in ``extra``."""
        _ACTIVE[id(self._scope)] = {**values, NUM_HALVED: num_halved, **(extra or {})}
        try:
            return self._scope.build()
        finally:
            del _ACTIVE[id(self._scope)]

    def call(
        self,
        func: TrialFn,
        values: Mapping[str, Any],
        num_halved: int,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        on_config: OnConfig,
        extra: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run one trial: ``func(config, *args, **kwargs)`` on the config ``scope.build()``
        returns while the trial view injects ``values`` (``{dotted path: value}``) and
        ``__num_halved__ = num_halved`` (the round) and the top-level keys in ``extra``;
        ``on_config(config)`` is called first. Returns what ``func`` returns.

        Raises:
            Exception: whatever ``scope.build()``, ``func`` or ``on_config`` raises.
        """
        config = self.build(values, num_halved, extra)
        on_config(config)
        return func(config, *args, **kwargs)


# id(scope) -> {dotted path: value} of the trial whose config that scope is building now.
_ACTIVE: dict[int, dict[str, Any]] = {}


def _trial_view(scope: Any) -> Callable[[Any], None]:
    key = id(scope)

    def hyperopt_trial(config: Any) -> None:
        for path, value in _ACTIVE.get(key, {}).items():
            set_path(config, path, copy.deepcopy(value))

    hyperopt_trial.__doc__ = "Values of the hyperparameter-search trial being built (if any)."
    return hyperopt_trial


def is_scope(obj: Any) -> bool:
    """Duck-typed Scope check: has callable ``observe`` and ``build``, and is not a config."""
    return (
        callable(getattr(obj, "observe", None))
        and callable(getattr(obj, "build", None))
        and not is_config(obj)
    )


def make_target(scope_or_config: Any, sample: Mapping[str, Any]) -> ConfigTarget | ScopeTarget:
    """The target for a Scope or a config object; ``sample`` is one grid point
    (``{dotted path: value}``), used to check a config object up front.

    Raises:
        ConfigTypeError: if it is neither (see `ato.hyperopt.configs.check_config`).
        ConfigPathError: a path cannot be set in the config object.
    """
    if is_scope(scope_or_config):
        return ScopeTarget(scope_or_config)
    if scope_or_config is None:
        raise ConfigTypeError(
            "the first argument is None; pass a Scope or a config (ADict, dict, OmegaConf "
            "DictConfig or dataclass instance)"
        )
    return ConfigTarget(scope_or_config, sample)


def _warn_cli_overrides(provenance: Mapping[str, Any], paths: list[str]) -> None:
    """Warn for each searched key the command line set: the search replaces it in every trial."""
    for path in paths:
        for write in provenance.get(path, ()):
            source = getattr(write, "source", None)
            if getattr(source, "kind", None) == "cli":
                warn_user(
                    f"{getattr(source, 'label', path)} from the command line is replaced by the "
                    f"search: {path!r} is in the search space, so every trial sets it. Remove "
                    f"{path!r} from the search space to fix its value.",
                    OverriddenBySearchWarning,
                )
