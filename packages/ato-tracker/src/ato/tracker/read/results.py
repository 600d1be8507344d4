"""Plain, detached result objects returned by the logger and the finder.

They hold copies of the data, not live ORM rows: every attribute stays readable after the
database session that produced them has closed.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from ato.adict import ADict
from ato.adict.modes import check_mode as _check_mode

from ..errors import InvalidModeError

if TYPE_CHECKING:
    import pandas


def check_mode(mode: object) -> str:
    """Return ``mode`` if it is ``'max'`` or ``'min'`` (`ato.adict.modes.check_mode`).

    Raises:
        InvalidModeError: any other value (a ``ValueError``).
    """
    return _check_mode(mode, InvalidModeError)


@dataclass(frozen=True)
class Project:
    """A project: ``id``, unique ``name`` and ``created_at`` (aware UTC)."""

    id: int
    name: str
    created_at: datetime


@dataclass(frozen=True)
class ProjectSummary:
    """A project with ``runs`` (how many) and ``last_activity`` (latest start or end time of
    its runs, aware UTC; ``None`` without runs)."""

    id: int
    name: str
    created_at: datetime
    runs: int
    last_activity: datetime | None


class Metric(NamedTuple):
    """One logged value: ``key``, ``value`` (exactly as logged, NaN and +-inf included),
    ``step`` (``None`` if none was given) and ``timestamp`` (aware UTC, when it was logged).

    A named tuple: runs can hold many thousands of them and they are built fastest this way.
    """

    key: str
    value: float
    step: int | None
    timestamp: datetime


@dataclass(frozen=True)
class Artifact:
    """A run output: ``path`` (where it was logged from, or the reference), ``data_type``
    (free text such as ``'model'``), ``metadata`` (JSON data or ``None``; ``data_info`` is its
    ato 2.x name), ``timestamp`` (aware UTC), the ``name`` it is fetched by (``path`` for
    artifacts logged before names existed), ``size`` in bytes and ``sha256`` (hex digest;
    both ``None`` when the file could not be read at logging time) and ``stored``: whether a
    copy is in the database's artifact store (else ``path`` is a reference only)."""

    id: int
    run_id: int
    path: str
    data_type: str
    metadata: Any
    timestamp: datetime
    name: str = ""
    size: int | None = None
    sha256: str | None = None
    stored: bool = False

    @property
    def data_info(self) -> Any:
        """``metadata`` under its ato 2.x name."""
        return self.metadata


@dataclass(frozen=True)
class Fingerprint:
    """A code fingerprint: ``trace_id``, ``trace_type`` (``'static'`` or ``'runtime'``), the
    ``fingerprint`` hash string and ``timestamp`` (aware UTC)."""

    trace_id: str
    trace_type: str
    fingerprint: str
    timestamp: datetime


@dataclass(frozen=True)
class MetricSummary:
    """Aggregate of one metric key of one run: ``last`` (value logged last, NaN and +-inf
    included), ``last_step``, ``min``/``max`` over the values that are not NaN (+-inf
    included; ``None`` if all are NaN) and ``count`` of logged values."""

    key: str
    last: float
    last_step: int | None
    min: float | None
    max: float | None
    count: int

    def best(self, mode: str = "max") -> float | None:
        """``max`` for ``mode='max'``, ``min`` for ``mode='min'`` (else InvalidModeError)."""
        return self.max if check_mode(mode) == "max" else self.min


class ADictField:
    """A field of a frozen dataclass that reads as an ``ato.adict.ADict`` built, when first
    read, from the plain mapping it was given (then kept: every later read returns the same
    ADict). Installed on the class after ``@dataclass`` made it (see `Run`).

    Loading a project's runs therefore builds no ADict for a run whose config is never read.
    That matters beyond the building itself: an ADict is its own ``__dict__`` (that is what
    makes its attribute reads fast), so each one is a reference cycle that only Python's cyclic
    garbage collector can free, and thousands of them make the collector's passes longer.

    A value that is a plain ``dict`` or ``None`` (read as an empty ADict) is converted; any
    other value (an ADict, or a mapping of the caller's) is returned as given.

    The value and the ADict built from it are kept as the instance attributes
    ``_<name>_source`` and ``_<name>_adict``.

    Args:
        name: the field's name.
    """

    _building = threading.Lock()  # threads reading one field at once get one ADict

    def __init__(self, name: str) -> None:
        self.name = name
        self.source = f"_{name}_source"
        self.built = f"_{name}_adict"

    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = getattr(obj, self.source)
        if value is not None and value.__class__ is not dict:
            return value
        built = getattr(obj, self.built, None)
        if built is None:
            with self._building:
                built = getattr(obj, self.built, None)
                if built is None:
                    built = ADict(value or {})
                    _set_attribute(obj, self.built, built)
        return built

    def __set__(self, obj: object, value: Mapping[str, Any] | None) -> None:
        _set_attribute(obj, self.source, value)
        _set_attribute(obj, self.built, None)


_set_attribute = object.__setattr__  # frozen dataclasses refuse setattr(); this is theirs


