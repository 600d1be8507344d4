"""ato-hyperopt's facts and ato-tracker's storage of them agree (the search-run contract):
ato-tracker's ``SQLLogger`` follows ato-hyperopt's ``SearchRunLogger`` protocol, and a logger
that only takes tags gets the very strings ``ato.tracker.search_runs`` stores and parses."""

from __future__ import annotations

import itertools

from ato.hyperopt import SearchRunFacts, SearchRunLogger, TrialLogger
from ato.tracker import SQLLogger, search_runs


def _all_facts() -> list[SearchRunFacts]:
    out = []
    for trial, budget, answer in itertools.product((None, 4), (None, 3, 1.5), (False, True)):
        extra = {} if trial is None else {"bracket": 2, "mode": "min", "metric_key": "val/acc"}
        out.append(SearchRunFacts("s9", 1, trial, budget=budget, answer=answer, **extra))
    return out


def test_sql_logger_follows_the_protocols() -> None:
    assert issubclass(SQLLogger, SearchRunLogger) and issubclass(SQLLogger, TrialLogger)


def test_tags_of_tag_only_loggers_are_the_trackers_tags() -> None:
    for facts in _all_facts():
        assert facts.tags() == search_runs.build_tags(facts), facts


def test_both_sides_read_the_same_facts_back() -> None:
    for facts in _all_facts():
        stored = search_runs.build_tags(facts)
        parsed = search_runs.parse_tags(stored)
        assert parsed.search_id == facts.search_id and parsed.rung == facts.rung
        assert parsed.answer == facts.answer and parsed.budget == facts.budget
        if facts.trial_id is not None:
            assert SearchRunFacts.from_tags(stored) == facts
            assert parsed.trial_id == str(facts.trial_id) and parsed.mode == facts.mode


def test_a_search_run_is_stored_with_the_contract_tags(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    logger = SQLLogger({"experiment": {"project_name": "p", "sql": {"db_path": db}}})
    facts = SearchRunFacts("s9", 0, 3, bracket=0, budget=1, mode="max", metric_key="acc")
    run_id = logger.start_search_run(facts)
    logger.finish()
    assert logger.mark_search_answer(run_id) == [*facts.tags(), "final"]
    logger.close()
