"""Run statuses: the values a run's ``status`` column holds, and the one readers derive.

A writer stores ``running`` when a run starts and ``completed``, ``failed`` or ``killed`` when
it ends (``pruned`` for a trial its search stopped early, e.g. an Optuna trial) (any other non-empty string of at most 32 characters is accepted from users and kept as
given). ``crashed`` is never stored: readers show a ``running`` run whose heartbeat stopped as
``crashed`` (see ``ato.tracker.read.status``).
"""

from __future__ import annotations

from enum import Enum

__all__ = ["MARKABLE", "RunStatus", "stored"]


class RunStatus(str, Enum):
    """A run status. Members are strings equal to their value (``RunStatus.COMPLETED ==
    'completed'``), so they compare with statuses read from the database; ``str()`` and
    f-strings give the value."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    KILLED = "killed"
    PRUNED = "pruned"
    CRASHED = "crashed"

    def __str__(self) -> str:
        return str(self.value)


#: Statuses ``ato runs mark`` may set.
MARKABLE = (RunStatus.FAILED.value, RunStatus.KILLED.value, RunStatus.COMPLETED.value)


def stored(status: str) -> str:
    """``status`` as the plain string the database stores (a `RunStatus` becomes its value)."""
    return status.value if isinstance(status, RunStatus) else status
