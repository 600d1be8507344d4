"""Runs tables in SQL: a run filter (`ato.tracker.read.runfilter`'s tree) and a sort turned
into one SQLAlchemy statement per page, so a project of 100,000 runs is filtered, counted,
sorted and paged by the database, and only the page's rows reach Python.

Config values are read from ``run_params`` (revision 0010: each run's config flattened into
one row per dotted key, with its kind and its value as a number or a text, see
`ato.tracker.storage.run_params`), through its primary key ``(run_id, key)`` and its indexes
``(key, kind, num_value)`` and ``(key, text_prefix)``, never from the JSON of every run; every value from a filter is a
bound parameter. A comparison with a number matches only runs whose value is a JSON number
(``true`` is not 1), one with a text only JSON strings; a run that lacks the key matches no
comparison but ``is null``. Metrics compare their last value (NaN matches nothing).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    case,
    exists,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
)

from ..errors import RunFilterError
from ..storage import run_params
from ..storage.models import (
    TEXT_PREFIX_LENGTH,
    MetricSummaryRecord,
    ProjectRecord,
    RunRecord,
)
from ..storage.statuses import RunStatus
from . import runfilter
from .overview import RunRow
from .runfilter import BoolOp, Comparison, Node, Not
from .status import effective_status

_runs = cast(Table, RunRecord.__table__)
_projects = cast(Table, ProjectRecord.__table__)
_summaries = cast(Table, MetricSummaryRecord.__table__)
#: Run fields a runs table sorts by (besides ``params.<key>`` and ``metrics.<key>``).
SORT_FIELDS = runfilter.ATTRIBUTES
_params = run_params.TABLE
_SQL_OPS = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class Context:
    """What compiling a filter needs to know: the backend (``'sqlite'``, ``'postgresql'``,
    ``'mysql'``) and the moment before which a silent ``running`` run reads as crashed."""

    def __init__(self, dialect: str, crashed_before: datetime) -> None:
        self.dialect = "mysql" if dialect in ("mysql", "mariadb") else dialect
        self.crashed_before = crashed_before

    @classmethod
    def of(cls, conn: Connection, now: datetime, crash_timeout: float) -> Context:
        """The context of ``conn`` at database time ``now`` (aware UTC)."""
        return cls(conn.dialect.name, now - timedelta(seconds=crash_timeout))

    # ---- run attributes -----------------------------------------------------------------

    def status(self) -> Any:
        """The status readers show: ``crashed`` for a silent ``running`` run."""
        r = _runs.c
        silent = func.coalesce(r.heartbeat, r.start_time) < literal(
            self.crashed_before, r.start_time.type
        )
        return case(
            (and_(r.status == RunStatus.RUNNING.value, silent), RunStatus.CRASHED.value),
            else_=r.status,
        )

    def duration(self) -> Any:
        """Seconds from start to end (NULL while a run has no end)."""
        r = _runs.c
        if self.dialect == "postgresql":
            return func.extract("epoch", r.end_time - r.start_time)
        if self.dialect == "mysql":
            micro = func.timestampdiff(literal_column("MICROSECOND"), r.start_time, r.end_time)
            return micro / 1e6
        return (func.julianday(r.end_time) - func.julianday(r.start_time)) * 86400.0

    def attribute(self, name: str) -> Any:
        r = _runs.c
        if name == "status":
            return self.status()
        if name == "duration":
            return self.duration()
        return {"id": r.id, "start_time": r.start_time, "end_time": r.end_time}[name]

    # ---- tags ---------------------------------------------------------------------------

    def has_tag(self, tag: str) -> ColumnElement[bool]:
        """Whether the run's tag list holds exactly ``tag``."""
        tags = _runs.c.tags
        if self.dialect == "postgresql":
            element = func.json_array_elements_text(tags).table_valued("value")
            return exists(select(literal(1)).select_from(element).where(element.c.value == tag))
        if self.dialect == "mysql":
            return func.json_contains(tags, json.dumps(tag)) == 1
        element = func.json_each(tags).table_valued("value")
        return exists(select(literal(1)).select_from(element).where(element.c.value == tag))

    def tag_like(self, pattern: str, *, ignore_case: bool = False) -> ColumnElement[bool]:
        """Whether one of the run's tags matches the SQL ``LIKE`` ``pattern`` (``\\``
        escapes ``%``, ``_`` and itself)."""
        tags = _runs.c.tags
        if self.dialect == "mysql":
            source = func.lower(tags) if ignore_case else tags
            wanted = pattern.lower() if ignore_case else pattern
            return func.json_search(source, "one", wanted).is_not(None)
        function = func.json_array_elements_text if self.dialect == "postgresql" else func.json_each
        element = function(tags).table_valued("value")
        value = element.c.value
        return exists(
            select(literal(1)).select_from(element).where(like(value, pattern, ignore_case))
        )


