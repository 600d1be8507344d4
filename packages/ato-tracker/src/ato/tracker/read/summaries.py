"""Per run and metric key summaries (count, extremes, last value) read back: the rows the
write path folds into ``metric_summaries`` (see `ato.tracker.write.fold`), so run tables read one
small row per run and key instead of aggregating every logged value."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, and_, case, func, select

from ..storage.models import MetricSummaryRecord, ProjectRecord, RunRecord
from ..storage.values import DBL_MAX, FINITE, load_value
from .keypatterns import key_matches
from .results import MetricSummary

_summaries = cast(Table, MetricSummaryRecord.__table__)
_runs = cast(Table, RunRecord.__table__)
_projects = cast(Table, ProjectRecord.__table__)
_INF = float("inf")
_BATCH = 500  # ids or keys per IN (...) list


def read(conn: Connection, run_ids: Sequence[int]) -> dict[int, dict[str, MetricSummary]]:
    """Per run id, per metric key: its `ato.tracker.MetricSummary` (runs that logged no
    metric are absent)."""
    result: defaultdict[int, dict[str, MetricSummary]] = defaultdict(dict)
    s = _summaries.c
    ids = list(run_ids)
    for start in range(0, len(ids), _BATCH * 10):
        stmt = select(s.run_id, *_columns()).where(s.run_id.in_(ids[start : start + _BATCH * 10]))
        for run_id, *row in conn.execute(stmt):
            summary = _summary(*row)
            result[run_id][summary.key] = summary
    return dict(result)


def counts(conn: Connection, run_ids: Sequence[int], key: str) -> dict[int, int]:
    """Per run of ``run_ids`` that logged metric ``key``: how many values it logged (one
    primary-key row per run; runs without ``key`` are absent)."""
    s = _summaries.c
    found: dict[int, int] = {}
    for start in range(0, len(run_ids), _BATCH):
        batch = list(run_ids[start : start + _BATCH])
        stmt = select(s.run_id, s.value_count).where(s.run_id.in_(batch), s.key == key)
        found.update((int(run_id), int(n)) for run_id, n in conn.execute(stmt))
    return found


def read_page(
    conn: Connection, run_id: int, pattern: str | None, limit: int | None
) -> tuple[dict[str, MetricSummary], int]:
    """The summaries of run ``run_id`` whose key matches ``pattern`` (see
    ``ato.tracker.read.keypatterns``; ``None``: every key), the first ``limit`` of them in key order
    (code point order on every backend; ``None``: all), and how many keys match in all. Reads
    only the rows it returns plus one count."""
    pages, total = read_pages(conn, [run_id], pattern, limit)
    return pages.get(run_id, {}), total


def read_pages(
    conn: Connection, run_ids: Sequence[int], pattern: str | None, limit: int | None
) -> tuple[dict[int, dict[str, MetricSummary]], int]:
    """`read_page` for several runs side by side: per run id, its summaries of the first
    ``limit`` keys (in key order) of the union of the runs' matching keys, and how many
    distinct keys match in all. A key among the union's first ``limit`` is among each run's
    first ``limit``, so each run reads at most ``limit`` rows plus one count in all; runs
    without a shown key are absent."""
    s = _summaries.c
    order = s.key.collate("C") if conn.dialect.name == "postgresql" else s.key
    pages: dict[int, dict[str, MetricSummary]] = {}
    for run_id in run_ids:
        stmt = select(*_columns()).where(_matching(conn, [run_id], pattern)).order_by(order)
        rows = [_summary(*row) for row in conn.execute(stmt.limit(limit))]
        if rows:
            pages[run_id] = {summary.key: summary for summary in rows}
    if limit is not None:
        shown = set(sorted({key for page in pages.values() for key in page})[:limit])
        pages = {
            run_id: {key: row for key, row in page.items() if key in shown}
            for run_id, page in pages.items()
        }
    count = select(func.count(s.key.distinct())).where(_matching(conn, run_ids, pattern))
    return pages, int(conn.execute(count).scalar_one())


def _matching(conn: Connection, run_ids: Sequence[int], pattern: str | None) -> Any:
    """The summary rows of the runs ``run_ids`` whose key matches ``pattern``."""
    s = _summaries.c
    where = s.run_id.in_(list(run_ids))
    return where if pattern is None else and_(where, key_matches(s.key, pattern, conn.dialect.name))


def _columns() -> list[Any]:
    s = _summaries.c
    return [s.key, s.value_count, s.min_value, s.max_value, s.has_pos_inf, s.has_neg_inf,
            s.last_value, s.last_class, s.last_step]  # fmt: skip


def _summary(
    key: str, count: int, low: float | None, high: float | None, pos: int, neg: int,
    last: float | None, last_class: int, step: int | None,
) -> MetricSummary:  # fmt: skip
    return MetricSummary(
        key=key,
        last=load_value(last, last_class),
        last_step=step,
        min=_extreme(low, pos, neg),
        max=_extreme(high, pos, neg),
        count=count,
    )


def project_summary_rows(conn: Connection, project_name: str) -> Sequence[Any]:
    """Every summary of every run of ``project_name`` as rows ``(run_id, key, last, min, max,
    last_class, min_inf, max_inf)`` (also readable as attributes), in no particular order; one
    query, no per-row Python (made for tables of thousands of runs). ``last``/``min``/``max``
    are the finite values, ``None`` where the value is NaN or infinite: ``last_class`` (see
    ``ato.tracker.storage.values``) and ``min_inf``/``max_inf`` (``1`` for +inf, ``-1`` for -inf, else
    ``0``) tell which. `read` gives the values exactly. ``[]`` for an unknown project."""
    return conn.execute(project_summary_statement(project_name)).all()


def project_summary_statement(project_name: str) -> Select[Any]:
    """The query of `project_summary_rows`, for callers that stream its rows."""
    r, p = _runs.c, _projects.c
    s = _summaries.c
    runs = select(r.id).join(_projects).where(p.name == project_name)
    min_inf, max_inf = _infinity(s.min_value), _infinity(s.max_value)
    return select(
        s.run_id,
        s.key,
        case((s.last_class == FINITE, s.last_value)).label("last"),
        case((min_inf != 0, None), else_=s.min_value).label("min"),
        case((max_inf != 0, None), else_=s.max_value).label("max"),
        s.last_class,
        min_inf.label("min_inf"),
        max_inf.label("max_inf"),
    ).where(s.run_id.in_(runs.scalar_subquery()))


def _infinity(extreme: Any) -> Any:
    """``1``/``-1`` when a stored extreme is the stand-in of +inf/-inf (see `_extreme`),
    else ``0``."""
    s = _summaries.c
    return case(
        (and_(extreme == DBL_MAX, s.has_pos_inf == 1), 1),
        (and_(extreme == -DBL_MAX, s.has_neg_inf == 1), -1),
        else_=0,
    )


def _extreme(value: float | None, has_pos_inf: int, has_neg_inf: int) -> float | None:
    """A stored extreme back as a float: an infinity's stand-in (the largest double of its
    sign) is the infinity when the key logged one."""
    if value == DBL_MAX and has_pos_inf:
        return _INF
    if value == -DBL_MAX and has_neg_inf:
        return -_INF
    return value
