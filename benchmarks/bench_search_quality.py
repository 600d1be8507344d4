"""Search quality of ato.hyperopt against Optuna, DEHB and SMAC3 at equal compute budget
(issues 13, 27).

Tasks (multi-fidelity: the budget of an evaluation is a number of resource units):

- ``digits``: scikit-learn's ``MLPClassifier`` on the 8x8 digits (the demo of
  ``examples/digits``); budget = epochs (``partial_fit`` passes), max 27. Searched: learning
  rate, L2 ``alpha`` (both log), hidden units (log int). Selection on a validation split; the
  score reported is the error of the chosen configuration on a held-out test split.
- ``branin``: the multi-fidelity Branin function of Kandasamy et al., "Multi-fidelity Bayesian
  Optimisation with Continuous Approximations" (BOCA), ICML 2017, with a three-dimensional
  fidelity ``z``: ``f(z, x) = a (x2 - b(z1) x1^2 + c(z2) x1 - r)^2 + s (1 - t(z3)) cos(x1) + s``,
  ``b(z1) = b - 0.01 (1 - z1)``, ``c(z2) = c - 0.1 (1 - z2)``, ``t(z3) = t + 0.05 (1 - z3)``, the
  usual constants (a=1, b=5.1/(4 pi^2), c=5/pi, r=6, s=10, t=1/(8 pi)), x1 in [-5, 10], x2 in
  [0, 15]. At ``z = (1, 1, 1)`` it is the Branin function, minimum 0.397887. Budget ``u`` in
  1..81 maps to ``z1 = z2 = z3 = log(u) / log(81)``, so low budgets are *biased* (shifted
  coefficients move the optima); we add Gaussian noise of standard deviation ``1 - z`` (1 at
  budget 1, 0 at budget 81), so low budgets are also *noisy*. Score: simple regret
  ``f(1, x) - 0.397887`` of the chosen point.
- ``counting ones``: the mixed task of Falkner et al., "BOHB", ICML 2018, section 5.1: 8
  categorical parameters in {0, 1} and 8 continuous ones in [0, 1];
  ``f(x) = -(sum x_cat + sum over x_cont of the mean of s Bernoulli(x_cont) draws)`` with
  ``s = 9u`` samples at budget ``u`` in 1..81 (the paper's 9..729), so the noise shrinks with
  the budget; optimum -16 (all ones). Score: normalized regret ``(16 - E f) / 16``.
- ``Hartmann-6``: the multi-fidelity Hartmann-6 of Kandasamy et al. 2017 (BOCA, appendix):
  the weights ``alpha = (1, 1.2, 3, 3.2)`` become ``alpha - 0.1 (1 - z)`` (biased), with
  ``z = log(u) / log(81)`` as for Branin, plus Gaussian noise of standard deviation
  ``0.1 (1 - z)``; x in [0, 1]^6, minimum -3.32237. Score: ``f(1, x) - f*``.

Protocol, the same for every method: a method may spend ``B`` resource units per run (a
promoted ato trial continues from its state and pays only the extra units; an Optuna trial
pays one unit per step it reports). When ``B`` is spent, no unit more is trained. The method's
answer is the configuration with the best validation value among evaluations at the full
budget (ties: the first), as Hyperband papers score the incumbent. ato's Hyperband is run pass
after pass (Li et al.'s outer loop) with the same sampler until ``B`` is spent; the grid runs
its one bracket once. Each method runs on ``--seeds`` seeds (default 10; the seed is the
sampler's and the MLP initialisation's).

Methods: ato ``BOHBSampler`` (its defaults: asked one trial at a time, each result passed on
at once) + ``HyperbandSchedule`` / ``ASHASchedule``, ``RandomSampler`` +
``HyperbandSchedule`` / ``ASHASchedule``, ``OptunaSampler(TPESampler)`` +
``HyperbandSchedule``, ``GridSampler`` + the seed's ``SuccessiveHalvingSchedule`` (where a
grid fits the budget); Optuna ``TPESampler`` + ``HyperbandPruner`` and ``RandomSampler`` +
``SuccessiveHalvingPruner`` (defaults, in-memory storage); DEHB (``dehb`` package, ask/tell,
one worker) and SMAC3's ``MultiFidelityFacade`` (random forest + Hyperband intensifier,
ask/tell). DEHB and SMAC3 do not continue a trial from a lower budget: each of their
evaluations trains from scratch and pays its whole budget. All use reduction factor 3 and
minimum budget 1. A peer whose package does not import is left out with the reason printed.

Printed per task and method: median over seeds with its 90% bootstrap interval, interquartile
range, the ratio of medians to Optuna TPE + HyperbandPruner with a 90% bootstrap interval
(seeds resampled), so "within noise" can be read off: an interval containing 1; for ato's
methods, the trial evaluations one search (one Hyperband pass) ran. Then ato BOHB + Hyperband
and the best ato method against each peer (DEHB, SMAC3, Optuna, ato random + ASHA).

Multi-objective task (``zdt1``, `multi_objective`): ZDT1 with three variables (Zitzler, Deb &
Thiele, "Comparison of Multiobjective Evolutionary Algorithms: Empirical Results", Evolutionary
Computation 8(2), 2000): ``f1 = x1``, ``g = 1 + 9 (x2 + x3) / 2``, ``f2 = g (1 - sqrt(f1 / g))``,
both minimised, ``x`` in ``[0, 1]^3``; the Pareto front is ``f2 = 1 - sqrt(f1)`` (``g = 1``).
Budget ``u`` in 1..27; an evaluation at ``u`` sees both objectives with Gaussian noise of
standard deviation ``0.2 (1 - log u / log 27)`` (exact at the full budget). Each run spends
``27 * 60`` units (a promoted trial pays only its extra units). A method's answer is the Pareto
front of every evaluation it made at the full budget; its score is the hypervolume of that
front with the reference point ``(1.1, 11)`` (which every point dominates), as a fraction of
the true front's (``12.1 - 1/3``), and the gap ``1 - fraction`` (lower is better). Methods:
ato ``RandomSampler``, ``OptunaSampler(NSGAIISampler)`` and ``OptunaSampler(TPESampler)``
with ``HyperbandSchedule`` (its
promotions by non-dominated sorting and crowding distance), passes until the budget is spent;
Optuna ``NSGAIISampler`` (``population_size=20``; multi-objective studies have no pruning, so
each trial runs to the full budget), ``TPESampler`` (multi-objective TPE) and
``RandomSampler``. Printed: median fraction and gap,
the gap ratio to Optuna NSGA-II with a 90% bootstrap interval, and the hypervolume ratio.

Also printed: the scheduling cost per evaluation of the engine (no-op trials; goal <= 1 ms),
and the fraction of wall time 2 gloo ranks spend in trials (10-100 ms sleeps) under ASHA and
under synchronous schedules (goal ASHA >= 0.9).

SMAC3's random forest runs with ``n_jobs=1`` (see `smac_forest`) and is told its results
with ``save=False`` (it would otherwise rewrite its run history as
JSON after each one; nothing reads it here and its decisions do not depend on it). Seeds are
independent and deterministic, so ``--jobs N`` runs N seeds at once in separate processes
(same scores, less wall time; the ``s/run`` column is then the wall time over the seeds).

Run: ``python benchmarks/bench_search_quality.py [--quick] [--seeds N] [--jobs N]
[--tasks WORD ...] [--methods LABEL ...] [--skip-engine]`` (``--tasks`` without ``zdt1``
leaves the multi-objective task out).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import math
import os
import pathlib
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ato.adict import ADict
from ato.hyperopt import (
    ASHASchedule,
    BOHBSampler,
    GridSampler,
    HyperbandSchedule,
    OptunaSampler,
    RandomSampler,
    Search,
    SuccessiveHalvingSchedule,
    trial_context,
)

ETA = 3
BRANIN_MIN = 0.397887357729738


# -- budget accounting --------------------------------------------------------------------
class Exhausted(Exception):  # noqa: N818 - a signal that the budget is spent, not an error
    """The method has spent its budget."""


@dataclass
class Budget:
    """Resource units a method may spend, and its incumbent at the full budget."""

    total: int
    max_budget: int
    mode: str
    used: int = 0
    best: tuple[float, float] | None = None  # (validation value, test score)
    evaluations: int = 0  # trial evaluations an ato method ran (each search pass)
    searches: int = 0  # ato search passes

    @property
    def exhausted(self) -> bool:
        return self.used >= self.total

    def spend(self, units: int) -> None:
        for _ in range(units):
            if self.exhausted:
                raise Exhausted
            self.used += 1

    def full_budget_result(self, value: float, test: float) -> None:
        if self.best is None or (
            value > self.best[0] if self.mode == "max" else value < self.best[0]
        ):
            self.best = (value, test)


# -- tasks ----------------------------------------------------------------------------------
@dataclass
class Task:
    name: str
    max_budget: int
    total_budget: int
    mode: str
    spaces: dict[str, dict[str, Any]]
    score_name: str
    # advance(state, params, from_units, to_units, seed, rng) -> (value, test score, state)
    advance: Callable[..., tuple[float, float, Any]]

    def grid_spaces(self) -> dict[str, dict[str, Any]] | None:
        """The finest grid (same number of points per numeric axis) whose successive-halving
        bracket (with continuation) fits the budget; None when even 2 points do not fit."""
        best = None
        for points in range(2, 200):
            spaces = {
                k: v if v["param_type"] == "CATEGORY" else {**v, "num_samples": points}
                for k, v in self.spaces.items()
            }
            if grid_bracket_cost(spaces, self.max_budget) > self.total_budget:
                break
            best = spaces
        return best

    def suggest(self, trial: Any) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, spec in self.spaces.items():
            if spec["param_type"] == "CATEGORY":
                params[name] = trial.suggest_categorical(name, spec["categories"])
                continue
            log = spec.get("space_type") == "LOG"
            low, high = spec["param_range"]
            if spec["param_type"] == "INTEGER":
                params[name] = trial.suggest_int(name, low, high, log=log)
            else:
                params[name] = trial.suggest_float(name, low, high, log=log)
        return params


def grid_bracket_cost(spaces: dict[str, Any], max_budget: int) -> int:
    """Units one grid bracket of the seed's schedule spends when trials continue."""
    from ato.hyperopt import SearchSpace

    size = math.prod(len(axis) for axis in SearchSpace(spaces).grid_axes().values())
    schedule = SuccessiveHalvingSchedule(1 / ETA, 1, max_budget=max_budget)
    sizes = schedule.round_sizes(size)
    budgets = schedule.budgets(len(sizes), max_budget)
    previous = [0, *budgets[:-1]]
    return sum(n * (b - a) for n, a, b in zip(sizes, previous, budgets, strict=True))