def like(
    column: Any, pattern: str, ignore_case: bool = False, dialect: str = ""
) -> ColumnElement[bool]:
    """``column LIKE pattern`` with ``\\`` as the escape character, case-sensitive on every
    backend (SQLite's ``LIKE`` ignores ASCII case: there it is a ``GLOB``), or case-folded on
    both sides for ``ignore_case`` (``ILIKE``, which only PostgreSQL has)."""
    if ignore_case:
        return cast(ColumnElement[bool], func.lower(column).like(pattern.lower(), escape="\\"))
    if dialect == "sqlite":
        return cast(ColumnElement[bool], column.op("GLOB", is_comparison=True)(_glob(pattern)))
    return cast(ColumnElement[bool], column.like(pattern, escape="\\"))


def _glob(pattern: str) -> str:
    """A ``LIKE`` pattern (``%``, ``_``, ``\\`` escapes) as the same SQLite ``GLOB``."""
    out = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            char = next(chars, "\\")
            out.append(f"[{char}]" if char in "*?[" else char)
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(f"[{char}]" if char in "*?[" else char)
    return "".join(out)


# ---- filter -> SQL ----------------------------------------------------------------------


def condition(node: Node | None, ctx: Context) -> ColumnElement[bool]:
    """The SQL condition (on the experiments table) of a parsed filter; ``true()`` for none.

    Raises:
        RunFilterError: a comparison no field of its kind supports (``metrics.acc like 'a'``,
            ``status < 3``...), with the position of the comparison.
    """
    if node is None:
        return true()
    if isinstance(node, BoolOp):
        parts = [condition(part, ctx) for part in node.parts]
        return and_(*parts) if node.op == "and" else or_(*parts)
    if isinstance(node, Not):
        return not_(condition(node.part, ctx))
    return _comparison(node, ctx)


def _comparison(node: Comparison, ctx: Context) -> ColumnElement[bool]:
    kind = node.field.kind
    if kind == "params":
        return _param(node, ctx)
    if kind == "metrics":
        return _metric(node)
    if kind in ("tags", "tag"):
        return _tag(node, ctx)
    return _attribute(node, ctx)


def _bad(node: Comparison, message: str) -> RunFilterError:
    return RunFilterError(f"bad filter at position {node.position}: {message}", node.position)


