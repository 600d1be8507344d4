"""The search-run contract, public: how a search's facts (search id, bracket, rung, trial id,
budget, mode, ranked metric key, answer flag) are stored as run tags and read back.

Its one implementation is `ato.tracker.storage.search_runs` (the storage room owns the format);
ato-hyperopt never imports it: it passes the facts through its ``SearchRunLogger`` protocol and
`SQLLogger` stores them here.
"""

from .storage.search_runs import (
    ANSWER_TAG,
    SEARCH_PREFIX,
    SearchFacts,
    SearchRun,
    build_tags,
    contract_tags,
    is_answer,
    parse_tags,
    search_id_of,
    search_tag,
)

__all__ = [
    "ANSWER_TAG",
    "SEARCH_PREFIX",
    "SearchFacts",
    "SearchRun",
    "build_tags",
    "contract_tags",
    "is_answer",
    "parse_tags",
    "search_id_of",
    "search_tag",
]