@functools.lru_cache(maxsize=1)
def digits_splits() -> tuple[Any, ...]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=0.2, random_state=0, stratify=y_rest
    )
    scaler = StandardScaler().fit(x_train)
    return (
        scaler.transform(x_train),
        y_train,
        scaler.transform(x_val),
        y_val,
        scaler.transform(x_test),
        y_test,
    )


def digits_advance(
    state: Any, params: dict[str, Any], start: int, stop: int, seed: int, budget: Budget, rng: Any
) -> tuple[float, float, Any]:
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    x_train, y_train, x_val, y_val, x_test, y_test = digits_splits()
    if state is None:
        state = MLPClassifier(
            hidden_layer_sizes=(int(params["hidden"]),),
            alpha=params["alpha"],
            learning_rate_init=params["lr"],
            batch_size=128,
            random_state=seed,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(start, stop):
            budget.spend(1)
            state.partial_fit(x_train, y_train, classes=np.arange(10))
    test_error = 1.0 - state.score(x_test, y_test) if stop == budget.max_budget else math.nan
    return state.score(x_val, y_val), test_error, state


def branin(z: float, x1: float, x2: float) -> float:
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    bz, cz, tz = b - 0.01 * (1 - z), c - 0.1 * (1 - z), t + 0.05 * (1 - z)
    return a * (x2 - bz * x1**2 + cz * x1 - r) ** 2 + s * (1 - tz) * math.cos(x1) + s


def branin_advance(
    state: Any, params: dict[str, Any], start: int, stop: int, seed: int, budget: Budget, rng: Any
) -> tuple[float, float, Any]:
    budget.spend(stop - start)
    z = math.log(stop) / math.log(budget.max_budget)
    value = branin(z, params["x1"], params["x2"]) + rng.gauss(0.0, 1.0 - z)
    regret = branin(1.0, params["x1"], params["x2"]) - BRANIN_MIN
    return value, regret, None


ONES_CATEGORICAL, ONES_CONTINUOUS = 8, 8
# Hartmann-6 (Dixon & Szegoe 1978): weights, exponents, centres; minimum at HARTMANN6_ARGMIN
HARTMANN_ALPHA = (1.0, 1.2, 3.0, 3.2)
HARTMANN_A = (
    (10.0, 3.0, 17.0, 3.5, 1.7, 8.0),
    (0.05, 10.0, 17.0, 0.1, 8.0, 14.0),
    (3.0, 3.5, 1.7, 10.0, 17.0, 8.0),
    (17.0, 8.0, 0.05, 10.0, 0.1, 14.0),
)
HARTMANN_P = (
    (0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886),
    (0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991),
    (0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650),
    (0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381),
)
HARTMANN6_ARGMIN = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)


