"""Rows that ato 2.x code writes through the ORM classes of ``ato.db_routers.sql.schema``
become ordinary 3.0 rows.

* Columns ato 2.x filled in by default, and that 3.0 requires, are filled in on insert when
  left unset: ``created_at``/``start_time``/``timestamp`` (now, UTC), ``tags`` (``[]``),
  ``status`` (``'running'``), ``structural_hash`` (of the config, as ``SQLLogger`` computes
  it) and ``data_type`` (``'unknown'``, as ``ato db upgrade`` fills old artifacts).
* After a session flush that added, changed or deleted metric rows, the summaries and series
  blocks of those ``(run, key)`` pairs (``ato.tracker.write.fold``) are recomputed in the same
  transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import Mapper, Session, UOWTransaction

from ato.tracker.storage.models import utcnow
from ato.tracker.storage.normalize import normalize_config, structural_hash
from ato.tracker.write import fold

UNKNOWN_DATA_TYPE = "unknown"

Defaults = Callable[[Any], dict[str, Callable[[], Any]]]  # row -> {attribute: make value}


def _run_defaults(run: Any) -> dict[str, Callable[[], Any]]:
    return {
        "tags": list,
        "status": lambda: "running",
        "start_time": utcnow,
        "structural_hash": lambda: structural_hash(normalize_config(run.config or {})),
    }


def _project_defaults(project: Any) -> dict[str, Callable[[], Any]]:
    return {"created_at": utcnow}


def _artifact_defaults(artifact: Any) -> dict[str, Callable[[], Any]]:
    return {"timestamp": utcnow, "data_type": lambda: UNKNOWN_DATA_TYPE}


def _timestamp_default(row: Any) -> dict[str, Callable[[], Any]]:
    return {"timestamp": utcnow}


def _fill_in(defaults: Defaults) -> Callable[[Mapper[Any], Connection, Any], None]:
    def fill(mapper: Mapper[Any], connection: Connection, row: Any) -> None:
        for attribute, make in defaults(row).items():
            if getattr(row, attribute) is None:
                setattr(row, attribute, make())

    return fill


def _metric_pairs(session: Session, metric_class: type[Any]) -> set[tuple[int, str]]:
    changed: tuple[Any, ...] = (*session.new, *session.dirty, *session.deleted)
    return {(m.run_id, m.key) for m in changed if isinstance(m, metric_class)}


def fill_in_like_2x(
    project: type, experiment: type, metric: type, artifact: type, fingerprint: type
) -> None:
    """Register the insert defaults on the 2.x ORM classes and the summary upkeep for
    ``metric`` rows (module docstring)."""
    defaults: dict[type, Defaults] = {
        project: _project_defaults,
        experiment: _run_defaults,
        metric: _timestamp_default,
        artifact: _artifact_defaults,
        fingerprint: _timestamp_default,
    }
    for cls, made in defaults.items():
        event.listen(cls, "before_insert", _fill_in(made))

    def recompute(session: Session, flush: UOWTransaction) -> None:
        pairs = _metric_pairs(session, metric)
        if pairs:
            fold.recompute(session.connection(), pairs)

    event.listen(Session, "after_flush", recompute)
