"""Samplers: where the configurations of a search come from.

A sampler is any object with the three methods of ``Sampler`` (a ``typing.Protocol``;
no base class needed). The search calls, in one process (rank 0 in a distributed search):

1. ``setup(space, mode)`` once, with the parsed [`SearchSpace`][ato.hyperopt.searchspace.SearchSpace]
   and ``'max'``/``'min'``;
2. ``ask(trial_id)`` each time the schedule needs a new configuration: return
   ``{dotted name: value}`` holding the active parameters only, or ``None`` when the sampler
   has nothing more to offer (a finished grid);
3. ``tell(trial_id, rung, budget, metric, state)`` after every evaluation of a trial at a rung
   (``metric`` is ``-inf``/``+inf`` for a failed trial, may be NaN). ``state`` is
   ``CONTINUE`` (``'continue'``: the trial may be promoted later), ``STOPPED``
   (``'stopped'``: the schedule will not run it again) or ``COMPLETED`` (``'completed'``:
   it finished the top rung). Every trial gets exactly one ``STOPPED``/``COMPLETED`` tell; a
   trial still open when the search ends is told ``STOPPED`` with its last metric.

In a search with several objectives or constraints ``metric`` is a
[`Score`][ato.hyperopt.Score] (NaN everywhere for a failed trial) and ``mode`` the first
objective's; a sampler that wants every objective defines ``use_objectives(objectives)``,
called with the search's [`Objectives`][ato.hyperopt.Objectives] before ``setup``.

A sampler that learns from each result may set ``sequential = True`` and define
``observe(trial_id, rung, budget, metric)``: a search run by one process with a synchronous
schedule then asks for each trial's configuration when the trial starts (not when its rung is
planned; ``ask`` must then return a configuration) and calls ``observe`` with each result as
soon as it exists, before the rung's ``tell`` calls (BOHB's sequential sampling; see
`ato.hyperopt.bohb`). Distributed, Ray and shared-database searches ask a rung at once.

Calls come in a deterministic order for synchronous schedules, so a sampler that is
deterministic given its seed and this call sequence reproduces a search exactly (this is what
resuming relies on). A sampler may set ``replicable = True`` when it proposes the same points
in every process whatever it is told (the grid, a seeded random sampler): a distributed search
then runs the synchronous schedule on every rank instead of sending each rung from rank 0.

**Shared searches** (``DatabaseExecutor``): each trial's configuration is stored with its job
when the worker that decided it creates the job, and every other worker's sampler is given
that configuration, never a point of its own. A sampler with ``adopt(trial_id, point)`` (see
``AdoptingSampler``: ``OptunaSampler``, ``BOHBSampler``) is handed the stored point instead of
being asked, and is then told the trial's results like those of its own trials, so its random
state need not agree between workers (an unseeded or model-based sampler works). A sampler
without ``adopt`` (the grid, ``RandomSampler``) is asked for the trial all the same, so that a
seeded one stays in step and never proposes a point another worker already got; the stored
point is used either way. A custom sampler that learns from results should define ``adopt``.
"""

from __future__ import annotations

import math
import random
from typing import Any, Literal, Protocol, runtime_checkable

from .errors import SearchSettingError
from .objectives import Metric, Objectives, Score
from .searchspace import MAX_GRID_SIZE, Param, SearchSpace

__all__ = [
    "COMPLETED",
    "CONTINUE",
    "AdoptingSampler",
    "STOPPED",
    "GridSampler",
    "OptunaSampler",
    "RandomSampler",
    "ObjectivesSampler",
    "ReplicableSampler",
    "Sampler",
    "SequentialSampler",
    "optuna_constraints",
]

#: ``state`` values passed to ``Sampler.tell``.
CONTINUE, STOPPED, COMPLETED = "continue", "stopped", "completed"