def counting_ones_advance(
    state: Any, params: dict[str, Any], start: int, stop: int, seed: int, budget: Budget, rng: Any
) -> tuple[float, float, Any]:
    """Falkner et al. 2018, section 5.1: ``f(x) = -(sum of the categorical x_i in {0, 1} + sum
    over the continuous x_j in [0, 1] of the mean of 9u Bernoulli(x_j) draws)`` at budget
    ``u`` in 1..81 (the paper's 9..729 samples); minimum -16."""
    import numpy as np

    budget.spend(stop - start)
    samples = 9 * stop
    probabilities = [params[f"cont{j}"] for j in range(ONES_CONTINUOUS)]
    draws = np.random.default_rng(rng.getrandbits(64)).binomial(samples, probabilities)
    value = -float(sum(params[f"cat{i}"] for i in range(ONES_CATEGORICAL)))
    value -= float(draws.sum()) / samples
    expected = sum(params[f"cat{i}"] for i in range(ONES_CATEGORICAL)) + sum(
        params[f"cont{j}"] for j in range(ONES_CONTINUOUS)
    )
    size = ONES_CATEGORICAL + ONES_CONTINUOUS
    return value, (size - expected) / size, None


def hartmann6(z: float, x: list[float]) -> float:
    """Multi-fidelity Hartmann-6 of Kandasamy et al. 2017 (BOCA, appendix): the weights
    ``alpha`` become ``alpha - 0.1 (1 - z)``; at ``z = 1`` the Hartmann-6 function."""
    total = 0.0
    for alpha, a_row, p_row in zip(HARTMANN_ALPHA, HARTMANN_A, HARTMANN_P, strict=True):
        inner = sum(a * (xi - p) ** 2 for a, xi, p in zip(a_row, x, p_row, strict=True))
        total += (alpha - 0.1 * (1 - z)) * math.exp(-inner)
    return -total


HARTMANN6_MIN = hartmann6(1.0, list(HARTMANN6_ARGMIN))


def hartmann_advance(
    state: Any, params: dict[str, Any], start: int, stop: int, seed: int, budget: Budget, rng: Any
) -> tuple[float, float, Any]:
    budget.spend(stop - start)
    z = math.log(stop) / math.log(budget.max_budget)
    x = [params[f"x{i}"] for i in range(6)]
    value = hartmann6(z, x) + rng.gauss(0.0, 0.1 * (1.0 - z))
    return value, hartmann6(1.0, x) - HARTMANN6_MIN, None


def make_tasks(quick: bool) -> list[Task]:
    log_float = {"param_type": "FLOAT", "space_type": "LOG"}
    return [
        Task(
            name="digits MLP (budget = epochs, R = 27)",
            max_budget=27,
            total_budget=150 if quick else 360,
            mode="max",
            spaces={
                "lr": {**log_float, "param_range": (1e-4, 0.3)},
                "alpha": {**log_float, "param_range": (1e-6, 1.0)},
                "hidden": {"param_type": "INTEGER", "param_range": (8, 128), "space_type": "LOG"},
            },
            score_name="test error",
            advance=digits_advance,
        ),
        Task(
            name="multi-fidelity Branin, biased + noisy (R = 81)",
            max_budget=81,
            total_budget=1000 if quick else 2000,
            mode="min",
            spaces={
                "x1": {"param_type": "FLOAT", "param_range": (-5.0, 10.0)},
                "x2": {"param_type": "FLOAT", "param_range": (0.0, 15.0)},
            },
            score_name="regret",
            advance=branin_advance,
        ),
        Task(
            name="counting ones, 8 categorical + 8 continuous (R = 81, 9u samples)",
            max_budget=81,
            total_budget=1500 if quick else 3000,
            mode="min",
            spaces={
                **{
                    f"cat{i}": {"param_type": "CATEGORY", "categories": [0, 1]}
                    for i in range(ONES_CATEGORICAL)
                },
                **{
                    f"cont{j}": {"param_type": "FLOAT", "param_range": (0.0, 1.0)}
                    for j in range(ONES_CONTINUOUS)
                },
            },
            score_name="normalized regret",
            advance=counting_ones_advance,
        ),
        Task(
            name="multi-fidelity Hartmann-6, biased + noisy (R = 81)",
            max_budget=81,
            total_budget=1500 if quick else 3000,
            mode="min",
            spaces={f"x{i}": {"param_type": "FLOAT", "param_range": (0.0, 1.0)} for i in range(6)},
            score_name="regret",
            advance=hartmann_advance,
        ),
    ]


# -- ato methods ----------------------------------------------------------------------------
@dataclass
class Persistent:
    """One sampler across Hyperband passes (Li et al.'s outer loop): set up once, with trial
    ids that keep counting; asks nothing once the budget is spent."""

    inner: Any
    budget: Budget
    offset: int = 0
    ready: bool = False
    asked: int = field(default=0)

    def setup(self, space: Any, mode: str) -> None:
        if not self.ready:
            self.inner.setup(space, mode)
            self.ready = True
        self.offset = self.asked

    def ask(self, trial_id: int) -> dict[str, Any] | None:
        if self.budget.exhausted:
            return None
        self.asked = max(self.asked, self.offset + trial_id + 1)
        return self.inner.ask(self.offset + trial_id)

    def tell(self, trial_id: int, rung: int, budget: Any, metric: float, state: str) -> None:
        self.inner.tell(self.offset + trial_id, rung, budget, metric, state)


