"""The search engine: schedules (Hyperband's bracket table, ASHA's promotion rule), Search with
random/Optuna/user samplers, tracker records, trial_context and checkpoint continuation,
resume after an interruption, and SIGTERM."""

from __future__ import annotations

import json
import math
import os
import signal
from typing import Any

import optuna
import pytest
from helpers import FakeLogger

from ato.adict import ADict
from ato.hyperopt import (
    ANSWER_TAG,
    ASHASchedule,
    HyperbandSchedule,
    OutsideTrialError,
    RandomSampler,
    Search,
    SearchInterrupted,
    SearchSettingError,
    SearchSpace,
    SuccessiveHalvingSchedule,
    trial_context,
)
from ato.hyperopt.samplers import COMPLETED, CONTINUE, STOPPED
from ato.hyperopt.schedules import WAIT, Job

SPACES = {
    "lr": dict(param_type="FLOAT", param_range=(1e-4, 1e-1), space_type="LOG"),
    "optim": dict(param_type="CATEGORY", categories=["sgd", "adam"]),
    "momentum": dict(param_type="FLOAT", param_range=(0.0, 0.99), condition={"optim": "sgd"}),
}


def objective(config: Any) -> float:
    """Deterministic; better with lr near 1e-2, adam, and more budget."""
    bonus = 0.3 if config.optim == "adam" else 0.3 * config.get("momentum", 0.0)
    return -abs(math.log10(config.lr) + 2) + bonus + 0.05 * math.log(config.__budget__ or 1)


def _search(schedule: Any, sampler: Any = None, **options: Any) -> Search:
    return Search(
        ADict(lr=0.1, optim="sgd"),
        SPACES,
        sampler=sampler or RandomSampler(seed=0),
        schedule=schedule,
        progress=False,
        **options,
    )