@dataclass(frozen=True)
class Run:
    """A run with everything recorded for it.

    ``config`` is an ``ato.adict.ADict`` (attribute access: ``run.config.model.lr``), built
    when first read (see `ADictField`; so is ``provenance``);
    ``tags`` a list of strings; ``status`` e.g. ``'running'``, ``'completed'``, ``'failed'``,
    ``'killed'`` or ``'crashed'`` (stored as running, but its writer stopped sending
    heartbeats: see ``ato.tracker.read.status``); ``start_time``/``end_time`` aware UTC
    (``end_time`` is ``None`` while running); ``metrics`` in logging order (empty when loaded
    with ``with_metrics=False``); ``artifacts`` and ``fingerprints`` in recording order;
    ``provenance`` how the run was launched (see ``ato.tracker.write.provenance``; empty for runs
    of older versions); ``heartbeat`` the writer's latest sign of life (aware UTC or ``None``).
    """

    id: int
    project_id: int
    project_name: str
    config: ADict
    structural_hash: str
    tags: list[str]
    status: str
    start_time: datetime
    end_time: datetime | None
    metrics: list[Metric] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    fingerprints: list[Fingerprint] = field(default_factory=list)
    provenance: ADict = field(default_factory=ADict)
    heartbeat: datetime | None = None

    def metric_values(self, key: str) -> list[float]:
        """Values of metric ``key`` in logging order (``[]`` if never logged)."""
        return [m.value for m in self.metrics if m.key == key]

    def best_metric(self, key: str, mode: str = "max") -> float | None:
        """Largest (``mode='max'``) or smallest (``'min'``) value of ``key`` that is not NaN
        (+-inf included), else ``None``.

        Raises:
            InvalidModeError: ``mode`` is neither ``'max'`` nor ``'min'``.
        """
        check_mode(mode)
        values = [v for v in self.metric_values(key) if not math.isnan(v)]
        if not values:
            return None
        return max(values) if mode == "max" else min(values)

    def metric_frame(self, keys: Sequence[str] | None = None) -> pandas.DataFrame:
        """This run's metrics as a long pandas DataFrame with columns ``step``, ``key``,
        ``value`` and ``timestamp`` (aware UTC), one row per logged value in logging order.

        Args:
            keys: only these metric keys (a sequence of str); ``None`` keeps every key.

        Raises:
            MissingDependencyError: pandas is not installed (``pip install 'ato-tracker[pandas]'``).

        The run must have been loaded with its metrics (the default of
        ``ato.tracker.SQLFinder``); for very long runs stream
        ``ato.tracker.SQLFinder.iter_metrics`` instead.
        """
        from .dataframes import import_pandas

        pd = import_pandas("Run.metric_frame")
        wanted = None if keys is None else set(keys)
        rows = [
            (m.step, m.key, m.value, m.timestamp)
            for m in self.metrics
            if wanted is None or m.key in wanted
        ]
        frame: pandas.DataFrame = pd.DataFrame.from_records(
            rows, columns=["step", "key", "value", "timestamp"]
        )
        frame["step"] = frame["step"].astype("Int64")
        frame["value"] = frame["value"].astype("float64")
        if rows:
            frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        return frame


for _name in ("config", "provenance"):  # plain JSON data until first read
    setattr(Run, _name, ADictField(_name))


# ---- Results of the read API shared by the ``ato`` command, the dashboard and users ----------


class MetricColumns(NamedTuple):
    """One metric key over the runs of a [`RunsPage`][ato.tracker.RunsPage]: entry ``i`` of
    each list belongs to ``page.runs[i]``, ``None`` where that run did not log the key.
    ``last`` is the value logged last, ``min``/``max`` are taken over the values that are not
    NaN (``None`` if all are NaN); NaN and +-inf are kept as floats. Columns, not a row per run
    and key: a table of 100,000 runs holds no object per cell."""

    last: list[float | None]
    min: list[float | None]
    max: list[float | None]


@dataclass(frozen=True)
class MetricSeries:
    """One metric of one run, as returned by
    [`SQLFinder.get_metric_series`][ato.tracker.SQLFinder.get_metric_series].

    Attributes:
        run_id: the run.
        key: the metric key.
        points: the kept values as [`Metric`][ato.tracker.Metric] rows in step order (all of
            them when not downsampled); ``[]`` when the run never logged ``key``.
        total: how many values the run logged under ``key``.
    """

    run_id: int
    key: str
    points: list[Metric]
    total: int

    @property
    def downsampled(self) -> bool:
        """Whether some logged values were left out."""
        return self.total > len(self.points)


@dataclass(frozen=True)
class MetricKeyPage:
    """Some metric keys of one run with their summaries, as returned by
    [`SQLFinder.get_metric_key_page`][ato.tracker.SQLFinder.get_metric_key_page].

    Attributes:
        run_id: the run.
        summaries: the page's summaries by key, in key order (code point order).
        total: how many keys match the pattern (all pages together).
        offset: index of the page's first key among the matching ones.
    """

    run_id: int
    summaries: dict[str, MetricSummary]
    total: int
    offset: int

    @property
    def keys(self) -> list[str]:
        """The page's keys, in key order."""
        return list(self.summaries)


@dataclass(frozen=True)
class SearchInfo:
    """A hyperparameter search seen from a project's runs, as listed by
    [`SQLFinder.list_searches`][ato.tracker.SQLFinder.list_searches].

    Attributes:
        search_id: the id in the runs' ``search:<id>`` tag.
        runs: how many runs (evaluations of trials) of the project carry it.
        statuses: how many of them have each status (``{'completed': 12, 'failed': 1}``).
        first_start: the earliest start time of those runs (aware UTC).
        last_activity: their latest start or end time (aware UTC).
    """

    search_id: str
    runs: int
    statuses: dict[str, int]
    first_start: datetime
    last_activity: datetime
