"""Recording trials as tracker runs (duck-typed: no import of ato-tracker).

A *tracker* is either

- a logger object with the ato-tracker ``SQLLogger`` interface: ``run(tags=...) -> run_id``,
  ``log_metric(key, value, step)`` and ``finish(status=...)``. If its ``run`` accepts a
  ``config`` keyword, the trial's full config is passed there; or
- a factory called with each trial's config that returns such a logger, for example the
  ``SQLLogger`` class itself (``tracker=SQLLogger``): every trial then gets a logger built
  from its own full config.

Each evaluation becomes one run described by a [`SearchRunFacts`][ato.hyperopt.SearchRunFacts]
(search id, rung, and for a [`Search`][ato.hyperopt.Search] trial id, budget, bracket, mode and
metric key; its answer's run is marked afterwards), with its metric logged at ``step=rung`` and
status ``completed`` or ``failed``. A logger following
[`SearchRunLogger`][ato.hyperopt.SearchRunLogger] receives the facts and stores them its own way;
any other logger gets them as tags (`SearchRunFacts.tags`: ``search:<id>``, ``round:<rung>``, ...). When the search runs through a
Scope with code fingerprints (``scope.fingerprints``) and the logger has ``log_fingerprints``,
the fingerprints are stored with every trial's run, and a logger with ``log_scope`` also
stores how the Scope built the trial's config (views, overrides, per-key provenance). Inside a
trial, [`current_logger`][ato.hyperopt.current_logger]
returns the logger of the trial's run so the trial can log its own metrics.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
import math
import threading
from typing import Any

from .facts import SearchRunFacts
from .objectives import Score
from .protocols import SearchRunLogger
from .timeouts import guarded

_log = logging.getLogger("ato.hyperopt")

_CURRENT: contextvars.ContextVar[Any] = contextvars.ContextVar("ato_hyperopt_logger", default=None)


def current_logger() -> Any:
    """The tracker logger of the trial running in this context, or None (no tracker, or
    called outside a trial). Use it to log extra metrics, e.g. a loss per epoch. It is a view
    of the logger that raises [`SearchInterrupted`][ato.hyperopt.SearchInterrupted] on any use
    once the search received Ctrl-C or SIGTERM (see `ato.hyperopt.interrupts`), and
    [`TrialTimeout`][ato.hyperopt.TrialTimeout] once the trial's ``trial_timeout`` passed (see
    `ato.hyperopt.timeouts`)."""
    return _CURRENT.get()


class TrialRecorder:
    """Opens, fills and closes one tracker run per trial.

    Args:
        tracker: a logger or a logger factory (see the module docstring), or None.
        search_id: identifies the search in the run tags.
        metric_key: key the trial metric is logged under.
        fingerprints: an object with a ``fingerprints`` mapping (an ato Scope) whose code
            fingerprints are stored with each run, or None.
        score_keys: keys the values of a `Score` are logged under (objectives then
            constraints), for searches with several objectives or constraints.
    """

    def __init__(
        self,
        tracker: Any,
        search_id: str,
        metric_key: str,
        fingerprints: Any = None,
        score_keys: tuple[str, ...] = (),
    ) -> None:
        self._tracker = tracker
        self.score_keys = score_keys
        self._fingerprints = fingerprints
        self.search_id = search_id
        self.metric_key = metric_key
        self._is_factory = tracker is not None and (
            isinstance(tracker, type) or not hasattr(tracker, "log_metric")
        )
        self._passes_config = (
            tracker is not None and not self._is_factory and _accepts_config(tracker.run)
        )
        self._token: contextvars.Token[Any] | None = None
        self._token_thread = 0

    @property
    def shares_logger(self) -> bool:
        """True when every trial is recorded through one logger object (not a factory), which
        cannot be sent to another process."""
        return self._tracker is not None and not self._is_factory

    @property
    def enabled(self) -> bool:
        """True when trials are recorded (a tracker was given)."""
        return self._tracker is not None

    def start(self, config: Any, facts: SearchRunFacts) -> tuple[Any, Any]:
        """Open a run for one evaluation described by ``facts``; returns ``(logger, run_id)``
        (``(None, None)`` without tracker)."""
        if self._tracker is None:
            return None, None
        logger = self._tracker(config) if self._is_factory else self._tracker
        if isinstance(logger, SearchRunLogger):
            run_id = logger.start_search_run(facts, config if self._passes_config else None)
        elif self._passes_config:
            run_id = logger.run(tags=facts.tags(), config=config)
        else:
            run_id = logger.run(tags=facts.tags())
        if self._fingerprints is not None and hasattr(logger, "log_scope"):
            logger.log_scope(self._fingerprints)  # how the scope built this trial's config
        self._token = _CURRENT.set(guarded(logger))
        self._token_thread = threading.get_ident()
        return logger, run_id

    def finish(
        self,
        logger: Any,
        metric: float | None,
        rung: int,
        failed: bool,
        status: str | None = None,
        score: Score | None = None,
    ) -> None:
        """Log the metric (unless it is missing or NaN) at ``step=rung`` and close the
        run as ``status`` (default ``failed`` or ``completed``). With a ``score`` every value
        of it (NaN left out) is logged under ``score_keys`` instead."""
        if logger is None:
            return
        self._restore_current()
        if self._fingerprints is not None and hasattr(logger, "log_fingerprints"):
            logger.log_fingerprints(self._fingerprints)
        if score is not None and not failed:
            values = (*score.values, *score.constraints)
            for key, value in zip(self.score_keys, values, strict=True):
                if not math.isnan(value):
                    logger.log_metric(key, value, rung)
        elif metric is not None and not math.isnan(metric) and not failed:
            logger.log_metric(self.metric_key, metric, rung)
        logger.finish(status=status or ("failed" if failed else "completed"))

    def finish_timed_out(self, logger: Any, rung: int, seconds: float) -> None:
        """Close a run whose trial hit its time limit: metric ``timeout`` = ``seconds`` at
        ``step=rung``, status ``failed``."""
        if logger is None:
            return
        self._restore_current()
        logger.log_metric("timeout", seconds, rung)
        logger.finish(status="failed")

    def mark_killed(self, config: Any, facts: SearchRunFacts) -> bool:
        """Close as ``killed`` the run of the evaluation ``facts`` describes when its process
        was killed before it could (a Ray task cancelled by force), through a logger the
        factory builds for ``config`` and its ``mark_search_runs(facts, status)``
        (ato-tracker's ``SQLLogger``). True if a run was closed; a tracker without that
        method, or an error, is a warning: the run then reads as crashed once its
        heartbeat is old."""
        if not self._is_factory:
            return False
        try:
            logger = self._tracker(config)
        except Exception as exc:
            _log.warning("could not close the killed run of %s: %s", facts, exc)
            return False
        try:
            mark = getattr(logger, "mark_search_runs", None)
            if not callable(mark):
                _log.warning(
                    "the tracker has no mark_search_runs(facts, status): the killed run of "
                    "trial %s (rung %s) stays 'running' until it reads as crashed",
                    facts.trial_id,
                    facts.rung,
                )
                return False
            return bool(mark(facts, "killed"))
        except Exception as exc:
            _log.warning("could not close the killed run of %s: %s", facts, exc)
            return False
        finally:
            if callable(getattr(logger, "close", None)):
                logger.close()

    def _restore_current(self) -> None:
        """Make the logger current before the trial (an outer trial's) current again. A trial
        run in a worker thread (under a ``trial_timeout``) set its logger in that thread's own
        context, which ended with it: nothing to restore here."""
        if self._token is not None and self._token_thread == threading.get_ident():
            _CURRENT.reset(self._token)
        self._token = None


def _accepts_config(run: Any) -> bool:
    try:
        params = inspect.signature(run).parameters
    except (TypeError, ValueError):
        return False
    return "config" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
