"""The search-run contract (``ato.tracker.search_runs``): the tags stored for a search's
evaluations are the strings earlier versions wrote, and read back into the same facts."""

from __future__ import annotations

import pytest

from ato.tracker import search_runs
from ato.tracker.search_runs import SearchRun, build_tags, parse_tags


def test_full_facts_are_stored_as_the_tags_earlier_versions_wrote() -> None:
    facts = SearchRun(
        search_id="s1", rung=2, trial_id="7", bracket=1, budget=9, mode="max", metric_key="acc"
    )
    assert build_tags(facts) == [
        "search:s1",
        "round:2",
        "trial:7",
        "rung:2",
        "budget:9",
        "bracket:1",
        "mode:max",
        "metric_key:acc",
    ]


def test_seed_and_imported_layouts() -> None:
    assert build_tags(SearchRun(search_id="hb", rung=0)) == ["search:hb", "round:0"]
    study = SearchRun(search_id="st", trial_id="3", mode="min", metric_key="value")
    assert build_tags(study) == ["search:st", "trial:3", "mode:min", "metric_key:value"]
    assert build_tags(SearchRun(search_id="a", rung=1, answer=True))[-1] == "final"
    with pytest.raises(ValueError, match="search id"):
        build_tags(SearchRun(rung=0))


def test_parse_reads_back_what_build_wrote() -> None:
    facts = SearchRun(
        search_id="s1",
        rung=3,
        trial_id="12",
        bracket=0,
        budget=2.5,
        mode="min",
        metric_key="val/loss",
        answer=True,
        contract=True,
    )
    assert parse_tags(build_tags(facts)) == facts


def test_parse_reads_older_layouts() -> None:
    older = parse_tags(["search:x", "round:4", "trial_id:9", "note", "final"])
    assert (older.search_id, older.rung, older.trial_id) == ("x", 4, "9")
    assert older.answer and not older.contract and older.bracket is None
    assert parse_tags(["round:1", "rung:2"]).rung == 2  # rung: wins over round:
    odd = parse_tags(["search:a:b", "rung:x", "budget:nan", "bracket:1.5", "search:later"])
    assert (odd.search_id, odd.rung, odd.budget, odd.bracket) == ("a:b", None, None, None)
    assert parse_tags(["baseline"]) == SearchRun()


def test_search_tag_id_and_contract_tags() -> None:
    tags = ["ablation", "search:ab12", "round:1", "trial:3", "final", "note:x"]
    assert search_runs.search_tag("ab12") == "search:ab12"
    assert search_runs.search_id_of(tags) == "ab12"
    assert search_runs.search_id_of(["ablation"]) is None
    assert search_runs.contract_tags(tags) == ["search:ab12", "round:1", "trial:3"]
    assert search_runs.is_answer(tags) and not search_runs.is_answer(["finals"])