@runtime_checkable
class Sampler(Protocol):
    """What a search needs from a sampler (see the module docstring for the call order)."""

    def setup(self, space: SearchSpace, mode: str) -> None:
        """Receive the search space and the direction (``'max'`` or ``'min'``)."""

    def ask(self, trial_id: int) -> dict[str, Any] | None:
        """A new configuration ``{dotted name: value}`` for trial ``trial_id``, or None."""

    def tell(self, trial_id: int, rung: int, budget: Any, metric: Metric, state: str) -> None:
        """The metric of trial ``trial_id`` at ``rung`` (trained with ``budget``); ``state``
        says whether the trial goes on."""


@runtime_checkable
class ObjectivesSampler(Protocol):
    """A sampler that takes every objective of a search with several objectives or
    constraints (called before ``setup``)."""

    def use_objectives(self, objectives: Objectives) -> None:
        """Receive the search's objectives and constraint keys."""


@runtime_checkable
class AdoptingSampler(Protocol):
    """A sampler that can take a configuration proposed elsewhere (by another worker of a
    shared search) as one of its trials (see the module docstring)."""

    def adopt(self, trial_id: int, point: dict[str, Any]) -> None:
        """Take ``point`` (``{dotted name: value}``, active parameters only) as the
        configuration of trial ``trial_id``, in place of ``ask(trial_id)``: later ``tell``
        calls for the trial report on it."""


@runtime_checkable
class SequentialSampler(Protocol):
    """A sampler that wants each configuration asked when its trial starts and each result
    as soon as it exists (``sequential`` True; see the module docstring), such as
    [`BOHBSampler`][ato.hyperopt.BOHBSampler]."""

    sequential: bool

    def observe(self, trial_id: int, rung: int, budget: Any, metric: Metric) -> None:
        """The metric of trial ``trial_id`` at ``rung``, before the schedule ranked the rung
        (its ``tell`` follows)."""


@runtime_checkable
class ReplicableSampler(Protocol):
    """A sampler that says whether it proposes the same points in every process whatever it
    is told (``replicable``; see the module docstring)."""

    replicable: bool


class GridSampler:
    """Every point of the grid of the search space, in grid order (the last parameter varies
    fastest), then ``None``. Each FLOAT/INTEGER parameter needs ``num_samples``.

    Args:
        max_size: largest grid accepted (default ``ato.hyperopt.searchspace.MAX_GRID_SIZE``,
            100,000 points). The size is computed before the grid is expanded.

    Raises:
        SearchSettingError: (in ``setup``) the grid has more than ``max_size`` points; the
            message suggests a [`RandomSampler`][ato.hyperopt.RandomSampler].
        SearchSpaceError: (in ``setup``) a numeric parameter lacks ``num_samples``.
    """

    #: Proposes the same points in every process, so each rank can run the schedule itself.
    replicable = True

    def __init__(self, max_size: int = MAX_GRID_SIZE) -> None:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise SearchSettingError(f"max_size must be an int >= 1, got {max_size!r}")
        self.max_size = max_size
        self.points: list[dict[str, Any]] = []

    def setup(self, space: SearchSpace, mode: str) -> None:
        self.points = space.grid_points(self.max_size)

    def size(self) -> int:
        """Number of grid points (after ``setup``)."""
        return len(self.points)

    def ask(self, trial_id: int) -> dict[str, Any] | None:
        return dict(self.points[trial_id]) if trial_id < len(self.points) else None

    def tell(self, trial_id: int, rung: int, budget: Any, metric: Metric, state: str) -> None:
        """The grid does not learn from results."""


