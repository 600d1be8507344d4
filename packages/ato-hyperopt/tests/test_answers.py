"""The answer of a search (issue 21): evaluation counts equal Li et al.'s, one answer rule (best
completed evaluation at the largest budget; failed/NaN never the answer; none completed is an
error), no evaluation run only to produce it, the answer's run tagged ``final`` afterwards, the
ranked value under ``search/<metric_key>``, and a short ``repr``."""

from __future__ import annotations

import logging
import math
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
from helpers import FakeLogger, lr_search, quality

from ato.adict import ADict
from ato.hyperopt import (
    ANSWER_TAG,
    ASHASchedule,
    HyperBand,
    HyperbandSchedule,
    NoAnswerError,
    Search,
    SuccessiveHalvingSchedule,
    current_logger,
    trial_context,
)


def _search(schedule: Any, **options: Any) -> Search:
    return lr_search(schedule, seed=3, **options)


def _budgets(calls: list[tuple[int, Any]]) -> dict[Any, int]:
    return dict(sorted(Counter(budget for _, budget in calls).items()))


def _counting(calls: list[tuple[int, Any]], metric: Any = quality) -> Any:
    def train(config: Any) -> float:
        calls.append((config.__trial_id__, config.__budget__))
        return metric(config)  # type: ignore[no-any-return]

    return train


# -- evaluation counts ------------------------------------------------------------------------
# Li et al., "Hyperband", JMLR 18(185), 2018, Table 1 (R = 81, eta = 3): configurations per
# budget summed over the brackets s = 4..0 (81@1 | 27@3 34@3 | 9@9 11@9 15@9 | 3@27 3@27 5@27
# 8@27 | 1@81 1@81 1@81 2@81 5@81).
TABLE_1 = {1: 81, 3: 27 + 34, 9: 9 + 11 + 15, 27: 3 + 3 + 5 + 8, 81: 1 + 1 + 1 + 2 + 5}


def test_hyperband_r81_eta3_runs_as_many_evaluations_per_budget_as_li_et_al() -> None:
    calls: list[tuple[int, Any]] = []
    result = _search(HyperbandSchedule(81, 3)).main(_counting(calls))()
    assert _budgets(calls) == TABLE_1 and len(calls) == 206
    assert sum(len(log) for log in result.logs) == 206
    assert len(set(calls)) == len(calls)  # no (trial, budget) evaluated twice


@pytest.mark.parametrize(("max_budget", "eta"), [(27, 3), (16, 2), (9, 3)])
def test_hyperband_runs_exactly_its_bracket_table(max_budget: int, eta: int) -> None:
    schedule = HyperbandSchedule(max_budget, eta)
    expected: Counter[Any] = Counter()
    for bracket in schedule.brackets():
        for configs, budget in bracket:
            expected[budget] += configs
    calls: list[tuple[int, Any]] = []
    _search(schedule).main(_counting(calls))()
    assert _budgets(calls) == dict(sorted(expected.items()))


@pytest.mark.parametrize(
    ("num_configs", "max_budget", "counts"),
    [
        (81, 81, {1: 81, 3: 27, 9: 9, 27: 3, 81: 1}),  # Table 1, bracket s = 4
        (27, 27, {1: 27, 3: 9, 9: 3, 27: 1}),
        (9, 9, {1: 9, 3: 3, 9: 1}),
    ],
)
def test_successive_halving_runs_one_bracket_of_li_et_al(
    num_configs: int, max_budget: int, counts: dict[int, int]
) -> None:
    calls: list[tuple[int, Any]] = []
    schedule = SuccessiveHalvingSchedule(1 / 3, 1, num_configs=num_configs, max_budget=max_budget)
    result = _search(schedule).main(_counting(calls))()
    assert _budgets(calls) == counts
    assert result.budget == max_budget and len(set(calls)) == len(calls)


# -- the answer rule --------------------------------------------------------------------------
def _breaking(kind: str, at_budget: Any) -> Any:
    """A trial that fails in the way ``kind`` for every evaluation at ``at_budget``."""

    def train(config: Any) -> float:
        if config.__budget__ == at_budget:
            if kind == "raises":
                raise RuntimeError("diverged")
            return math.nan if kind == "nan" else math.inf
        return quality(config)

    return train


@pytest.mark.parametrize("kind", ["raises", "nan", "inf"])
@pytest.mark.parametrize(
    ("schedule", "top", "below"),
    [
        (lambda: HyperbandSchedule(27, 3), 27, 9),
        (lambda: SuccessiveHalvingSchedule(1 / 3, 1, num_configs=9, max_budget=9), 9, 3),
        (lambda: ASHASchedule(9, 3, max_trials=12), 9, 3),
    ],
)
def test_a_failed_top_budget_is_never_the_answer(
    kind: str, schedule: Any, top: int, below: int
) -> None:
    result = _search(schedule()).main(_breaking(kind, top))()
    assert math.isfinite(result.metric) and result.budget == below
    done = [
        e
        for log in result.logs
        for e in log
        if e.__budget__ == below and "__error__" not in e and math.isfinite(e.__metric__)
    ]
    best = max(done, key=lambda e: (e.__metric__, -e.__trial_id__))
    assert (result.trial_id, result.metric) == (best.__trial_id__, best.__metric__)


