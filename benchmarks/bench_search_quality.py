"""Search quality of ato.hyperopt against Optuna, at equal compute budget (issue 13).

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

Protocol, the same for every method: a method may spend ``B`` resource units per run (a
promoted ato trial continues from its state and pays only the extra units; an Optuna trial
pays one unit per step it reports). When ``B`` is spent, no unit more is trained. The method's
answer is the configuration with the best validation value among evaluations at the full
budget (ties: the first), as Hyperband papers score the incumbent. ato's Hyperband is run pass
after pass (Li et al.'s outer loop) with the same sampler until ``B`` is spent; the grid runs
its one bracket once. Each method runs on ``--seeds`` seeds (default 10; the seed is the
sampler's and the MLP initialisation's).

Methods: ato ``RandomSampler`` + ``HyperbandSchedule``, ``RandomSampler`` + ``ASHASchedule``,
``OptunaSampler(TPESampler)`` + ``HyperbandSchedule``, ``GridSampler`` + the seed's
``SuccessiveHalvingSchedule``; Optuna ``TPESampler`` + ``HyperbandPruner`` and
``RandomSampler`` + ``SuccessiveHalvingPruner`` (defaults, in-memory storage). All use
reduction factor 3 and minimum budget 1.

Printed per task and method: median and interquartile range over seeds, the ratio of medians
to Optuna TPE + HyperbandPruner with a 90% bootstrap interval (seeds resampled), so "within
noise" can be read off: an interval containing 1; and, for ato's methods, the trial evaluations
one search (one Hyperband pass) ran.

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

Run: ``python benchmarks/bench_search_quality.py [--quick] [--seeds N]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import math
import os
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

    def grid_spaces(self) -> dict[str, dict[str, Any]]:
        """The finest grid (same number of points per axis) whose successive-halving bracket
        (with continuation) fits the budget."""
        best = None
        for points in range(2, 200):
            spaces = {k: {**v, "num_samples": points} for k, v in self.spaces.items()}
            if grid_bracket_cost(spaces, self.max_budget) > self.total_budget:
                break
            best = spaces
        assert best is not None
        return best

    def suggest(self, trial: Any) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, spec in self.spaces.items():
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
        else:
            inner = RandomSampler(seed=seed)
        sampler = Persistent(inner, budget)
    states: dict[int, Any] = {}

    def trial(config: Any) -> float:
        ctx = trial_context()
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
    if method == "random + ASHA":
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


ATO_METHODS = ["random + hyperband", "random + ASHA", "tpe + hyperband", "grid + SH"]
OPTUNA_METHODS = ["TPE + Hyperband", "Random + SH"]


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


def quality(quick: bool, seeds: int) -> list[str]:
    lines = []
    for task in make_tasks(quick):
        print(
            f"\n{task.name}: {task.score_name} of the chosen config (lower is better), "
            f"budget {task.total_budget} units/run, {seeds} seeds"
        )
        results: dict[str, list[float]] = {}
        used: dict[str, float] = {}
        per_search: dict[str, float] = {}
        times: dict[str, float] = {}
        for lib, methods, runner in (
            ("ato", ATO_METHODS, run_ato),
            ("Optuna", OPTUNA_METHODS, run_optuna),
        ):
            for method in methods:
                label = f"{lib} {method}"
                started = time.perf_counter()
                budgets = [runner(task, method, seed) for seed in range(seeds)]
                times[label] = (time.perf_counter() - started) / seeds
                results[label] = [b.best[1] if b.best else math.inf for b in budgets]
                used[label] = statistics.mean(b.used for b in budgets)
                per_search[label] = statistics.mean(
                    b.evaluations / b.searches if b.searches else math.nan for b in budgets
                )
        peer = statistics.median(results["Optuna TPE + Hyperband"])
        header = (
            f"  {'method':<26} {'median':>9} {'IQR':>21} {'ratio':>7} {'90% CI':>13} "
            f"{'budget used':>12} {'evals/search':>12} {'s/run':>6}"
        )
        print(header)
        lines.append(
            f"**{task.name}** — {task.score_name}, {seeds} seeds, budget "
            f"{task.total_budget} units per run\n"
        )
        lines.append(
            "| method | median | IQR | ratio to Optuna TPE+HB [90% bootstrap CI] | budget used "
            "| evaluations per search |"
        )
        lines.append("|---|---|---|---|---|---|")
        for label, values in results.items():
            median, q1, q3 = _stats(values)
            ratio = median / peer if peer > 0 else math.nan
            low, high = ratio_interval(values, results["Optuna TPE + Hyperband"])
            print(
                f"  {label:<26} {median:9.4f} [{q1:9.4f}, {q3:9.4f}] {ratio:7.2f} "
                f"[{low:5.2f}, {high:5.2f}] {used[label]:12.0f} {per_search[label]:12.1f} "
                f"{times[label]:6.2f}"
            )
            lines.append(
                f"| {label} | {median:.4f} | [{q1:.4f}, {q3:.4f}] | {ratio:.2f} "
                f"[{low:.2f}, {high:.2f}] | {used[label]:.0f} | {per_search[label]:.1f} |"
            )
        best_label = min(
            (k for k in results if k.startswith("ato")), key=lambda k: statistics.median(results[k])
        )
        best = statistics.median(results[best_label])
        sh = statistics.median(results["Optuna Random + SH"])
        low, high = ratio_interval(results[best_label], results["Optuna TPE + Hyperband"])
        sh_low, sh_high = ratio_interval(results[best_label], results["Optuna Random + SH"])
        verdict = (
            f"best ato ({best_label}) / Optuna TPE+Hyperband = "
            f"{best / peer if peer > 0 else math.nan:.2f} [90% CI {low:.2f}, {high:.2f}] "
            f"(median {task.score_name}; <= 1 means ato at least as good); "
            f"/ Optuna Random+SH = {best / sh if sh > 0 else math.nan:.2f} "
            f"[{sh_low:.2f}, {sh_high:.2f}]"
        )
        print("  " + verdict)
        lines.append(f"\n{verdict}\n")
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
    args, _ = parser.parse_known_args()
    seeds = args.seeds or (3 if args.quick else 10)
    if seeds < 2:
        parser.error("--seeds must be at least 2 (a median and quartiles over seeds)")
    # One BLAS thread per process, set before numpy loads (numpy comes with optuna and
    # scikit-learn, both imported below): on a shared machine threaded BLAS made small MLP
    # epochs 20-80x slower. Every method trains the same models, so this is neutral.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    logging.getLogger("ato.hyperopt").setLevel(logging.ERROR)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    started = time.perf_counter()
    if args.only_multi_objective:
        lines = multi_objective(args.quick, seeds)
    else:
        lines = quality(args.quick, seeds)
        lines += ["", *multi_objective(args.quick, seeds), "", *overhead(), *busy()]
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
