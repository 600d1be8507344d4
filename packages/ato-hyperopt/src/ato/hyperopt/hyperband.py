"""Successive halving over a grid (the bracket Hyperband is made of), in one process or many.

Algorithm: successive halving (Jamieson & Talwalkar, "Non-stochastic Best Arm Identification
and Hyperparameter Optimization", AISTATS 2016), as used inside Hyperband (Li, Jamieson,
DeSalvo, Rostamizadeh & Talwalkar, "Hyperband: A Novel Bandit-Based Approach to
Hyperparameter Optimization", JMLR 18(185), 2018). Here the candidate set is the full grid
of the search space rather than random samples, and the budget per round is left to the
trial function, which reads ``config.__num_halved__`` (helped by
:meth:`HyperBand.compute_optimized_initial_training_steps`).

Rounds: round 0 evaluates every grid config. After each round the configs are ranked by
metric (``mode``; NaN and failed trials rank last, ties go to the config that comes first
on the grid) and the top ``floor(n * halving_rate)`` (at least one) survive with
``__num_halved__`` raised by one (Jamieson & Talwalkar keep the top half; Hyperband keeps the
top ``floor(n / eta)``, i.e. ``halving_rate = 1 / eta``).
Rounds go on while at least ``num_min_samples`` (and more than one) configs remain. Then
the best survivor is evaluated once more: that final round's metric is the result.
"""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ato.adict import ADict

from .base import DistributedMixIn, GridSpaceMixIn, HyperOpt
from .checks import check_positive_int
from .errors import DistributedSetupError, SearchSettingError, TrialFailedError
from .metric import rank_key
from .progress import RoundProgress
from .tracking import TrialRecorder
from .trials import TrialOutcome

__all__ = ["DistributedHyperBand", "HyperBand"]