@pytest.mark.parametrize("kind", ["raises", "nan"])
def test_the_presets_top_round_failing_falls_back_to_the_round_below(kind: str) -> None:
    spaces = {"x": dict(param_type="INTEGER", param_range=(0, 7), num_samples=8)}
    hb = HyperBand(ADict(x=0), spaces, halving_rate=0.5, num_min_samples=2, progress=False)
    top = hb.num_generations() - 1

    def train(config: Any) -> float:
        if config.__num_halved__ == top:
            if kind == "raises":
                raise RuntimeError("the final round diverged")
            return math.nan
        return float(config.x)

    result = train_result = hb.main(train)()
    assert result.metric == 7.0 and train_result.config.__num_halved__ == top - 1


def test_ties_go_to_the_earlier_trial() -> None:
    result = _search(HyperbandSchedule(9, 3)).main(lambda config: 1.0)()
    assert result.trial_id == min(
        e.__trial_id__ for log in result.logs for e in log if e.__budget__ == 9
    )


@pytest.mark.parametrize(
    "metric",
    [
        lambda config: (_ for _ in ()).throw(ValueError("always fails")),
        lambda config: math.nan,
        lambda config: math.nan if config.__trial_id__ % 2 else -math.inf,
    ],
    ids=["raises", "nan", "nan-and-inf"],
)
@pytest.mark.parametrize("preset", [False, True])
def test_a_search_without_a_completed_evaluation_has_no_answer(metric: Any, preset: bool) -> None:
    if preset:
        spaces = {"x": dict(param_type="INTEGER", param_range=(0, 3), num_samples=4)}
        search: Any = HyperBand(
            ADict(x=0, __trial_id__=0), spaces, halving_rate=0.5, num_min_samples=2, progress=False
        )
    else:
        search = _search(HyperbandSchedule(9, 3), search_id="none")
    with pytest.raises(NoAnswerError, match="has no answer: none of its") as info:
        search.main(metric)()
    assert info.value.logs and all("__metric__" in e for log in info.value.logs for e in log)


# -- no evaluation only for the answer; final_evaluation=True on request ------------------------
def test_final_evaluation_is_an_explicit_option_that_evaluates_the_answer_once_more() -> None:
    calls: list[tuple[int, Any]] = []
    plain = _search(HyperbandSchedule(81, 3)).main(_counting([]))()
    again = _search(HyperbandSchedule(81, 3), final_evaluation=True).main(_counting(calls))()
    assert _budgets(calls) == {**TABLE_1, 81: TABLE_1[81] + 1}
    assert calls[-1] == (plain.trial_id, 81) and again.trial_id == plain.trial_id
    assert again.logs[-1][0].__num_halved__ == 5  # one rung above the top one


def test_a_failed_final_evaluation_leaves_the_rules_answer() -> None:
    calls: list[bool] = []

    def train(config: Any) -> float:
        calls.append(trial_context().is_answer)
        if trial_context().is_answer:  # only the extra evaluation
            raise RuntimeError("the re-evaluation crashed")
        return quality(config)

    plain = _search(HyperbandSchedule(9, 3)).main(quality)()
    result = _search(HyperbandSchedule(9, 3), final_evaluation=True).main(train)()
    assert calls.count(True) == 1 and calls[-1]
    assert "__error__" in result.logs[-1][0] and "__error__" not in result.config
    assert (result.trial_id, result.budget, result.metric) == (
        plain.trial_id,
        plain.budget,
        plain.metric,
    )


# -- the tracker: the answer's own run tagged final, the ranked value under search/<key> ---------
class WithoutAddTags(FakeLogger):
    """A tracker that cannot tag a finished run."""

    add_tags = None  # type: ignore[assignment]


@pytest.mark.parametrize(
    "schedule",
    [
        lambda: HyperbandSchedule(27, 3),
        lambda: SuccessiveHalvingSchedule(0.5, 2, num_configs=8, max_budget=8),
        lambda: ASHASchedule(9, 3, max_trials=10),
    ],
)
def test_the_run_that_holds_the_answer_is_tagged_final_and_no_run_is_added(schedule: Any) -> None:
    logger = FakeLogger()
    result = _search(schedule(), tracker=logger, search_id="t").main(quality)()
    assert len(logger.runs) == sum(len(log) for log in result.logs)
    assert [i for i, r in logger.runs.items() if ANSWER_TAG in r["tags"]] == [result.run_id]
    assert logger.tagged == [([ANSWER_TAG], result.run_id, None)]  # by id, after the runs
    tags = logger.runs[result.run_id]["tags"]
    assert f"trial:{result.trial_id}" in tags and f"budget:{result.budget}" in tags
    budgets = [
        e.__budget__ for log in result.logs for e in log if e.__trial_id__ == result.trial_id
    ]
    assert len(budgets) == len(set(budgets))  # the answer's trial ran no budget twice