class RandomSampler:
    """Independent random configurations: uniform for LINEAR FLOAT/INTEGER, log-uniform for
    LOG (``base`` does not change a log-uniform distribution), uniform over categories.
    Values are continuous (``num_samples`` is ignored). Parameters whose condition fails are
    left out.

    Args:
        seed: seed of the sampler's own ``random.Random`` (None: from the OS). With a seed, the
            same search space gives the same sequence of configurations.

    Source: random search, Bergstra & Bengio, "Random Search for Hyper-Parameter
    Optimization", JMLR 13, 2012.
    """

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        #: With a seed every rank draws the same points (see GridSampler.replicable).
        self.replicable = seed is not None
        self._rng = random.Random(seed)
        self._space: SearchSpace | None = None

    def setup(self, space: SearchSpace, mode: str) -> None:
        self._space = space
        self._rng = random.Random(self.seed)

    def ask(self, trial_id: int) -> dict[str, Any] | None:
        if self._space is None:
            raise SearchSettingError("RandomSampler.ask() before setup(); pass it to a Search")
        return self._space.sample(self._rng)

    def tell(self, trial_id: int, rung: int, budget: Any, metric: Metric, state: str) -> None:
        """Random search does not learn from results."""


def _keeps_generations(sampler: Any) -> bool:
    """True for Optuna samplers that mark each trial with a generation when they sample it
    (``CmaEsSampler``, genetic ones: ``BaseGASampler``), and count a generation's trials by
    that mark."""
    import optuna

    kinds = [getattr(optuna.samplers, n, None) for n in ("CmaEsSampler", "BaseGASampler")]
    return isinstance(sampler, tuple(k for k in kinds if isinstance(k, type)))


