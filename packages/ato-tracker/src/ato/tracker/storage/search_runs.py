"""The search-run contract: how the evaluations of a hyperparameter search are stored as run
tags, and read back. The only place that writes or parses these tags.

A search (ato-hyperopt, or an importer) describes each evaluation - one trial at one rung - by
a few facts: search id, rung, trial id, bracket, budget, mode, the user's metric key, and
whether the run holds the search's answer. ato-hyperopt hands them to
[`SQLLogger.start_search_run`][ato.tracker.SQLLogger.start_search_run] (its ``SearchRunLogger``
protocol) without importing the tracker; `build_tags` stores them as these tags, in order:

| tag                    | fact                                                         |
|------------------------|--------------------------------------------------------------|
| ``search:<id>``        | the search id (every run of a search)                        |
| ``round:<k>``          | the rung (the seed's name; every run of ato-hyperopt)        |
| ``trial:<n>``          | the trial (configuration) id, stable across rungs            |
| ``rung:<k>``           | the rung (with a trial id)                                   |
| ``budget:<b>``         | the evaluation's budget (only when the schedule has budgets) |
| ``bracket:<s>``        | the Hyperband bracket                                        |
| ``mode:<max|min>``     | the search's direction                                       |
| ``metric_key:<key>``   | the user's key; the search logs its value under ``search/<key>`` |
| ``objective:<mode>:<key>`` | one per objective, in order, of a search with several objectives (instead of ``mode:``/``metric_key:``); values under ``search/<key>`` |
| ``constraint:<key>``   | one per constraint; values under ``search/<key>``, feasible when ``<= 0`` |
| ``final``              | the run holding the search's answer (added when it ends)     |

`parse_tags` reads them back (also from runs written before this module existed: older
searches have ``round:`` without ``rung:``, a ``trial_id:`` tag instead of ``trial:``, and no
``bracket:``/``mode:``). Readers (answers, finder, CLI, dashboard) use `parse_tags`,
`search_tag` and `search_id_of` only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

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

#: Tag of the run holding a search's answer.
ANSWER_TAG = "final"
#: Prefix of the metric key under which a search stores the value it ranks by.
SEARCH_PREFIX = "search/"
_SEARCH = "search"
#: Tags that only searches of the current layout write (``answers`` tells layouts apart by them).
_CONTRACT_NAMES = ("bracket", "mode", "objective")
#: Names of every ``name:value`` tag of the contract, older layouts' included.
_FACT_NAMES = frozenset(
    {
        _SEARCH,
        "round",
        "trial",
        "trial_id",
        "rung",
        "budget",
        "bracket",
        "mode",
        "metric_key",
        "objective",
        "constraint",
    }
)


class SearchFacts(Protocol):
    """The facts of one evaluation, as ato-hyperopt's ``SearchRunFacts`` (or a `SearchRun`)
    carries them. ``objectives`` (``((mode, key), ...)``) and ``constraint_keys`` are read
    when present (ato-hyperopt before multi-objective search did not have them)."""

    @property
    def search_id(self) -> str | None: ...
    @property
    def rung(self) -> int | None: ...
    @property
    def trial_id(self) -> int | str | None: ...
    @property
    def bracket(self) -> int | None: ...
    @property
    def budget(self) -> int | float | None: ...
    @property
    def mode(self) -> str | None: ...
    @property
    def metric_key(self) -> str | None: ...
    @property
    def answer(self) -> bool: ...


@dataclass(frozen=True)
class SearchRun:
    """The contract facts read back from a run's tags (`parse_tags`); ``None`` where a tag is
    missing or unreadable.

    Attributes:
        search_id: the first ``search:`` tag's id.
        rung: the ``rung:`` tag, else the ``round:`` tag (an int).
        trial_id: the ``trial_id:`` tag, else the ``trial:`` tag (text: imported studies may
            use any names).
        bracket: the ``bracket:`` tag (an int).
        budget: the ``budget:`` tag (a finite number).
        mode: the ``mode:`` tag as written.
        metric_key: the ``metric_key:`` tag.
        answer: whether the run carries the ``final`` tag.
        contract: whether the run carries a ``bracket:``, ``mode:`` or ``objective:`` tag
            (the current layout of ato-hyperopt; older searches did not write them).
        objectives: ``((mode, key), ...)`` from the ``objective:`` tags, in order.
        constraint_keys: the keys of the ``constraint:`` tags, in order.
    """

    search_id: str | None = None
    rung: int | None = None
    trial_id: str | None = None
    bracket: int | None = None
    budget: float | None = None
    mode: str | None = None
    metric_key: str | None = None
    answer: bool = False
    contract: bool = False
    objectives: tuple[tuple[str, str], ...] = ()
    constraint_keys: tuple[str, ...] = ()


def search_tag(search_id: str) -> str:
    """The tag every run of search ``search_id`` carries: ``search:<search_id>``."""
    return f"{_SEARCH}:{search_id}"


def build_tags(facts: SearchFacts) -> list[str]:
    """The tags that store ``facts`` (see the module docstring for the order); facts that are
    None are left out, and ``rung:`` is written only with a trial id (the seed's records have
    ``search:`` and ``round:`` only; an imported Optuna study has no rungs).

    Raises:
        ValueError: ``facts.search_id`` is None or empty.
    """
    if not facts.search_id:
        raise ValueError(f"a search run needs a search id, got {facts.search_id!r}")
    with_trial = facts.trial_id is not None
    optional = (
        ("round", facts.rung),
        ("trial", facts.trial_id),
        ("rung", facts.rung if with_trial else None),
        ("budget", facts.budget),
        ("bracket", facts.bracket),
        ("mode", facts.mode),
        ("metric_key", facts.metric_key),
    )
    tags = [search_tag(facts.search_id)]
    tags += [f"{name}:{value}" for name, value in optional if value is not None]
    tags += [f"objective:{mode}:{key}" for mode, key in getattr(facts, "objectives", ())]
    tags += [f"constraint:{key}" for key in getattr(facts, "constraint_keys", ())]
    return [*tags, ANSWER_TAG] if facts.answer else tags


def parse_tags(tags: Iterable[str]) -> SearchRun:
    """The contract facts of a run with ``tags`` (a run outside any search gives a
    `SearchRun` of Nones). ``name:value`` tags only; the first tag of a name wins."""
    tags = list(tags)
    values: dict[str, str] = {}
    objectives: list[tuple[str, str]] = []
    constraints: list[str] = []
    for tag in tags:
        name, sep, value = tag.partition(":")
        if sep and name and name not in values:
            values[name] = value
        mode, colon, key = value.partition(":")
        if name == "objective" and colon and key:
            objectives.append((mode, key))
        elif name == "constraint" and value:
            constraints.append(value)
    return SearchRun(
        search_id=values.get(_SEARCH),
        rung=whole_number(values.get("rung", values.get("round"))),
        trial_id=values.get("trial_id", values.get("trial")),
        bracket=whole_number(values.get("bracket")),
        budget=finite_number(values.get("budget")),
        mode=values.get("mode"),
        metric_key=values.get("metric_key"),
        answer=ANSWER_TAG in tags,
        contract=any(name in values for name in _CONTRACT_NAMES),
        objectives=tuple(objectives),
        constraint_keys=tuple(constraints),
    )


def search_id_of(tags: Iterable[str]) -> str | None:
    """The id of the search a run with ``tags`` belongs to (its first ``search:`` tag), or None."""
    prefix = _SEARCH + ":"
    return next((tag[len(prefix) :] for tag in tags if tag.startswith(prefix)), None)


def contract_tags(tags: Iterable[str]) -> list[str]:
    """The tags among ``tags`` that store contract facts (``search:``, ``round:``, ``trial:``,
    ...; not ``final``), in order: what a page hides among the user's own labels."""
    return [tag for tag in tags if tag.partition(":")[0] in _FACT_NAMES and ":" in tag]


def is_answer(tags: Iterable[str]) -> bool:
    """Whether a run with ``tags`` is marked as holding its search's answer."""
    return ANSWER_TAG in tags


def finite_number(text: str | None) -> float | None:
    """``text`` as a finite float, ``None`` if it is missing, not a number or not finite."""
    try:
        number = float(text) if text is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def whole_number(text: str | None) -> int | None:
    """``text`` as an int when it names a finite whole number, else ``None``."""
    number = finite_number(text)
    return int(number) if number is not None and number == int(number) else None
