"""What a search needs of a scope and of a tracker, as ``typing.Protocol``s.

ato-hyperopt never imports ato-scope or ato-tracker: it works with any object of these shapes.
ato-scope's ``Scope`` and ato-tracker's ``SQLLogger`` match them (checked by the integration
tests, at run time with ``isinstance`` and statically with mypy). The protocols are
``runtime_checkable``: ``isinstance`` checks that the methods exist, not their signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from .facts import SearchRunFacts

__all__ = ["JobPlan", "JobQueue", "ScopeLike", "SearchRunLogger", "Tracker", "TrialLogger"]

T = TypeVar("T")


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


@runtime_checkable
class JobPlan(Protocol):
    """A scheduling decision in progress, made while the search's lock is held (see
    [`JobQueue.plan`][ato.hyperopt.JobQueue.plan]). ``seq`` is the stamp of the search's latest
    event."""

    seq: int

    def events(self, since: int) -> list[tuple[int, str, dict[str, Any]]]:
        """The events after stamp ``since``, in order: ``(seq, 'created' | 'finished', job)``."""
        ...

    def add(self, jobs: list[Mapping[str, Any]], *, claim: bool) -> list[dict[str, Any]]:
        """Create ``jobs`` with the next stamps (claimed by this worker when ``claim``)."""
        ...

    def claim(self) -> dict[str, Any] | None:
        """Claim the oldest queued job, or None."""
        ...

    def complete(self, job_key: str, result: Mapping[str, Any]) -> bool:
        """Record this worker's result with the next stamp; False if the claim was lost."""
        ...


@runtime_checkable
class JobQueue(Protocol):
    """The job queue of a search shared by several processes through one database
    (ato-tracker's ``ato.tracker.search_jobs.SearchJobQueue``).

    A job is a dict with ``job_key``, ``trial_id``, ``rung``, ``bracket``, ``payload`` (JSON:
    the trial's values, budgets, batch), ``state`` (``queued``/``claimed``/``done``/
    ``failed``), ``claimed_by``, ``attempts``, ``result`` (JSON, once finished: ``{'metric':
    text, 'error', 'run_id'}``, plus ``'score': [text, ...]``, the objective then constraint
    values, in a search with several objectives or constraints), ``created_seq`` and
    ``done_seq``. Every job created or finished gets the
    next stamp of its search under the search's lock, so all workers see one order of events.

    Optional: ``changed_since(search_id, seq) -> bool``, True when the search has an event
    stamped after ``seq`` or a queued job; a worker that must wait for running jobs then looks
    with it (a read without the search's lock) instead of deciding again after each pause.
    """

    worker_id: str
    heartbeat_interval: float

    def open_search(self, search_id: str) -> None:
        """Register ``search_id`` (idempotent, safe from many processes at once)."""
        ...

    def claim(self, search_id: str) -> dict[str, Any] | None:
        """Atomically claim the oldest queued job, or None."""
        ...

    def plan(self, search_id: str, decide: Callable[[Any], T]) -> T:
        """Run ``decide(plan)`` (``plan`` a [`JobPlan`][ato.hyperopt.JobPlan]) under the search's
        lock, after taking back claims whose heartbeat stopped; ``decide`` may run again."""
        ...

    def heartbeat(self, search_id: str, job_key: str) -> bool:
        """Refresh this worker's claim; False if it was lost."""
        ...

    def complete(self, search_id: str, job_key: str, result: Mapping[str, Any]) -> bool:
        """Record the job's result once; False if this worker no longer holds the claim."""
        ...

    def release(self, search_id: str, job_key: str) -> bool:
        """Queue this worker's claimed job again (the worker is stopping)."""
        ...

    def finish_search(self, search_id: str, answer_run: Any) -> bool:
        """Record the search's end; True for the first worker to call it."""
        ...
