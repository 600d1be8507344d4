"""Runs and metrics as rows: the shape shared by ``ato runs export`` and the pandas
DataFrames of ``SQLFinder.runs_frame`` (``Run.metric_frame`` builds its own, see
`ato.tracker.read.results`).

One row per run, with the columns of MLflow's ``search_runs``: ``run_id``, ``status``,
``start_time``, ``end_time``, ``tags``, then ``params.<dotted config key>`` and
``metrics.<key>`` (the value logged last). Exports add ``metrics.<key>.min`` and
``metrics.<key>.max``. pandas is imported only here, on first use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .dataframes import import_pandas
from .overview import RunRow
from .results import MetricSummary, Run

if TYPE_CHECKING:
    import pandas

MISSING_VALUE = None
RUN_COLUMNS = ("run_id", "status", "start_time", "end_time", "tags")
STATS = ("last", "min", "max")


_LEAVES = frozenset({str, int, float, bool, type(None)})  # JSON scalars: never flattened


def flat_params(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{'model': {'lr': 0.1}}`` -> ``{'model.lr': 0.1}``; lists stay values, an empty
    mapping stays ``{}`` under its own path."""
    flat: dict[str, Any] = {}
    for key, value in dict.items(config) if isinstance(config, dict) else config.items():
        path = f"{prefix}{key}"
        if value.__class__ not in _LEAVES and isinstance(value, Mapping) and value:
            flat.update(flat_params(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def param_keys(runs: Iterable[Run | RunRow]) -> list[str]:
    """Every dotted config key of ``runs``, in order of first appearance."""
    return _keys_of(flat_params(run.config) for run in runs)


def _keys_of(flats: Iterable[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for flat in flats:
        keys.update(dict.fromkeys(flat))
    return list(keys)


def run_rows(
    runs: Sequence[Run | RunRow],
    summaries: Mapping[int, Mapping[str, MetricSummary]],
    params: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    stats: Sequence[str] = ("last",),
) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names and one ``{column: value}`` row per run.

    Args:
        runs: the runs, in row order (full runs or light rows: only their id, status,
            times, tags and config are read).
        summaries: per run id, per metric key (as from ``SQLFinder.get_metric_summaries``).
        params: dotted config keys to include (``None``: every key of any run).
        metrics: metric keys to include (``None``: every key any run logged, sorted).
        stats: which summaries per metric: ``'last'`` gives ``metrics.<key>``, ``'min'`` and
            ``'max'`` give ``metrics.<key>.min`` / ``.max``.

    Missing params and metrics are ``None``; non-finite metric values are ``nan``.
    """
    flats = [flat_params(run.config) for run in runs]  # once per run, not per use
    param_list = list(params) if params is not None else _keys_of(flats)
    if metrics is None:
        metric_list = sorted({key for per_run in summaries.values() for key in per_run})
    else:
        metric_list = list(metrics)
    metric_columns = [
        (key, stat, _metric_column(key, stat)) for key in metric_list for stat in stats
    ]
    columns = [
        *RUN_COLUMNS,
        *(f"params.{p}" for p in param_list),
        *(c for _, _, c in metric_columns),
    ]
    rows = []
    for run, flat in zip(runs, flats, strict=True):
        per_key = summaries.get(run.id, {})
        row: dict[str, Any] = {
            "run_id": run.id,
            "status": run.status,
            "start_time": run.start_time,
            "end_time": run.end_time,
            "tags": list(run.tags),
        }
        row.update({f"params.{p}": flat.get(p, MISSING_VALUE) for p in param_list})
        for key, stat, column in metric_columns:
            summary = per_key.get(key)
            row[column] = None if summary is None else _stat(summary, stat)
        rows.append(row)
    return columns, rows


def _metric_column(key: str, stat: str) -> str:
    return f"metrics.{key}" if stat == "last" else f"metrics.{key}.{stat}"


def _stat(summary: MetricSummary, stat: str) -> float | None:
    if stat == "last":
        return summary.last
    value = summary.min if stat == "min" else summary.max
    return math.nan if value is None else value


def runs_frame(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> pandas.DataFrame:
    """A DataFrame of ``run_rows`` output (metric columns as floats, NaN when missing)."""
    pd = import_pandas("SQLFinder.runs_frame")
    frame: pandas.DataFrame = pd.DataFrame.from_records(list(rows), columns=list(columns))
    for column in columns:
        if column.startswith("metrics."):
            frame[column] = frame[column].astype("float64")
    return frame
