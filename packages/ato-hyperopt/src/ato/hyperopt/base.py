"""Building blocks for search strategies: the grid ([`GridSpaceMixIn`][ato.hyperopt.GridSpaceMixIn]), the base class
([`HyperOpt`][ato.hyperopt.HyperOpt]) and the multi-process mix-in ([`DistributedMixIn`][ato.hyperopt.DistributedMixIn]).

A custom strategy subclasses ``GridSpaceMixIn`` and ``HyperOpt`` and implements ``main``::

    class RandomSearch(GridSpaceMixIn, HyperOpt):
        def main(self, func):
            configs = self.prepare_distributions(self.config, self.search_spaces)
            ...
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import Any

from .configs import check_config, with_values
from .distributed import DistributedMixIn
from .errors import SearchSettingError
from .executors import Executor, InProcessExecutor
from .facts import SearchRunFacts
from .metric import check_mode
from .searchspace import MAX_GRID_SIZE, SearchSpace
from .targets import ConfigTarget, ScopeTarget, make_target
from .tracking import TrialRecorder
from .trials import ON_ERROR, TrialOutcome, TrialRunner

__all__ = ["DistributedMixIn", "GridSpaceMixIn", "HyperOpt"]


class GridSpaceMixIn:
    """The grid of a search space: the Cartesian product of every parameter's values.

    See `ato.hyperopt.space` for the spec of one parameter.
    """

    @staticmethod
    def grid_axes(search_spaces: Mapping[str, Any]) -> dict[str, list[Any]]:
        """``{dotted name: distinct values}`` for every parameter, in the search space's order.

        Raises:
            SearchSpaceError: a spec is invalid (the message names the parameter).
        """
        return SearchSpace(search_spaces).grid_axes()

    @classmethod
    def grid_points(
        cls, search_spaces: Mapping[str, Any], max_size: int = MAX_GRID_SIZE
    ) -> list[dict[str, Any]]:
        """Every grid point as ``{dotted name: value}``; the last parameter varies fastest.
        Parameters whose condition fails are left out of a point (see
        ``ato.hyperopt.searchspace``).

        Raises:
            SearchSpaceError: a spec is invalid.
            SearchSettingError: the grid has more than ``max_size`` points (computed before
                expanding it); use a random sampler instead.
        """
        return SearchSpace(search_spaces).grid_points(max_size)

    @classmethod
    def prepare_distributions(cls, base_config: Any, search_spaces: Mapping[str, Any]) -> list[Any]:
        """One config per grid point: a copy of ``base_config`` (same type) with the point's
        values set at their dotted paths. ``base_config`` is not modified.

        Args:
            base_config: an ADict, dict, OmegaConf ``DictConfig`` or dataclass instance.
            search_spaces: parameter name -> spec (ADict or plain dict).

        Raises:
            SearchSpaceError: a spec is invalid.
            ConfigTypeError: ``base_config`` is not a supported config.
            ConfigPathError: a dotted name cannot be set in ``base_config``.
        """
        check_config(base_config)
        return [with_values(base_config, point) for point in cls.grid_points(search_spaces)]


class HyperOpt(abc.ABC):
    """Base class of search strategies: holds the config source, search space, tracker and
    mode, and runs single trials.

    Args:
        scope: an ato-scope ``Scope`` (duck-typed; trial values are injected through a lazy
            default view it gets, see `ato.hyperopt.targets`) or a config object
            (ADict, dict, OmegaConf ``DictConfig``, dataclass instance) that each trial
            receives a modified copy of.
        search_spaces: parameter name (dotted path) -> spec; see `ato.hyperopt.space`.
        tracker: None, a logger with ``run(tags=)``, ``log_metric(key, value, step)`` and
            ``finish(status=)``, or a factory ``config -> logger`` such as the ato-tracker
            ``SQLLogger`` class; see `ato.hyperopt.tracking`.
        mode: ``'max'`` if a larger metric is better, ``'min'`` if a smaller one is.
        on_error: ``'continue'`` records a trial that raises as failed with the worst metric
            and goes on; ``'raise'`` stops the search and re-raises.
        metric_key: key the trial metric is logged under in the tracker.
        progress: ``None`` shows a tqdm bar only on a terminal, ``True`` always (if tqdm is
            installed), ``False`` turns bars and per-round log lines off.
        search_id: identifies the search in tracker tags; a random 12-hex-digit id if None.
        executor: where trials run (see [`Executor`][ato.hyperopt.Executor]); None runs them
            in this process. ``DistributedMixIn`` passes a ``TorchDistributedExecutor``.

    Raises:
        SearchSettingError: ``mode`` or ``on_error`` is not one of the allowed values.
        SearchSpaceError: the search space is invalid.
        ConfigTypeError: ``scope`` is neither a Scope nor a supported config.
        ConfigPathError: a dotted search key cannot be set in the config.
    """

    def __init__(
        self,
        scope: Any,
        search_spaces: Mapping[str, Any],
        tracker: Any = None,
        mode: str = "max",
        *,
        on_error: str = "continue",
        metric_key: str = "metric",
        progress: bool | None = None,
        search_id: str | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.executor: Executor = executor if executor is not None else InProcessExecutor()
        self.mode = check_mode(mode)
        if on_error not in ON_ERROR:
            raise SearchSettingError(f"on_error must be 'continue' or 'raise', got {on_error!r}")
        self.on_error = on_error
        self.metric_key = metric_key
        self.progress = progress
        self.search_id = search_id
        self.scope = scope
        self.search_spaces = search_spaces
        self.tracker = tracker
        self.space = SearchSpace(search_spaces)
        probe = {
            p.name: p.categories[0] if p.kind == "CATEGORY" else p.low for p in self.space.params
        }
        self._target: ConfigTarget | ScopeTarget = make_target(scope, self.space.ordered(probe))
        super().__init__()

    @property
    def config(self) -> Any:
        """The base config: the config object given, or what the Scope builds right now."""
        return self._target.base_config()

    @abc.abstractmethod
    def main(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a trial function ``func(config, *args, **kwargs) -> metric`` into a launcher
        that runs the search when called."""

    # -- where trials run: the executor's rank and collectives ----------------------------
    @property
    def rank(self) -> int:
        """This process's rank (0 without distribution)."""
        return self.executor.rank

    @property
    def world_size(self) -> int:
        """Number of processes running the search (1 without distribution)."""
        return self.executor.world_size

    @property
    def is_root(self) -> bool:
        """True in the process that reports progress (rank 0; always, without distribution)."""
        return self.executor.is_root

    def shard(self, num_items: int) -> range:
        """Positions of a round this process evaluates: all of them without distribution."""
        return self.executor.shard(num_items)

    def all_gather_object(self, obj: Any) -> list[Any]:
        """Every process's ``obj``: ``[obj]`` without distribution (a collective call)."""
        return self.executor.all_gather_object(obj)

    def broadcast_object_from_root(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every process (a collective call)."""
        return self.executor.broadcast_object_from_root(obj)

    def share_from_root(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank, through ``all_gather_object`` (so a strategy that
        overrides that one collective overrides every exchange of the search)."""
        return self.all_gather_object(obj if self.is_root else None)[0]

    # -- trials ---------------------------------------------------------------------------
    def run_trial(
        self,
        func: Callable[..., Any],
        values: Mapping[str, Any],
        rung: int,
        recorder: TrialRecorder,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> TrialOutcome:
        """Evaluate one grid point at ``rung``, recorded with the seed's facts (search id and
        rung); see ``ato.hyperopt.trials.TrialRunner.run``."""
        runner = TrialRunner(
            self._target, func, self.mode, self.on_error, recorder, args, kwargs or {}
        )
        return runner.run(values, SearchRunFacts(recorder.search_id, rung))