@dataclass
class SequentialPersistent(Persistent):
    """`Persistent` for a sampler asked one trial at a time (``BOHBSampler``'s
    ``sequential``): results reach it through ``observe`` as they arrive, and it always
    proposes a configuration (a trial run after the budget is spent costs nothing and returns
    the worst value)."""

    sequential: bool = True

    def ask(self, trial_id: int) -> dict[str, Any] | None:
        self.asked = max(self.asked, self.offset + trial_id + 1)
        point: dict[str, Any] | None = self.inner.ask(self.offset + trial_id)
        return point

    def observe(self, trial_id: int, rung: int, budget: Any, metric: float) -> None:
        self.inner.observe(self.offset + trial_id, rung, budget, metric)


def run_ato(task: Task, method: str, seed: int) -> Budget:
    budget = Budget(task.total_budget, task.max_budget, task.mode)
    rng = random.Random(seed)
    worst = -math.inf if task.mode == "max" else math.inf
    if method == "grid + SH":
        sampler: Any = Persistent(GridSampler(), budget)
        spaces = task.grid_spaces()
    else:
        spaces = task.spaces
        if method == "tpe + hyperband":
            import optuna

            inner: Any = OptunaSampler(optuna.samplers.TPESampler(seed=seed))
        elif method.startswith("bohb"):
            inner = BOHBSampler(seed=seed)
        else:
            inner = RandomSampler(seed=seed)
        # one trial at a time under a synchronous schedule only: ASHA asks each new trial when
        # a worker is free anyway, and stops at the first None (the budget spent)
        sequential = getattr(inner, "sequential", False) and not method.endswith("ASHA")
        wrapper = SequentialPersistent if sequential else Persistent
        sampler = wrapper(inner, budget)
    states: dict[int, Any] = {}

    def trial(config: Any) -> float:
        ctx = trial_context()
        if budget.exhausted:  # planned before the budget ran out: not run
            return worst
        budget.evaluations += 1
        key = sampler.offset + ctx.trial_id
        start = ctx.previous_budget or 0
        if key not in states:
            start = 0
        params = {name: config[name] for name in task.spaces}
        try:
            value, test, states[key] = task.advance(
                states.get(key), params, start, ctx.budget, seed, budget, rng
            )
        except Exhausted:
            return worst
        if ctx.budget == task.max_budget:
            budget.full_budget_result(value, test)
        return value

    passes = 0
    while not budget.exhausted and (passes == 0 or method != "grid + SH"):
        schedule = _schedule(task, method, spaces)
        search = Search(
            ADict(dict.fromkeys(task.spaces, 0)),
            spaces,
            sampler=sampler,
            schedule=schedule,
            mode=task.mode,
            progress=False,
            checkpoint_root=tempfile.gettempdir(),
        )
        search.main(trial)()
        passes += 1
    budget.searches = passes
    return budget


def _schedule(task: Task, method: str, spaces: dict[str, Any]) -> Any:
    if method == "grid + SH":
        return SuccessiveHalvingSchedule(1 / ETA, 1, max_budget=task.max_budget)
    if method.endswith("ASHA"):
        return ASHASchedule(task.max_budget, ETA, max_trials=10**6)
    return HyperbandSchedule(task.max_budget, ETA)


# -- Optuna methods -------------------------------------------------------------------------
def run_optuna(task: Task, method: str, seed: int) -> Budget:
    import optuna

    budget = Budget(task.total_budget, task.max_budget, task.mode)
    rng = random.Random(seed)
    if method == "TPE + Hyperband":
        sampler: Any = optuna.samplers.TPESampler(seed=seed)
        pruner: Any = optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=task.max_budget, reduction_factor=ETA
        )
    else:
        sampler = optuna.samplers.RandomSampler(seed=seed)
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=ETA)
    direction = "maximize" if task.mode == "max" else "minimize"
    # a fixed study name: HyperbandPruner assigns trials to brackets by hashing it, so a random
    # name would make the peer's runs irreproducible for a given seed
    study = optuna.create_study(
        study_name=f"bench-{seed}", direction=direction, sampler=sampler, pruner=pruner
    )

    def objective(trial: Any) -> float:
        params = task.suggest(trial)
        state, value = None, math.nan
        for step in range(1, task.max_budget + 1):
            value, test, state = task.advance(state, params, step - 1, step, seed, budget, rng)
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        budget.full_budget_result(value, test)
        return value

    def stop_when_spent(study: Any, trial: Any) -> None:
        if budget.exhausted:
            study.stop()

    study.optimize(objective, n_trials=10**6, catch=(Exhausted,), callbacks=[stop_when_spent])
    return budget


# -- DEHB and SMAC3 -------------------------------------------------------------------------
def config_space(task: Task, seed: int) -> Any:
    """The task's search space as a ConfigSpace space (what DEHB and SMAC3 take)."""
    from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer

    space = ConfigurationSpace(seed=seed)
    for name, spec in task.spaces.items():
        if spec["param_type"] == "CATEGORY":
            space.add(Categorical(name, list(spec["categories"])))
            continue
        kind = Integer if spec["param_type"] == "INTEGER" else Float
        space.add(kind(name, tuple(spec["param_range"]), log=spec.get("space_type") == "LOG"))
    return space


def _evaluate_from_scratch(
    task: Task, params: dict[str, Any], units: int, seed: int, budget: Budget, rng: Any
) -> float:
    """One evaluation that trains ``units`` from nothing (DEHB and SMAC3 do not continue
    trials), paying every unit; returns the value to minimise."""
    value, test, _ = task.advance(None, params, 0, units, seed, budget, rng)
    if units == task.max_budget:
        budget.full_budget_result(value, test)
    return -value if task.mode == "max" else value


