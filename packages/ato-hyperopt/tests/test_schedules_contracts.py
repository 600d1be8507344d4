"""Schedule contracts, driven directly through the schedule API with a scripted trial source:
the exact jobs (trial, rung, budget, previous budget, bracket) of successive halving (Jamieson &
Talwalkar 2016), Hyperband (Li et al. 2018, Algorithm 1) and ASHA (Li et al. 2020,
Algorithm 2), the states told to the sampler, tie-breaking, answers, and setting errors;
issue 17, mutation testing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ato.hyperopt import (
    ASHASchedule,
    HyperbandSchedule,
    SearchSettingError,
    SuccessiveHalvingSchedule,
)
from ato.hyperopt.samplers import COMPLETED, CONTINUE, STOPPED
from ato.hyperopt.schedules import WAIT, Job

NONE_RAN = (0, -1, None)


class Source:
    """A sampler of ``size`` trials (None: endless) that records what the schedule reports."""

    def __init__(self, size: int | None = None, first: int = 0) -> None:
        self.size, self.given, self.first = size, 0, first
        self.reports: list[tuple[Job, float, str]] = []

    def new_trial(self) -> int | None:
        if self.size is not None and self.given >= self.size:
            return None
        self.given += 1
        return self.first + self.given - 1

    def report(self, job: Job, metric: float, state: str) -> None:
        self.reports.append((job, metric, state))

    def states(self) -> list[tuple[int, int, str]]:
        return [(job.trial_id, job.rung, state) for job, _, state in self.reports]


def run(
    schedule: Any,
    source: Source,
    metric: Callable[[Job], float] = lambda job: job.trial_id / 10,
    mode: str = "max",
) -> list[list[Job]]:
    """Every batch of a synchronous schedule, answering each job with ``metric(job)``."""
    batches, gen = [], schedule.batches(source, mode)
    jobs = next(gen, None)
    while jobs is not None:
        batches.append(jobs)
        try:
            jobs = gen.send([metric(job) for job in jobs])
        except StopIteration:
            jobs = None
    return batches


def fields(batch: list[Job]) -> list[tuple[Any, ...]]:
    return [(j.trial_id, j.rung, j.budget, j.previous_budget, j.bracket) for j in batch]


# -- settings ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SuccessiveHalvingSchedule(0.5, 0), "num_min_samples must be an int >= 1, got 0"),
        (
            lambda: SuccessiveHalvingSchedule(0.5, 2, num_configs=0),
            "num_configs must be an int >= 1, got 0",
        ),
        (
            lambda: SuccessiveHalvingSchedule(0.5, 2, max_budget=2.5),
            "max_budget must be an int >= 1, got 2.5",
        ),
        (lambda: HyperbandSchedule(0), "max_budget must be a positive finite number, got 0"),
        (
            lambda: HyperbandSchedule(9, min_budget=-1),
            "min_budget must be a positive finite number, got -1",
        ),
        (lambda: HyperbandSchedule(9, min_budget=10), "min_budget 10 is above max_budget 9"),
        (
            lambda: ASHASchedule(float("inf")),
            "max_budget must be a positive finite number, got inf",
        ),
        (
            lambda: ASHASchedule(9, min_budget=0.0),
            "min_budget must be a positive finite number, got 0.0",
        ),
        (lambda: ASHASchedule(9, max_trials=0), "max_trials must be an int >= 1, got 0"),
    ],
)
def test_a_bad_setting_is_refused_with_its_name_and_value(
    make: Callable[[], Any], message: str
) -> None:
    with pytest.raises(SearchSettingError) as info:
        make()
    assert str(info.value) == message


@pytest.mark.parametrize("budget", [0, -2, 0.0, float("inf"), float("nan"), True, "9", None])
@pytest.mark.parametrize("schedule", [HyperbandSchedule, ASHASchedule])
def test_budgets_must_be_positive_finite_numbers(schedule: type, budget: Any) -> None:
    with pytest.raises(SearchSettingError) as info:
        schedule(budget)
    assert str(info.value) == f"max_budget must be a positive finite number, got {budget!r}"
    with pytest.raises(SearchSettingError) as info:
        schedule(9, min_budget=budget)
    assert str(info.value) == f"min_budget must be a positive finite number, got {budget!r}"


@pytest.mark.parametrize("eta", [1, 0, -3, True, 2.0, 2.5, "3", None])
@pytest.mark.parametrize("schedule", [HyperbandSchedule, ASHASchedule])
def test_the_reduction_factor_must_be_an_int_of_at_least_two(schedule: type, eta: Any) -> None:
    with pytest.raises(SearchSettingError) as info:
        schedule(9, reduction_factor=eta)
    assert str(info.value) == f"reduction_factor must be an int >= 2, got {eta!r}"


def test_defaults_are_eta_3_min_budget_1_and_100_asha_trials() -> None:
    hyperband = HyperbandSchedule(81)
    assert (hyperband.reduction_factor, hyperband.eta, hyperband.min_budget) == (3, 3, 1)
    assert hyperband.s_max == 4 and hyperband.final_budget == 81
    asha = ASHASchedule(9)
    assert (asha.reduction_factor, asha.min_budget, asha.max_trials) == (3, 1, 100)
    assert asha.rung_budgets == [1, 3, 9] and asha.final_budget == 9
    fractional = ASHASchedule(10, reduction_factor=2, min_budget=2.5)
    assert fractional.min_budget == 2.5 and fractional.rung_budgets == [2.5, 5, 10]


# -- successive halving -----------------------------------------------------------------------
def test_successive_halving_rungs_budgets_and_states() -> None:
    source = Source()
    schedule = SuccessiveHalvingSchedule(0.5, 2, num_configs=4, max_budget=8)
    batches = run(schedule, source)
    # sizes 4, 2, then the best survivor alone at the top budget: a rung of the schedule
    assert [fields(b) for b in batches] == [
        [(t, 0, 2, None, 0) for t in range(4)],
        [(3, 1, 4, 2, 0), (2, 1, 4, 2, 0)],
        [(3, 2, 8, 4, 0)],
    ]
    assert source.states() == [
        (3, 0, CONTINUE),
        (2, 0, CONTINUE),
        (1, 0, STOPPED),
        (0, 0, STOPPED),
        (3, 1, CONTINUE),
        (2, 1, STOPPED),
        (3, 2, COMPLETED),
    ]
    assert [(job.budget, job.previous_budget, m) for job, m, _ in source.reports[-3:]] == [
        (4, 2, 0.3),
        (4, 2, 0.2),
        (8, 4, 0.3),
    ]
    assert schedule.answer() == (3, 2, 8) and schedule.final_budget == 8


def test_successive_halving_without_a_budget_leaves_it_to_the_trial() -> None:
    source = Source()
    schedule = SuccessiveHalvingSchedule(0.5, 2, num_configs=4)
    batches = run(schedule, source, mode="min")
    assert [fields(b) for b in batches] == [
        [(t, 0, None, None, 0) for t in range(4)],
        [(0, 1, None, None, 0), (1, 1, None, None, 0)],
        [(0, 2, None, None, 0)],
    ]
    assert all(job.budget is None for job, _, _ in source.reports)
    assert schedule.answer() == (0, 2, None) and schedule.final_budget is None


def test_successive_halving_ties_keep_the_trial_sampled_first() -> None:
    source = Source()
    schedule = SuccessiveHalvingSchedule(0.5, 2, num_configs=4, max_budget=4)
    batches = run(schedule, source, metric=lambda job: 1.0)
    assert [j.trial_id for j in batches[1]] == [0, 1]
    assert [j.trial_id for j in batches[2]] == [0]
    assert schedule.answer() == (0, 2, 4)


def test_successive_halving_starts_with_what_a_finite_sampler_gave() -> None:
    source = Source(size=3)
    schedule = SuccessiveHalvingSchedule(0.5, 2, num_configs=8, max_budget=4)
    batches = run(schedule, source)
    assert [len(b) for b in batches] == [3, 1] and source.given == 3
    assert source.states() == [
        (2, 0, CONTINUE),
        (1, 0, STOPPED),
        (0, 0, STOPPED),
        (2, 1, COMPLETED),
    ]
    assert schedule.answer() == (2, 1, 4)


def test_successive_halving_with_one_config_trains_it_at_the_top_budget() -> None:
    schedule = SuccessiveHalvingSchedule(0.5, 2, max_budget=4)
    assert [fields(b) for b in run(schedule, Source(size=1, first=7))] == [[(7, 0, 4, None, 0)]]
    assert schedule.answer() == (7, 0, 4)


def test_a_schedule_that_got_no_trial_answers_that_none_ran() -> None:
    halving = SuccessiveHalvingSchedule(0.5, 2, num_configs=4, max_budget=8)
    hyperband = HyperbandSchedule(9)
    for schedule in (halving, hyperband):
        assert schedule.answer() == NONE_RAN
        run(schedule, Source())
        assert schedule.answer() != NONE_RAN
        assert run(schedule, Source(size=0)) == []
        assert schedule.answer() == NONE_RAN  # nothing left from the previous run
    asha = ASHASchedule(9)
    assert asha.answer() == NONE_RAN
    asha.start(Source(size=0), "max")
    assert asha.next_job() is None and asha.answer() == NONE_RAN


@pytest.mark.parametrize("schedule", [SuccessiveHalvingSchedule(0.5, 2, 4), HyperbandSchedule(9)])
def test_a_rung_answered_with_the_wrong_number_of_metrics_is_an_error(schedule: Any) -> None:
    gen = schedule.batches(Source(), "max")
    jobs = next(gen)
    with pytest.raises(ValueError, match="zip"):
        gen.send([0.5] * (len(jobs) - 1))


# -- Hyperband --------------------------------------------------------------------------------
def test_hyperband_runs_every_bracket_with_its_rungs_budgets_and_states() -> None:
    source = Source()
    schedule = HyperbandSchedule(9, reduction_factor=3)
    batches = run(schedule, source)
    # s_max = 2: bracket 2 = 9@1, 3@3, 1@9; bracket 1 = 5@3, 1@9; bracket 0 = 3@9
    assert [fields(b) for b in batches] == [
        [(t, 0, 1, None, 2) for t in range(9)],
        [(t, 1, 3, 1, 2) for t in (8, 7, 6)],
        [(8, 2, 9, 3, 2)],
        [(t, 0, 3, None, 1) for t in range(9, 14)],
        [(13, 1, 9, 3, 1)],
        [(t, 0, 9, None, 0) for t in (14, 15, 16)],
    ]
    told = {(job.trial_id, job.rung): (job, state) for job, _, state in source.reports}
    assert len(told) == len(source.reports) == sum(map(len, batches))
    for batch in batches:
        for job in batch:
            assert told[(job.trial_id, job.rung)][0] == job  # the job as it ran
    assert [s for (t, r), (_, s) in told.items() if r == 0 and t < 9] == (
        [CONTINUE] * 3 + [STOPPED] * 6
    )
    assert [told[(t, 1)][1] for t in (8, 7, 6)] == [CONTINUE, STOPPED, STOPPED]
    assert told[(8, 2)][1] == COMPLETED and told[(13, 1)][1] == COMPLETED
    assert [told[(t, 0)][1] for t in (9, 10, 11, 12, 13)] == [STOPPED] * 4 + [CONTINUE]
    assert [told[(t, 0)][1] for t in (14, 15, 16)] == [COMPLETED] * 3
    assert [m for job, m, _ in source.reports if job.trial_id == 13] == [1.3, 1.3]
    assert schedule.answer() == (16, 0, 9)


def test_hyperband_answer_ties_go_to_the_earliest_bracket_and_trial() -> None:
    schedule = HyperbandSchedule(9, reduction_factor=3)
    batches = run(schedule, Source(), metric=lambda job: 1.0)
    assert [j.trial_id for j in batches[2]] == [0]
    assert schedule.answer() == (0, 2, 9)


def test_hyperband_answer_in_min_mode_is_the_smallest_top_rung_metric() -> None:
    schedule = HyperbandSchedule(9, reduction_factor=3)
    run(schedule, Source(), metric=lambda job: abs(job.trial_id - 11), mode="min")
    assert schedule.answer() == (11, 1, 9)


def test_hyperband_stopped_before_any_top_rung_answers_the_best_of_the_last_rung() -> None:
    schedule = HyperbandSchedule(9, reduction_factor=3)
    gen = schedule.batches(Source(), "max")
    jobs = next(gen)
    gen.send([job.trial_id / 10 for job in jobs])
    gen.close()
    assert schedule.answer() == (8, 0, 1)


def test_hyperband_runs_a_bracket_with_what_a_finite_sampler_gave_then_ends() -> None:
    source = Source(size=5)
    schedule = HyperbandSchedule(9, reduction_factor=3)
    batches = run(schedule, source)
    # bracket 2 wanted 9: 5 at budget 1, max(1, 5 // 3) = 1 goes on to 3, then to 9
    assert [fields(b) for b in batches] == [
        [(t, 0, 1, None, 2) for t in range(5)],
        [(4, 1, 3, 1, 2)],
        [(4, 2, 9, 3, 2)],
    ]
    assert schedule.answer() == (4, 2, 9)


# -- ASHA -------------------------------------------------------------------------------------
def drain(schedule: ASHASchedule, metric: Callable[[Job], float]) -> list[Job]:
    """One worker: every job is reported as soon as it is handed out."""
    jobs = []
    while isinstance(job := schedule.next_job(), Job):
        jobs.append(job)
        schedule.report(job, metric(job))
    assert job is None
    return jobs


def test_asha_promotes_into_every_rung_up_to_the_top_and_ends() -> None:
    source = Source()
    schedule = ASHASchedule(4, reduction_factor=2, max_trials=4)  # budgets 1, 2, 4
    schedule.start(source, "max")
    jobs = drain(schedule, lambda job: float(job.trial_id))
    assert [(j.trial_id, j.rung, j.budget, j.previous_budget) for j in jobs] == [
        (0, 0, 1, None),
        (1, 0, 1, None),
        (1, 1, 2, 1),  # top floor(2 / 2) = 1 of rung 0
        (2, 0, 1, None),
        (2, 1, 2, 1),
        (2, 2, 4, 2),  # rung 1 first: higher rungs are promoted before lower ones
        (3, 0, 1, None),
        (3, 1, 2, 1),
        (3, 2, 4, 2),
    ]
    assert [state for _, _, state in source.reports] == [
        COMPLETED if j.rung == 2 else CONTINUE for j in jobs
    ]
    assert [m for _, m, _ in source.reports] == [float(j.trial_id) for j in jobs]
    assert schedule.answer() == (3, 2, 4)
    assert schedule.open_trials() == {0: (0, 0.0), 1: (1, 1.0)}


def test_asha_answer_follows_the_mode_and_prefers_the_highest_rung() -> None:
    for mode, best in (("max", 1), ("min", 0)):
        schedule = ASHASchedule(4, reduction_factor=2)
        schedule.start(Source(), mode)
        schedule.report(Job(5, 0, 1), 9.0)
        schedule.report(Job(0, 1, 2, 1), 1.0)
        schedule.report(Job(1, 1, 2, 1), 2.0)
        assert schedule.answer() == (best, 1, 2)
        assert schedule.open_trials() == {5: (0, 9.0), 0: (1, 1.0), 1: (1, 2.0)}


def test_asha_waits_for_running_jobs_once_a_finite_sampler_is_empty() -> None:
    schedule = ASHASchedule(4, reduction_factor=2, max_trials=10)
    schedule.start(Source(size=1), "max")
    job = schedule.next_job()
    assert isinstance(job, Job) and job.trial_id == 0
    assert schedule.next_job() == WAIT
    assert schedule.max_trials == 1  # the sampler ran out after one trial
    assert schedule.next_job() == WAIT
    schedule.report(job, 0.5)
    assert schedule.next_job() is None and schedule.next_job() is None


@pytest.mark.parametrize("method", ["next_job", "report"])
def test_asha_used_before_start_says_to_pass_it_to_a_search(method: str) -> None:
    schedule = ASHASchedule(9)
    call = schedule.next_job if method == "next_job" else lambda: schedule.report(Job(0, 0, 1), 0)
    with pytest.raises(SearchSettingError) as info:
        call()
    assert str(info.value) == (
        f"ASHASchedule.{method}() before start(); pass the schedule to a Search"
    )
    schedule.start(Source(), "max")
    schedule.reset()
    with pytest.raises(SearchSettingError):
        call()