class OptunaSampler:
    """Any Optuna sampler (TPE, CMA-ES, GP, QMC, ...) through Optuna's ask-and-tell interface.

    Needs ``pip install "ato-hyperopt[optuna]"``. The adapter keeps an in-memory Optuna study
    (direction from the search's ``mode``). Each new trial is ``study.ask()``; its parameters
    are suggested define-by-run in dependency order, so conditional parameters are simply not
    suggested when inactive. Each rung result is reported with ``trial.report(metric,
    step=rung)``; when the schedule stops a trial it is told ``COMPLETE`` with its metric if
    it finished the top rung, ``PRUNED`` otherwise, ``FAIL`` if it failed (Optuna's samplers use
    pruned trials' last intermediate values, as with Optuna's own pruners). Under ASHA a trial
    is open until it is finished or the search ends, so the model learns from top-rung results
    during the search.

    With several objectives the study gets one direction per objective and a trial is told
    its objective values (Optuna's multi-objective samplers: ``NSGAIISampler``,
    ``NSGAIIISampler``, ``TPESampler``); Optuna takes no intermediate values
    for such studies, so nothing is reported per rung and a stopped trial is told ``PRUNED``.
    Constraint values are set on the trial before it is told: with ``Trial.set_constraint``
    (Optuna >= 5.0, whose samplers then prefer feasible trials by themselves) and as its user
    attribute ``"constraints"``; with Optuna < 5, pass ``constraints_func=optuna_constraints``
    to the Optuna sampler (see [`optuna_constraints`][ato.hyperopt.optuna_constraints]).

    Args:
        sampler: an ``optuna.samplers.BaseSampler`` instance, e.g. ``TPESampler(seed=0)``.
            Seed it to make the search reproducible (and resumable with the same decisions).

    In a search shared through the database, every worker keeps its own study: the trials
    other workers created are added to it with their stored parameters (``adopt``: Optuna's
    ``enqueue_trial`` then ``ask``) and told their results, so each worker's sampler learns
    from every worker's results and the sampler need not be seeded.

    Attributes:
        study: the in-memory ``optuna.Study`` of the search (None until ``setup``).

    Raises:
        SearchSettingError: optuna is not installed.

    Source: Akiba et al., "Optuna: A Next-generation Hyperparameter Optimization Framework",
    KDD 2019; TPE: Bergstra et al., NeurIPS 2011.
    """

    def __init__(self, sampler: Any) -> None:
        try:
            import optuna  # noqa: F401
        except ImportError as exc:
            raise SearchSettingError(
                'OptunaSampler needs optuna; install it with pip install "ato-hyperopt[optuna]"'
            ) from exc
        self.sampler = sampler
        self.study: Any = None
        self._space: SearchSpace | None = None
        self._objectives: Objectives | None = None
        # trial id -> (its open Optuna trial, the rungs already reported to it)
        self._trials: dict[int, tuple[Any, set[int]]] = {}

    def use_objectives(self, objectives: Objectives) -> None:
        """Take the search's objectives (one study direction each) and constraint keys."""
        self._objectives = objectives

    def setup(self, space: SearchSpace, mode: str) -> None:
        import optuna

        modes = self._objectives.modes if self._objectives is not None else (mode,)
        directions: list[Literal["minimize", "maximize"]] = [
            "minimize" if m == "min" else "maximize" for m in modes
        ]
        self.study = optuna.create_study(directions=directions, sampler=self.sampler)
        self._space, self._trials = space, {}

    def ask(self, trial_id: int) -> dict[str, Any] | None:
        if self._space is None:
            raise SearchSettingError("OptunaSampler.ask() before setup(); pass it to a Search")
        trial = self.study.ask()
        point: dict[str, Any] = {}
        for param in self._space.params:
            if param.is_active(point):
                point[param.name] = _suggest(trial, param)
        self._trials[trial_id] = (trial, set())
        return self._space.ordered(point)

    def adopt(self, trial_id: int, point: dict[str, Any]) -> None:
        """Add ``point`` (proposed by another worker of a shared search) to the study as the
        running trial ``trial_id``: enqueued, then asked, so the Optuna trial holds exactly
        these parameters. A sampler that numbers its trials by generation (CMA-ES, NSGA-II,
        NSGA-III) first samples the trial as it samples one it proposes, which gives the
        trial its generation (the sampled values are dropped: the stored ones win); else
        it would count only the trials this worker proposed.

        Raises:
            SearchSettingError: before ``setup``, or ``point`` does not fit this search space
                (workers run different search spaces).
        """
        if self._space is None:
            raise SearchSettingError("OptunaSampler.adopt() before setup(); pass it to a Search")
        params = {param.name: param for param in self._space.params}
        unfit = [k for k, v in point.items() if k not in params or not _fits(params[k], v)]
        if unfit:
            raise self._not_held(trial_id, point, f"{sorted(unfit)} are not in it")
        fixed = {name: _internal(params[name], value) for name, value in point.items()}
        self.study.enqueue_trial(fixed)
        trial = self.study.ask()
        if _keeps_generations(self.sampler):
            trial.relative_params  # noqa: B018 - Optuna's lazy relative sampling, run now
        got: dict[str, Any] = {}
        for param in self._space.params:
            if param.is_active(got):
                got[param.name] = _suggest(trial, param)
        taken = {p.name: _internal(p, got[p.name]) for p in self._space.params if p.name in got}
        if set(got) != set(point) or taken != fixed:
            raise self._not_held(trial_id, point, f"its conditions give {got!r}")
        self._trials[trial_id] = (trial, set())

    @staticmethod
    def _not_held(trial_id: int, point: dict[str, Any], why: str) -> SearchSettingError:
        return SearchSettingError(
            f"trial {trial_id} of the shared search has the configuration {point!r}, which "
            f"this worker's search space does not hold ({why}): every worker must run the "
            f"same search space"
        )

    def tell(self, trial_id: int, rung: int, budget: Any, metric: Metric, state: str) -> None:
        """Report ``metric`` at step ``rung`` (once per rung, finite metrics only); close the
        Optuna trial unless ``state`` is ``CONTINUE``. Trials it did not propose (or adopt) are
        ignored."""
        if trial_id not in self._trials:
            return
        if isinstance(metric, Score):
            self._tell_score(trial_id, rung, metric, state)
            return
        import optuna

        trial, reported = self._trials[trial_id]
        if math.isfinite(metric) and rung not in reported:
            trial.report(metric, step=rung)
            reported.add(rung)
        if state == CONTINUE:
            return
        del self._trials[trial_id]
        states = optuna.trial.TrialState
        if not math.isfinite(metric):
            self.study.tell(trial, state=states.FAIL)
        elif state == COMPLETED:
            self.study.tell(trial, metric, state=states.COMPLETE)
        else:
            self.study.tell(trial, state=states.PRUNED)

    def _tell_score(self, trial_id: int, rung: int, score: Score, state: str) -> None:
        import optuna

        trial, reported = self._trials[trial_id]
        single = len(score.values) == 1
        if single and score.completed and rung not in reported:
            trial.report(score.values[0], step=rung)  # one objective with constraints
            reported.add(rung)
        if state == CONTINUE:
            return
        del self._trials[trial_id]
        states = optuna.trial.TrialState
        if not score.completed:
            self.study.tell(trial, state=states.FAIL)
            return
        if score.constraints:
            self._constrain(trial, score.constraints)
        values = score.values[0] if single else list(score.values)
        if state == COMPLETED:
            self.study.tell(trial, values, state=states.COMPLETE)
        else:
            self.study.tell(trial, state=states.PRUNED)

    def _constrain(self, trial: Any, constraints: tuple[float, ...]) -> None:
        """Store the constraint values on the Optuna trial: as its ``"constraints"`` user
        attribute, and with ``Trial.set_constraint`` (Optuna >= 5, read by its samplers)."""
        trial.set_user_attr(CONSTRAINTS_ATTR, list(constraints))
        if hasattr(trial, "set_constraint"):
            keys = self._objectives.constraint_keys if self._objectives else ()
            for pos, value in enumerate(constraints):
                trial.set_constraint(keys[pos] if pos < len(keys) else str(pos), value)


