"""Choosing what ``ato runs list`` shows: param columns, the sort order, compact tags.

Pure functions over loaded runs and metric summaries (no database, no terminal).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from ..errors import NameNotFoundError, UsageError
from ..read.frames import flat_params
from ..read.modes import Modes
from ..read.names import hint
from ..read.params import is_bookkeeping
from ..read.results import MetricSummary
from .records import duration_seconds

AUTO_PARAMS = 4
"""How many differing params ``ato runs list`` shows when ``--params`` is not given."""


class Listable(Protocol):
    """What ordering a run needs: a `ato.tracker.Run` or a light row of ``ato runs list``."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def start_time(self) -> datetime: ...
    @property
    def end_time(self) -> datetime | None: ...
    @property
    def config(self) -> Mapping[str, Any]: ...


R = TypeVar("R", bound=Listable)
BUILTIN_SORTS = {
    "id": "id",
    "start": "start_time",
    "start_time": "start_time",
    "started": "start_time",
    "end_time": "end_time",
    "duration": "duration",
    "status": "status",
}


def split_names(values: Sequence[str] | None) -> list[str] | None:
    """``['a,b', 'c']`` (repeated, comma-separated options) -> ``['a', 'b', 'c']``."""
    if values is None:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def check_names(names: Sequence[str], known: Sequence[str], what: str) -> None:
    """Raise ``NameNotFoundError`` (with a did-you-mean) for the first of ``names`` not
    in ``known``; ``what`` names the kind (``'metrics'``, ``'params'``)."""
    for name in names:
        if name not in known:
            raise NameNotFoundError(f"unknown {what[:-1]} {name!r}.{hint(name, known, what)}")


def differing_params(flats: Sequence[Mapping[str, Any]], limit: int = AUTO_PARAMS) -> list[str]:
    """Up to ``limit`` dotted config keys whose values differ between the flat configs
    ``flats`` (one per run, as from ``flat_params``), the ones with the most distinct values
    first (ties: order of first appearance; a run lacking the key counts as one more value).
    Keys under ``experiment`` (tracker settings) and names starting with ``__`` (ato
    bookkeeping such as ``__num_halved__``) are left out."""
    distinct: dict[str, set[tuple[type, Any]]] = {}
    present: dict[str, int] = {}
    for flat in flats:
        for key, value in flat.items():
            distinct.setdefault(key, set()).add(_fingerprint(value))
            present[key] = present.get(key, 0) + 1
    counts: dict[str, int] = {}
    for key, values in distinct.items():
        count = len(values) + (present[key] < len(flats))
        if count > 1 and not is_bookkeeping(key):
            counts[key] = count
    order = sorted(counts, key=lambda key: -counts[key])  # stable: ties keep appearance order
    return order[:limit]


def _fingerprint(value: Any) -> tuple[type, Any]:
    """Equal for equal config values of the same type (``1``, ``1.0`` and ``True`` differ;
    every NaN is the same value), hashable for lists and mappings too."""
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return kind, value
    if kind is float:
        return kind, repr(value)
    return kind, json.dumps(value, sort_keys=True, default=str)


_ABSENT = object()


@dataclass(frozen=True)
class SortSpec:
    """A parsed ``--sort``: ``kind`` (``'builtin'``, ``'metric'`` or ``'param'``), the column
    ``name`` and ``descending`` (``None``: the column's natural order)."""

    kind: str
    name: str
    descending: bool | None

    @classmethod
    def parse(cls, text: str, metric_keys: Sequence[str], params: Sequence[str]) -> SortSpec:
        """``COLUMN[:asc|desc]``: a metric key, a dotted param, ``start``, ``duration``,
        ``id``, ``status`` or ``end_time``; ``metrics.KEY`` / ``params.KEY`` force the kind.

        Raises:
            UsageError: an empty column.
            NameNotFoundError: the column matches nothing (with a did-you-mean).
        """
        column, descending = text, None
        head, sep, tail = text.rpartition(":")
        if sep and tail.lower() in ("asc", "desc"):
            column, descending = head, tail.lower() == "desc"
        column = column.strip()
        if not column:
            raise UsageError(f"--sort {text!r}: expected COLUMN[:asc|desc]")
        if column.startswith("metrics.") and column[8:] in metric_keys:
            return cls("metric", column[8:], descending)
        if column.startswith("params.") and column[7:] in params:
            return cls("param", column[7:], descending)
        if column in metric_keys:
            return cls("metric", column, descending)
        if column in params:
            return cls("param", column, descending)
        if column.lower() in BUILTIN_SORTS:
            return cls("builtin", BUILTIN_SORTS[column.lower()], descending)
        known = [*BUILTIN_SORTS, *metric_keys, *params]
        raise NameNotFoundError(
            f"--sort: no metric, param or column named {column!r}.{hint(column, known, 'columns')}"
        )


def sort_runs(
    runs: Sequence[R],
    spec: SortSpec,
    summaries: Mapping[int, Mapping[str, MetricSummary]],
    modes: Modes,
) -> list[R]:
    """``runs`` ordered by ``spec``; runs lacking the value always come last.

    Natural orders: a metric best first (by its direction in ``modes``; its last value
    counts, as the table shows it), everything else ascending.
    """
    descending = spec.descending
    if descending is None:
        descending = spec.kind == "metric" and modes.mode_for(spec.name) == "max"
    keyed = [(_sort_value(run, spec, summaries), run) for run in runs]
    present = [(value, run) for value, run in keyed if value is not None]
    absent = [run for value, run in keyed if value is None]
    present.sort(key=lambda pair: pair[1].id)
    present.sort(key=lambda pair: pair[0], reverse=descending)  # stable: ties keep id order
    return [run for _, run in present] + absent


def _sort_value(
    run: Listable, spec: SortSpec, summaries: Mapping[int, Mapping[str, MetricSummary]]
) -> tuple[int, Any] | None:
    if spec.kind == "metric":
        summary = summaries.get(run.id, {}).get(spec.name)
        if summary is None or math.isnan(summary.last):
            return None
        return (0, summary.last)
    if spec.kind == "param":
        value = flat_params(run.config).get(spec.name, _ABSENT)
        return None if value is _ABSENT or value is None else _orderable(value)
    if spec.name == "duration":
        seconds = duration_seconds(run)
        return None if seconds is None else (0, seconds)
    value = getattr(run, spec.name)
    return None if value is None else (0, value)


def _orderable(value: Any) -> tuple[int, Any]:
    """Numbers sort among numbers, strings among strings, anything else by its JSON text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True, default=str))


def compact_tags(tags: Sequence[str], limit: int = 3, width: int = 24) -> str:
    """At most ``limit`` tags, each cut to ``width`` characters, then ``+N``:
    ``'a, b, c +2'``; ``''`` without tags."""
    shown = [tag if len(tag) <= width else tag[: width - 1] + "…" for tag in tags[:limit]]
    more = f" +{len(tags) - limit}" if len(tags) > limit else ""
    return ", ".join(shown) + more