class HyperBand(HyperOpt, GridSpaceMixIn):
    """Successive-halving search over the grid of ``search_spaces``.

    Args:
        scope: a Scope or a config object; see :class:`~ato.hyperopt.base.HyperOpt`.
        search_spaces: parameter name (dotted path) -> spec; see :mod:`ato.hyperopt.space`.
        halving_rate: fraction of configs kept after each round, ``0 < halving_rate < 1``.
        num_min_samples: rounds continue while at least this many configs remain (int >= 1).
        tracker: optional tracker; see :class:`~ato.hyperopt.base.HyperOpt`.
        mode: ``'max'`` or ``'min'``.
        **options: ``on_error``, ``metric_key``, ``progress``, ``search_id``; see
            :class:`~ato.hyperopt.base.HyperOpt`.

    Raises:
        SearchSettingError: ``halving_rate`` outside (0, 1), ``num_min_samples`` < 1, a bad
            ``mode``/``on_error``, or a grid with fewer than ``num_min_samples`` configs.
        SearchSpaceError: the search space is invalid (the message names the parameter).

    Example::

        hb = HyperBand(config, spaces, halving_rate=0.5, num_min_samples=2)

        @hb.main
        def train(config):
            return evaluate(config)          # a float; bigger is better with mode='max'

        result = train()   # ADict(config=..., metric=..., logs=[[...round 0...], ...])
    """

    def __init__(
        self,
        scope: Any,
        search_spaces: Mapping[str, Any],
        halving_rate: float,
        num_min_samples: int,
        tracker: Any = None,
        mode: str = "max",
        **options: Any,
    ) -> None:
        if (
            isinstance(halving_rate, bool)
            or not isinstance(halving_rate, (int, float))
            or not 0 < halving_rate < 1
        ):
            raise SearchSettingError(
                f"halving_rate must be a number with 0 < halving_rate < 1 (the fraction of "
                f"configs kept per round), got {halving_rate!r}"
            )
        self.halving_rate = float(halving_rate)
        self.num_min_samples = check_positive_int("num_min_samples", num_min_samples)
        super().__init__(scope, search_spaces, tracker, mode, **options)
        if len(self._points) < num_min_samples:
            raise SearchSettingError(
                f"the grid has {len(self._points)} configs, fewer than num_min_samples="
                f"{num_min_samples}; lower num_min_samples or add samples to the search space"
            )

    # -- schedule -------------------------------------------------------------------------
    def num_kept(self, num_configs: int) -> int:
        """How many of ``num_configs`` survive a round: ``floor(n * halving_rate)``, at least 1."""
        return max(1, math.floor(num_configs * self.halving_rate + 1e-9))

    def round_sizes(self) -> list[int]:
        """Number of configs evaluated in each round, the final single re-evaluation included."""
        sizes, n = [], len(self._points)
        while n >= self.num_min_samples and n > 1:
            sizes.append(n)
            n = self.num_kept(n)
        return [*sizes, 1]

    def num_generations(self) -> int:
        """Number of rounds (generations) including the final re-evaluation of the best
        config; ``config.__num_halved__`` ranges over ``0 .. num_generations() - 1``."""
        return len(self.round_sizes())

    def compute_optimized_initial_training_steps(self, max_steps: int) -> list[int]:
        """A training budget (in steps) per round, to index with ``config.__num_halved__``.

        Budgets grow geometrically by ``1 / halving_rate`` and the last (the final
        re-evaluation) equals ``max_steps``: ``steps[k] = ceil(max_steps * halving_rate **
        (G - 1 - k))`` for ``G = num_generations()``, at least 1. This is Hyperband's per-rung
        resource ``r_i = R * eta ** (i - s)`` (Li et al., JMLR 2018, Algorithm 1) with
        ``R = max_steps`` and ``eta = 1 / halving_rate``.

        Args:
            max_steps: the full training budget in steps (int >= 1).

        Returns:
            A list of ``num_generations()`` positive ints, non-decreasing, ending at ``max_steps``.

        Raises:
            SearchSettingError: ``max_steps`` is not an int >= 1.
        """
        check_positive_int("max_steps", max_steps)
        last = self.num_generations() - 1
        return [
            max(1, math.ceil(float(f"{max_steps * self.halving_rate ** (last - k):.12g}")))
            for k in range(last + 1)
        ]

    # -- the search -----------------------------------------------------------------------
    def main(self, func: Callable[..., Any]) -> Callable[..., ADict]:
        """Turn ``func(config, *args, **kwargs) -> metric`` into a launcher running the search.

        The launcher passes its own arguments on to every trial and returns
        ``ADict(config=best, metric=final_metric, logs=[[round 0 entries], ...], search_id=...,
        run_id=...)``: ``config`` is the best config (an ADict, with ``__num_halved__``),
        ``metric`` its final re-evaluation, ``logs[k]`` every config evaluated in round ``k``
        (ADicts with ``__metric__``, ``__num_halved__``, and ``__error__``/``__run_id__``
        where they apply; the last round is the final re-evaluation), ``run_id`` the tracker
        run of the final re-evaluation (None without a tracker).

        Raises:
            TrialResultError: a trial returned a non-number.
            Exception: whatever a trial raised, with ``on_error='raise'``.
            TrialFailedError: in a distributed search, a trial on another rank was fatal.
            DistributedSetupError: see :class:`~ato.hyperopt.base.DistributedMixIn`.
        """

        @functools.wraps(func)
        def launch(*args: Any, **kwargs: Any) -> ADict:
            return self._search(func, args, kwargs)

        return launch

    def _search(self, func: Callable[..., Any], args: tuple, kwargs: dict) -> ADict:
        self._target.prepare(list(self._points[0]))
        search_id = self._agree_on_search()
        recorder = TrialRecorder(
            self.tracker, search_id, self.metric_key, self._target.fingerprint_source()
        )
        progress = RoundProgress(self.progress if self.is_root else False)
        sizes = self.round_sizes()
        recorder.final_round = len(sizes) - 1
        survivors = list(range(len(self._points)))
        logs: list[list[ADict]] = []
        outcomes: list[TrialOutcome] = []
        try:
            for k in range(len(sizes)):
                if k == len(sizes) - 1:
                    survivors = survivors[:1]
                outcomes = self._run_round(
                    func, survivors, k, len(sizes), recorder, progress, args, kwargs
                )
                logs.append([o.log_entry() for o in outcomes])
                order = sorted(
                    range(len(outcomes)),
                    key=lambda i: (rank_key(outcomes[i].metric, self.mode), survivors[i]),
                )
                survivors = [survivors[i] for i in order[: self.num_kept(len(order))]]
        finally:
            progress.close()
        final = outcomes[0]
        return ADict(
            config=final.config,
            metric=final.metric,
            logs=logs,
            search_id=search_id,
            run_id=final.run_id,
        )

    def _agree_on_search(self) -> str:
        """A search id shared by all ranks; also checks every rank has the same grid."""
        mine = (self.search_id or uuid.uuid4().hex[:12], _grid_signature(self._points))
        gathered = self.all_gather_object(mine)
        if any(grid != gathered[0][1] for _, grid in gathered):
            raise DistributedSetupError(
                "ranks disagree on the search grid; every rank must build the same search_spaces"
            )
        return gathered[0][0]

    def _run_round(
        self,
        func: Callable[..., Any],
        indices: list[int],
        k: int,
        num_rounds: int,
        recorder: TrialRecorder,
        progress: RoundProgress,
        args: tuple,
        kwargs: dict,
    ) -> list[TrialOutcome]:
        progress.start_round(k, num_rounds, len(indices))
        mine: dict[int, TrialOutcome] = {}
        for pos in self.shard(len(indices)):
            outcome = self.run_trial(func, self._points[indices[pos]], k, recorder, args, kwargs)
            mine[pos] = outcome
            progress.trial_done(self.world_size)
            if outcome.fatal:
                break
        outcomes = self._merge(self.all_gather_object(mine), len(indices), mine)
        failed = sum(o.error is not None for o in outcomes)
        progress.end_round(k, num_rounds, len(outcomes), failed, self._best_text(outcomes))
        return outcomes

    def _merge(
        self, gathered: list[dict[int, TrialOutcome]], size: int, mine: dict[int, TrialOutcome]
    ) -> list[TrialOutcome]:
        for outcome in mine.values():
            if outcome.fatal and outcome.exception is not None:
                raise outcome.exception
        merged: dict[int, TrialOutcome] = {}
        for rank, part in enumerate(gathered):
            for pos, outcome in part.items():
                if outcome.fatal:
                    raise TrialFailedError(
                        f"a trial on rank {rank} stopped the search: {outcome.error}"
                    )
                merged[pos] = outcome
        return [merged[pos] for pos in range(size)]

    def _best_text(self, outcomes: list[TrialOutcome]) -> str:
        best = min(outcomes, key=lambda o: rank_key(o.metric, self.mode))
        point = {k: ADict.get_path(best.config, k, None) for k in self._points[0]}
        return f"metric={best.metric:.6g} {point}"


