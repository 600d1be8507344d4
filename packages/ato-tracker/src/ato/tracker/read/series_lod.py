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

import itertools
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Double,
    Integer,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
)

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
    """The values of one bucket's part (partial block or inner blocks): count, NaN count, the
    extremes, and for a partial block the ids of the first rows holding them."""

    count: int = 0
    nans: int = 0
    low: float | None = None
    high: float | None = None
    low_id: int | None = None
    high_id: int | None = None
    nan_id: int | None = None


def edges(first: int, last: int, buckets: int) -> list[int]:
    """The ``buckets + 1`` bucket boundaries of the steps ``first``..``last``: bucket ``b``
    holds the steps from ``edges[b]`` up to, not including, ``edges[b + 1]``, the steps whose
    ``(step - first) * buckets // (last - first + 1)`` is ``b``."""
    width = last - first + 1
    return [first - (-(i * width) // buckets) for i in range(buckets + 1)]  # ceil division


def worth_it(conn: Connection, run_id: int, key: str, first: int, last: int, buckets: int) -> int:
    """The series' value count when its level of detail should be read (its buckets span
    `MIN_BLOCKS_PER_BUCKET` blocks or more and its steps are dense enough), else 0."""
    if last - first + 1 < MIN_BLOCKS_PER_BUCKET * LOD_WIDTH * buckets:
        return 0
    stmt = select(_s.value_count).where(_s.run_id == run_id, _s.key == key)
    count = conn.execute(stmt).scalar()
    blocks = (last // LOD_WIDTH) - (first // LOD_WIDTH) + 1
    return int(count) if count is not None and count >= MIN_VALUES_PER_BLOCK * blocks else 0


def extreme_ids(
    conn: Connection, run_id: int, key: str, first: int, last: int, buckets: int
) -> tuple[set[int], int] | None:
    """Ids of the first row (along the steps) holding each bucket's minimum and maximum and of
    its first NaN, and the number of values in all buckets, for the series' steps ``first`` to
    ``last`` cut into ``buckets`` buckets as `edges` cuts them;
    ``None`` when the blocks disagree with the rows (a write committed between two reads)."""
    series = and_(_m.run_id == run_id, _m.key == key)
    spans = [
        (low, high, -(-low // LOD_WIDTH), high // LOD_WIDTH)
        for low, high in itertools.pairwise(edges(first, last, buckets))
    ]
    raw = _raw_parts(conn, series, spans)
    inner = _inner_parts(conn, run_id, key, spans, (first, last, buckets))
    ids: set[int] = set()
    walks: list[tuple[int, int, int, float | None]] = []  # (first block, end block, kind, value)
    total = 0
    for b, (low, high, b0, b1) in enumerate(spans):
        if low == high:
            continue
        parts = [raw.get((b, 0)), inner.get(b), raw.get((b, 1))]
        present = [part for part in parts if part is not None]
        total += sum(part.count for part in present)
        lows = [part.low for part in present if part.low is not None]
        highs = [part.high for part in present if part.high is not None]
        wanted = [(_NAN, None)] if any(part.nans for part in present) else []
        if lows:
            wanted += [(_MIN, min(lows)), (_MAX, max(highs))]
        for kind, value in wanted:
            holder = next(part for part in present if _holds(part, kind, value))
            if holder is parts[1]:
                walks.append((b0, b1, kind, value))
            else:
                ids.add(cast(int, _found_id(holder, kind)))
    walked = _walk_inner(conn, series, run_id, key, walks)
    if walked is None:
        return None
    return ids | walked, total


def _holds(part: _Part, kind: int, value: float | None) -> bool:
    if kind == _NAN:
        return part.nans > 0
    return (part.low if kind == _MIN else part.high) == value


def _found_id(part: _Part, kind: int) -> int | None:
    return part.nan_id if kind == _NAN else part.low_id if kind == _MIN else part.high_id


def _raw_parts(
    conn: Connection, series: ColumnElement[bool], spans: list[tuple[int, int, int, int]]
) -> dict[tuple[int, int], _Part]:
    """Per (bucket, 0 = head / 1 = tail) partial block: its values, from the index entries."""
    ranges: list[tuple[int, int, int, int]] = []  # (bucket, side, low, high)
    for b, (low, high, b0, b1) in enumerate(spans):
        if low == high:
            continue
        if b0 >= b1:  # no whole block inside: the bucket is one raw part
            ranges.append((b, 0, low, high))
            continue
        if low < b0 * LOD_WIDTH:
            ranges.append((b, 0, low, b0 * LOD_WIDTH))
        if b1 * LOD_WIDTH < high:
            ranges.append((b, 1, b1 * LOD_WIDTH, high))
    parts: dict[tuple[int, int], _Part] = {}
    for start in range(0, len(ranges), _RANGES):
        chunk = ranges[start : start + _RANGES]
        where = or_(*(and_(series, _m.step >= lo, _m.step < hi) for _, _, lo, hi in chunk))
        stmt = select(_m.id, _m.step, _m.value).where(where).order_by(_m.step, _m.id)
        rows = conn.execute(stmt).all()
        position = 0
        for b, side, _, hi in chunk:  # rows come in step order, as the ranges do
            part = parts[(b, side)] = _Part()
            while position < len(rows) and rows[position][1] < hi:
                row_id, _, value = rows[position]
                _add(part, int(row_id), value)
                position += 1
    return parts


def _add(part: _Part, row_id: int, value: float | None) -> None:
    """One row (read in step order) into ``part``: the first row holding an extreme wins."""
    part.count += 1
    if value is None:
        part.nans += 1
        if part.nan_id is None:
            part.nan_id = row_id
        return
    if part.low is None or value < part.low:
        part.low, part.low_id = value, row_id
    if part.high is None or value > cast(float, part.high):
        part.high, part.high_id = value, row_id


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


def _walk_inner(
    conn: Connection,
    series: ColumnElement[bool],
    run_id: int,
    key: str,
    walks: list[tuple[int, int, int, float | None]],
) -> set[int] | None:
    """For each walk (first block, end block, kind, value): the id of the first row holding
    the value (or a NaN) in the blocks: first the block, then the row within it (``None`` if
    one is not found: the blocks disagree with the rows)."""
    block_walk = _block_walks(run_id, key)
    blocks = _run_walks(
        conn,
        block_walk,
        [{"low": b0, "high": b1, "kind": kind, "value": value} for b0, b1, kind, value in walks],
        {"low": 0, "high": 0, "kind": _MIN, "value": None},
    )
    if None in blocks:
        return None
    row_walk = _row_walks(series)
    rows = _run_walks(
        conn,
        row_walk,
        [
            {
                "low": block * LOD_WIDTH,
                "high": (block + 1) * LOD_WIDTH,
                "value": value,
                "nan": int(kind == _NAN),
            }
            for block, (_, _, kind, value) in zip(blocks, walks, strict=True)
        ],
        {"low": 0, "high": 0, "value": None, "nan": 0},
    )
    return None if None in rows else {int(row_id) for row_id in rows}


def _run_walks(
    conn: Connection, statement: Any, walks: list[dict[str, Any]], empty: dict[str, Any]
) -> list[Any]:
    """The results of ``walks`` (parameters of one walk each), `_WALKS` per statement."""
    found: list[Any] = []
    for start in range(0, len(walks), _WALKS):
        chunk = walks[start : start + _WALKS]
        padded = chunk + [empty] * (_WALKS - len(chunk))
        params = {f"w{i}_{name}": v for i, walk in enumerate(padded) for name, v in walk.items()}
        row = conn.execute(statement, params).one()
        found += list(row[: len(chunk)])
    return found


def _block_walks(run_id: int, key: str) -> Any:
    """`_WALKS` walks along the blocks: walk ``i`` takes ``w<i>_low``/``_high`` (a block
    range), ``_kind`` (min, max or NaN) and ``_value``, and gives the first block in the range
    holding that extreme (or a NaN)."""

    def walk(i: int) -> Any:
        kind = bindparam(f"w{i}_kind", type_=Integer)
        value = bindparam(f"w{i}_value", type_=Double)
        holds = or_(
            and_(kind == _MIN, _b.min_value == value),
            and_(kind == _MAX, _b.max_value == value),
            and_(kind == _NAN, _b.nan_count > 0),
        )
        return (
            select(_b.block)
            .where(
                _b.run_id == run_id,
                _b.key == key,
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
    unindexed = _m.value + 0

    def walk(i: int) -> Any:
        nan = and_(_m.value.is_(None), bindparam(f"w{i}_nan", type_=Integer) == 1)
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
