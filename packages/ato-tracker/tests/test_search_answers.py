"""The answer of a search (``ato.tracker.answers``) through ``SQLFinder.find_search_answer`` and
``ato runs best --search``, and ``SQLLogger.add_tags`` - on SQLite and both servers.

Runs are written as the search-run contract says ato-hyperopt writes them: tags ``search:``,
``trial_id:``, ``rung:``, ``budget:``, ``bracket:``, ``mode:``, ``metric_key:``, the ranked value
under ``search/<key>`` at ``step=rung``; older searches as ``round:`` tags and the plain key.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import pytest

from ato.adict import ADict
from ato.tracker import RunStateError, SQLFinder, SQLLogger, TrackerConfigError
from ato.tracker.answers import running_answers, search_answer
from ato.tracker.cli import main
from ato.tracker.errors import RunNotFoundError

NAN = float("nan")


class Ev(NamedTuple):
    """One evaluation: trial, bracket, rung, budget, ranked value (None: not logged), status."""

    trial: int
    bracket: int
    rung: int
    budget: float
    value: float | None
    status: str = "completed"


def _logger(db: str) -> SQLLogger:
    return SQLLogger(ADict(experiment=ADict(project_name="digits", sql=ADict(db_path=db))))


def write_search(
    db: str,
    evaluations: list[Ev],
    *,
    search: str = "s1",
    mode: str = "max",
    key: str = "val/acc",
    own_curve: bool = True,
) -> dict[tuple[int, int, int], int]:
    """Write ``evaluations`` in order as contract runs; ``{(trial, bracket, rung): run_id}``.
    Each trial also logs the user's own ``key`` per epoch (unless not ``own_curve``), which
    the answer must ignore."""
    logger = _logger(db)
    ids = {}
    for ev in evaluations:
        tags = [
            f"search:{search}",
            f"round:{ev.rung}",
            f"trial_id:{ev.trial}",
            f"rung:{ev.rung}",
            f"budget:{ev.budget:g}",
            f"bracket:{ev.bracket}",
            f"mode:{mode}",
            f"metric_key:{key}",
        ]
        run_id = logger.run(tags=tags, config={"lr": 0.1 * (ev.trial + 1), "hidden": 16})
        for epoch in range(int(ev.budget) if own_curve else 0):
            logger.log_metric(key, 0.99 if mode == "max" else 0.01, epoch)  # a mid-run peak
        if ev.value is not None:
            logger.log_metric(f"search/{key}", ev.value, ev.rung)
        logger.finish(ev.status)
        ids[(ev.trial, ev.bracket, ev.rung)] = run_id
    logger.close()
    return ids


def write_old_search(
    db: str, rounds: list[tuple[int, float, str, bool]], *, search: str = "old"
) -> list[int]:
    """Runs as ato-hyperopt wrote them before ``bracket:``/``mode:`` tags: ``(round, val/acc,
    status, final)`` each; the value under the plain key at ``step=round``."""
    logger = _logger(db)
    ids = []
    for n, (rnd, value, status, final) in enumerate(rounds):
        tags = [f"search:{search}", f"round:{rnd}", *(["final"] if final else [])]
        ids.append(logger.run(tags=tags, config={"lr": n, "__num_halved__": rnd}))
        logger.log_metric("train_loss", 1.0 / (n + 1), 0)
        if status == "completed":
            logger.log_metric("val/acc", value, rnd)
        logger.finish(status)
    logger.close()
    return ids


# Hyperband R=27, eta=3 (four brackets). The highest rung index (bracket 0, rung 3) is not the
# best; a lower budget holds a higher value; the answer is (trial 12, bracket 2, rung 1).
HYPERBAND = [
    *(Ev(t, 0, 0, 1, 0.50 + 0.01 * t) for t in range(9)),
    Ev(6, 0, 1, 3, 0.80),
    Ev(7, 0, 1, 3, 0.81),
    Ev(8, 0, 1, 3, 0.82),
    Ev(8, 0, 2, 9, 0.995),  # the highest value of all, at budget 9: not the answer
    Ev(8, 0, 3, 27, 0.95),  # the highest rung index
    *(Ev(t, 1, 0, 3, 0.70 + 0.01 * t) for t in range(9, 12)),
    Ev(11, 1, 1, 9, 0.90),
    Ev(11, 1, 2, 27, 0.96),
    Ev(12, 2, 0, 9, 0.93),
    Ev(13, 2, 0, 9, 0.92),
    Ev(12, 2, 1, 27, 0.98),
    Ev(14, 3, 0, 27, 0.97),
]
# Successive halving (one bracket): the top rung's best.
HALVING = [
    *(Ev(t, 0, 0, 1, 0.6 + 0.01 * t) for t in range(4)),
    Ev(2, 0, 1, 2, 0.7),
    Ev(3, 0, 1, 2, 0.75),
    Ev(3, 0, 2, 4, 0.74),
]
# ASHA: the top rung (budget 9) holds only a failed evaluation: the answer is at budget 3.
ASHA = [
    Ev(0, 0, 0, 1, 0.5),
    Ev(1, 0, 0, 1, 0.9),
    Ev(0, 0, 1, 3, 0.6),
    Ev(1, 0, 1, 3, 0.8),
    Ev(2, 0, 0, 1, 0.4),
    Ev(1, 0, 2, 9, None, "failed"),
]
# The best value at the top budget failed, was killed or is NaN; the completed one is the answer.
FAILED_TOP = [
    Ev(0, 0, 0, 9, 0.7),
    Ev(1, 0, 0, 9, 0.8),
    Ev(0, 1, 0, 27, 0.99, "failed"),
    Ev(1, 1, 0, 27, 0.985, "killed"),
    Ev(2, 1, 0, 27, NAN),
    Ev(3, 1, 0, 27, 0.6),
]
# Ties at the top budget: the lower trial id wins although its run came later.
TIES = [
    Ev(5, 0, 0, 3, 0.9),
    Ev(2, 1, 0, 3, 0.9),
    Ev(7, 2, 0, 3, 0.5),
]
# Minimised: the smallest loss at the top budget; a smaller one at a lower budget is ignored.
MINIMISED = [
    Ev(0, 0, 0, 1, 0.05),
    Ev(1, 0, 0, 1, 0.5),
    Ev(1, 0, 1, 4, 0.3),
    Ev(2, 1, 0, 4, 0.2),
    Ev(3, 1, 0, 4, 0.25),
]

CASES = {
    "hyperband": (HYPERBAND, "max", (12, 2, 1), 0.98, 27),
    "halving": (HALVING, "max", (3, 0, 2), 0.74, 4),
    "asha": (ASHA, "max", (1, 0, 1), 0.8, 3),
    "failed-top": (FAILED_TOP, "max", (3, 1, 0), 0.6, 27),
    "ties": (TIES, "max", (2, 1, 0), 0.9, 3),
    "minimised": (MINIMISED, "min", (2, 1, 0), 0.2, 4),
}


def ato(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("case", sorted(CASES))
def test_answer_is_the_best_completed_at_the_largest_budget(capsys, db_url, case):
    evaluations, mode, where, value, budget = CASES[case]
    key = "val/loss" if mode == "min" else "val/acc"
    ids = write_search(db_url, evaluations, mode=mode, key=key)
    answer = SQLFinder(db_url).find_search_answer("s1")
    assert answer.run_id == ids[where]
    assert (answer.value, answer.budget, answer.mode) == (value, budget, mode)
    assert answer.key == f"search/{key}" and answer.contract
    code, out, err = ato(capsys, "--db", db_url, "--json", "runs", "best", "--search", "s1")
    assert code == 0, err
    data = json.loads(out)
    assert (data["run"]["id"], data["value"], data["metric"]) == (
        ids[where],
        value,
        f"search/{key}",
    )
    assert data["search"]["budget"] == budget
    code, out, _ = ato(capsys, "--db", db_url, "runs", "best", "--search", "s1", "--metric", key)
    assert code == 0 and f"by {key} ({mode}" in out  # the user's own curve, as logged
    assert f"with {key} = {0.99 if mode == 'max' else 0.01:g}" in out


@pytest.mark.parametrize("metric", [None, "val/acc", "search/val/acc"])
def test_search_answer_ranks_the_given_key_as_logged(capsys, db_url, metric):
    """The trials' own ``val/acc`` (0.99 in each) differs from the search's value: ranked by
    it, the tie at the largest budget goes to the earliest trial."""
    ids = write_search(
        db_url, [Ev(0, 0, 0, 3, 0.5), Ev(1, 0, 0, 3, 0.7), Ev(1, 0, 1, 9, 0.6), Ev(0, 0, 1, 9, 0.8)]
    )
    answer = SQLFinder(db_url).find_search_answer("s1", metric=metric)
    own = metric in (None, "search/val/acc")
    assert answer.key == (metric or "search/val/acc") and answer.mode == "max"
    assert answer.run_id == ids[(0, 0, 1)] and answer.value == (0.8 if own else 0.99)
    args = ["--db", db_url, "--json", "runs", "best", "--search", "s1"]
    code, out, _ = ato(capsys, *args, *(["--metric", metric] if metric else []))
    assert code == 0 and json.loads(out)["metric"] == answer.key
    write_search(db_url, [Ev(0, 0, 0, 3, 0.5), Ev(1, 0, 0, 3, 0.7)], search="s2", own_curve=False)
    alias = SQLFinder(db_url).find_search_answer("s2", metric=metric)
    assert alias.key == "search/val/acc" and alias.value == 0.7  # no trial logged val/acc


@pytest.mark.parametrize(
    "extra", [[], ["--metric", "val/acc"], ["--metric", "search/val/acc", "--json"]]
)
def test_runs_best_search_refuses_by_best(capsys, db_url, extra):
    write_search(db_url, [Ev(0, 0, 0, 3, 0.5)])
    code, out, err = ato(
        capsys, "--db", db_url, "runs", "best", "--search", "s1", "--by", "best", *extra
    )
    assert code == 2 and out == ""
    assert "not --by best" in err and "ato runs best --metric KEY --by best" in err


def test_equal_trial_ids_tie_to_the_lower_run(db_url):
    ids = write_search(db_url, [Ev(4, 0, 0, 9, 0.8), Ev(4, 1, 0, 9, 0.8), Ev(1, 0, 0, 3, 0.9)])
    assert SQLFinder(db_url).find_search_answer("s1").run_id == ids[(4, 0, 0)]


@pytest.mark.parametrize(
    "evaluations",
    [
        [Ev(0, 0, 0, 1, None, "failed"), Ev(1, 0, 0, 1, None, "killed")],
        [Ev(0, 0, 0, 1, NAN), Ev(1, 0, 0, 1, 0.9, "failed")],
        [Ev(0, 0, 0, 3, float("inf")), Ev(1, 0, 0, 3, 0.7, "running")],
    ],
    ids=["failed-and-killed", "nan-and-failed", "inf-and-running"],
)
def test_no_completed_evaluation_means_no_answer(capsys, db_url, evaluations):
    write_search(db_url, evaluations)
    answer = SQLFinder(db_url).find_search_answer("s1")
    assert answer.run_id is None and not answer.found
    assert "no evaluation completed with a finite value of 'search/val/acc'" in answer.reason
    code, out, err = ato(capsys, "--db", db_url, "runs", "best", "--search", "s1")
    assert code == 1 and out == ""
    assert "search 's1' has no answer: no evaluation completed" in err


def test_the_final_tag_is_reported_but_the_rule_decides(db_url):
    ids = write_search(db_url, HYPERBAND)
    logger = _logger(db_url)
    logger.add_tags(["final"], run_id=ids[(12, 2, 1)])
    finder = SQLFinder(db_url)
    assert finder.find_search_answer("s1").tagged_final
    logger.add_tags("final", run_id=ids[(8, 0, 3)])  # a wrong tag does not move the answer
    answer = finder.find_search_answer("s1")
    assert answer.run_id == ids[(12, 2, 1)]


@pytest.mark.parametrize(
    ("rounds", "expected", "value"),
    [
        (
            [
                (0, 0.5, "completed", False),
                (0, 0.9, "completed", False),
                (1, 0.85, "completed", True),
            ],
            2,
            0.85,
        ),
        (
            [(0, 0.5, "completed", False), (0, 0.9, "completed", False), (1, 0.0, "failed", True)],
            1,
            0.9,
        ),
        (
            [(0, 0.5, "completed", False), (1, 0.6, "completed", False), (1, 0.0, "killed", True)],
            1,
            0.6,
        ),
        (
            [
                (0, 0.9, "completed", False),
                (1, 0.6, "completed", False),
                (1, 0.7, "completed", False),
            ],
            2,
            0.7,
        ),
    ],
    ids=["final-completed", "final-failed", "final-killed", "no-final"],
)
def test_older_searches_keep_their_answer(capsys, db_url, rounds, expected, value):
    ids = write_old_search(db_url, rounds)
    answer = SQLFinder(db_url).find_search_answer("old")
    assert (answer.run_id, answer.value, answer.key, answer.contract) == (
        ids[expected],
        value,
        "val/acc",
        False,
    )
    code, out, err = ato(capsys, "--db", db_url, "--json", "runs", "best", "--search", "old")
    assert code == 0, err
    assert (json.loads(out)["run"]["id"], json.loads(out)["value"]) == (ids[expected], value)


# -- ato runs best --metric KEY --by last|best ------------------------------------------------


def _curves(db: str, curves: list[list[float]]) -> list[int]:
    logger = _logger(db)
    ids = []
    for values in curves:
        ids.append(logger.run(tags=["plain"]))
        for step, value in enumerate(values):
            logger.log_metric("val/acc", value, step)
        logger.finish()
    logger.close()
    return ids


@pytest.mark.parametrize(
    ("curves", "by_last", "by_best"),
    [
        ([[0.5, 0.95, 0.6], [0.7, 0.8]], 1, 0),  # a mid-training peak
        ([[0.9, 0.7], [0.8, 0.85], [0.1, 0.85]], 1, 0),  # a tie of last values: lower id
        ([[0.4, NAN], [0.3, 0.35]], 1, 0),  # a NaN last value ranks last
    ],
)
def test_best_by_last_or_best_value(capsys, db_url, curves, by_last, by_best):
    ids = _curves(db_url, curves)
    base = ("--db", db_url, "--project", "digits", "--json", "runs", "best", "--metric", "val/acc")
    code, out, err = ato(capsys, *base)
    assert code == 0, err
    default = json.loads(out)
    assert (default["run"]["id"], default["by"]) == (ids[by_last], "last")
    table = json.loads(ato(capsys, "--db", db_url, "--json", "runs", "list")[1])
    shown = {run["id"]: run["metrics"]["val/acc"]["last"] for run in table}
    assert default["value"] == shown[ids[by_last]]  # the table and `best` agree
    for by, expected in (("last", by_last), ("best", by_best)):
        code, out, _ = ato(capsys, *base, "--by", by)
        assert json.loads(out)["run"]["id"] == ids[expected]
        run = SQLFinder(db_url).find_best_run("digits", "val/acc", "max", by=by)
        assert run is not None and run.id == ids[expected]
    code, out, _ = ato(capsys, *base[:4], "runs", "best", "--metric", "val/acc")
    assert code == 0 and "by the last value of val/acc (max)" in out


def test_find_best_run_rejects_an_unknown_reduction(db_url):
    _curves(db_url, [[0.1]])
    with pytest.raises(ValueError, match="by must be 'last' or 'best'"):
        SQLFinder(db_url).find_best_run("digits", "val/acc", by="mean")


# -- SQLLogger.add_tags ------------------------------------------------------------------------


def _tags(db: str, run_id: int) -> list[str]:
    run = SQLFinder(db).find_run(run_id)
    assert run is not None
    return run.tags


def test_add_tags_to_the_current_and_to_other_runs(db_url):
    logger = _logger(db_url)
    first = logger.run(tags=["search:s", "rung:0"])
    assert logger.add_tags(["a", "b"]) == ["search:s", "rung:0", "a", "b"]
    logger.finish()
    second = logger.run(tags="x")
    logger.finish("failed")
    assert logger.add_tags(["final", "a", "final"], run_id=first) == [
        "search:s",
        "rung:0",
        "a",
        "b",
        "final",
    ]
    assert logger.add_tags("final") == ["x", "final"]  # after finish(): the run started last
    assert logger.add_tags(first, ["final", "late"])[-1] == "late"  # the contract's order
    assert _tags(db_url, second) == ["x", "final"]
    assert _tags(db_url, first) == ["search:s", "rung:0", "a", "b", "final", "late"]
    assert SQLFinder(db_url).find_run(second).status == "failed"  # the status is kept


@pytest.mark.parametrize("tags", [["final"], "final", ("final", "final")])
def test_add_tags_is_idempotent(db_url, tags):
    logger = _logger(db_url)
    run_id = logger.run(tags=["search:s"])
    logger.finish()
    for _ in range(3):
        logger.add_tags(tags, run_id=run_id)
    assert _tags(db_url, run_id) == ["search:s", "final"]


def test_add_tags_errors(db_url):
    logger = _logger(db_url)
    with pytest.raises(RunStateError, match=r"add_tags\(\) needs a run"):
        logger.add_tags(["final"])
    with pytest.raises(RunNotFoundError, match="no run with id 9999"):
        logger.add_tags(["final"], run_id=9999)
    for bad in (None, 3.5, {"a": 1}):
        with pytest.raises(TrackerConfigError, match="a tag string or a list of tags"):
            logger.add_tags(bad)


def test_list_search_marks_the_answer_by_the_rule(capsys, db_url):
    ids = write_search(db_url, FAILED_TOP)
    _logger(db_url).add_tags("final", run_id=ids[(0, 1, 0)])  # a failed run wrongly tagged
    code, out, err = ato(capsys, "--db", db_url, "--json", "runs", "list", "--search", "s1")
    assert code == 0, err
    rows = {run["id"]: run for run in json.loads(out)}
    assert [i for i in rows if rows[i]["answer"]] == [ids[(3, 1, 0)]]
    assert [i for i in rows if rows[i]["final"]] == [ids[(0, 1, 0)]]
    code, out, _ = ato(capsys, "--db", db_url, "runs", "list", "--search", "s1")
    assert f"{ids[(3, 1, 0)]} ★" in out and f"{ids[(0, 1, 0)]} ★" not in out


def _prefix_answers(finder: SQLFinder, search: str) -> tuple[list[int | None], list[int | None]]:
    """`running_answers` of the search, and the rule applied to each prefix of its runs."""
    found = finder.get_search(search)
    assert found is not None
    prefixes = [
        search_answer(found.runs[:n], found.summaries).run_id for n in range(1, len(found.runs) + 1)
    ]
    return running_answers(found.answer), prefixes


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("case", sorted(CASES))
def test_running_answers_equal_the_rule_over_every_prefix(db_url, case):
    evaluations, mode, where, _, _ = CASES[case]
    ids = write_search(
        db_url, evaluations, mode=mode, key="val/loss" if mode == "min" else "val/acc"
    )
    running, prefixes = _prefix_answers(SQLFinder(db_url), "s1")
    assert running == prefixes and running[-1] == ids[where]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_running_answers_of_an_older_search_with_a_final_run(db_url):
    ids = write_old_search(
        db_url,
        [(0, 0.9, "completed", False), (1, 0.6, "completed", False), (1, 0.7, "completed", True)],
    )
    running, prefixes = _prefix_answers(SQLFinder(db_url), "old")
    assert running == prefixes and running[-1] == ids[2] and running[0] == ids[0]
