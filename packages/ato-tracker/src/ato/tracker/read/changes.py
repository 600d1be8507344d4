"""A run's change stamp: one small query telling a reader whether anything it shows of a run
changed since it last looked (the dashboard answers a poll with ``304 Not Modified`` when not).

What a writer changes after a run started is, by construction of the write path: the run's own
row (status, end time, tags, config, provenance, heartbeat), its metric summaries (every stored
metric value adds to its key's ``value_count`` in the same transaction, see
``ato.tracker.write.fold``; a new key adds a summary row), and its artifact and fingerprint
rows, which are only ever inserted. The stamp is a digest of the run row (without the
heartbeat, which changes every few seconds without changing what is shown), the status readers
derive from it (``crashed`` once the heartbeat is old, see ``ato.tracker.read.status``), the
number and summed ``value_count`` of the run's summaries, and the number of its artifacts and
fingerprints. Every one of those values only changes when what a reader shows changes, and any
change to the run changes one of them.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

from sqlalchemy import Connection, Table, Text, func, select, type_coerce
from sqlalchemy import cast as sql_cast
from sqlalchemy.sql.elements import ColumnElement

from ..storage.clock import database_now
from ..storage.models import (
    ArtifactRecord,
    FingerprintRecord,
    MetricSummaryRecord,
    RunRecord,
    UTCDateTime,
)
from .status import effective_status

_runs = cast(Table, RunRecord.__table__)
_summaries = cast(Table, MetricSummaryRecord.__table__)
_artifacts = cast(Table, ArtifactRecord.__table__)
_fingerprints = cast(Table, FingerprintRecord.__table__)


def run_stamp(conn: Connection, run_id: int, crash_timeout: float) -> str | None:
    """The change stamp of run ``run_id`` (a hex digest of 32 characters), or ``None`` when
    there is no such run. Two reads of the same stamp saw the same run, summaries, artifacts
    and fingerprints, with the same derived status (``crash_timeout``: seconds, as for
    `ato.tracker.read.status.effective_status`).

    One statement: a primary-key read of the run row and index-only counts over its summary,
    artifact and fingerprint rows.

    Raises:
        sqlalchemy.exc.DBAPIError: the database cannot be read.
    """
    r = _runs.c
    row = conn.execute(
        select(
            r.status,
            r.start_time,
            r.end_time,
            r.heartbeat,
            r.structural_hash,
            _text(r.tags),
            _text(r.config),
            _text(r.provenance),
            type_coerce(database_now(conn.dialect), UTCDateTime()),
            _count(_summaries),
            select(func.coalesce(func.sum(_summaries.c.value_count), 0))
            .where(_summaries.c.run_id == r.id)
            .scalar_subquery(),
            _count(_artifacts),
            _count(_fingerprints),
        ).where(r.id == run_id)
    ).first()
    if row is None:
        return None
    status, start, end, heartbeat, *rest, now, keys, values, artifacts, prints = row
    shown = effective_status(status, heartbeat, start, crash_timeout, now)
    facts = (shown, start, end, *rest, keys, values, artifacts, prints)
    return hashlib.blake2b(repr(facts).encode(), digest_size=16).hexdigest()


def _text(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A JSON column as the text the database holds (not parsed into Python objects)."""
    return sql_cast(column, Text)


def _count(table: Table) -> Any:
    return select(func.count()).where(table.c.run_id == _runs.c.id).scalar_subquery()