def run_dehb(task: Task, method: str, seed: int) -> Budget:
    """DEHB (Awad et al., IJCAI 2021) through its ask/tell interface, one worker."""
    from dehb import DEHB

    budget = Budget(task.total_budget, task.max_budget, task.mode)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as out:
        dehb = DEHB(
            cs=config_space(task, seed),
            min_fidelity=1,
            max_fidelity=task.max_budget,
            eta=ETA,
            n_workers=1,
            output_path=out,
            seed=seed,
            log_level="ERROR",
        )
        while not budget.exhausted:
            job = dehb.ask()
            params = dict(job["config"])
            units = round(job["fidelity"])
            try:
                fitness = _evaluate_from_scratch(task, params, units, seed, budget, rng)
            except Exhausted:
                break
            dehb.tell(job, {"fitness": fitness, "cost": units})
    return budget


def smac_forest(scenario: Any) -> Any:
    """The facade's own random forest (``HyperparameterOptimizationFacade.get_model``'s
    arguments and defaults, smac 2.x) built with ``n_jobs=1``: its default ``-1`` spreads 10
    small trees over joblib threads on every core, which on a shared 2-CPU machine spent a
    third of a run waiting in joblib's polling loop, and made a run depend on the machine's
    number of cores. The algorithm is the same (each tree gets the same seed); the trees'
    predictions are summed in another order, so a run's decisions can differ by rounding, as
    they would on a machine with another number of cores."""
    from smac.model.random_forest import RandomForest

    return RandomForest(
        log_y=True,
        n_trees=10,
        bootstrapping=True,
        ratio_features=1.0,
        min_samples_split=2,
        min_samples_leaf=1,
        max_depth=2**20,
        configspace=scenario.configspace,
        instance_features=scenario.instance_features,
        seed=scenario.seed,
        n_jobs=1,
    )


def run_smac(task: Task, method: str, seed: int) -> Budget:
    """SMAC3's multi-fidelity facade (random forest + Hyperband intensifier) through
    ask/tell (Lindauer et al., JMLR 23(54), 2022)."""
    from smac import MultiFidelityFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    budget = Budget(task.total_budget, task.max_budget, task.mode)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as out:
        scenario = Scenario(
            config_space(task, seed),
            deterministic=True,
            n_trials=10**6,
            min_budget=1,
            max_budget=task.max_budget,
            seed=seed,
            output_directory=pathlib.Path(out) / "smac",
        )
        smac = MultiFidelityFacade(
            scenario,
            lambda config, seed=0, budget=1: 0.0,  # never called: ask/tell drives the loop
            intensifier=MultiFidelityFacade.get_intensifier(scenario, eta=ETA),
            model=smac_forest(scenario),
            overwrite=True,
            logging_level=40,
        )
        while not budget.exhausted:
            info = smac.ask()
            units = round(info.budget)
            try:
                cost = _evaluate_from_scratch(task, dict(info.config), units, seed, budget, rng)
            except Exhausted:
                break
            # save=False: SMAC would otherwise rewrite its whole run history and intensifier
            # state as JSON after every result (quadratic in the run's length); the output
            # is not read, and the optimizer's decisions do not depend on it
            smac.tell(info, TrialValue(cost=cost), save=False)
    return budget


ATO_METHODS = [
    "bohb + hyperband",
    "bohb + ASHA",
    "random + hyperband",
    "random + ASHA",
    "tpe + hyperband",
    "grid + SH",
]
OPTUNA_METHODS = ["TPE + Hyperband", "Random + SH"]
PEER_ORDER = [
    "Optuna TPE + Hyperband",
    "Optuna Random + SH",
    "DEHB DE + Hyperband",
    "SMAC3 MF facade (RF + Hyperband)",
]
PEERS: list[tuple[str, list[str], Callable[[Task, str, int], Budget], str]] = [
    ("Optuna", OPTUNA_METHODS, run_optuna, "optuna"),
    ("DEHB", ["DE + Hyperband"], run_dehb, "dehb"),
    ("SMAC3", ["MF facade (RF + Hyperband)"], run_smac, "smac"),
]


def _stats(values: list[float]) -> tuple[float, float, float]:
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return median, q1, q3


def ratio_interval(ours: list[float], peer: list[float], draws: int = 2000) -> tuple[float, float]:
    """90% bootstrap interval of median(ours) / median(peer), seeds resampled independently."""
    rng = random.Random(0)
    ratios = []
    for _ in range(draws):
        a = statistics.median(rng.choices(ours, k=len(ours)))
        b = statistics.median(rng.choices(peer, k=len(peer)))
        ratios.append(a / b if b > 0 else math.inf)
    ratios.sort()
    return ratios[int(0.05 * draws)], ratios[int(0.95 * draws) - 1]


def median_interval(values: list[float], draws: int = 2000) -> tuple[float, float]:
    """90% bootstrap interval of the median of ``values`` (seeds resampled)."""
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(draws))
    return medians[int(0.05 * draws)], medians[int(0.95 * draws) - 1]


def available(module: str) -> str | None:
    """None when ``module`` imports, else why it does not."""
    try:
        __import__(module)
    except Exception as exc:  # an import error or a broken dependency: the peer is left out
        return f"{type(exc).__name__}: {exc}"
    return None


def _run_seeds(
    runner: Callable[[Task, str, int], Budget], task: Task, method: str, seeds: range, jobs: int
) -> list[Budget]:
    """``runner`` on each seed, in ``jobs`` processes at once (each seed is independent and
    deterministic, so the scores do not depend on ``jobs``; only the wall time does)."""
    if jobs <= 1:
        return [runner(task, method, seed) for seed in seeds]
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no forked threads of numpy/torch
    with concurrent.futures.ProcessPoolExecutor(
        jobs, mp_context=context, initializer=quiet_logs
    ) as pool:
        return list(pool.map(runner, [task] * len(seeds), [method] * len(seeds), seeds))


def quiet_logs() -> None:
    """Only errors from ato's and Optuna's loggers (in the main process and each worker)."""
    logging.getLogger("ato.hyperopt").setLevel(logging.ERROR)
    try:
        import optuna
    except ImportError:
        return
    optuna.logging.set_verbosity(optuna.logging.ERROR)


