"""Plain data views of runs for the command line: metric summaries, flat configs, diffs, JSON.

Everything here is pure (no database, no terminal) so tables and ``--json`` output share it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from ato.adict import ADict

from ..read.frames import flat_params
from ..read.params import is_bookkeeping
from ..read.results import Metric, MetricSummary, Run

flatten_config = flat_params
"""``{'model': {'lr': 0.1}}`` -> ``{'model.lr': 0.1}`` (see ``ato.tracker.read.frames.flat_params``)."""

MISSING = object()
"""Marks a config key that a run does not have (see `config_diff`)."""


def summarize(metrics: Iterable[Metric]) -> dict[str, MetricSummary]:
    """Per metric key, the same aggregate [`ato.tracker.SQLFinder.get_metric_summaries`][ato.tracker.SQLFinder.get_metric_summaries]
    computes in SQL, computed from loaded metric rows (in logging order)."""
    grouped: dict[str, list[Metric]] = {}
    for metric in metrics:
        grouped.setdefault(metric.key, []).append(metric)
    summaries = {}
    for key, rows in grouped.items():
        finite = [m.value for m in rows if not math.isnan(m.value)]
        summaries[key] = MetricSummary(
            key=key,
            last=rows[-1].value,
            last_step=rows[-1].step,
            min=min(finite) if finite else None,
            max=max(finite) if finite else None,
            count=len(rows),
        )
    return summaries


def config_diff(runs: Sequence[Run]) -> dict[str, list[Any]]:
    """Dotted config keys whose values are not the same in every run, each mapped to the
    values per run (in the order of ``runs``; `MISSING` where a run lacks the key).
    Keys are sorted; ato's bookkeeping keys (`ato.tracker.read.params.is_bookkeeping`) are left
    out."""
    flats = [flatten_config(run.config) for run in runs]
    keys = sorted(key for key in set().union(*flats) if not is_bookkeeping(key))
    diff = {}
    for key in keys:
        values = [flat.get(key, MISSING) for flat in flats]
        first = _typed(values[0])
        if any(value is MISSING or _typed(value) != first for value in values):
            diff[key] = values
    return diff


def _typed(value: Any) -> tuple[type, Any]:
    # 1, 1.0 and True compare equal in Python but are different config values.
    return type(value), value


def all_metric_keys(summaries: Iterable[Mapping[str, MetricSummary]]) -> list[str]:
    """Every metric key of the given per-run summaries, sorted."""
    return sorted({key for per_run in summaries for key in per_run})


def json_number(value: float | None) -> float | str | None:
    """``value`` for JSON, which has no NaN or infinity: those become the strings ``"NaN"``,
    ``"Infinity"`` and ``"-Infinity"`` (JavaScript's and Python's spellings); ``None`` stays
    ``null``."""
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def summary_record(summary: MetricSummary) -> dict[str, Any]:
    """A ``MetricSummary`` as a JSON object (``last``, ``last_step``, ``min``, ``max``,
    ``count``; NaN and +-inf as strings, see ``json_number``)."""
    return {
        "last": json_number(summary.last),
        "last_step": summary.last_step,
        "min": json_number(summary.min),
        "max": json_number(summary.max),
        "count": summary.count,
    }


def run_record(
    run: Run, summaries: Mapping[str, MetricSummary], *, details: bool = False
) -> dict[str, Any]:
    """A run as a JSON object: ``id``, ``project``, ``status``, ``tags``, ``start_time`` and
    ``end_time`` (ISO 8601 UTC or ``null``), ``duration_s`` (seconds or ``null`` while
    running), ``structural_hash``, ``config`` and ``metrics`` (key -> ``summary_record``).
    With ``details``: also ``heartbeat``, ``provenance``, ``artifacts`` and ``fingerprints``."""
    record: dict[str, Any] = {
        "id": run.id,
        "project": run.project_name,
        "status": run.status,
        "tags": list(run.tags),
        "start_time": _iso(run.start_time),
        "end_time": _iso(run.end_time),
        "duration_s": duration_seconds(run),
        "structural_hash": run.structural_hash,
        "config": ADict.to_dict(run.config),  # not run.config.to_dict: a key may shadow it
        "metrics": {key: summary_record(s) for key, s in sorted(summaries.items())},
    }
    if details:
        record["heartbeat"] = _iso(run.heartbeat)
        record["provenance"] = ADict.to_dict(run.provenance)
        record["artifacts"] = [
            {"path": a.path, "data_type": a.data_type, "metadata": a.metadata}
            for a in run.artifacts
        ]
        record["fingerprints"] = [
            {"trace_id": f.trace_id, "trace_type": f.trace_type, "fingerprint": f.fingerprint}
            for f in run.fingerprints
        ]
    return record


class Timed(Protocol):
    """Anything with a start and an end time (a `ato.tracker.Run`, a light row)."""

    @property
    def start_time(self) -> datetime: ...
    @property
    def end_time(self) -> datetime | None: ...


def duration_seconds(run: Timed) -> float | None:
    """Seconds from start to end of ``run``; ``None`` while it has no end time."""
    if run.end_time is None:
        return None
    return (run.end_time - run.start_time).total_seconds()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
