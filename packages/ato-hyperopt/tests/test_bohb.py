"""BOHBSampler: the good/bad split, the kernel densities, the budget its model uses, its random
fallback, determinism, and searches with Hyperband and ASHA in one process, resumed, and on two
thread-simulated ranks."""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import pytest
from helpers import FakeLogger, MemoryStore, ThreadGroup

from ato.adict import ADict
from ato.hyperopt import (
    ASHASchedule,
    BOHBSampler,
    HyperbandSchedule,
    RandomSampler,
    Search,
    SearchSettingError,
    SearchSpace,
    TorchDistributedExecutor,
)
from ato.hyperopt.bohb import KernelDensity, decode, encode, split_good_bad
from ato.hyperopt.samplers import CONTINUE, STOPPED

SPACES = {
    "lr": dict(param_type="FLOAT", param_range=(1e-4, 1e-1), space_type="LOG"),
    "optim": dict(param_type="CATEGORY", categories=["sgd", "adam"]),
    "momentum": dict(param_type="FLOAT", param_range=(0.0, 0.99), condition={"optim": "sgd"}),
    "width": dict(param_type="INTEGER", param_range=(8, 128), space_type="LOG"),
}
XY = {
    "x": dict(param_type="FLOAT", param_range=(0.0, 1.0)),
    "y": dict(param_type="FLOAT", param_range=(0.0, 1.0)),
}


def objective(config: Any) -> float:
    """Deterministic; better with lr near 1e-2, adam, and more budget."""
    bonus = 0.3 if config.optim == "adam" else 0.3 * config.get("momentum", 0.0)
    budget = math.log(config.__budget__ or 1)
    return -abs(math.log10(config.lr) + 2) + bonus + 0.05 * budget - 0.001 * config.width


def _search(schedule: Any, sampler: Any, **options: Any) -> Search:
    options.setdefault("progress", False)
    return Search(
        ADict(lr=0.1, optim="sgd", width=8), SPACES, sampler=sampler, schedule=schedule, **options
    )


def _strip(logs: list) -> list:
    return [[(e.__trial_id__, e.__num_halved__, e.__metric__) for e in log] for log in logs]


def _ready(sampler: BOHBSampler, spaces: dict = XY, mode: str = "min") -> BOHBSampler:
    sampler.setup(SearchSpace(spaces), mode)
    return sampler


# -- the pieces -----------------------------------------------------------------------------
def test_split_keeps_the_best_and_the_worst_with_at_least_n_min_each() -> None:
    metrics = [0.5, 0.9, 0.1, math.nan, 0.7]
    assert split_good_bad(metrics, "max", 2, 0.15) == ([1, 4], [0, 2, 3])
    assert split_good_bad(metrics, "min", 2, 0.15) == ([2, 0], [4, 1, 3])
    assert split_good_bad([float(i) for i in range(20)], "min", 2, 0.15) == (
        [0, 1, 2],
        list(range(3, 20)),
    )
    assert split_good_bad([1.0, 1.0, 1.0, 0.0], "max", 1, 0.5) == ([0, 1], [2, 3])


def test_split_is_eq_3_the_bad_set_is_the_rest_and_overlaps_only_below_two_n_min() -> None:
    # Falkner et al. 2018, Eq. 3: N_g = max(N_min, n - N_l); floor(0.85 n) would put the
    # third best of ten (and of up to 2 N_min / q observations) in both sets
    good, bad = split_good_bad([float(i) for i in range(10)], "min", 3, 0.15)
    assert (good, bad) == ([0, 1, 2], list(range(3, 10)))
    good, bad = split_good_bad([float(i) for i in range(5)], "min", 3, 0.15)
    assert (good, bad) == ([0, 1, 2], [2, 3, 4])  # n < 2 N_min: both sets need N_min points