class DistributedHyperBand(DistributedMixIn, HyperBand):
    """:class:`HyperBand` with each round's trials spread over ``torch.distributed`` ranks.

    Every rank runs the same program and calls the launcher. A round's configs are dealt out
    round-robin (rank ``r`` evaluates positions ``r, r + world_size, ...``; sizes that do not
    divide by ``world_size`` are fine), the outcomes are exchanged with
    ``all_gather_object``, and every rank ranks the same results, so all ranks walk through
    identical rounds and return identical results. The final re-evaluation runs on rank 0.
    With ``world_size=1`` no process group is needed. The process group is never destroyed.

    Args:
        scope: a Scope or a config object, as for :class:`HyperBand`.
        search_spaces: parameter name -> spec, as for :class:`HyperBand`.
        halving_rate: fraction kept per round, as for :class:`HyperBand`.
        num_min_samples: minimum configs for another round, as for :class:`HyperBand`.
        tracker: optional tracker; each rank records the trials it runs.
        mode: ``'max'`` or ``'min'``.
        rank: this process's rank in the default process group.
        world_size: the group's size.
        backend: ``'pytorch'``.
        **options: as for :class:`HyperBand`.

    Raises:
        SearchSettingError: as :class:`HyperBand`, and for a bad rank/world size/backend.
        DistributedSetupError: (when the search runs) the process group is not initialized
            or its rank/size differ from the given ones, or ranks built different grids.
    """

    def __init__(
        self,
        scope: Any,
        search_spaces: Mapping[str, Any],
        halving_rate: float,
        num_min_samples: int,
        tracker: Any = None,
        mode: str = "max",
        *,
        rank: int = 0,
        world_size: int = 1,
        backend: str = "pytorch",
        **options: Any,
    ) -> None:
        super().__init__(
            scope,
            search_spaces,
            halving_rate,
            num_min_samples,
            tracker,
            mode,
            rank=rank,
            world_size=world_size,
            backend=backend,
            **options,
        )


def _grid_signature(points: list[dict[str, Any]]) -> list[list[tuple[str, Any]]]:
    """The grid in a form that compares equal across processes: plain values by ``repr``,
    other objects (functions, classes, modules as categories) by their qualified name, never by
    a memory address that differs from process to process."""
    return [[(name, _portable(value)) for name, value in point.items()] for point in points]


def _portable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool, type(None))):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, *(_portable(v) for v in value)]
    if isinstance(value, Mapping):
        return [type(value).__name__, *((str(k), _portable(v)) for k, v in value.items())]
    name = getattr(value, "__qualname__", None) or type(value).__qualname__
    return f"<{getattr(value, '__module__', '')}.{name}>"