def _param(node: Comparison, ctx: Context) -> ColumnElement[bool]:
    key = node.field.key
    run_params.check_key(key)
    if node.op in ("is null", "is not null"):
        present = _has_param(key)
        return not_(present) if node.op == "is null" else present
    if node.op in ("in", "not in"):
        one = [_param(Comparison(node.field, "=", (v,), node.position), ctx) for v in node.values]
        matched = or_(*one)
        return and_(_has_param(key), not_(matched)) if node.op == "not in" else matched
    value = node.values[0]
    p = _params.c
    if node.op.endswith("like"):
        op = node.op.removeprefix("not ")
        assert isinstance(value, str)  # noqa: S101 - the parser only takes quoted patterns
        matched = like(p.text_value, value, op == "ilike", ctx.dialect)
        negated = node.op.startswith("not ")
        return _has_param(key, p.kind == run_params.STRING, not_(matched) if negated else matched)
    if isinstance(value, bool):
        if node.op not in ("=", "!="):
            raise _bad(node, f"true/false compare only with = or !=, not {node.op!r}")
        return _has_param(
            key, p.kind == run_params.BOOL, _SQL_OPS[node.op](p.num_value, int(value))
        )
    if isinstance(value, str):
        return _text_param(key, node.op, value)
    return _has_param(key, p.kind == run_params.NUMBER, _SQL_OPS[node.op](p.num_value, value))


def _text_param(key: str, op: str, value: str) -> ColumnElement[bool]:
    """Config ``key`` holds a text ``op`` ``value``; ``=`` and ``!=`` with a text shorter
    than ``text_prefix`` compare the indexed prefix alone (equal exactly when it is)."""
    p = _params.c
    if op in ("=", "!=") and len(value) < TEXT_PREFIX_LENGTH:
        return _has_param(key, _SQL_OPS[op](p.text_prefix, value))
    if op == "=":
        return _has_param(key, p.text_prefix == value[:TEXT_PREFIX_LENGTH], p.text_value == value)
    return _has_param(key, p.kind == run_params.STRING, _SQL_OPS[op](p.text_value, value))


