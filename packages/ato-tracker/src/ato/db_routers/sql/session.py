"""``SQLLogger.session``: ato 2.x's ORM session of a logger, for code that queries it with
the classes of ``ato.db_routers.sql.schema`` (``logger.session.query(Experiment)...``).

In 2.x the logger wrote every row through this session and committed at once, so queries
always saw the logger's latest writes and current values. The 3.0 session keeps that:

* before each query, the logger's buffered metrics are written (``logger.flush()``);
* each statement runs in autocommit mode, so no transaction keeps an old snapshot
  (MariaDB's default REPEATABLE READ would), and objects loaded earlier are expired before a
  new top-level query when the session holds no unsaved change, so they show the logger's
  later writes (a finished run's status, say).

Rows added through the session are ordinary 3.0 rows (see `ato.db_routers.sql.writes`).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

if TYPE_CHECKING:
    from ato.tracker.write.logger import SQLLogger


def logger_session(logger: SQLLogger) -> Session:
    """A session over ``logger``'s database that sees its writes (module docstring)."""
    from . import schema  # noqa: F401  # maps the 2.x classes the session will query

    session = Session(logger.engine.execution_options(isolation_level="AUTOCOMMIT"))
    owner = weakref.ref(logger)

    def before_query(state: ORMExecuteState) -> None:
        if not state.is_select:
            return
        live = owner()
        if live is not None:
            live.flush()
        top_level = not (state.is_relationship_load or state.is_column_load)
        if top_level and not (session.new or session.dirty or session.deleted):
            session.expire_all()

    event.listen(session, "do_orm_execute", before_query)
    return session
