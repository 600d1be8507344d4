"""Streamed output of ``ato runs metrics`` and ``ato runs export``: CSV, JSON and plain text.

Rows are written as they arrive, so memory stays flat however many rows there are: CSV through
``csv``, JSON as one array written element by element (the output is still a single valid
JSON document), and the table format as fixed-width text lines (a rich table would have to
hold every row to size its columns).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import IO, Any

from ..read.results import Metric
from .records import json_number

FORMATS = ("table", "csv", "json")
METRIC_COLUMNS = ("step", "key", "value", "timestamp")


def write_metrics(out: IO[str], metrics: Iterable[Metric], fmt: str) -> int:
    """Write ``metrics`` (``(key, value, step, timestamp)`` tuples) to ``out`` in ``fmt``
    (``'table'``, ``'csv'`` or ``'json'``) with columns ``step, key, value, timestamp``
    (ISO 8601 UTC); return the number of rows. NaN is ``nan`` in CSV and text, ``null`` in
    JSON."""
    rows = ((m.step, m.key, m.value, m.timestamp.isoformat()) for m in metrics)
    if fmt == "csv":
        return write_csv(out, METRIC_COLUMNS, rows)
    if fmt == "json":
        records = (
            {"step": step, "key": key, "value": json_number(value), "timestamp": time}
            for step, key, value, time in rows
        )
        return write_json_array(out, records)
    return _write_text(out, rows)


def _write_text(out: IO[str], rows: Iterable[tuple[Any, ...]]) -> int:
    line = "{:>10}  {:<24}  {:>14}  {}\n"
    out.write(line.format(*METRIC_COLUMNS))
    count = 0
    for step, key, value, time in rows:
        shown_step = "-" if step is None else step
        out.write(line.format(shown_step, key, _text_number(value), time))
        count += 1
    return count


def _text_number(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.8g}"


def write_csv(out: IO[str], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """``columns`` then ``rows`` as CSV (RFC 4180 quoting, ``\\n`` line ends); ``None`` is an
    empty field, datetimes ISO 8601, lists and mappings compact JSON. Returns the row count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
        count += 1
    return count


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple, Mapping)):
        return json.dumps(value, separators=(",", ":"), default=str)
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


def write_json_array(out: IO[str], records: Iterable[Mapping[str, Any]]) -> int:
    """``records`` as one JSON array, one element per line, written as they come; returns
    the count. Datetimes become ISO 8601 strings, NaN/inf ``null``."""
    out.write("[")
    count = 0
    for record in records:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(_jsonable(record), allow_nan=False, default=str))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return json_number(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