def run_methods(
    task: Task, seeds: int, only: set[str] | None, first_seed: int = 0, jobs: int = 1
) -> tuple[dict[str, list[float]], dict[str, tuple[float, float, float]]]:
    """Every method on every seed: scores, and (budget used, evaluations/search, s/run: the
    wall time of all seeds over their number, so with ``jobs > 1`` less than one run's)."""
    results: dict[str, list[float]] = {}
    facts: dict[str, tuple[float, float, float]] = {}
    groups = [("ato", ATO_METHODS, run_ato, "ato.hyperopt"), *PEERS]
    for lib, methods, runner, module in groups:
        missing = available(module)
        if missing:
            print(f"  {lib}: not run ({missing})")
            continue
        for method in methods:
            label = f"{lib} {method}"
            if only and label not in only:
                continue
            if method == "grid + SH" and task.grid_spaces() is None:
                continue
            started = time.perf_counter()
            budgets = _run_seeds(runner, task, method, range(first_seed, first_seed + seeds), jobs)
            seconds = (time.perf_counter() - started) / seeds
            results[label] = [b.best[1] if b.best else math.inf for b in budgets]
            per_search = statistics.mean(
                b.evaluations / b.searches if b.searches else math.nan for b in budgets
            )
            facts[label] = (statistics.mean(b.used for b in budgets), per_search, seconds)
    return results, facts


def _ratio(ours: list[float], peer: list[float]) -> str:
    peer_median = statistics.median(peer)
    ratio = statistics.median(ours) / peer_median if peer_median > 0 else math.nan
    low, high = ratio_interval(ours, peer)
    return f"{ratio:.2f} [{low:.2f}, {high:.2f}]"


def measured(
    task: Task,
    seeds: int,
    only: set[str] | None,
    save: str | None,
    merge: list[str] | None,
    first_seed: int = 0,
    jobs: int = 1,
) -> tuple[dict[str, list[float]], dict[str, tuple[float, float, float]]]:
    """Run the methods, or read them from ``merge`` files (written by ``--save``, e.g. by
    processes that ran parts of the table side by side); with ``save``, add them to it."""
    if merge:
        results: dict[str, list[float]] = {}
        facts: dict[str, tuple[float, float, float]] = {}
        for path in merge:
            part = json.loads(pathlib.Path(path).read_text()).get(task.name, {})
            for label, entry in part.items():  # files holding other seeds add up
                results[label] = results.get(label, []) + entry["scores"]
                facts[label] = tuple(entry["facts"])
        return results, facts
    results, facts = run_methods(task, seeds, only, first_seed, jobs)
    if save:
        out = pathlib.Path(save)
        stored = json.loads(out.read_text()) if out.exists() else {}
        stored[task.name] = {
            label: {"scores": results[label], "facts": list(facts[label])} for label in results
        }
        out.write_text(json.dumps(stored, indent=1))
    return results, facts


def quality(
    quick: bool,
    seeds: int,
    tasks: set[str] | None,
    only: set[str] | None,
    save: str | None = None,
    merge: list[str] | None = None,
    first_seed: int = 0,
    jobs: int = 1,
) -> list[str]:
    lines = []
    for task in make_tasks(quick):
        if tasks and not any(word in task.name for word in tasks):
            continue
        print(
            f"\n{task.name}: {task.score_name} of the chosen config (lower is better), "
            f"budget {task.total_budget} units/run, {seeds} seeds"
        )
        results, facts = measured(task, seeds, only, save, merge, first_seed, jobs)
        if not results:
            continue
        order = [*(k for k in results if k.startswith("ato")), *PEER_ORDER]
        results = {k: results[k] for k in dict.fromkeys(order) if k in results}
        reference = results.get("Optuna TPE + Hyperband")
        print(
            f"  {'method':<36} {'median':>9} {'90% CI of median':>21} {'IQR':>21} "
            f"{'/ Optuna TPE+HB [90% CI]':>25} {'used':>6} {'evals/search':>12} {'s/run':>6}"
        )
        lines.append(
            f"**{task.name}** — {task.score_name}, {seeds} seeds, budget "
            f"{task.total_budget} units per run\n"
        )
        lines.append(
            "| method | median [90% bootstrap CI] | IQR | ratio to Optuna TPE+HB [90% CI] "
            "| budget used | evaluations per search |"
        )
        lines.append("|---|---|---|---|---|---|")
        for label, values in results.items():
            median, q1, q3 = _stats(values)
            low, high = median_interval(values)
            ratio = _ratio(values, reference) if reference else "-"
            used, per_search, seconds = facts[label]
            print(
                f"  {label:<36} {median:9.4f} [{low:9.4f}, {high:9.4f}] [{q1:9.4f}, {q3:9.4f}] "
                f"{ratio:>25} {used:6.0f} {per_search:12.1f} {seconds:6.2f}"
            )
            lines.append(
                f"| {label} | {median:.4f} [{low:.4f}, {high:.4f}] | [{q1:.4f}, {q3:.4f}] | "
                f"{ratio} | {used:.0f} | {per_search:.1f} |"
            )
        lines += ["", *verdicts(results, task), ""]
    return lines


def verdicts(results: dict[str, list[float]], task: Task) -> list[str]:
    """ato BOHB + Hyperband and the best ato method against each peer (ratio of median
    scores with a 90% bootstrap interval; <= 1 means ato at least as good)."""
    ours = [k for k in results if k.startswith("ato")]
    if not ours:
        return []
    best = min(ours, key=lambda k: statistics.median(results[k]))
    peers = [k for k in results if not k.startswith("ato")] + [
        k for k in ("ato random + ASHA",) if k in results
    ]
    lines = []
    for label in dict.fromkeys(k for k in ("ato bohb + hyperband", best) if k in results):
        text = f"{label} / " + "; / ".join(
            f"{peer} = {_ratio(results[label], results[peer])}" for peer in peers if peer != label
        )
        print("  " + text)
        lines.append(f"- {text}")
    return lines


# -- several objectives: ZDT1 with noise that shrinks with the budget ------------------------
ZDT1_SPACE = {f"x{i}": {"param_type": "FLOAT", "param_range": (0.0, 1.0)} for i in (1, 2, 3)}
ZDT1_MAX_BUDGET = 27
ZDT1_REFERENCE = (1.1, 11.0)
ZDT1_TRUE_HV = 1.1 * 11.0 - 1 / 3  # the box minus the area under f2 = 1 - sqrt(f1)


def zdt1(x1: float, x2: float, x3: float) -> tuple[float, float]:
    g = 1 + 9 * (x2 + x3) / 2
    return x1, g * (1 - math.sqrt(x1 / g))


