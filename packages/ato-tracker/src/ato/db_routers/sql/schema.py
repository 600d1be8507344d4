"""``ato.db_routers.sql.schema``: the ORM classes ato 2.x code imports, mapped onto the 3.0
tables.

A thin alias kept so that 2.x code (``session.query(Experiment).filter_by(...)``,
``Base.metadata.create_all(engine)``, ``SQLLogger.session``) runs unchanged; new code uses
``ato.tracker.SQLFinder`` or ``ato.tracker.storage.models``. The classes are mapped onto the very
``Table`` objects of ``ato.tracker.storage.models`` (one ``MetaData``), with the 2.x attribute names
and relationships:

==============  ================  ==========================================================
class           table             2.x attributes beyond the columns
==============  ================  ==========================================================
``Project``     ``projects``      ``runs``
``Experiment``  ``experiments``   ``project``, ``metrics``, ``artifacts``, ``fingerprints``
``Metric``      ``metrics``       ``run``; ``value`` is the logged float (NaN and ±inf too)
``Artifact``    ``artifacts``     ``data_info`` (the 3.0 ``metadata`` column), ``run``
``Fingerprint`` ``fingerprints``  ``run``
==============  ================  ==========================================================

Columns 2.x had and 3.0 has not (``Project.description``) are absent. Rows written through
these classes are ordinary 3.0 rows: what 2.x filled in by default is filled in the same way
(`ato.db_routers.sql.writes`), and the metric summaries follow metric rows. A database
written by ato 2.x is read after ``ato db upgrade``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, relationship

from ato.tracker.storage import models
from ato.tracker.storage.values import load_value, store_value

from . import writes

__all__ = ["Artifact", "Base", "Experiment", "Fingerprint", "Metric", "Project"]


class Base(DeclarativeBase):
    """Declarative base sharing the 3.0 ``MetaData``: ``Base.metadata.create_all(engine)``
    creates the 3.0 tables."""

    metadata = models.Base.metadata


class Project(Base):
    """A project (table ``projects``)."""

    __table__ = models.ProjectRecord.__table__
    runs: Mapped[list[Experiment]] = relationship(
        back_populates="project", order_by="Experiment.id"
    )


class Experiment(Base):
    """A run (table ``experiments``)."""

    __table__ = models.RunRecord.__table__
    project: Mapped[Project] = relationship(back_populates="runs")
    metrics: Mapped[list[Metric]] = relationship(back_populates="run", order_by="Metric.id")
    artifacts: Mapped[list[Artifact]] = relationship(back_populates="run", order_by="Artifact.id")
    fingerprints: Mapped[list[Fingerprint]] = relationship(
        back_populates="run", order_by="Fingerprint.id"
    )


class Metric(Base):
    """A metric value at a step (table ``metrics``)."""

    __table__ = models.MetricRecord.__table__
    stored_value: Mapped[float | None] = column_property(__table__.c.value)
    run: Mapped[Experiment] = relationship(back_populates="metrics")

    @hybrid_property
    def value(self) -> float:
        """The logged value (NaN and ±inf as logged); in queries, the stored column (where
        ±inf is the largest double of its sign and NaN is NULL, so ``ORDER BY`` ranks them)."""
        return load_value(self.stored_value, self.value_class)

    @value.inplace.setter
    def _value_setter(self, number: float) -> None:
        self.stored_value, self.value_class = store_value(float(number))

    @value.inplace.expression
    @classmethod
    def _value_expression(cls) -> ColumnElement[float | None]:
        return cls.__table__.c.value


class Artifact(Base):
    """An artifact of a run (table ``artifacts``); ``data_info`` is 2.x's name of the
    ``metadata`` column."""

    __table__ = models.ArtifactRecord.__table__
    data_info: Mapped[Any] = column_property(__table__.c.metadata)
    run: Mapped[Experiment] = relationship(back_populates="artifacts")


class Fingerprint(Base):
    """A code fingerprint of a run (table ``fingerprints``)."""

    __table__ = models.FingerprintRecord.__table__
    run: Mapped[Experiment] = relationship(back_populates="fingerprints")


writes.fill_in_like_2x(Project, Experiment, Metric, Artifact, Fingerprint)