def test_continuous_density_uses_the_normal_reference_bandwidth() -> None:
    model = KernelDensity.fit(np.array([[0.2], [0.4]]), (0,), 1e-3)
    bw = 1.06 * math.sqrt(0.02) * 2 ** (-1 / 5)
    assert model.bandwidths.tolist() == pytest.approx([bw], rel=1e-12)
    expected = math.exp(-0.5 * (0.1 / bw) ** 2) / (bw * math.sqrt(2 * math.pi))
    assert model.pdf(np.array([[0.3]])).tolist() == pytest.approx([expected], rel=1e-12)


def test_categorical_density_is_aitchison_aitken_over_all_categories() -> None:
    model = KernelDensity.fit(np.array([[0.0], [0.0], [1.0]]), (3,), 1e-3)
    bw = 1.06 * math.sqrt(1 / 3) * 3 ** (-1 / 5)
    assert model.bandwidths.tolist() == pytest.approx([bw], rel=1e-12)
    pdf = model.pdf(np.array([[0.0], [2.0]])).tolist()
    assert pdf == pytest.approx([(2 * (1 - bw) + bw / 2) / 3, bw / 2], rel=1e-12)


def test_identical_points_get_the_minimum_bandwidth_and_categories_at_most_c_minus_1_over_c() -> (
    None
):
    model = KernelDensity.fit(np.array([[0.5, 0.0], [0.5, 4.0]]), (0, 2), 1e-3)
    assert model.bandwidths.tolist() == [1e-3, 0.5]


def test_encode_and_decode_round_trip_with_log_integers_categories_and_conditions() -> None:
    space = SearchSpace(SPACES)
    point = {"lr": 1e-3, "optim": "adam", "width": 32}
    row = encode(space, point)
    names = [p.name for p in space.params]
    by_name = dict(zip(names, row, strict=True))
    assert by_name["lr"] == pytest.approx(1 / 3)
    assert by_name["optim"] == 1.0 and math.isnan(by_name["momentum"])
    assert by_name["width"] == pytest.approx(
        (math.log(32) - math.log(7.5)) / (math.log(128.5) - math.log(7.5))
    )
    back = decode(space, [0.5 if math.isnan(v) else v for v in row])
    assert back == {"lr": pytest.approx(1e-3), "optim": "adam", "width": 32}
    sgd = decode(space, [0.0 if p.name != "momentum" else 1.5 for p in space.params])
    assert sgd == {"lr": 1e-4, "optim": "sgd", "momentum": 0.99, "width": 8}


# -- which budget, and when random ----------------------------------------------------------
def test_model_uses_the_largest_budget_with_n_min_plus_two_observations() -> None:
    sampler = _ready(BOHBSampler(seed=0, random_fraction=0.0))
    assert sampler.num_min_points == 3  # two parameters + 1
    for trial in range(10):
        sampler.ask(trial)
    for trial in range(10):
        sampler.tell(trial, 0, 1, float(trial), CONTINUE)
    for trial in range(5):
        sampler.tell(trial, 1, 3, float(trial), CONTINUE)
    for trial in range(4):
        sampler.tell(trial, 2, 9, float(trial), STOPPED)
    assert sampler.model_budget() == 3
    sampler.ask(10)
    assert sampler.proposed_from[10] == 3
    sampler.tell(4, 2, 9, 4.0, STOPPED)
    assert sampler.model_budget() == 9
    sampler.ask(11)
    assert sampler.proposed_from[11] == 9
    assert {b: len(seen) for b, seen in sampler.observations.items()} == {1: 10, 3: 5, 9: 5}


def test_before_any_budget_has_enough_points_it_is_the_random_sampler() -> None:
    sampler = _ready(BOHBSampler(seed=5, random_fraction=0.0))
    reference = _ready(RandomSampler(seed=5))  # type: ignore[arg-type]
    for trial in range(4):
        assert sampler.ask(trial) == reference.ask(trial)
        sampler.tell(trial, 0, 1, float(trial), STOPPED)
    assert sampler.model_budget() is None
    assert sampler.ask(4) == reference.ask(4)
    assert list(sampler.proposed_from.values()) == [None] * 5


