"""Rows that ato 2.x code writes through the ORM classes of ``ato.db_routers.sql.schema``
become ordinary 3.0 rows.

* Columns ato 2.x filled in by default, and that 3.0 requires, are filled in on insert when
  left unset: ``created_at``/``start_time``/``timestamp`` (now, UTC), ``tags`` (``[]``),
  ``status`` (``'running'``), ``structural_hash`` (of the config, as ``SQLLogger`` computes
  it) and ``data_type`` (``'unknown'``, as ``ato db upgrade`` fills old artifacts).
* After a session flush that added, changed or deleted metric rows, the summaries of those
  ``(run, key)`` pairs (``ato.tracker.summaries``) are recomputed in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import Mapper, Session, UOWTransaction

from ato.tracker import summaries
from ato.tracker.models import utcnow
from ato.tracker.normalize import normalize_config, structural_hash

UNKNOWN_DATA_TYPE = "unknown"


def _run_defaults(target: Any) -> dict[str, Callable[[], Any]]:
    return {
        "tags": list,
        "status": lambda: "running",
        "start_time": utcnow,
        "structural_hash": lambda: structural_hash(normalize_config(target.config or {})),
    }


def _defaults(name: str, target: Any) -> dict[str, Callable[[], Any]]:
    if name == "Experiment":
        return _run_defaults(target)
    if name == "Project":
        return {"created_at": utcnow}
    if name == "Artifact":
        return {"timestamp": utcnow, "data_type": lambda: UNKNOWN_DATA_TYPE}
    return {"timestamp": utcnow}  # Metric, Fingerprint


def _fill(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    for attribute, make in _defaults(mapper.class_.__name__, target).items():
        if getattr(target, attribute) is None:
            setattr(target, attribute, make())


def _metric_pairs(session: Session, metric_class: type[Any]) -> set[tuple[int, str]]:
    changed: tuple[Any, ...] = (*session.new, *session.dirty, *session.deleted)
    return {(m.run_id, m.key) for m in changed if isinstance(m, metric_class)}


def fill_in_like_2x(*classes: type) -> None:
    """Register the insert defaults on ``classes`` (the 2.x ORM classes, by name) and the
    summary upkeep for the one named ``Metric``."""
    for cls in classes:
        event.listen(cls, "before_insert", _fill)
    (metric_class,) = [cls for cls in classes if cls.__name__ == "Metric"]

    def recompute(session: Session, flush: UOWTransaction) -> None:
        pairs = _metric_pairs(session, metric_class)
        if pairs:
            summaries.recompute(session.connection(), pairs)

    event.listen(Session, "after_flush", recompute)
