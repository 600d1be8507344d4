"""Successive halving over a grid (the bracket Hyperband is made of), in one process or many.

Algorithm: successive halving (Jamieson & Talwalkar, "Non-stochastic Best Arm Identification
and Hyperparameter Optimization", AISTATS 2016), as used inside Hyperband (Li, Jamieson,
DeSalvo, Rostamizadeh & Talwalkar, "Hyperband: A Novel Bandit-Based Approach to
Hyperparameter Optimization", JMLR 18(185), 2018). Here the candidate set is the full grid
of the search space rather than random samples, and the budget per round is left to the
trial function, which reads ``config.__num_halved__`` (helped by
[`HyperBand.compute_optimized_initial_training_steps`][ato.hyperopt.HyperBand.compute_optimized_initial_training_steps]).

Rounds: round 0 evaluates every grid config. After each round the configs are ranked by
metric (``mode``; NaN and failed trials rank last, ties go to the config that comes first
on the grid) and the top ``floor(n * halving_rate)`` (at least one) survive with
``__num_halved__`` raised by one (Jamieson & Talwalkar keep the top half; Hyperband keeps the
top ``floor(n / eta)``, i.e. ``halving_rate = 1 / eta``).
Rounds go on while at least ``num_min_samples`` (and more than one) configs remain. Then
the best survivor alone is trained in one last round at the largest budget: that round's
metric is the result (if it fails, the best config of the round below: see
``ato.hyperopt.answer``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ato.adict import ADict

from .base import DistributedMixIn, GridSpaceMixIn
from .checks import check_positive_int
from .errors import SearchSettingError
from .recording import SEED_RECORDS
from .samplers import GridSampler
from .schedules import SuccessiveHalvingSchedule
from .search import Search

__all__ = ["DistributedHyperBand", "HyperBand"]


class HyperBand(Search, GridSpaceMixIn):
    """Successive-halving search over the grid of ``search_spaces``: a preset of
    [`Search`][ato.hyperopt.Search] with a [`GridSampler`][ato.hyperopt.GridSampler] and one
    [`SuccessiveHalvingSchedule`][ato.hyperopt.SuccessiveHalvingSchedule] bracket, recording
    trials as the seed did (configs carry ``__num_halved__`` only, runs are tagged
    ``search:<id>`` and ``round:<k>``). For budgets, random or model-based sampling, every
    Hyperband bracket, ASHA or resuming, use ``Search`` directly.

    Args:
        scope: a Scope or a config object; see [`HyperOpt`][ato.hyperopt.HyperOpt].
        search_spaces: parameter name (dotted path) -> spec; see `ato.hyperopt.space`.
        halving_rate: fraction of configs kept after each round, ``0 < halving_rate < 1``.
        num_min_samples: rounds continue while at least this many configs remain (int >= 1).
        tracker: optional tracker; see [`HyperOpt`][ato.hyperopt.HyperOpt].
        mode: ``'max'`` or ``'min'``.
        **options: ``on_error``, ``metric_key``, ``progress``, ``search_id``,
            ``checkpoint_root``, ``keep_checkpoints``; see ``ato.hyperopt.base.HyperOpt`` and
            ``Search``.

    Raises:
        SearchSettingError: ``halving_rate`` outside (0, 1), ``num_min_samples`` < 1, a bad
            ``mode``/``on_error``, a grid with fewer than ``num_min_samples`` configs, or a
            grid above 100,000 points.
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
        schedule = SuccessiveHalvingSchedule(halving_rate, num_min_samples)
        self._bracket = schedule
        self.halving_rate = schedule.halving_rate
        self.num_min_samples = schedule.num_min_samples
        super().__init__(
            scope,
            search_spaces,
            sampler=GridSampler(),
            schedule=schedule,
            tracker=tracker,
            mode=mode,
            records=SEED_RECORDS,
            **options,
        )
        self._points = self.space.grid_points()
        if len(self._points) < num_min_samples:
            raise SearchSettingError(
                f"the grid has {len(self._points)} configs, fewer than num_min_samples="
                f"{num_min_samples}; lower num_min_samples or add samples to the search space"
            )

    # -- schedule -------------------------------------------------------------------------
    def num_kept(self, num_configs: int) -> int:
        """How many of ``num_configs`` survive a round: ``floor(n * halving_rate)``, at least 1."""
        return int(self._bracket.num_kept(num_configs))

    def round_sizes(self) -> list[int]:
        """Number of configs evaluated in each round, the last round (the best survivor alone)
        included."""
        return list(self._bracket.round_sizes(len(self._points)))

    def planned_rounds(self) -> int:
        """Number of rounds, the last one included (the same as `num_generations`)."""
        return len(self.round_sizes())

    def num_generations(self) -> int:
        """Number of rounds (generations) including the last round of the best
        config; ``config.__num_halved__`` ranges over ``0 .. num_generations() - 1``."""
        return len(self.round_sizes())

    def compute_optimized_initial_training_steps(self, max_steps: int) -> list[int]:
        """A training budget (in steps) per round, to index with ``config.__num_halved__``.

        Budgets grow geometrically by ``1 / halving_rate`` and the last (the last round, the
        best survivor alone) equals ``max_steps``: ``steps[k] = ceil(max_steps * halving_rate **
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
        return list(self._bracket.budgets(self.num_generations(), max_steps))

    def main(self, func: Callable[..., Any]) -> Callable[..., ADict]:
        """Turn ``func(config, *args, **kwargs) -> metric`` into a launcher running the search.

        The launcher passes its own arguments on to every trial and returns
        ``ADict(config=best, metric=final_metric, logs=[[round 0 entries], ...], search_id=...,
        run_id=...)``: ``config`` is the best config (an ADict, with ``__num_halved__``),
        ``metric`` its metric in the last round, ``logs[k]`` every config evaluated in round ``k``
        (ADicts with ``__metric__``, ``__num_halved__``, and ``__error__``/``__run_id__``
        where they apply; the last round holds the best survivor alone), ``run_id`` the tracker
        run holding the answer, tagged ``final`` (None without a tracker). The answer follows
        ``ato.hyperopt.answer``: a failed or NaN last round is never it.

        Raises:
            TrialResultError: a trial returned a non-number.
            Exception: whatever a trial raised, with ``on_error='raise'``.
            TrialFailedError: in a distributed search, a trial on another rank was fatal.
            DistributedSetupError: see [`DistributedMixIn`][ato.hyperopt.DistributedMixIn].
        """
        return super().main(func)


class DistributedHyperBand(DistributedMixIn, HyperBand):
    """[`HyperBand`][ato.hyperopt.HyperBand] with each round's trials spread over ``torch.distributed`` ranks.

    Every rank runs the same program and calls the launcher. A round's configs are dealt out
    round-robin (rank ``r`` evaluates positions ``r, r + world_size, ...``; sizes that do not
    divide by ``world_size`` are fine), the outcomes are exchanged with
    ``all_gather_object``, and every rank ranks the same results, so all ranks walk through
    identical rounds and return identical results.
    With ``world_size=1`` no process group is needed. The process group is never destroyed.

    Args:
        scope: a Scope or a config object, as for [`HyperBand`][ato.hyperopt.HyperBand].
        search_spaces: parameter name -> spec, as for [`HyperBand`][ato.hyperopt.HyperBand].
        halving_rate: fraction kept per round, as for [`HyperBand`][ato.hyperopt.HyperBand].
        num_min_samples: minimum configs for another round, as for [`HyperBand`][ato.hyperopt.HyperBand].
        tracker: optional tracker; each rank records the trials it runs.
        mode: ``'max'`` or ``'min'``.
        rank: this process's rank in the default process group.
        world_size: the group's size.
        backend: ``'pytorch'``.
        **options: as for [`HyperBand`][ato.hyperopt.HyperBand].

    Raises:
        SearchSettingError: as [`HyperBand`][ato.hyperopt.HyperBand], and for a bad rank/world size/backend.
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
