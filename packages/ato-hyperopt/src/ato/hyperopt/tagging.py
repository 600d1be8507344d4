"""Tagging the tracker run that holds a search's answer, after the search (duck-typed).

The search ends before it knows which run holds its answer, so that run is marked afterwards:
through ``mark_search_answer(run_id)`` of a [`SearchRunLogger`][ato.hyperopt.SearchRunLogger]
(ato-tracker's ``SQLLogger``, which stores the mark as the ``final`` tag), else by adding the
``final`` tag through the logger's ``add_tags(tags, run_id=...)``. A tracker without ``add_tags`` cannot tag a finished run: the search
then logs a warning naming the run and leaves the tags as they are; readers find the answer by
the same rule anyway (`ato.hyperopt.answer`). A failure to tag is a warning too: the search's
result is never lost to it.
"""

from __future__ import annotations

import logging
from typing import Any

from .facts import ANSWER_TAG
from .protocols import SearchRunLogger

__all__ = ["ANSWER_TAG", "tag_answer"]

_log = logging.getLogger("ato.hyperopt")


def tag_answer(tracker: Any, config: Any, run_id: Any) -> bool:
    """Add ``ANSWER_TAG`` to run ``run_id``; True if it was added.

    Args:
        tracker: the search's tracker: a logger, or a logger factory (called with ``config``
            to build a logger for the call, closed afterwards), or None.
        config: the answer's trial config.
        run_id: the answer's run (None: nothing to tag).
    """
    if tracker is None or run_id is None:
        return False
    factory = isinstance(tracker, type) or not hasattr(tracker, "log_metric")
    if (
        isinstance(tracker, type)
        and not hasattr(tracker, "add_tags")
        and not issubclass(tracker, SearchRunLogger)
    ):
        return _add(tracker, run_id)  # says why, without building a logger for nothing
    try:
        logger = tracker(config) if factory else tracker
    except Exception as exc:  # the answer stands without its tag
        _log.warning("could not tag the answer's run %s %r: %s", run_id, ANSWER_TAG, exc)
        return False
    try:
        return _add(logger, run_id)
    finally:
        if factory and callable(getattr(logger, "close", None)):
            logger.close()


def _add(logger: Any, run_id: Any) -> bool:
    if isinstance(logger, SearchRunLogger):
        try:
            logger.mark_search_answer(run_id)
        except Exception as exc:
            _log.warning("could not mark the answer's run %s: %s", run_id, exc)
            return False
        return True
    add_tags = getattr(logger, "add_tags", None)
    if not callable(add_tags):
        _log.warning(
            "the tracker %s has no add_tags(tags, run_id=), so the answer's run %s is not "
            "tagged %r; the answer rule (docs/hyperopt.md) still finds it",
            getattr(logger, "__name__", type(logger).__name__),
            run_id,
            ANSWER_TAG,
        )
        return False
    try:
        add_tags([ANSWER_TAG], run_id=run_id)
    except Exception as exc:
        _log.warning("could not tag the answer's run %s %r: %s", run_id, ANSWER_TAG, exc)
        return False
    return True
