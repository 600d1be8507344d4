"""What a search runs trials on: a config object, or a Scope (duck-typed through
[`ScopeLike`][ato.hyperopt.ScopeLike], no ato.scope import).

A *target* builds each trial's config from the sampled values and calls the trial function
with it. ``on_config(config)`` is called with the trial's config just before the function
runs, so the search can log it and open a tracker run.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from .checks import warn_user
from .configs import check_config, is_config, warn_new_keys, with_values
from .errors import ConfigTypeError, OverriddenBySearchWarning
from .keys import NUM_HALVED
from .protocols import ScopeLike

TrialFn = Callable[..., Any]
OnConfig = Callable[[Any], None]

#: The source name of the trial values in the scope's provenance (``explain``: ``← search``).
SEARCH_SOURCE = "search"


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
        self, values: Mapping[str, Any], rung: int, extra: Mapping[str, Any] | None = None
    ) -> Any:
        """The trial config: a copy of the base config with ``values``, ``__num_halved__`` and
        the top-level keys in ``extra`` set."""
        return with_values(self._base, values, rung, extra)

    def call(
        self,
        func: TrialFn,
        values: Mapping[str, Any],
        rung: int,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        on_config: OnConfig,
        extra: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run one trial: ``func(config, *args, **kwargs)`` on a copy of the base config with
        ``values`` (``{dotted path: value}``) and ``__num_halved__ = rung`` (the round)
        set (and the top-level keys in ``extra``); ``on_config(config)`` is called first.
        Returns what ``func`` returns.

        Raises:
            ConfigPathError: a path cannot be set in the config.
            Exception: whatever ``func`` or ``on_config`` raises.
        """
        config = self.build(values, rung, extra)
        on_config(config)
        return func(config, *args, **kwargs)


class ScopeTarget:
    """Trials through an ato-scope ``Scope`` (anything matching
    [`ScopeLike`][ato.hyperopt.ScopeLike]).

    Each trial builds the scope's config as usual (views, command line) with
    ``scope.build(extra=trial values, source="search")``: the sampled values and
    ``__num_halved__`` form the scope's highest layer, set right after the command-line
    overrides, so the searched values win over the command line while the scope's lazy blocks
    and lazy views (derived values) see them. The scope's provenance names ``search`` as their
    writer. Nothing is registered on the scope: outside a search it builds as before.

    Raises:
        ConfigTypeError: ``scope.build`` takes no ``extra``/``source`` keywords (a scope
            older than ato-scope 3.0's seam).
    """

    def __init__(self, scope: ScopeLike) -> None:
        _check_build_signature(scope)
        self._scope = scope

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
        self, values: Mapping[str, Any], rung: int, extra: Mapping[str, Any] | None = None
    ) -> Any:
        """The trial config: ``scope.build(extra=...)`` with ``values``, ``__num_halved__`` and
        the top-level keys in ``extra`` as the search's layer."""
        layer = {**values, NUM_HALVED: rung, **(extra or {})}
        return self._scope.build(extra=layer, source=SEARCH_SOURCE)

    def call(
        self,
        func: TrialFn,
        values: Mapping[str, Any],
        rung: int,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        on_config: OnConfig,
        extra: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run one trial: ``func(config, *args, **kwargs)`` on the config `build` returns
        (``values`` as ``{dotted path: value}``, ``__num_halved__ = rung``, the round, and
        the top-level keys in ``extra``); ``on_config(config)`` is called first. Returns what
        ``func`` returns.

        Raises:
            Exception: whatever ``scope.build()``, ``func`` or ``on_config`` raises.
        """
        config = self.build(values, rung, extra)
        on_config(config)
        return func(config, *args, **kwargs)


def _check_build_signature(scope: Any) -> None:
    try:
        params = inspect.signature(scope.build).parameters
    except (TypeError, ValueError):  # a builtin or C callable: trust it
        return
    takes = {"extra", "source"} <= params.keys() or any(
        p.kind is p.VAR_KEYWORD for p in params.values()
    )
    if not takes:
        raise ConfigTypeError(
            f"{type(scope).__name__}.build() takes no 'extra'/'source' keywords, through which "
            "a search passes each trial's values; use ato-scope >= 3.0, or give your scope "
            "build(argv=None, *, extra=None, source='extra') (see ato.hyperopt.protocols)"
        )


def is_scope(obj: Any) -> bool:
    """Duck-typed Scope check: matches [`ScopeLike`][ato.hyperopt.ScopeLike] (a
    callable ``build``) and is not a config object."""
    return isinstance(obj, ScopeLike) and callable(obj.build) and not is_config(obj)


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
