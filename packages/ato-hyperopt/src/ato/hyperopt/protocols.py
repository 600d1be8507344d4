"""What a search needs of a scope and of a tracker, as ``typing.Protocol``s.

ato-hyperopt never imports ato-scope or ato-tracker: it works with any object of these shapes.
ato-scope's ``Scope`` and ato-tracker's ``SQLLogger`` match them (checked by the integration
tests, at run time with ``isinstance`` and statically with mypy). The protocols are
``runtime_checkable``: ``isinstance`` checks that the methods exist, not their signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from .facts import SearchRunFacts

__all__ = ["ScopeLike", "SearchRunLogger", "Tracker", "TrialLogger"]


@runtime_checkable
class ScopeLike(Protocol):
    """A config builder a search can drive (ato-scope's ``Scope``).

    ``build(extra=values, source="search")`` must return the config the program would get,
    with ``values`` (``{key or dotted path: value}``) applied above every other layer; the
    search calls ``build()`` once without ``extra`` before the first trial. Optional
    attributes a search uses when present: ``fingerprints`` (``{trace id: fingerprint}``,
    stored with every trial's run) and ``provenance`` (``{dotted key: [write, ...]}`` whose
    writes have ``source.kind``/``source.label``; keys the command line set are warned about).
    """

    def build(
        self,
        argv: Sequence[str] | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        source: str = "extra",
    ) -> Any:
        """Build the config; ``extra`` values win over every other layer."""
        ...


@runtime_checkable
class TrialLogger(Protocol):
    """A tracker run writer a search records trials with (ato-tracker's ``SQLLogger``).

    Each trial calls ``run(tags=[...])`` (with ``config=`` too when ``run`` accepts it), then
    ``log_metric(key, value, step)`` with the trial's metric and ``finish(status=...)`` with
    ``'completed'`` or ``'failed'``. Optional: ``log_fingerprints(source)``, called with the
    scope (an object with ``fingerprints``) before the run is finished, and
    ``add_tags(tags, run_id=...)``, called once when the search ends to tag the run holding its
    answer ``final`` (see `ato.hyperopt.tagging`). The tags are `SearchRunFacts.tags`; a
    logger that stores the facts itself follows [`SearchRunLogger`][ato.hyperopt.SearchRunLogger].
    """

    def run(self, tags: list[str] | None = None) -> Any:
        """Open a run and return its id."""
        ...

    def log_metric(self, key: str, value: float, step: int) -> Any:
        """Record ``value`` of metric ``key`` at ``step``."""
        ...

    def finish(self, status: str = "completed") -> Any:
        """Close the run with ``status``."""
        ...


@runtime_checkable
class SearchRunLogger(TrialLogger, Protocol):
    """A [`TrialLogger`][ato.hyperopt.TrialLogger] that owns how the search-run contract is
    stored (ato-tracker's ``SQLLogger``, through ``ato.tracker.search_runs``): the search hands
    it structured facts instead of tags.
    """

    def start_search_run(self, facts: SearchRunFacts, config: Any = None) -> Any:
        """Open the run of one evaluation described by ``facts`` (with the trial's ``config``,
        or None for the logger's own) and return its id."""
        ...

    def mark_search_answer(self, run_id: Any) -> Any:
        """Record that run ``run_id`` (finished) holds its search's answer."""
        ...


#: A tracker given to a search: a logger, or a factory called with each trial's config (for
#: example the ``SQLLogger`` class) that returns one.
Tracker = TrialLogger | Callable[[Any], TrialLogger]