def zdt1_observed(params: dict[str, float], units: int, rng: random.Random) -> tuple[float, float]:
    sigma = 0.2 * (1 - math.log(units) / math.log(ZDT1_MAX_BUDGET))
    f1, f2 = zdt1(params["x1"], params["x2"], params["x3"])
    return f1 + rng.gauss(0, sigma), f2 + rng.gauss(0, sigma)


def hypervolume_2d(points: list[tuple[float, float]], reference: tuple[float, float]) -> float:
    """Area dominated by ``points`` (both objectives minimised) inside the box up to
    ``reference``: a sweep by ``f1``, one horizontal slab per point that improves ``f2``."""
    area, best_f2 = 0.0, reference[1]
    for f1, f2 in sorted(p for p in points if p[0] < reference[0] and p[1] < reference[1]):
        if f2 < best_f2:
            area += (reference[0] - f1) * (best_f2 - f2)
            best_f2 = f2
    return area


class _ObjectivesPersistent(Persistent):
    """`Persistent`, passing the search's objectives on to the sampler."""

    def use_objectives(self, objectives: Any) -> None:
        if hasattr(self.inner, "use_objectives"):
            self.inner.use_objectives(objectives)


def _mo_ato(method: str, seed: int, total: int) -> list[tuple[float, float]]:
    import optuna

    rng = random.Random(seed)
    full: list[tuple[float, float]] = []
    if method == "NSGA-II + Hyperband":
        inner: Any = OptunaSampler(optuna.samplers.NSGAIISampler(population_size=20, seed=seed))
    elif method == "TPE + Hyperband":
        inner = OptunaSampler(optuna.samplers.TPESampler(seed=seed))
    else:
        inner = RandomSampler(seed=seed)
    budget = Budget(total, ZDT1_MAX_BUDGET, "min")
    sampler = _ObjectivesPersistent(inner, budget)

    def trial(config: Any) -> dict[str, float]:
        ctx = trial_context()
        params = {name: float(config[name]) for name in ZDT1_SPACE}
        try:
            budget.spend(ctx.budget - (ctx.previous_budget or 0))
        except Exhausted:
            return {"f1": math.nan, "f2": math.nan}
        f1, f2 = zdt1_observed(params, ctx.budget, rng)
        if ctx.budget == ZDT1_MAX_BUDGET:
            full.append((f1, f2))
        return {"f1": f1, "f2": f2}

    while not budget.exhausted:
        search = Search(
            ADict(x1=0.0, x2=0.0, x3=0.0),
            ZDT1_SPACE,
            sampler=sampler,
            schedule=HyperbandSchedule(ZDT1_MAX_BUDGET, ETA),
            mode={"f1": "min", "f2": "min"},
            progress=False,
            checkpoint_root=tempfile.gettempdir(),
        )
        try:
            search.main(trial)()
        except Exception as exc:  # a pass whose every full-budget trial met the spent budget
            if type(exc).__name__ != "NoAnswerError":
                raise
    return full


