"""Run status as readers see it: a run whose process died shows as ``crashed``.

A writing ``ato.tracker.SQLLogger`` stores a *heartbeat* (the time of its latest sign of
life) when a run starts and then every ``heartbeat_interval`` seconds (default
``HEARTBEAT_INTERVAL_S``) until the run finishes (see ``ato.tracker.write.heartbeat``).
Readers show a run whose stored status is ``running`` as ``CRASHED`` when its heartbeat
(or, for runs written before heartbeats existed, its start time) is older than the crash
timeout: ``CRASH_TIMEOUT_S`` seconds by default, ``$ATO_CRASH_TIMEOUT`` if set, or the
``crash_timeout`` given to ``ato.tracker.SQLFinder``. Nothing is written for that:
readers need no write access. ``ato runs mark RUN --status failed|killed`` (or
`ato.tracker.write.marks.mark_run`) stores a final status explicitly.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table

from ..errors import TrackerConfigError
from ..storage.models import RunRecord, utcnow
from ..storage.statuses import RunStatus

RUNNING = RunStatus.RUNNING
CRASHED = RunStatus.CRASHED
HEARTBEAT_INTERVAL_S = 15.0
CRASH_TIMEOUT_S = 120.0
CRASH_TIMEOUT_ENV_VAR = "ATO_CRASH_TIMEOUT"

_runs = cast(Table, RunRecord.__table__)


def crash_timeout(value: float | None = None) -> float:
    """``value`` if given, else ``$ATO_CRASH_TIMEOUT``, else ``CRASH_TIMEOUT_S`` (seconds).

    Raises:
        TrackerConfigError: the value (or the variable) is not a number > 0.
    """
    source = "crash_timeout"
    if value is None:
        text = os.environ.get(CRASH_TIMEOUT_ENV_VAR)
        if not text:
            return CRASH_TIMEOUT_S
        source = f"${CRASH_TIMEOUT_ENV_VAR}"
        try:
            value = float(text)
        except ValueError:
            value = -1.0
    if not value > 0:
        raise TrackerConfigError(f"{source} must be a number of seconds > 0, got {value!r}")
    return float(value)


def effective_status(
    status: str,
    heartbeat: datetime | None,
    start_time: datetime,
    timeout: float,
    now: datetime | None = None,
) -> str:
    """``CRASHED`` for a ``running`` run silent for more than ``timeout`` seconds, else
    ``status`` unchanged."""
    if status != RUNNING:
        return status
    last = heartbeat or start_time
    if (now or utcnow()) - last > timedelta(seconds=timeout):
        return CRASHED.value
    return status