def test_a_tracker_without_add_tags_keeps_the_answer_and_says_so(caplog) -> None:
    logger = WithoutAddTags()
    result = _search(HyperbandSchedule(9, 3), tracker=logger).main(quality)()
    assert not any(ANSWER_TAG in r["tags"] for r in logger.runs.values())
    assert result.run_id in logger.runs and logger.runs[result.run_id]["status"] == "completed"
    assert f"the answer's run {result.run_id} is not tagged 'final'" in caplog.text


@pytest.mark.parametrize("metric_key", ["val/acc", "metric", "acc"])
def test_the_ranked_value_never_touches_the_users_series(metric_key: str) -> None:
    logger = FakeLogger()

    def train(config: Any) -> float:
        ctx = trial_context()
        start = ctx.previous_budget or 0
        value = 0.0
        for epoch in range(start, ctx.budget):  # the trial logs its own curve, per epoch
            value = quality(config) - 1.0 / (epoch + 1)
            current_logger().log_metric(metric_key, value, epoch)
        return value  # ... and returns its last point

    result = _search(HyperbandSchedule(9, 3), tracker=logger, metric_key=metric_key).main(train)()
    for run in logger.runs.values():
        mine = [(value, step) for key, value, step in run["metrics"] if key == metric_key]
        ranked = [
            (value, step) for key, value, step in run["metrics"] if key == "search/" + metric_key
        ]
        rung = int(next(t for t in run["tags"] if t.startswith("rung:"))[5:])
        steps = [step for _, step in mine]
        assert steps == sorted(steps) and len(set(steps)) == len(steps)  # one clean curve
        assert ranked == [(mine[-1][0], rung)]
        assert f"metric_key:{metric_key}" in run["tags"] and "mode:max" in run["tags"]
    assert logger.runs[result.run_id]["metrics"][-1][0] == "search/" + metric_key


def test_resume_reads_the_ranked_value_back_and_old_runs_by_their_key() -> None:
    from ato.hyperopt.history import load_history

    def run(i: int, tags: list[str], metrics: list[tuple[str, float, int]]) -> SimpleNamespace:
        return SimpleNamespace(id=i, tags=["search:s", *tags], status="completed", metrics=metrics)

    runs = [
        run(
            1,
            ["trial:0", "rung:0", "metric_key:acc"],
            [("acc", 0.1, 0), ("acc", 0.2, 1), ("search/acc", 0.2, 0)],
        ),
        run(2, ["trial:1", "rung:0", "metric_key:acc"], [("acc", 0.9, 0)]),  # NaN: not logged
        run(3, ["trial:2", "rung:0"], [("acc", 0.7, 0)]),  # a search from before search/<key>
    ]
    tracker = SimpleNamespace(search_runs=lambda search_id: runs)
    history = load_history(tracker, None, "s", "acc", -math.inf)
    assert history[(0, 0)].metric == 0.2 and history[(2, 0)].metric == 0.7
    assert math.isnan(history[(1, 0)].metric)


# -- what a result looks like ---------------------------------------------------------------
def test_the_repr_of_a_result_is_one_short_line() -> None:
    result = _search(HyperbandSchedule(81, 3), search_id="r").main(quality)()
    text = repr(result)
    assert "\n" not in text and len(text) < 200
    assert f"trial {result.trial_id} at budget 81" in text and "206 evaluations, 0 failed" in text
    assert f"metric={result.metric:.6g}" in text and "search_id='r'" in text
    assert isinstance(result, ADict) and set(result) == {
        "config",
        "metric",
        "logs",
        "search_id",
        "run_id",
        "trial_id",
        "budget",
        "timed_out",
    }


def test_a_preset_result_keeps_the_seeds_keys_and_a_short_repr(caplog) -> None:
    caplog.set_level(logging.INFO, logger="ato.hyperopt")
    spaces = {"x": dict(param_type="INTEGER", param_range=(0, 9), num_samples=10)}
    hb = HyperBand(ADict(x=0), spaces, halving_rate=0.5, num_min_samples=2, search_id="p")
    result = hb.main(lambda config: float(config.x))()
    assert set(result) == {"config", "metric", "logs", "search_id", "run_id"}
    assert repr(result) == (
        f"SearchResult(search_id='p', answer: rung {hb.num_generations() - 1}, metric=9, "
        f"run_id=None, {sum(hb.round_sizes())} evaluations, 0 failed)"
    )
