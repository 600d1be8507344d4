"""Reading back what an import stored (helpers of the importer tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ato.tracker import SQLFinder
from ato.tracker.storage.database import get_engine
from ato.tracker.storage.models import MetricRecord, ProjectRecord, RunRecord


def row_counts(url: str) -> tuple[int, int, int]:
    """(projects, runs, metric values) stored in ``url``; (0, 0, 0) for a missing SQLite file."""
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        return (0, 0, 0)
    engine = get_engine(url)
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (ProjectRecord.__table__, RunRecord.__table__, MetricRecord.__table__)
        )


def stored_runs(url: str, project: str) -> list[Any]:
    """Every run of ``project`` with its metrics, oldest first."""
    return SQLFinder(url).get_runs_in_project(project)


def points(run: Any) -> list[tuple[str, float, int | None, Any]]:
    """``(key, value, step, timestamp)`` of every metric value of ``run``, in logging order."""
    return [(m.key, m.value, m.step, m.timestamp) for m in run.metrics]