def test_random_fraction_one_never_uses_the_model() -> None:
    sampler = _ready(BOHBSampler(seed=2, random_fraction=1.0))
    reference = _ready(RandomSampler(seed=2))  # type: ignore[arg-type]
    for trial in range(30):
        assert sampler.ask(trial) == reference.ask(trial)
        sampler.tell(trial, 0, 1, float(trial), STOPPED)
    assert sampler.model_budget() == 1


def test_the_model_proposes_near_the_good_observations() -> None:
    sampler = _ready(BOHBSampler(seed=1, random_fraction=0.0), {"x": XY["x"]})
    for trial in range(30):
        x = sampler.ask(trial)["x"]  # type: ignore[index]
        sampler.tell(trial, 0, 1, (x - 0.2) ** 2, STOPPED)
    proposals = [sampler.ask(100 + t)["x"] for t in range(10)]  # type: ignore[index]
    assert all(abs(x - 0.2) < 0.1 for x in proposals), proposals
    assert [sampler.proposed_from[100 + t] for t in range(10)] == [1] * 10


def test_results_of_trials_it_did_not_propose_and_repeated_tells_count_once() -> None:
    sampler = _ready(BOHBSampler(seed=0))
    sampler.tell(7, 0, 1, 1.0, STOPPED)
    assert sampler.observations == {}
    sampler.ask(0)
    sampler.tell(0, 0, 1, 1.0, CONTINUE)
    sampler.tell(0, 0, 1, 1.0, STOPPED)  # a search closing an open trial tells it again
    assert len(sampler.observations[1]) == 1


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"top_fraction": 1.0}, r"top_fraction must be a number in \(0.0, 1.0\), got 1.0"),
        ({"random_fraction": -0.1}, r"random_fraction must be a number in \[0.0, 1.0\]"),
        ({"num_candidates": 0}, "num_candidates"),
        ({"min_points_in_model": 0}, "min_points_in_model"),
        ({"bandwidth_factor": 0}, "bandwidth_factor"),
        ({"min_bandwidth": True}, "min_bandwidth"),
        ({"sequential": 1}, "sequential must be True or False, got 1"),
    ],
)
def test_bad_settings_are_clear_errors(kwargs: dict, fragment: str) -> None:
    with pytest.raises(SearchSettingError, match=fragment):
        BOHBSampler(**kwargs)


def test_ask_before_setup_is_a_clear_error() -> None:
    with pytest.raises(SearchSettingError, match="before setup"):
        BOHBSampler().ask(0)


# -- in a search ----------------------------------------------------------------------------
def test_hyperband_search_is_deterministic_with_a_seed_and_learns_from_every_rung() -> None:
    first, again, other = BOHBSampler(seed=4), BOHBSampler(seed=4), BOHBSampler(seed=5)
    result = _search(HyperbandSchedule(27, 3), first).main(objective)()
    repeat = _search(HyperbandSchedule(27, 3), again).main(objective)()
    different = _search(HyperbandSchedule(27, 3), other).main(objective)()
    assert _strip(result.logs) == _strip(repeat.logs)
    assert _strip(result.logs) != _strip(different.logs)
    counts = {b: len(seen) for b, seen in first.observations.items()}
    # Li et al.'s R=27, eta=3 table: every evaluation at each budget, trial counted once
    assert counts == {1: 27, 3: 9 + 12, 9: 3 + 4 + 6, 27: 1 + 1 + 2 + 4}
    # one list of logs per rung batch, whether the rung was asked at once or trial by trial
    assert [len(log) for log in result.logs] == [27, 9, 3, 1, 12, 4, 1, 6, 2, 4]
    # bracket s=3 (27 trials at budget 1) already uses budget 1's model once it has
    # N_min + 2 = 7 results: the trials after the 7th are model-based 2/3 of the time
    first_bracket = [first.proposed_from[t] for t in range(27)]
    assert set(first_bracket[:7]) == {None} and first_bracket.count(1) >= 10
    assert result.metric > 0.35


