"""BOHB: a TPE-style density model per budget that learns from every rung of a search.

Source: Falkner, Klein & Hutter, "BOHB: Robust and Efficient Hyperparameter Optimization at
Scale", ICML 2018, Algorithm 2, with the defaults and choices of their reference
implementation (HpBandSter): N_min = d + 1, top 15 % good, rho = 1/3 random, N_s = 64
candidates, bandwidth factor 3, minimum bandwidth 1e-3, Scott's normal-reference bandwidths,
Aitchison-Aitken kernels for categories, inactive (conditional) values imputed from other
observations.

For every budget ``b`` the sampler keeps ``D_b``: the configurations evaluated at ``b`` (any
rung, finished or not) with their metrics. To propose a configuration it draws a random one
with probability ``random_fraction``; otherwise it takes the largest budget with
``|D_b| >= N_min + 2``, splits ``D_b`` into the best ``N_l = max(N_min, floor(q |D_b|))`` and
the worst ``N_g = max(N_min, |D_b| - N_l)`` observations (the paper's Eq. 3: the two sets
overlap only while ``|D_b| < 2 N_min``), fits a product-kernel density ``l(x)`` to the good
ones and ``g(x)`` to the bad ones, draws ``N_s`` candidates from ``l`` with its bandwidths
widened by ``bandwidth_factor`` and returns the candidate with the largest ``l(x) / g(x)``.
Without such a budget it draws a random configuration.

Configurations are proposed one at a time, each with every result known so far: the paper
(section 4.2, "Parallelization") and HpBandSter sample a successive-halving run's new
configurations as workers become free, so in one process the first rung of a bracket, the
first bracket's too, already uses the results of its earlier configurations (once ``N_min + 2``
exist). A search in one process does this through ``observe`` (results passed on as they
arrive, before the rung's ranking); see `BOHBSampler`.

The densities are written here with numpy rather than taken from statsmodels'
``KDEMultivariate`` (which HpBandSter uses): it counts a categorical parameter's levels from
the data, so a category no observation has yet gets a wrong (or infinite) density.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .checks import check_positive_int
from .errors import SearchSettingError
from .metric import rank_key
from .objectives import Objectives
from .searchspace import Param, SearchSpace

__all__ = ["BOHBSampler", "KernelDensity", "split_good_bad"]

_TINY = 1e-32  # floor of g(x), as in HpBandSter


def _numpy() -> Any:
    try:
        import numpy
    except ImportError as exc:
        raise SearchSettingError(
            'BOHBSampler needs numpy; install it with pip install "ato-hyperopt[bohb]"'
        ) from exc
    return numpy


def split_good_bad(
    metrics: list[float], mode: str, min_points: int, top_fraction: float
) -> tuple[list[int], list[int]]:
    """Indices of the good and the bad observations of one budget (BOHB's split).

    Args:
        metrics: the observations' metrics (NaN and failures count as worst).
        mode: ``'max'`` or ``'min'``.
        min_points: N_min, the fewest points a density is fitted to.
        top_fraction: q, the share of observations that are good (0 < q < 1).

    Returns:
        ``(good, bad)``: the best ``N_l = max(N_min, floor(q n))`` indices, best first, and the
        worst ``N_g = max(N_min, n - N_l)`` indices, worst last (Falkner et al. 2018, Eq. 3):
        every observation is in one set, and the sets overlap only when ``n < 2 N_min``. Ties
        keep the order of ``metrics``.
    """
    order = sorted(range(len(metrics)), key=lambda i: (rank_key(metrics[i], mode), i))
    n = len(metrics)
    num_good = max(min_points, math.floor(top_fraction * n))
    num_bad = max(min_points, n - num_good)
    return order[:num_good], order[n - num_bad :]


@dataclass
class KernelDensity:
    """A product-kernel density over encoded configurations.

    Continuous columns (floats and integers mapped to ``[0, 1]``) use a Gaussian kernel,
    categorical columns (category indices) the Aitchison-Aitken kernel: ``1 - bw`` for the
    same category, ``bw / (c - 1)`` for each other of the ``c`` categories.

    Attributes:
        data: ``(n, d)`` numpy array of encoded points (no NaN).
        levels: per column, the number of categories (0 for a continuous column).
        bandwidths: ``(d,)`` numpy array; Scott's normal reference ``1.06 * std * n ** (-1 /
            (d + 4))`` per column (statsmodels' ``normal_reference``), at least
            ``min_bandwidth``, categorical ones at most ``(c - 1) / c``.
    """

    data: Any
    levels: tuple[int, ...]
    bandwidths: Any

    @classmethod
    def fit(cls, data: Any, levels: tuple[int, ...], min_bandwidth: float) -> KernelDensity:
        """Fit the bandwidths to ``data`` (``(n, d)`` array, n >= 1)."""
        np = _numpy()
        n, d = data.shape
        std = data.std(axis=0, ddof=1) if n > 1 else np.zeros(d)
        bandwidths = np.maximum(1.06 * std * n ** (-1.0 / (d + 4)), min_bandwidth)
        for j, c in enumerate(levels):
            if c:
                bandwidths[j] = min(bandwidths[j], max((c - 1) / c, min_bandwidth))
        return cls(data, levels, bandwidths)

    def pdf(self, points: Any) -> Any:
        """Density at each row of ``points`` (``(m, d)`` array); returns an ``(m,)`` array."""
        np = _numpy()
        diff = points[:, None, :] - self.data[None, :, :]
        kernel = np.ones(diff.shape)
        for j, c in enumerate(self.levels):
            bw = self.bandwidths[j]
            if c:
                other = bw / (c - 1) if c > 1 else 0.0
                kernel[:, :, j] = np.where(diff[:, :, j] == 0, 1 - bw, other)
            else:
                z = diff[:, :, j] / bw
                kernel[:, :, j] = np.exp(-0.5 * z * z) / (bw * math.sqrt(2 * math.pi))
        return kernel.prod(axis=2).mean(axis=1)

    def sample(self, rng: Any, num: int, factor: float) -> Any:
        """``num`` points drawn around random data points: continuous columns from a normal of
        standard deviation ``factor * bw`` truncated to ``[0, 1]``, categorical ones kept with
        probability ``1 - bw``, else uniform over the categories."""
        np = _numpy()
        rows = self.data[rng.integers(len(self.data), size=num)]
        out = rows.copy()
        for j, c in enumerate(self.levels):
            bw = self.bandwidths[j]
            if c:
                redraw = rng.random(num) >= 1 - bw
                out[redraw, j] = rng.integers(c, size=int(redraw.sum()))
            else:
                out[:, j] = _truncated_normal(np, rng, rows[:, j], factor * bw)
        return out


def _truncated_normal(np: Any, rng: Any, means: Any, sd: float) -> Any:
    """Normal draws around ``means`` kept inside [0, 1] by redrawing (uniform after 100
    tries)."""
    values = rng.normal(means, sd)
    for _ in range(100):
        outside = (values < 0) | (values > 1)
        if not outside.any():
            return values
        values[outside] = rng.normal(means[outside], sd)
    outside = (values < 0) | (values > 1)
    values[outside] = rng.random(int(outside.sum()))
    return values


class BOHBSampler:
    """Model-based sampler for multi-fidelity search: BOHB's density model per budget.

    It learns from every evaluation the search tells it (each rung of each trial, also of
    trials that were stopped early), so with [`HyperbandSchedule`][ato.hyperopt.HyperbandSchedule]
    or [`ASHASchedule`][ato.hyperopt.ASHASchedule] the model exists long before any trial
    reaches the top budget. The algorithm and its defaults are those of Falkner et al. (ICML
    2018); see ``ato.hyperopt.bohb``. Needs numpy (``pip install "ato-hyperopt[bohb]"``).

    In a search shared through the database each worker keeps its own model, fed by every
    worker's results; the configurations other workers proposed are adopted (``adopt``), so
    the workers' draws need not agree.

    Args:
        seed: seeds the random configurations (the same stream as ``RandomSampler(seed)``) and
            the model's draws. With a seed and a synchronous schedule a search is reproducible
            and resumes with the same decisions (in one process or over torch.distributed; a
            shared search's decisions depend on which worker makes them).
        min_points_in_model: N_min, the fewest observations a density is fitted to (default:
            number of parameters + 1). A budget is used once it has N_min + 2 observations.
        top_fraction: q, the share of a budget's observations that are good (default 0.15).
        num_candidates: N_s, the candidates drawn from ``l(x)`` per proposal (default 64).
        random_fraction: rho, the probability of a random configuration (default 1/3).
        bandwidth_factor: b_w, widening of ``l(x)``'s bandwidths when drawing (default 3).
        min_bandwidth: smallest bandwidth (default 1e-3), which keeps exploring when the good
            points coincide.
        sequential: True (default): in a search run by one process, the search asks for each
            new configuration of a synchronous rung when its evaluation starts and passes every
            result on through ``observe`` at once, so later configurations of the same rung
            (the whole first bracket included) come from a model of the earlier ones, as in
            the paper's section 4.2 and HpBandSter. False: a rung's new configurations are all
            asked before any of them runs (what a distributed search, ``torch.distributed``,
            Ray or shared database workers, always does). ASHA asks each new configuration
            when a worker is free either way.

    Raises:
        SearchSettingError: a setting out of range; (in ``setup``) numpy is not installed.
    """

    #: The sampler learns from results, so only rank 0 of a distributed search runs it.
    replicable = False

    def __init__(
        self,
        seed: int | None = None,
        *,
        min_points_in_model: int | None = None,
        top_fraction: float = 0.15,
        num_candidates: int = 64,
        random_fraction: float = 1 / 3,
        bandwidth_factor: float = 3.0,
        min_bandwidth: float = 1e-3,
        sequential: bool = True,
    ) -> None:
        if min_points_in_model is not None:
            check_positive_int("min_points_in_model", min_points_in_model)
        check_positive_int("num_candidates", num_candidates)
        _check_range("top_fraction", top_fraction, 0.0, 1.0, closed=False)
        _check_range("random_fraction", random_fraction, 0.0, 1.0, closed=True)
        _check_range("bandwidth_factor", bandwidth_factor, 0.0, math.inf, closed=False)
        _check_range("min_bandwidth", min_bandwidth, 0.0, 1.0, closed=False)
        self.seed = seed
        self.min_points_in_model = min_points_in_model
        self.top_fraction = top_fraction
        self.num_candidates = num_candidates
        self.random_fraction = random_fraction
        self.bandwidth_factor = bandwidth_factor
        self.min_bandwidth = min_bandwidth
        if not isinstance(sequential, bool):
            raise SearchSettingError(f"sequential must be True or False, got {sequential!r}")
        #: Ask for each configuration of a rung when it starts (see ``sequential`` above).
        self.sequential = sequential
        self._space: SearchSpace | None = None
        self._reset()

    def _reset(self) -> None:
        self._random = random.Random(self.seed)
        self._rng: Any = None
        self._mode = "max"
        self._asked: dict[int, dict[str, Any]] = {}
        #: budget -> {trial id: (encoded point, metric)}
        self.observations: dict[Any, dict[int, tuple[list[float], float]]] = {}
        #: budget whose model made each trial's configuration (None: drawn at random)
        self.proposed_from: dict[int, Any] = {}

    def use_objectives(self, objectives: Objectives) -> None:
        """Check the search ranks by one objective: BOHB's density model splits observations
        into good and bad by one value.

        Raises:
            SearchSettingError: the search has several objectives or constraints.
        """
        if objectives.several:
            raise SearchSettingError(
                f"BOHBSampler models one objective, but the search has objectives "
                f"{list(objectives.keys)} and constraints {list(objectives.constraint_keys)}; "
                f"use OptunaSampler (TPE, NSGA-II) or RandomSampler for several"
            )

    def setup(self, space: SearchSpace, mode: str) -> None:
        np = _numpy()
        self._reset()
        self._space, self._mode = space, mode
        self._rng = np.random.default_rng(self.seed)

    @property
    def num_min_points(self) -> int:
        """N_min for the search space of ``setup``."""
        if self.min_points_in_model is not None:
            return self.min_points_in_model
        return len(self._space.params) + 1 if self._space is not None else 1

    def model_budget(self) -> Any:
        """The largest budget with at least N_min + 2 observations (None: none has)."""
        enough = [
            b for b, seen in self.observations.items() if len(seen) >= self.num_min_points + 2
        ]
        return max(enough) if enough else None

    def ask(self, trial_id: int) -> dict[str, Any] | None:
        if self._space is None:
            raise SearchSettingError("BOHBSampler.ask() before setup(); pass it to a Search")
        point, budget = None, None
        if self._rng.random() >= self.random_fraction:
            budget = self.model_budget()
            if budget is not None:
                point = self._propose(budget)
        if point is None:
            point, budget = self._space.sample(self._random), None
        self._asked[trial_id] = point
        self.proposed_from[trial_id] = budget
        return point

    def adopt(self, trial_id: int, point: dict[str, Any]) -> None:
        """Take ``point`` (proposed by another worker of a shared search) as trial
        ``trial_id``'s configuration: its results become observations like those of the
        sampler's own trials (it is not in ``proposed_from``, which lists this sampler's own
        proposals).

        Raises:
            SearchSettingError: before ``setup``.
        """
        if self._space is None:
            raise SearchSettingError("BOHBSampler.adopt() before setup(); pass it to a Search")
        self._asked[trial_id] = dict(point)

    def tell(self, trial_id: int, rung: int, budget: Any, metric: float, state: str) -> None:
        """Record ``metric`` as the observation of the trial's configuration at ``budget``
        (at ``rung`` when the schedule has no budgets). Trials it did not propose (or adopt)
        are ignored."""
        point = self._asked.get(trial_id)
        if point is None or self._space is None:
            return
        key = rung if budget is None else budget
        self.observations.setdefault(key, {})[trial_id] = (encode(self._space, point), metric)

    def observe(self, trial_id: int, rung: int, budget: Any, metric: float) -> None:
        """Record a result as soon as it exists, before the schedule has ranked its rung (the
        search calls it in one process when ``sequential``); the later ``tell`` of the same
        evaluation replaces it."""
        self.tell(trial_id, rung, budget, metric, "observed")

    # -- the model ------------------------------------------------------------------------
    def _propose(self, budget: Any) -> dict[str, Any] | None:
        np = _numpy()
        assert self._space is not None  # noqa: S101 - ask() checked it
        seen = list(self.observations[budget].values())
        levels = _levels(self._space)
        data = _impute(np, self._rng, np.array([p for p, _ in seen], dtype=float), levels)
        good, bad = split_good_bad(
            [m for _, m in seen], self._mode, self.num_min_points, self.top_fraction
        )
        l_model = KernelDensity.fit(data[good], levels, self.min_bandwidth)
        g_model = KernelDensity.fit(data[bad], levels, self.min_bandwidth)
        candidates = l_model.sample(self._rng, self.num_candidates, self.bandwidth_factor)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            score = l_model.pdf(candidates) / np.maximum(g_model.pdf(candidates), _TINY)
        if not np.isfinite(score).any():
            return None
        best = int(np.argmax(np.where(np.isfinite(score), score, -np.inf)))
        return decode(self._space, [float(v) for v in candidates[best]])


def _check_range(name: str, value: Any, low: float, high: float, closed: bool) -> None:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and (low <= value <= high if closed else low < value < high)
    )
    if not ok:
        brackets = "[]" if closed else "()"
        raise SearchSettingError(
            f"{name} must be a number in {brackets[0]}{low}, {high}{brackets[1]}, got {value!r}"
        )


def _levels(space: SearchSpace) -> tuple[int, ...]:
    return tuple(len(p.categories) if p.kind == "CATEGORY" else 0 for p in space.params)


def _bounds(param: Param) -> tuple[float, float]:
    """The continuous axis a number is placed on: log for LOG, +-0.5 around integers."""
    pad = 0.5 if param.kind == "INTEGER" else 0.0
    low, high = float(param.low) - pad, float(param.high) + pad
    return (math.log(low), math.log(high)) if param.log else (low, high)


def encode(space: SearchSpace, point: Mapping[str, Any]) -> list[float]:
    """``point`` as one number per parameter (in ``space.params`` order): numbers mapped to
    ``[0, 1]`` (on the log axis for LOG), categories as their index, NaN when inactive."""
    row = []
    for param in space.params:
        if param.name not in point:
            row.append(math.nan)
        elif param.kind == "CATEGORY":
            row.append(float(_category_index(param, point[param.name])))
        else:
            low, high = _bounds(param)
            value = float(point[param.name])
            value = math.log(value) if param.log else value
            row.append(0.5 if high == low else (value - low) / (high - low))
    return row


def _category_index(param: Param, value: Any) -> int:
    for i, category in enumerate(param.categories):
        if category is value or (type(category) is type(value) and category == value):
            return i
    return param.categories.index(value)


def decode(space: SearchSpace, row: list[float]) -> dict[str, Any]:
    """The configuration of an encoded ``row``; inactive parameters are left out."""
    point: dict[str, Any] = {}
    for param, u in zip(space.params, row, strict=True):
        if not param.is_active(point):
            continue
        if param.kind == "CATEGORY":
            point[param.name] = param.categories[min(max(round(u), 0), len(param.categories) - 1)]
            continue
        low, high = _bounds(param)
        value = low + u * (high - low)
        value = math.exp(value) if param.log else value
        if u <= 0 or u >= 1:  # the bounds exactly, without the log axis's rounding
            value = param.low if u <= 0 else param.high
        if param.kind == "INTEGER":
            point[param.name] = min(max(round(value), param.low), param.high)
        else:
            point[param.name] = min(max(value, param.low), param.high)
    return space.ordered(point)


def _impute(np: Any, rng: Any, data: Any, levels: tuple[int, ...]) -> Any:
    """Fill inactive (NaN) entries with the value of a random observation that has one, or a
    random value when none has (HpBandSter's imputation)."""
    for j, c in enumerate(levels):
        missing = np.isnan(data[:, j])
        if not missing.any():
            continue
        present = data[~missing, j]
        count = int(missing.sum())
        if len(present):
            data[missing, j] = present[rng.integers(len(present), size=count)]
        elif c:
            data[missing, j] = rng.integers(c, size=count)
        else:
            data[missing, j] = rng.random(count)
    return data