# -- Hyperband ------------------------------------------------------------------------------
R81 = [
    [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
    [(34, 3), (11, 9), (3, 27), (1, 81)],
    [(15, 9), (5, 27), (1, 81)],
    [(8, 27), (2, 81)],
    [(5, 81)],
]


def test_hyperband_bracket_table_for_r81_eta3_matches_li_et_al() -> None:
    schedule = HyperbandSchedule(max_budget=81, reduction_factor=3)
    assert schedule.s_max == 4
    assert schedule.brackets() == R81
    assert all(type(b) is int for bracket in schedule.brackets() for _, b in bracket)


@pytest.mark.parametrize(
    ("kwargs", "first"),
    [
        ({"max_budget": 27, "reduction_factor": 3}, [(27, 1), (9, 3), (3, 9), (1, 27)]),
        (
            {"max_budget": 100, "reduction_factor": 3, "min_budget": 10},
            [(9, 100 / 9), (3, 100 / 3), (1, 100)],
        ),
        ({"max_budget": 16, "reduction_factor": 2}, [(16, 1), (8, 2), (4, 4), (2, 8), (1, 16)]),
        ({"max_budget": 5, "reduction_factor": 3, "min_budget": 5}, [(1, 5)]),
    ],
)
def test_hyperband_first_bracket_and_exact_rounding(kwargs: dict, first: list) -> None:
    brackets = HyperbandSchedule(**kwargs).brackets()
    assert [(n, pytest.approx(b)) for n, b in brackets[0]] == first
    assert all(bracket[-1][1] == kwargs["max_budget"] for bracket in brackets)


def test_hyperband_search_runs_every_rung_of_every_bracket_with_its_budget() -> None:
    calls: list[tuple[int, int, int, int]] = []

    def train(config: Any) -> float:
        ctx = trial_context()
        calls.append((ctx.bracket, ctx.rung, ctx.budget, ctx.trial_id))
        assert config.__budget__ == ctx.budget and config.__num_halved__ == ctx.rung
        return objective(config)

    result = _search(HyperbandSchedule(81, 3)).main(train)()
    batches = [[(n, b) for n, b in bracket] for bracket in R81]
    seen = [(len(log), log[0].__budget__) for log in result.logs]
    assert seen == [rung for bracket in batches for rung in bracket]  # nothing after them
    assert len({t for *_, t in calls}) == 81 + 34 + 15 + 8 + 5  # new trials per bracket
    # the answer is the best result at budget 81, not evaluated again
    top = [e for log in result.logs for e in log if e.__budget__ == 81]
    best = max(top, key=lambda e: e.__metric__)
    assert result.trial_id == best.__trial_id__ and result.budget == 81
    assert result.metric == best.__metric__ and result.run_id is None


def test_promotions_keep_the_top_third_of_each_rung() -> None:
    result = _search(HyperbandSchedule(27, 3)).main(objective)()
    logs = result.logs
    rung0, rung1 = logs[0], logs[1]
    kept = sorted(rung0, key=lambda e: -e.__metric__)[: len(rung0) // 3]
    assert sorted(e.__trial_id__ for e in rung1) == sorted(e.__trial_id__ for e in kept)


# -- ASHA -----------------------------------------------------------------------------------
class _Source:
    def __init__(self) -> None:
        self.next_id = 0
        self.reports: list[tuple[int, int, str]] = []

    def new_trial(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def report(self, job: Job, metric: float, state: str) -> None:
        self.reports.append((job.trial_id, job.rung, state))


def test_asha_promotes_only_from_the_top_fraction_and_never_twice() -> None:
    schedule = ASHASchedule(max_budget=9, reduction_factor=3, max_trials=7)
    source = _Source()
    schedule.start(source, "max")
    assert schedule.rung_budgets == [1, 3, 9]
    jobs = [schedule.next_job() for _ in range(2)]
    assert [(j.trial_id, j.rung, j.budget) for j in jobs] == [(0, 0, 1), (1, 0, 1)]
    schedule.report(jobs[0], 0.5)
    schedule.report(jobs[1], 0.9)
    # 2 results at rung 0: floor(2/3) = 0 promotable -> a new trial
    job = schedule.next_job()
    assert (job.trial_id, job.rung) == (2, 0)
    schedule.report(job, 0.1)
    # 3 results: the top 1 (trial 1, 0.9) is promoted to rung 1 with budget 3
    job = schedule.next_job()
    assert (job.trial_id, job.rung, job.budget, job.previous_budget) == (1, 1, 3, 1)
    # trial 1 already promoted, and it is the only one in the top third: new trial
    job2 = schedule.next_job()
    assert (job2.trial_id, job2.rung) == (3, 0)
    schedule.report(job2, 0.95)  # 4 results, top 1 is trial 3
    job3 = schedule.next_job()
    assert (job3.trial_id, job3.rung) == (3, 1)
    schedule.report(job, 0.7)
    schedule.report(job3, 0.8)
    assert schedule.promotable(0) is None
    assert (1, 1, CONTINUE) in source.reports


def test_asha_promotes_higher_rungs_first_waits_and_ends() -> None:
    schedule = ASHASchedule(max_budget=9, reduction_factor=3, max_trials=3)
    schedule.start(_Source(), "min")
    jobs = [schedule.next_job() for _ in range(3)]
    assert schedule.next_job() == WAIT  # max_trials started, all running
    for job, metric in zip(jobs, [3.0, 1.0, 2.0], strict=True):
        schedule.report(job, metric)
    up = schedule.next_job()
    assert (up.trial_id, up.rung) == (1, 1)  # smallest metric in mode='min'
    assert schedule.next_job() == WAIT
    schedule.report(up, 0.5)
    assert schedule.next_job() is None  # rung 1 has 1 result: nothing promotable, nothing running
    assert schedule.answer() == (1, 1, 3)


def test_asha_search_in_one_process_spends_budget_by_rung() -> None:
    result = _search(ASHASchedule(max_budget=27, reduction_factor=3, max_trials=40)).main(
        objective
    )()
    rungs = [len(log) for log in result.logs[:-1]]
    assert rungs[0] == 40 and rungs == sorted(rungs, reverse=True)
    assert all(log[0].__budget__ == 3 ** (k) for k, log in enumerate(result.logs[:-1]))
    assert result.budget == 27 and result.logs[-1][0].__budget__ == 27


# -- samplers in a search -------------------------------------------------------------------
def test_random_hyperband_is_reproducible_with_a_seed_and_finds_a_good_config() -> None:
    first = _search(HyperbandSchedule(27, 3), RandomSampler(seed=5)).main(objective)()
    again = _search(HyperbandSchedule(27, 3), RandomSampler(seed=5)).main(objective)()
    assert first.config == again.config and first.metric == again.metric
    assert [[e.lr for e in log] for log in first.logs] == [
        [e.lr for e in log] for log in again.logs
    ]
    assert 3e-3 < first.config.lr < 3e-2


def test_optuna_tpe_sampled_hyperband_search() -> None:
    from ato.hyperopt import OptunaSampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def run() -> tuple[ADict, OptunaSampler]:
        sampler = OptunaSampler(optuna.samplers.TPESampler(seed=3, n_startup_trials=10))
        return _search(HyperbandSchedule(27, 3), sampler).main(objective)(), sampler

    result, sampler = run()
    again, _ = run()
    assert result.config == again.config and result.metric == again.metric
    states = [t.state.name for t in sampler.study.trials]
    assert len(states) == 27 + 12 + 6 + 4 and set(states) <= {"COMPLETE", "PRUNED"}
    assert states.count("COMPLETE") >= 4  # every bracket completes at least one trial at R
    trial = sampler.study.trials[0]
    assert set(trial.params) <= {"lr", "optim", "momentum"}
    assert ("momentum" in trial.params) == (trial.params["optim"] == "sgd")
    assert 1e-3 < result.config.lr < 1e-1


def test_a_user_written_sampler_follows_the_protocol() -> None:
    class Halton:
        def __init__(self) -> None:
            self.told: list[tuple[int, int, str]] = []

        def setup(self, space: SearchSpace, mode: str) -> None:
            self.names = space.names

        def ask(self, trial_id: int) -> dict | None:
            if trial_id >= 9:
                return None
            return {"lr": 10 ** (-4 + 3 * (trial_id + 0.5) / 9), "optim": "adam"}

        def tell(self, trial_id: int, rung: int, budget: Any, metric: float, state: str) -> None:
            self.told.append((trial_id, rung, state))

    sampler = Halton()
    result = _search(SuccessiveHalvingSchedule(1 / 3, 2, max_budget=9), sampler).main(objective)()
    assert [len(log) for log in result.logs] == [9, 3, 1]
    assert len([t for t in sampler.told if t[2] == STOPPED]) == 6 + 2
    assert len([t for t in sampler.told if t[2] == COMPLETED]) == 1  # the top rung's trial
    assert result.config.lr == pytest.approx(10 ** (-4 + 3 * 6.5 / 9))


def test_a_sampler_proposing_unknown_parameters_is_refused() -> None:
    class Bad(RandomSampler):
        def ask(self, trial_id: int) -> dict:
            return {"lr": 0.1, "optim": "sgd", "lrr": 1}

    with pytest.raises(SearchSettingError, match="not in the search space: \\['lrr'\\]"):
        _search(HyperbandSchedule(9, 3), Bad()).main(objective)()


def test_parts_of_the_wrong_kind_are_refused() -> None:
    with pytest.raises(SearchSettingError, match="lacks setup, ask, tell"):
        _search(HyperbandSchedule(9), sampler=object())
    with pytest.raises(SearchSettingError, match="is not a schedule"):
        _search(schedule=object())
    with pytest.raises(SearchSettingError, match="reduction_factor must be an int >= 2"):
        HyperbandSchedule(81, 1.5)  # type: ignore[arg-type]
    with pytest.raises(SearchSettingError, match="min_budget 100 is above max_budget 81"):
        ASHASchedule(81, min_budget=100)
    with pytest.raises(SearchSettingError, match="resume=True needs the search_id"):
        _search(HyperbandSchedule(9), resume=True)


def test_random_sampler_with_successive_halving_needs_a_number_of_configs() -> None:
    result = _search(SuccessiveHalvingSchedule(0.5, 2, num_configs=8)).main(objective)()
    assert [len(log) for log in result.logs] == [8, 4, 2, 1]
    assert "__budget__" in result.config and result.config.__budget__ is None


# -- trial_context and continuation ---------------------------------------------------------
def test_trial_context_outside_a_trial_is_a_clear_error() -> None:
    with pytest.raises(OutsideTrialError, match="outside a trial"):
        trial_context()


def test_promoted_trials_continue_from_their_checkpoint(tmp_path) -> None:
    trained: dict[int, int] = {}

    def train(config: Any) -> float:
        ctx = trial_context()
        checkpoint = ctx.checkpoint_dir / "state.json"
        assert ctx.checkpoint_dir == tmp_path / ctx.search_id / f"trial-{ctx.trial_id}"
        done = json.loads(checkpoint.read_text())["epochs"] if checkpoint.exists() else 0
        assert done == (ctx.previous_budget or 0)  # the previous rung saved exactly this
        extra = ctx.budget - done
        trained[ctx.trial_id] = trained.get(ctx.trial_id, 0) + extra
        checkpoint.write_text(json.dumps({"epochs": ctx.budget}))
        return objective(config)

    result = _search(HyperbandSchedule(27, 3), checkpoint_root=tmp_path).main(train)()
    reached: dict[int, int] = {}
    for log in result.logs:
        for entry in log:
            reached[entry.__trial_id__] = max(reached.get(entry.__trial_id__, 0), entry.__budget__)
    assert trained == reached  # every trial trained exactly up to its highest budget once
    assert result.budget == 27 and trained[result.trial_id] == 27


# -- tracker records ------------------------------------------------------------------------
SearchLogger = FakeLogger  # runs, tags, metrics and search_runs (resume)


def _tag(run: dict, name: str) -> str:
    return next(t.split(":", 1)[1] for t in run["tags"] if t.startswith(name + ":"))


def test_every_trial_rung_is_one_tagged_run_and_the_answer_is_tagged() -> None:
    logger = SearchLogger()
    result = _search(HyperbandSchedule(9, 3), tracker=logger, search_id="hb1").main(objective)()
    runs = logger.runs
    assert len(runs) == sum(len(log) for log in result.logs)
    keys = {(_tag(r, "trial"), _tag(r, "rung")) for r in runs.values()}
    assert len(keys) == len(runs)  # one run per (trial, rung)
    for run in runs.values():
        assert run["tags"][:2] == ["search:hb1", f"round:{_tag(run, 'rung')}"]
        assert run["status"] == "completed"
        ((key, _value, step),) = run["metrics"]
        assert key == "search/metric" and step == int(_tag(run, "rung"))
        assert _tag(run, "budget") in {"1", "3", "9"}
        assert (_tag(run, "mode"), _tag(run, "metric_key")) == ("max", "metric")
        assert _tag(run, "bracket") in ({"2"} if _tag(run, "budget") == "1" else {"0", "1", "2"})
    answers = [i for i, r in runs.items() if ANSWER_TAG in r["tags"]]
    assert answers == [result.run_id]
    assert _tag(runs[result.run_id], "trial") == str(result.trial_id)


# -- resume ---------------------------------------------------------------------------------
def _strip(logs: list) -> list:
    return [[(e.__trial_id__, e.__num_halved__, e.__metric__) for e in log] for log in logs]


def _interrupting(after: int, log: list) -> Any:
    def train(config: Any) -> float:
        if len(log) == after:
            raise KeyboardInterrupt
        log.append((config.__trial_id__, config.__num_halved__))
        return objective(config)

    return train


@pytest.mark.parametrize(
    ("make_schedule", "stop_after"),
    [
        (lambda: HyperbandSchedule(27, 3), 20),  # inside rung 0 of the first bracket
        (lambda: HyperbandSchedule(27, 3), 31),  # inside rung 1
        (lambda: ASHASchedule(27, 3, max_trials=30), 25),
        (lambda: SuccessiveHalvingSchedule(0.5, 2, num_configs=12, max_budget=8), 15),
    ],
)
def test_resumed_search_makes_the_same_decisions_as_an_uninterrupted_one(
    make_schedule: Any, stop_after: int, capsys: pytest.CaptureFixture[str]
) -> None:
    reference_calls: list = []
    reference = _search(make_schedule(), RandomSampler(seed=11), tracker=SearchLogger()).main(
        _interrupting(-1, reference_calls)
    )()

    logger, first_calls = SearchLogger(), []
    with pytest.raises(KeyboardInterrupt):
        _search(make_schedule(), RandomSampler(seed=11), tracker=logger, search_id="r1").main(
            _interrupting(stop_after, first_calls)
        )()
    assert "search_id='r1', resume=True" in capsys.readouterr().err
    assert [r["status"] for r in logger.runs.values()].count("killed") == 1

    resumed_calls: list = []
    resumed = _search(
        make_schedule(), RandomSampler(seed=11), tracker=logger, search_id="r1", resume=True
    ).main(_interrupting(-1, resumed_calls))()

    assert resumed.config == reference.config and resumed.metric == reference.metric
    assert _strip(resumed.logs) == _strip(reference.logs)
    assert not set(first_calls) & set(resumed_calls)  # finished runs are not run again
    assert sorted(first_calls + resumed_calls) == sorted(reference_calls)
    completed = [r for r in logger.runs.values() if r["status"] == "completed"]
    assert len(completed) == len(reference_calls)


def test_resuming_a_finished_search_runs_nothing() -> None:
    logger = SearchLogger()
    first = _search(HyperbandSchedule(9, 3), tracker=logger, search_id="done").main(objective)()
    again = _search(HyperbandSchedule(9, 3), tracker=logger, search_id="done", resume=True).main(
        lambda config: pytest.fail("a finished trial ran again")
    )()
    assert again.metric == first.metric and again.run_id == first.run_id


def test_resume_without_a_tracker_is_a_clear_error() -> None:
    search = _search(HyperbandSchedule(9, 3), search_id="x", resume=True)
    with pytest.raises(SearchSettingError, match="resume=True needs the tracker"):
        search.main(objective)()


def test_sigterm_marks_the_running_trial_killed_and_says_how_to_resume(capsys) -> None:
    logger = SearchLogger()

    def train(config: Any) -> float:
        if config.__trial_id__ == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return objective(config)

    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SearchInterrupted, match="SIGTERM"):
        _search(HyperbandSchedule(9, 3), tracker=logger, search_id="t1").main(train)()
    assert signal.getsignal(signal.SIGTERM) == previous
    statuses = [r["status"] for r in logger.runs.values()]
    assert statuses == ["completed"] * 3 + ["killed"]
    assert "resume=True" in capsys.readouterr().err