def test_not_sequential_asks_a_whole_rung_before_any_result() -> None:
    sampler = BOHBSampler(seed=4, sequential=False)
    result = _search(HyperbandSchedule(27, 3), sampler).main(objective)()
    assert [len(log) for log in result.logs] == [27, 9, 3, 1, 12, 4, 1, 6, 2, 4]
    # bracket s=3 asks its 27 trials before any result; later brackets use the largest budget
    # with N_min + 2 = 7 observations, never the top one (it has 8 only at the very end)
    assert [sampler.proposed_from[t] for t in range(27)] == [None] * 27
    assert set(sampler.proposed_from.values()) == {None, 3, 9}


class _Recorder:
    """A sampler that logs the order of asks and results (random points)."""

    replicable = False

    def __init__(self, sequential: bool, give_up_at: int = -1) -> None:
        self.sequential, self.give_up_at = sequential, give_up_at
        self.events: list[tuple[str, int]] = []
        self._inner = RandomSampler(seed=0)

    def setup(self, space: Any, mode: str) -> None:
        self._inner.setup(space, mode)

    def ask(self, trial_id: int) -> dict[str, Any] | None:
        self.events.append(("ask", trial_id))
        return None if trial_id == self.give_up_at else self._inner.ask(trial_id)

    def observe(self, trial_id: int, rung: int, budget: Any, metric: float) -> None:
        self.events.append(("observe", trial_id))

    def tell(self, trial_id: int, rung: int, budget: Any, metric: float, state: str) -> None:
        if rung == 0:
            self.events.append(("tell", trial_id))


def test_a_sequential_sampler_is_asked_when_each_trial_starts_and_sees_each_result() -> None:
    sequential, at_once = _Recorder(True), _Recorder(False)
    for sampler in (sequential, at_once):
        _search(HyperbandSchedule(9, 3), sampler).main(objective)()
    first_rung = [e for e in sequential.events if e[0] != "tell"][:18]
    assert first_rung == [(kind, t) for t in range(9) for kind in ("ask", "observe")]
    # a sampler that does not ask for it (sequential False) gets a rung's asks first and no
    # observe; the tells after each rung are the same either way
    assert at_once.events[:9] == [("ask", t) for t in range(9)]
    assert not any(kind == "observe" for kind, _ in at_once.events)
    tells = [e for e in sequential.events if e[0] == "tell"]
    assert tells == [e for e in at_once.events if e[0] == "tell"]


def test_a_sequential_sampler_that_runs_out_inside_a_rung_is_a_clear_error() -> None:
    with pytest.raises(SearchSettingError, match="no configuration for trial 3"):
        _search(HyperbandSchedule(9, 3), _Recorder(True, give_up_at=3)).main(objective)()


def test_asha_search_in_one_process_feeds_every_rung() -> None:
    sampler = BOHBSampler(seed=0)
    result = _search(ASHASchedule(9, 3, max_trials=40), sampler).main(objective)()
    counts = {b: len(seen) for b, seen in sampler.observations.items()}
    assert counts[1] == 40 and set(counts) == {1, 3, 9}
    assert sum(len(log) for log in result.logs) == sum(counts.values())
    assert any(b is not None for b in sampler.proposed_from.values())


def _interrupting(after: int, log: list) -> Any:
    def train(config: Any) -> float:
        if len(log) == after:
            raise KeyboardInterrupt
        log.append((config.__trial_id__, config.__num_halved__))
        return objective(config)

    return train