#: The Optuna user attribute holding a trial's constraint values.
CONSTRAINTS_ATTR = "constraints"


def optuna_constraints(trial: Any) -> list[float]:
    """The constraint values [`OptunaSampler`][ato.hyperopt.OptunaSampler] stored on an Optuna
    ``FrozenTrial`` (its user attribute ``"constraints"``; empty when it has none). With
    Optuna < 5.0 pass it as ``constraints_func`` to ``NSGAIISampler``, ``NSGAIIISampler``,
    ``TPESampler`` or ``GPSampler``, which then prefer feasible trials (values ``<= 0``); Optuna
    >= 5.0 reads the values the adapter sets with ``Trial.set_constraint`` without it."""
    return [float(c) for c in trial.user_attrs.get(CONSTRAINTS_ATTR, [])]


def _fits(param: Param, value: Any) -> bool:
    """Whether ``value`` is one of ``param``'s values (a stored list matches a tuple
    category)."""
    if param.kind == "CATEGORY":
        return any(
            c == value or (isinstance(c, tuple) and list(c) == value) for c in param.categories
        )
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if param.kind == "INTEGER" and not isinstance(value, int):
        return False
    return number and param.low <= value <= param.high


def _plain(param: Param) -> bool:
    """Whether Optuna can hold ``param``'s categories as they are (else by their index)."""
    return all(isinstance(c, (type(None), bool, int, float, str)) for c in param.categories)


def _internal(param: Param, value: Any) -> Any:
    """``value`` of ``param`` as `_suggest` asks Optuna for it (a category's index when the
    categories are not plain values; a stored list matches a tuple category)."""
    if param.kind != "CATEGORY" or _plain(param):
        return value
    for index, category in enumerate(param.categories):
        if category == value or (isinstance(category, tuple) and list(category) == value):
            return index
    return value


def _suggest(trial: Any, param: Param) -> Any:
    if param.kind == "FLOAT":
        return trial.suggest_float(param.name, float(param.low), float(param.high), log=param.log)
    if param.kind == "INTEGER":
        return trial.suggest_int(param.name, param.low, param.high, log=param.log)
    if _plain(param):
        return trial.suggest_categorical(param.name, list(param.categories))
    index = trial.suggest_categorical(param.name, list(range(len(param.categories))))
    return param.categories[index]
