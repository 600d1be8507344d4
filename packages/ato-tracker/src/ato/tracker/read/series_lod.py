"""The bucket extremes of a long series read from its level of detail instead of every value.

`ato.tracker.read.series` cuts a series into buckets of equal width along its steps and keeps,
per bucket, the first row holding its minimum, the first holding its maximum and its first
NaN (the min/max aggregation of Jugel et al., "M4: A Visualization-Oriented Time Series Data
Aggregation", VLDB 2014). Read from ``metrics`` alone that is one pass over every value of the
series: a 10,000,000-point series takes seconds. The write path also keeps one row per block
of `LOD_WIDTH` steps (``metric_series_lod``: count, NaN count, extremes; see
`ato.tracker.write.series_blocks`), which this module reads instead, with the same result:

1. A bucket ``[low, high)`` is split into the blocks wholly inside it and at most two partial
   blocks at its ends (fewer than `LOD_WIDTH` steps each).
2. One ``GROUP BY`` over the blocks gives each bucket's inner extremes, value and NaN counts;
   the rows of the partial blocks are read from the ``(run_id, key, step, value)`` index.
3. Each extreme (or first NaN) lies in the first part, in step order, that holds it: in a
   partial block its row is known; in the inner blocks a walk along the blocks finds the first
   holding it and a walk along that block's steps finds the row.

So about ``n / LOD_WIDTH + buckets * LOD_WIDTH`` entries are read instead of ``n``, whatever
the values (a flat series stops every walk at its first entry). This is the precomputed
min/max pyramid of visualization systems (a level of detail), one level deep.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Double,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.engine import Dialect

from ..storage.models import LOD_WIDTH, MetricRecord, MetricSummaryRecord, SeriesBlockRecord

_WALKS = 100  # walks (scalar subqueries) per statement
_RANGES = 100  # step ranges per statement reading the rows of partial blocks
_MIN, _MAX, _NAN = 0, 1, 2
_m = cast(Table, MetricRecord.__table__).c
_b = cast(Table, SeriesBlockRecord.__table__).c
_s = cast(Table, MetricSummaryRecord.__table__).c
#: The level of detail is read when a bucket spans at least this many blocks ...
MIN_BLOCKS_PER_BUCKET = 4
#: ... and the series holds at least this many values per block it spans (sparse steps: the
#: blocks would be about as many as the values).
MIN_VALUES_PER_BLOCK = 8


@dataclass
class _Part:
    """The values of one bucket's part (a partial block, or its inner blocks): count, NaN
    count and extremes."""

    count: int = 0
    nans: int = 0
    low: float | None = None
    high: float | None = None


def edges(first: int, last: int, buckets: int) -> list[int]:
    """The ``buckets + 1`` bucket boundaries of the steps ``first``..``last``: bucket ``b``
    holds the steps from ``edges[b]`` up to, not including, ``edges[b + 1]``, the steps whose
    ``(step - first) * buckets // (last - first + 1)`` is ``b``."""
    width = last - first + 1
    return [first - (-(i * width) // buckets) for i in range(buckets + 1)]  # ceil division


def worth_it(conn: Connection, run_id: int, key: str, first: int, last: int, buckets: int) -> int:
    """The series' value count when its level of detail should be read (its buckets span
    `MIN_BLOCKS_PER_BUCKET` blocks or more and its steps are dense enough), else 0."""
    if not wide_enough(first, last, buckets):
        return 0
    stmt = select(_s.value_count).where(_s.run_id == run_id, _s.key == key)
    count = conn.execute(stmt).scalar()
    return int(count) if count is not None and dense_enough(count, first, last) else 0


def wide_enough(first: int, last: int, buckets: int) -> bool:
    """Whether ``buckets`` buckets over the steps ``first``..``last`` each span
    `MIN_BLOCKS_PER_BUCKET` blocks or more."""
    return last - first + 1 >= MIN_BLOCKS_PER_BUCKET * LOD_WIDTH * buckets


def dense_enough(count: int, first: int, last: int) -> bool:
    """Whether ``count`` values over the steps ``first``..``last`` are `MIN_VALUES_PER_BLOCK`
    or more per block they span."""
    blocks = (last // LOD_WIDTH) - (first // LOD_WIDTH) + 1
    return count >= MIN_VALUES_PER_BLOCK * blocks


def extreme_ids(
    conn: Connection, run_id: int, key: str, first: int, last: int, buckets: int
) -> tuple[set[int], int] | None:
    """Ids of the first row (along the steps) holding each bucket's minimum and maximum and of
    its first NaN, and the number of values in all buckets, for the series' steps ``first`` to
    ``last`` cut into ``buckets`` buckets as `edges` cuts them;
    ``None`` when the blocks disagree with the rows (a write committed between two reads)."""
    spans = [
        (low, high, -(-low // LOD_WIDTH), high // LOD_WIDTH)
        for low, high in itertools.pairwise(edges(first, last, buckets))
    ]
    raw = _raw_parts(conn, run_id, key, spans, (first, last, buckets))
    inner = _inner_parts(conn, run_id, key, spans, (first, last, buckets))
    block_walks: list[tuple[int, int, int, float | None]] = []  # (block range, kind, value)
    row_walks: list[tuple[int, int, int, float | None]] = []  # (step range, kind, value)
    total = 0
    for b, (low, high, b0, b1) in enumerate(spans):
        if low == high:
            continue
        parts = [raw.get((b, 0)), inner.get(b), raw.get((b, 1))]
        present = [part for part in parts if part is not None]
        total += sum(part.count for part in present)
        lows = [part.low for part in present if part.low is not None]
        highs = [part.high for part in present if part.high is not None]
        wanted: list[tuple[int, float | None]] = []
        if any(part.nans for part in present):
            wanted.append((_NAN, None))
        if lows:
            wanted += [(_MIN, min(lows)), (_MAX, max(highs))]
        for kind, value in wanted:
            holder = next(part for part in present if _holds(part, kind, value))
            if holder is parts[1]:
                block_walks.append((b0, b1, kind, value))
            else:
                row_walks.append((*_raw_range(low, high, b0, b1, holder is parts[2]), kind, value))
    found = _walk(conn, run_id, key, block_walks, row_walks)
    return None if found is None else (found, total)


def _raw_range(low: int, high: int, b0: int, b1: int, tail: bool) -> tuple[int, int]:
    """The steps of a bucket's head (or ``tail``) partial block; a bucket without a whole
    block inside splits `LOD_WIDTH` steps after its start (as `_raw_parts` does)."""
    if b0 < b1:
        return (b1 * LOD_WIDTH, high) if tail else (low, b0 * LOD_WIDTH)
    split = min(low + LOD_WIDTH, high)
    return (split, high) if tail else (low, split)


def _holds(part: _Part, kind: int, value: float | None) -> bool:
    if kind == _NAN:
        return part.nans > 0
    return (part.low if kind == _MIN else part.high) == value


def _raw_parts(
    conn: Connection,
    run_id: int,
    key: str,
    spans: list[tuple[int, int, int, int]],
    buckets: tuple[int, int, int],
) -> dict[tuple[int, int], _Part]:
    """Per (bucket, 0 = head / 1 = tail) partial block: its count, NaN count and extremes,
    aggregated from the index entries (`_RANGES` ranges per statement). A row is in the tail
    when it lies `LOD_WIDTH` steps or more after its bucket's start."""
    ranges: list[tuple[int, int]] = []
    for low, high, b0, b1 in spans:
        if low == high:
            continue
        if b0 >= b1:  # no whole block inside: the bucket is raw
            ranges.append((low, high))
            continue
        if low < b0 * LOD_WIDTH:
            ranges.append((low, b0 * LOD_WIDTH))
        if b1 * LOD_WIDTH < high:
            ranges.append((b1 * LOD_WIDTH, high))
    first, last, count = buckets
    parts: dict[tuple[int, int], _Part] = {}
    for start in range(0, len(ranges), _RANGES):
        chunk = ranges[start : start + _RANGES]
        params: dict[str, Any] = {
            "run_id": run_id, "key": key, "first": first, "width": last - first + 1,
            "count": count, "lod": LOD_WIDTH,
        }  # fmt: skip
        for i in range(_RANGES):  # unused ranges are empty
            params[f"r{i}_low"], params[f"r{i}_high"] = chunk[i] if i < len(chunk) else (0, 0)
        for b, side, n, finite, low, high in _execute(conn, "raw", params):
            parts[(int(b), int(side))] = _Part(int(n), int(n) - int(finite), low, high)
    return parts


def _inner_parts(
    conn: Connection,
    run_id: int,
    key: str,
    spans: list[tuple[int, int, int, int]],
    buckets: tuple[int, int, int],
) -> dict[int, _Part]:
    """Per bucket: the values of the blocks wholly inside it, in one ``GROUP BY`` over the
    blocks. ``buckets``: the first and last step of the series and the number of buckets;
    a block's bucket is that of its first step (see ``ato.tracker.read.series._bucket``), and
    a block whose last step lies in another bucket straddles two and is left out."""
    inside = [(b0, b1) for _, _, b0, b1 in spans if b0 < b1]
    if not inside:
        return {}
    first, last, count = buckets
    width = last - first + 1
    start = _b.block * LOD_WIDTH
    bucket = ((start - first) * count) // width
    end = ((start + (LOD_WIDTH - 1) - first) * count) // width
    stmt = (
        select(
            bucket,
            func.sum(_b.value_count),
            func.sum(_b.nan_count),
            func.min(_b.min_value),
            func.max(_b.max_value),
        )
        .where(
            _b.run_id == run_id,
            _b.key == key,
            _b.block >= inside[0][0],
            _b.block < inside[-1][1],
            bucket == end,
        )
        .group_by(bucket)
    )
    return {
        int(b): _Part(count=int(n), nans=int(nans), low=low, high=high)
        for b, n, nans, low, high in conn.execute(stmt)
    }


def _walk(
    conn: Connection,
    run_id: int,
    key: str,
    block_walks: list[tuple[int, int, int, float | None]],
    row_walks: list[tuple[int, int, int, float | None]],
) -> set[int] | None:
    """The id of the first row holding each walk's value (or a NaN): for ``block_walks``
    (block range, kind, value) first the block, then the row within it; for ``row_walks``
    (step range, kind, value) the row. ``None`` if one is not found (the blocks disagree with
    the rows)."""
    series = {"run_id": run_id, "key": key}
    blocks = _run_walks(
        conn,
        "block",
        series,
        [{"low": lo, "high": hi, "kind": kind, "value": v} for lo, hi, kind, v in block_walks],
        {"low": 0, "high": 0, "kind": _MIN, "value": None},
    )
    if None in blocks:
        return None
    steps = row_walks + [
        (block * LOD_WIDTH, (block + 1) * LOD_WIDTH, kind, value)
        for block, (_, _, kind, value) in zip(blocks, block_walks, strict=True)
    ]
    rows = _run_walks(
        conn,
        "row",
        series,
        [
            {"low": lo, "high": hi, "value": value, "nan": int(kind == _NAN)}
            for lo, hi, kind, value in steps
        ],
        {"low": 0, "high": 0, "value": None, "nan": 0},
    )
    return None if None in rows else {int(row_id) for row_id in rows}


def _run_walks(
    conn: Connection,
    kind: str,
    series: dict[str, Any],
    walks: list[dict[str, Any]],
    empty: dict[str, Any],
) -> list[Any]:
    """The results of ``walks`` (parameters of one walk each), `_WALKS` per statement."""
    found: list[Any] = []
    for start in range(0, len(walks), _WALKS):
        chunk = walks[start : start + _WALKS]
        padded = chunk + [empty] * (_WALKS - len(chunk))
        params = {f"w{i}_{name}": v for i, walk in enumerate(padded) for name, v in walk.items()}
        row = _execute(conn, kind, {**series, **params}).one()
        found += list(row[: len(chunk)])
    return found


def _execute(conn: Connection, kind: str, params: dict[str, Any]) -> Any:
    """Run statement ``kind`` (`_statements`) with ``params`` through the driver: the
    statements are large (a hundred subqueries or ranges) and the same every time, so they are
    compiled once per dialect instead of built and looked up in SQLAlchemy's cache per call."""
    sql, names, defaults = _compiled(conn.dialect, kind)
    given = {**defaults, **params}
    args = tuple(given[name] for name in names) if names is not None else given
    return conn.exec_driver_sql(sql, args)


@functools.lru_cache(maxsize=16)
def _compiled(dialect: Dialect, kind: str) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
    """The SQL of statement ``kind`` for ``dialect``, for a positional driver the order of
    its parameters (``None``: named), and the values of the parameters SQLAlchemy added
    (``LIMIT 1``)."""
    compiled = _statements()[kind].compile(dialect=dialect)
    names = tuple(compiled.positiontup or ()) if compiled.positional else None
    return str(compiled), names, dict(compiled.params)


def _statements() -> dict[str, Any]:
    """The statements `_execute` runs; every parameter is named (``run_id``, ``key`` and
    those of each walk or range)."""
    series = and_(
        _m.run_id == bindparam("run_id", type_=Integer), _m.key == bindparam("key", type_=String)
    )
    blocks = and_(
        _b.run_id == bindparam("run_id", type_=Integer), _b.key == bindparam("key", type_=String)
    )
    ranges = or_(
        *(
            and_(
                series,
                _m.step >= bindparam(f"r{i}_low", type_=BigInteger),
                _m.step < bindparam(f"r{i}_high", type_=BigInteger),
            )
            for i in range(_RANGES)
        )
    )
    first = bindparam("first", type_=BigInteger)
    width = bindparam("width", type_=BigInteger)
    count = bindparam("count", type_=BigInteger)
    bucket = ((_m.step - first) * count) // width  # as ato.tracker.read.series._bucket
    bucket_start = first + (bucket * width + (count - 1)) // count
    tail = case((_m.step - bucket_start >= bindparam("lod", type_=BigInteger), 1), else_=0)
    raw = (
        select(
            bucket, tail, func.count(), func.count(_m.value), func.min(_m.value), func.max(_m.value)
        )
        .where(ranges)
        .group_by(literal_column("1"), literal_column("2"))  # by position: no repeated params
    )
    return {
        "raw": raw,
        "block": _block_walks(blocks),
        "row": _row_walks(series),
    }


def _block_walks(blocks: ColumnElement[bool]) -> Any:
    """`_WALKS` walks along the blocks: walk ``i`` takes ``w<i>_low``/``_high`` (a block
    range), ``_kind`` (min, max or NaN) and ``_value``, and gives the first block in the range
    holding that extreme (or a NaN)."""

    def walk(i: int) -> Any:
        kind = bindparam(f"w{i}_kind", type_=Integer)
        value = bindparam(f"w{i}_value", type_=Double)
        holds = or_(
            and_(kind == literal_column(str(_MIN)), _b.min_value == value),
            and_(kind == literal_column(str(_MAX)), _b.max_value == value),
            and_(kind == literal_column(str(_NAN)), _b.nan_count > literal_column("0")),
        )
        return (
            select(_b.block)
            .where(
                blocks,
                _b.block >= bindparam(f"w{i}_low", type_=BigInteger),
                _b.block < bindparam(f"w{i}_high", type_=BigInteger),
                holds,
            )
            .order_by(_b.block)
            .limit(1)
            .scalar_subquery()
        )

    return select(*(walk(i) for i in range(_WALKS)))


def _row_walks(series: ColumnElement[bool]) -> Any:
    """`_WALKS` walks along the steps: walk ``i`` takes ``w<i>_low``/``_high`` (a step
    range), ``_value`` and ``_nan`` (1: look for a NaN), and gives the id of the first row in
    the range holding the value. ``value + 0``: see ``ato.tracker.read.series._walks``."""
    unindexed = _m.value + literal_column("0")

    def walk(i: int) -> Any:
        nan = and_(_m.value.is_(None), bindparam(f"w{i}_nan", type_=Integer) == literal_column("1"))
        return (
            select(_m.id)
            .where(
                series,
                _m.step >= bindparam(f"w{i}_low", type_=BigInteger),
                _m.step < bindparam(f"w{i}_high", type_=BigInteger),
                or_(unindexed == bindparam(f"w{i}_value", type_=Double), nan),
            )
            .order_by(_m.step, _m.id)
            .limit(1)
            .scalar_subquery()
        )

    return select(*(walk(i) for i in range(_WALKS)))
