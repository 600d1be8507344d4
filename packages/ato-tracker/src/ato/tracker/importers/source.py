"""One run read from a source, in the shape every importer hands to `ato.tracker.importers.target`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..storage.statuses import RunStatus

# (key, value, step or None, seconds since the Unix epoch)
MetricPoint = tuple[str, float, "int | None", float]
# (path or URI, data type, metadata or None)
ArtifactRef = tuple[str, str, "dict[str, Any] | None"]


def _nothing() -> Iterator[Any]:
    return iter(())


@dataclass
class SourceRun:
    """A run of the source, with its metric history and artifacts read lazily (streamed).

    ``source_id`` identifies it among every run of that source (an MLflow run id, an Optuna
    study name and trial number, a TensorBoard run directory): it is kept in the imported
    run's provenance (section ``import``) so that importing again skips it. ``skip`` is set
    (with the reason) for source runs not to import, e.g. still running.
    """

    source: str
    source_id: str
    project: str
    start_time: datetime
    end_time: datetime | None = None
    status: str = RunStatus.COMPLETED.value
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    metrics: Callable[[], Iterable[MetricPoint]] = _nothing
    artifacts: Callable[[], Iterable[ArtifactRef]] = _nothing
    skip: str | None = None
