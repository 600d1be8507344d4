"""The facts of one evaluation of a search (the search-run contract), as a value.

A search hands a tracker one [`SearchRunFacts`][ato.hyperopt.SearchRunFacts] per evaluation (a
trial at one rung) through [`SearchRunLogger.start_search_run`][ato.hyperopt.SearchRunLogger];
the tracker decides how they are stored (ato-tracker: ``ato.tracker.search_runs``, as tags).
A logger that only takes tags (``run(tags=[...])``) gets `SearchRunFacts.tags`, the same
strings ato-tracker stores, and a resumed search reads such loggers' runs back with
`SearchRunFacts.from_tags`. Stored tags, in order:

- ``search:<search_id>`` and ``round:<rung>`` (every run; the seed's two tags);
- ``trial:<trial_id>``, ``rung:<rung>``, ``budget:<budget>``, ``bracket:<bracket>``,
  ``mode:<mode>``, ``metric_key:<metric_key>``, each only when the fact is known (the
  [`HyperBand`][ato.hyperopt.HyperBand] preset records the seed's two tags only);
- with several objectives, ``objective:<mode>:<key>`` per objective in order (instead of
  ``mode:`` and ``metric_key:``), and ``constraint:<key>`` per constraint key;
- ``final`` on the run holding the search's answer (added when the search ends).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ANSWER_TAG", "SEARCH_KEY_PREFIX", "SearchRunFacts"]

#: Tag of the tracker run that holds a search's answer.
ANSWER_TAG = "final"
#: Prefix of the metric key a search logs the value it ranks by under (``search/<metric_key>``).
SEARCH_KEY_PREFIX = "search/"


@dataclass(frozen=True)
class SearchRunFacts:
    """What a tracker records about one evaluation of a search.

    Attributes:
        search_id: the search's id.
        rung: the rung index (``config.__num_halved__``), from 0.
        trial_id: the configuration's id, stable across rungs; None for the seed's records.
        bracket: the Hyperband bracket ``s`` (0 for other schedules); None for the seed's records.
        budget: the evaluation's budget (int or float, in the trial's units); None when the
            schedule has no budgets.
        mode: ``'max'`` or ``'min'``; None for the seed's records.
        metric_key: the user's metric key (the search logs its value under
            ``search/<metric_key>``); None for the seed's records.
        answer: True for the run holding the search's answer.
        objectives: ``((mode, key), ...)`` of a search with several objectives (then ``mode``
            and ``metric_key`` are None); empty otherwise.
        constraint_keys: the search's constraint keys (values logged under
            ``search/<key>``, feasible when ``<= 0``).
    """

    search_id: str
    rung: int
    trial_id: int | None = None
    bracket: int | None = None
    budget: int | float | None = None
    mode: str | None = None
    metric_key: str | None = None
    answer: bool = False
    objectives: tuple[tuple[str, str], ...] = ()
    constraint_keys: tuple[str, ...] = ()

    def tags(self) -> list[str]:
        """The tags ato-tracker stores for these facts (see the module docstring)."""
        optional = (
            ("trial", self.trial_id),
            ("rung", self.rung if self.trial_id is not None else None),
            ("budget", self.budget),
            ("bracket", self.bracket),
            ("mode", self.mode),
            ("metric_key", self.metric_key),
        )
        tags = [f"search:{self.search_id}", f"round:{self.rung}"]
        tags += [f"{name}:{value}" for name, value in optional if value is not None]
        tags += [f"objective:{mode}:{key}" for mode, key in self.objectives]
        tags += [f"constraint:{key}" for key in self.constraint_keys]
        return [*tags, ANSWER_TAG] if self.answer else tags

    @classmethod
    def from_tags(cls, tags: Iterable[str]) -> SearchRunFacts | None:
        """The facts `tags` encodes; None when the tags name no search, no trial or no rung
        (runs a resumed search cannot match to a (trial, rung)). A ``metric_key`` is None for
        runs of searches made before ``search/<metric_key>`` existed."""
        tags = [str(tag) for tag in tags]
        values: dict[str, str] = {}
        objectives: list[tuple[str, str]] = []
        constraints: list[str] = []
        for tag in tags:
            name, sep, value = tag.partition(":")
            if sep:
                values.setdefault(name, value)
            if name == "objective" and value.partition(":")[1]:
                objectives.append((value.partition(":")[0], value.partition(":")[2]))
            elif name == "constraint" and value:
                constraints.append(value)
        search, trial, rung = values.get("search"), values.get("trial"), values.get("rung")
        if search is None or trial is None or rung is None:
            return None
        bracket = values.get("bracket")
        try:
            return cls(
                search_id=search,
                rung=int(rung),
                trial_id=int(trial),
                bracket=None if bracket is None else int(bracket),
                budget=_number(values.get("budget")),
                mode=values.get("mode"),
                metric_key=values.get("metric_key"),
                answer=ANSWER_TAG in tags,
                objectives=tuple(objectives),
                constraint_keys=tuple(constraints),
            )
        except ValueError:  # not written by ato-hyperopt (e.g. an imported study's trial names)
            return None


def _number(text: str | None) -> int | float | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        value = float(text)
        return value if math.isfinite(value) else None