def _has_param(key: str, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """Whether the run has config ``key`` with a value meeting ``conditions`` (on
    ``run_params``): the ids of the runs that do, read once through the ``(key, kind,
    num_value)`` or ``(key, text_prefix)`` index or the table, rather than a lookup per
    run."""
    p = _params.c
    matching = select(p.run_id).where(p.key == key, *conditions)
    return cast(ColumnElement[bool], _runs.c.id.in_(matching))


def _like(
    column: Any, node: Comparison, guard: ColumnElement[bool], ctx: Context
) -> ColumnElement[bool]:
    pattern = node.values[0]
    op = node.op.removeprefix("not ")
    assert isinstance(pattern, str)  # noqa: S101 - the parser only takes quoted patterns
    matched = like(column, pattern, op == "ilike", ctx.dialect)
    return and_(guard, not_(matched) if node.op.startswith("not ") else matched)


def _metric(node: Comparison) -> ColumnElement[bool]:
    s = _summaries.c
    key = node.field.key
    logged = and_(s.run_id == _runs.c.id, s.key == key)
    if node.op in ("is null", "is not null"):
        present = exists(select(literal(1)).where(logged))
        return not_(present) if node.op == "is null" else present
    values = node.values
    if any(isinstance(v, (str, bool)) for v in values):
        raise _bad(node, f"metrics.{key} compares with numbers only")
    if node.op.endswith("like"):
        raise _bad(node, f"metrics.{key} compares with numbers: like/ilike do not apply")
    last = s.last_value
    if node.op in ("in", "not in"):
        matched = last.in_(list(values))
        return exists(
            select(literal(1)).where(logged, not_(matched) if node.op == "not in" else matched)
        )
    return exists(select(literal(1)).where(logged, _SQL_OPS[node.op](last, values[0])))


def _tag(node: Comparison, ctx: Context) -> ColumnElement[bool]:
    name = node.field.key
    prefix = f"{name}:" if node.field.kind == "tags" else ""
    if node.op in ("is null", "is not null"):
        if not prefix:
            raise _bad(node, "use tags.<name> is null (a bare tag is never null)")
        present = ctx.tag_like(_escape_like(prefix) + "%")
        return not_(present) if node.op == "is null" else present
    if any(not isinstance(v, str) for v in node.values):
        raise _bad(node, "tags compare with quoted texts: tags.x = '1', not tags.x = 1")
    texts = [prefix + str(v) for v in node.values]
    if node.op in ("=", "!=", "in", "not in"):
        matched = or_(*(ctx.has_tag(text) for text in texts))
        if node.op in ("=", "in"):
            return matched
        if not prefix:
            return not_(matched)
        return and_(ctx.tag_like(_escape_like(prefix) + "%"), not_(matched))
    if node.op.endswith("like"):
        ignore_case = node.op.endswith("ilike")
        matched = ctx.tag_like(
            _escape_like(prefix) + texts[0][len(prefix) :], ignore_case=ignore_case
        )
        return not_(matched) if node.op.startswith("not ") else matched
    raise _bad(node, f"tags compare with =, !=, in, like or ilike, not {node.op!r}")


def _attribute(node: Comparison, ctx: Context) -> ColumnElement[bool]:
    name = node.field.key
    column = ctx.attribute(name)
    if node.op in ("is null", "is not null"):
        present = cast(ColumnElement[bool], column.is_not(None))
        return not_(present) if node.op == "is null" else present
    values = [_attribute_value(node, name, v) for v in node.values]
    if node.op in ("in", "not in"):
        matched = cast(ColumnElement[bool], column.in_(values))
        return not_(matched) if node.op == "not in" else matched
    if node.op.endswith("like"):
        if name != "status":
            raise _bad(node, f"like/ilike apply to status only, not {name}")
        return _like(column, node, true(), ctx)
    if name == "status" and node.op not in ("=", "!="):
        raise _bad(node, f"status compares with =, !=, in or like, not {node.op!r}")
    return cast(ColumnElement[bool], _SQL_OPS[node.op](column, values[0]))


def _attribute_value(node: Comparison, name: str, value: Any) -> Any:
    if name == "status":
        if not isinstance(value, str):
            raise _bad(node, "status compares with a quoted status: status = 'completed'")
        return value
    if name in ("start_time", "end_time"):
        if not isinstance(value, str):
            raise _bad(node, f"{name} compares with an ISO 8601 time: {name} > '2026-01-31'")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _bad(
                node, f"{value!r} is not an ISO 8601 time (2026-01-31 or 2026-01-31T12:00)"
            ) from None
        return moment
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(node, f"{name} compares with a number")
    return value


def _escape_like(text: str) -> str:
    """``text`` matched literally by a `like` pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---- sorting and paging -----------------------------------------------------------------


def check_sort(sort_by: str) -> None:
    """Raises ``ValueError`` unless ``sort_by`` is a run field, ``params.<key>`` or
    ``metrics.<key>``."""
    if sort_by in SORT_FIELDS:
        return
    for prefix in ("params.", "metrics."):
        if sort_by.startswith(prefix) and len(sort_by) > len(prefix):
            return
    raise ValueError(
        f"cannot sort runs by {sort_by!r}: use one of {', '.join(SORT_FIELDS)}, "
        "'params.<dotted config key>' or 'metrics.<metric key>'"
    )


def page_statement(
    project_id: int,
    where: ColumnElement[bool],
    ctx: Context,
    sort_by: str,
    descending: bool,
    offset: int,
    limit: int | None,
    *,
    counted: bool = False,
    ids: bool = False,
) -> Select[Any]:
    """The page's runs: ``(id, status, start_time, end_time, tags, config,
    structural_hash, heartbeat)`` rows of project ``project_id`` matching ``where``, sorted by
    ``sort_by`` (values missing last in either direction, ties by id in the same direction),
    ``offset``/``limit`` applied. ``counted``: ``(id, number of matching runs)`` rows instead,
    which filters once where a count and a page would filter twice; ``ids``: ``(id,)`` rows,
    so that sorting all runs reads no run row (`rows_statement` then reads the page's runs)."""
    r = _runs.c
    if counted:
        columns = [r.id, func.count().over().label("total")]
    elif ids:
        columns = [r.id]
    else:
        columns = [r.id, r.status, r.start_time, r.end_time, r.tags, r.config,
                   r.structural_hash, r.heartbeat]  # fmt: skip
    stmt = select(*columns).where(r.project_id == project_id, where)
    stmt, keys = _sort_keys(stmt, ctx, sort_by)
    if counted:  # count and sort keys in a subquery, sorted outside: the count needs every
        # match, and PostgreSQL then plans for all of them rather than for an early stop
        labelled = [key.label(f"sort_{i}") for i, (key, _) in enumerate(keys)]
        matched = stmt.add_columns(*labelled).subquery("matched")
        order = [
            _direction(matched.c[f"sort_{i}"], descending) if directed else matched.c[f"sort_{i}"]
            for i, (_, directed) in enumerate(keys)
        ]
        return _paged(select(matched.c.id, matched.c.total).order_by(*order), offset, limit)
    order = [_direction(key, descending) if directed else key for key, directed in keys]
    return _paged(stmt.order_by(*order), offset, limit)


def _sort_keys(stmt: Select[Any], ctx: Context, sort_by: str) -> tuple[Select[Any], list[Any]]:
    """``stmt`` joined to what ``sort_by`` reads, and the ``(expression, directed)`` sort
    keys: values missing last in either direction (undirected keys), ties by id."""
    r = _runs.c
    if sort_by == "id":
        return stmt, [(r.id, True)]
    if sort_by.startswith("params."):
        key = sort_by.removeprefix("params.")
        run_params.check_key(key)
        p = _params.alias("sort_param")
        stmt = stmt.outerjoin(p, and_(p.c.run_id == r.id, p.c.key == key))
        keys = [(_param_rank(p), False), (p.c.num_value, True), (p.c.text_value, True)]
        return stmt, [*keys, (r.id, True)]
    if sort_by.startswith("metrics."):
        s = _summaries.alias("sort_summary")
        key = sort_by.removeprefix("metrics.")
        stmt = stmt.outerjoin(s, and_(s.c.run_id == r.id, s.c.key == key))
        value = s.c.last_value
    else:
        value = ctx.attribute(sort_by)
    return stmt, [(value.is_(None), False), (value, True), (r.id, True)]


def _param_rank(p: Any) -> Any:
    """``0`` where the sorted config key is a number, ``1`` a text, ``2`` another JSON value
    (bools by their ``num_value`` 0/1 after it), ``3`` absent: numbers before texts, missing
    last, in either direction."""
    kind = p.c.kind
    return case(
        (kind == run_params.NUMBER, 0), (kind == run_params.STRING, 1), (kind.is_(None), 3),
        else_=2,
    )  # fmt: skip


def _direction(column: Any, descending: bool) -> Any:
    return column.desc() if descending else column.asc()


def _paged(stmt: Select[Any], offset: int, limit: int | None) -> Select[Any]:
    if offset:
        stmt = stmt.offset(offset)
    return stmt.limit(limit) if limit is not None else stmt


def rows_statement(ids: Sequence[int]) -> Select[Any]:
    """The rows of `page_statement` for the runs ``ids`` (any order)."""
    r = _runs.c
    return select(
        r.id, r.status, r.start_time, r.end_time, r.tags, r.config, r.structural_hash, r.heartbeat
    ).where(r.id.in_(list(ids)))


def count_statement(project_id: int, where: ColumnElement[bool]) -> Select[Any]:
    """How many runs of project ``project_id`` match ``where``."""
    r = _runs.c
    return select(func.count()).select_from(_runs).where(r.project_id == project_id, where)


def page_rows(
    rows: Sequence[Any], project_name: str, crash_timeout: float, now: datetime
) -> list[RunRow]:
    """The rows of `page_statement` as `RunRow`s (status as readers see it)."""
    return [
        RunRow(
            row[0],
            project_name,
            effective_status(row[1], row[7], row[2], crash_timeout, now),
            row[2],
            row[3],
            row[4] if type(row[4]) is list else list(row[4] or []),
            row[5] or {},
            row[6],
        )
        for row in rows
    ]
