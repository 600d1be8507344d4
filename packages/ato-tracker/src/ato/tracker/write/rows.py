"""A buffered metric row, the unit the write path moves: buffer, spool, insert and fold."""

from __future__ import annotations

# (run_id, key, value as logged (nan/inf included), step or None, unix time in seconds, seq)
MetricRow = tuple[int, str, float, "int | None", float, int]