def _mo_optuna(method: str, seed: int, total: int) -> list[tuple[float, float]]:
    import optuna

    rng = random.Random(seed)
    if method == "NSGA-II":
        sampler: Any = optuna.samplers.NSGAIISampler(population_size=20, seed=seed)
    elif method == "TPE":
        sampler = optuna.samplers.TPESampler(seed=seed)
    else:
        sampler = optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    full: list[tuple[float, float]] = []

    def objective(trial: Any) -> tuple[float, float]:
        params = {name: trial.suggest_float(name, 0.0, 1.0) for name in ZDT1_SPACE}
        values = zdt1_observed(params, ZDT1_MAX_BUDGET, rng)
        full.append(values)
        return values

    study.optimize(objective, n_trials=total // ZDT1_MAX_BUDGET)
    return full


def multi_objective(quick: bool, seeds: int) -> list[str]:
    """The ``zdt1`` task (module docstring): hypervolume of each method's front."""
    total = ZDT1_MAX_BUDGET * (30 if quick else 60)
    methods: dict[str, Callable[[int], list[tuple[float, float]]]] = {
        "ato random + Hyperband": functools.partial(_mo_ato, "random + Hyperband", total=total),
        "ato NSGA-II + Hyperband": functools.partial(_mo_ato, "NSGA-II + Hyperband", total=total),
        "ato TPE + Hyperband": functools.partial(_mo_ato, "TPE + Hyperband", total=total),
        "Optuna NSGA-II": functools.partial(_mo_optuna, "NSGA-II", total=total),
        "Optuna TPE": functools.partial(_mo_optuna, "TPE", total=total),
        "Optuna Random": functools.partial(_mo_optuna, "Random", total=total),
    }
    print(
        f"\nzdt1 (two objectives): hypervolume of the full-budget front / the true front's, "
        f"budget {total} units/run, {seeds} seeds"
    )
    fractions: dict[str, list[float]] = {}
    for label, run in methods.items():
        fractions[label] = [
            hypervolume_2d(run(seed), ZDT1_REFERENCE) / ZDT1_TRUE_HV for seed in range(seeds)
        ]
    peer = fractions["Optuna NSGA-II"]
    peer_gap = [1 - f for f in peer]
    lines = [
        f"**zdt1** — hypervolume fraction of the true front's, {seeds} seeds, budget {total} "
        f"units per run\n",
        "| method | median HV fraction | median gap | gap ratio to Optuna NSGA-II [90% CI] "
        "| HV ratio |",
        "|---|---|---|---|---|",
    ]
    print(
        f"  {'method':<26} {'HV fraction':>11} {'gap':>8} {'gap ratio':>9} {'90% CI':>13} {'HV ratio':>8}"
    )
    for label, values in fractions.items():
        gaps = [1 - f for f in values]
        median, gap = statistics.median(values), statistics.median(gaps)
        ratio = gap / statistics.median(peer_gap)
        low, high = ratio_interval(gaps, peer_gap)
        hv_ratio = median / statistics.median(peer)
        print(
            f"  {label:<26} {median:11.4f} {gap:8.4f} {ratio:9.2f} [{low:5.2f}, {high:5.2f}] "
            f"{hv_ratio:8.3f}"
        )
        lines.append(
            f"| {label} | {median:.4f} | {gap:.4f} | {ratio:.2f} [{low:.2f}, {high:.2f}] "
            f"| {hv_ratio:.3f} |"
        )
    return lines


# -- scheduling overhead --------------------------------------------------------------------
def overhead() -> list[str]:
    space = {"x": {"param_type": "FLOAT", "param_range": (0.0, 1.0)}}
    lines = []
    print("\nscheduling cost per evaluation (no-op trials, in-process, no tracker)")
    for label, schedule in (
        ("random + Hyperband R=81", lambda: HyperbandSchedule(81, ETA)),
        ("random + ASHA R=81, 1000 trials", lambda: ASHASchedule(81, ETA, max_trials=1000)),
    ):
        count = [0]

        def noop(config: Any, count: list[int] = count) -> float:
            count[0] += 1
            return float(config.x)

        search = Search(
            ADict(x=0.0),
            space,
            sampler=RandomSampler(seed=0),
            schedule=schedule(),
            progress=False,
        )
        started = time.perf_counter()
        search.main(noop)()
        ms = (time.perf_counter() - started) / count[0] * 1e3
        text = f"{label}: {count[0]} evaluations, {ms:.3f} ms each (goal <= 1 ms)"
        print("  " + text)
        lines.append(f"- {text}")
    return lines


# -- busy fraction on 2 gloo ranks ----------------------------------------------------------
def busy_worker(rank: int, port: int, schedule_name: str) -> None:
    import torch.distributed as dist

    from ato.hyperopt import TorchDistributedExecutor

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    schedules = {
        "ASHA": lambda: ASHASchedule(27, ETA, max_trials=40),
        "Hyperband": lambda: HyperbandSchedule(27, ETA),
        "SH bracket": lambda: SuccessiveHalvingSchedule(1 / ETA, 1, num_configs=40, max_budget=27),
    }
    busy = [0.0]

    def trial(config: Any) -> float:
        ctx = trial_context()
        duration = random.Random(ctx.trial_id * 1000 + ctx.rung).uniform(0.010, 0.100)
        started = time.perf_counter()
        time.sleep(duration)
        busy[0] += time.perf_counter() - started
        return float(config.x) * math.log(ctx.budget + 1)

    search = Search(
        ADict(x=0.0),
        {"x": {"param_type": "FLOAT", "param_range": (0.0, 1.0)}},
        sampler=RandomSampler(seed=0),
        schedule=schedules[schedule_name](),
        executor=TorchDistributedExecutor(),
        progress=False,
        final_evaluation=False,
        checkpoint_root=tempfile.gettempdir(),
    )
    dist.barrier()
    started = time.perf_counter()
    search.main(trial)()
    wall = time.perf_counter() - started
    print(json.dumps({"rank": rank, "busy": busy[0], "wall": wall}))
    dist.barrier()
    dist.destroy_process_group()


def busy_fraction(schedule_name: str) -> float | None:
    try:
        import torch.distributed  # noqa: F401
    except ImportError:
        return None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--busy-worker", str(rank), str(port), schedule_name],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        for rank in range(2)
    ]
    outputs = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in procs]
    if any(p.returncode for p in procs):
        raise RuntimeError("a busy-fraction worker failed")
    return statistics.mean(o["busy"] / o["wall"] for o in outputs)


def busy() -> list[str]:
    lines = []
    print("\n2 gloo ranks, trials sleeping 10-100 ms: fraction of wall time in trials")
    for name in ("ASHA", "SH bracket", "Hyperband"):
        fraction = busy_fraction(name)
        if fraction is None:
            print("  torch is not installed: not run")
            return lines
        goal = " (goal >= 0.9)" if name == "ASHA" else ""
        text = f"{name}: {fraction:.2f}{goal}"
        print("  " + text)
        lines.append(f"- {text}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller budgets (3 seeds)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per method (default 10)")
    parser.add_argument(
        "--only-multi-objective", action="store_true", help="run the zdt1 task only"
    )
    parser.add_argument(
        "--tasks",
        nargs="*",
        default=None,
        help="run the tasks whose name holds one of these (zdt1 for the multi-objective one)",
    )
    parser.add_argument("--methods", nargs="*", default=None, help="labels of methods to run")
    parser.add_argument(
        "--skip-engine", action="store_true", help="only search quality (no overhead, busy)"
    )
    parser.add_argument("--first-seed", type=int, default=0, help="seeds start here")
    parser.add_argument(
        "--jobs", type=int, default=1, help="seeds run in this many processes at once"
    )
    parser.add_argument("--save", default=None, help="add the scores to this JSON file")
    parser.add_argument(
        "--merge", nargs="*", default=None, help="print the tables of --save files, run nothing"
    )
    args, _ = parser.parse_known_args()
    seeds = args.seeds or (3 if args.quick else 10)
    if seeds < 2:
        parser.error("--seeds must be at least 2 (a median and quartiles over seeds)")
    # One BLAS thread per process, set before numpy loads (numpy comes with optuna and
    # scikit-learn, both imported below): on a shared machine threaded BLAS made small MLP
    # epochs 20-80x slower. Every method trains the same models, so this is neutral.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    quiet_logs()
    import optuna

    started = time.perf_counter()
    if args.only_multi_objective:
        lines = multi_objective(args.quick, seeds)
    else:
        tasks = set(args.tasks) if args.tasks else None
        only = set(args.methods) if args.methods else None
        lines = quality(
            args.quick, seeds, tasks, only, args.save, args.merge, args.first_seed, args.jobs
        )
        if args.merge is None and (tasks is None or any(word in "zdt1" for word in tasks)):
            lines += ["", *multi_objective(args.quick, seeds)]
        if not args.skip_engine:
            lines += ["", *overhead(), *busy()]
    print(
        f"\nbench_search_quality: {time.perf_counter() - started:.0f} s on "
        f"{platform.machine()} {platform.processor() or ''} ({os.cpu_count()} CPUs), "
        f"Python {platform.python_version()}, optuna {optuna.__version__}"
    )
    if os.environ.get("ATO_BENCH_MARKDOWN"):
        pathlib_out = os.environ["ATO_BENCH_MARKDOWN"]
        with open(pathlib_out, "w") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--busy-worker":
        busy_worker(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        main()
