"""The writer's sign of life: a daemon thread storing the time in ``experiments.heartbeat``.

One ``Heartbeat`` runs per active run of a ``ato.tracker.SQLLogger``, from
``run()`` to ``finish()``. Every ``interval`` seconds (a monotonic wait, so a step of the
system clock changes nothing) it sets the run's heartbeat to the database's current time (one
small ``UPDATE``, skipped once the run has an end time; see ``ato.tracker.storage.clock``). Readers use it to tell a run that
is still going from one whose process died (see ``ato.tracker.read.status``). A failed beat
(database briefly unreachable) is logged and retried at the next interval; it never stops
the run.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import cast

from sqlalchemy import Engine, Table, update

from ..storage.clock import database_now
from ..storage.engine import run_transaction
from ..storage.models import RunRecord

_log = logging.getLogger("ato.tracker")
_runs = cast(Table, RunRecord.__table__)


_live: weakref.WeakSet[Heartbeat] = weakref.WeakSet()


def live_heartbeats() -> list[Heartbeat]:
    """The heartbeats of this process that were started and not stopped (for test fixtures
    that reuse run ids in a fresh schema)."""
    return [beat for beat in list(_live) if not beat._stop.is_set()]


class Heartbeat:
    """Beats for run ``run_id`` on ``engine`` every ``interval`` seconds once started.

    Args:
        engine: the run's database.
        run_id: the run.
        interval: seconds between beats (> 0).
    """

    def __init__(self, engine: Engine, run_id: int, interval: float) -> None:
        self.engine = engine
        self.run_id = run_id
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"ato-tracker-heartbeat-{run_id}", daemon=True
        )

    def start(self) -> None:
        """Start beating (the first beat comes after ``interval`` seconds: ``run()`` stores
        the starting heartbeat itself)."""
        _live.add(self)
        self._thread.start()

    def stop(self) -> None:
        """Stop beating (the thread exits at once)."""
        self._stop.set()

    def beat(self) -> None:
        """Store the database's current time as the run's heartbeat (unless the run has ended).

        Raises:
            sqlalchemy.exc.DBAPIError: the update failed after retries.
        """
        stmt = (
            update(_runs)
            .where(_runs.c.id == self.run_id, _runs.c.end_time.is_(None))
            .values(heartbeat=database_now(self.engine.dialect))
        )
        run_transaction(self.engine, lambda conn: conn.execute(stmt))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception:
                _log.warning("ato.tracker: heartbeat of run %s failed; retrying", self.run_id)