def test_resumed_search_makes_the_same_decisions() -> None:
    reference = _search(HyperbandSchedule(27, 3), BOHBSampler(seed=11)).main(objective)()
    logger, first_calls = FakeLogger(), []
    with pytest.raises(KeyboardInterrupt):
        _search(
            HyperbandSchedule(27, 3), BOHBSampler(seed=11), tracker=logger, search_id="b1"
        ).main(_interrupting(50, first_calls))()
    resumed_calls: list = []
    resumed = _search(
        HyperbandSchedule(27, 3),
        BOHBSampler(seed=11),
        tracker=logger,
        search_id="b1",
        resume=True,
    ).main(_interrupting(-1, resumed_calls))()
    assert _strip(resumed.logs) == _strip(reference.logs)
    assert resumed.config == reference.config and resumed.metric == reference.metric
    assert len(first_calls) == 50 and not set(first_calls) & set(resumed_calls)


# -- two ranks simulated by threads ---------------------------------------------------------
class _ThreadExecutor(TorchDistributedExecutor):
    """torch.distributed's executor with its collectives between threads (the work queue
    runs over a shared in-memory store)."""

    def __init__(self, rank: int, group: ThreadGroup, store: Any) -> None:
        super().__init__(rank, 2, store=store)
        self.group = group

    def all_gather_object(self, obj: Any) -> list[Any]:
        return self.group.gather(self.rank, obj)

    def broadcast_object_from_root(self, obj: Any) -> Any:
        return self.group.gather(self.rank, obj)[0]


def _two_ranks(make_schedule: Any, tmp_path: Any) -> tuple[dict, list]:
    group, store = ThreadGroup(2), MemoryStore()
    results: dict[int, Any] = {}
    samplers: list[BOHBSampler] = []
    errors: list[BaseException] = []

    def worker(rank: int) -> None:
        sampler = BOHBSampler(seed=3)
        samplers.append(sampler)
        try:
            search = _search(
                make_schedule(),
                sampler,
                executor=_ThreadExecutor(rank, group, store),
                search_id="two",
                checkpoint_root=tmp_path,
            )
            results[rank] = search.main(objective)()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            group.barrier.abort()

    threads = [threading.Thread(target=worker, args=(rank,)) for rank in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return results, samplers


def test_two_ranks_with_hyperband_take_the_single_process_decisions(tmp_path: Any) -> None:
    # several ranks ask a rung at once: the decisions of one process with sequential=False
    single = _search(HyperbandSchedule(9, 3), BOHBSampler(seed=3, sequential=False)).main(
        objective
    )()
    results, _ = _two_ranks(lambda: HyperbandSchedule(9, 3), tmp_path)
    assert _strip(results[0].logs) == _strip(single.logs)
    assert results[0].config == results[1].config == single.config


def test_two_ranks_with_asha_share_one_model_on_rank_0(tmp_path: Any) -> None:
    results, samplers = _two_ranks(lambda: ASHASchedule(9, 3, max_trials=30), tmp_path)
    assert results[0].metric == results[1].metric
    fed = [s for s in samplers if s.observations]
    assert len(fed) == 1  # only rank 0 runs the sampler
    counts = {b: len(seen) for b, seen in fed[0].observations.items()}
    assert counts[1] == 30
    assert sum(len(log) for log in results[0].logs) == sum(counts.values())


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"mode": {"acc": "max", "ms": "min"}}, "objectives ['acc', 'ms'] and constraints []"),
        ({"mode": "max", "metric_key": "acc", "constraint_keys": ["c"]}, "constraints ['c']"),
    ],
)
def test_several_objectives_or_constraints_are_refused_before_any_trial(
    options: dict, named: str
) -> None:
    ran: list[Any] = []
    search = Search(
        ADict(lr=0.1, optim="sgd", width=8),
        SPACES,
        sampler=BOHBSampler(seed=0),
        schedule=HyperbandSchedule(max_budget=9, reduction_factor=3),
        progress=False,
        **options,
    )
    with pytest.raises(SearchSettingError, match=r"BOHBSampler models one objective") as error:
        search.main(lambda config: ran.append(config) or {"acc": 1.0, "ms": 1.0, "c": 0.0})()
    assert named in str(error.value) and ran == []
