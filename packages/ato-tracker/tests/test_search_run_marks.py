"""SQLLogger.mark_search_runs: a search's driver closes the runs of an evaluation whose
process it killed (a Ray task cancelled by force) - only that evaluation's runs, only those
still running."""

from __future__ import annotations

import pytest

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.errors import InvalidStatusError
from ato.tracker.search_runs import SearchRun


def test_only_the_running_runs_of_that_evaluation_are_marked(sqlite_url: str) -> None:
    def start(trial: int, rung: int, search: str = "s1") -> tuple[SQLLogger, int]:
        logger = SQLLogger.from_url(sqlite_url, "p")
        facts = SearchRun(search_id=search, rung=rung, trial_id=trial, bracket=0, budget=1)
        return logger, logger.start_search_run(facts)

    killed = SearchRun(search_id="s1", rung=1, trial_id=3, bracket=0, budget=1)
    _, dead = start(3, 1)
    _, other_trial = start(13, 1)
    _, other_rung = start(3, 0)
    _, other_search = start(3, 1, "s2")
    closed, done = start(3, 1)  # the same evaluation, already closed by its process
    closed.finish("completed")
    driver = SQLLogger.from_url(sqlite_url, "p")
    assert driver.mark_search_runs(killed, "killed") == [dead]
    assert driver.mark_search_runs(killed, "killed") == []
    statuses = {r.id: r.status for r in SQLFinder(sqlite_url).get_search_runs("s1")}
    assert statuses == {
        dead: "killed",
        other_trial: "running",
        other_rung: "running",
        done: "completed",
    }
    assert other_search not in statuses
    with pytest.raises(InvalidStatusError):
        driver.mark_search_runs(killed, "paused")
