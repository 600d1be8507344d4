"""``ato.db_routers.sql.schema``: the ORM classes ato 2.x code imports, mapped onto the 3.0
tables.

A thin alias kept so that 2.x code (``session.query(Experiment).filter_by(...)``,
``Base.metadata.create_all(engine)``) runs unchanged; new code uses ``ato.tracker.SQLFinder``
or ``ato.tracker.models``. The classes are mapped onto the very ``Table`` objects of
``ato.tracker.models`` (one ``MetaData``), with the 2.x attribute names and relationships:

=============  ===================  ==================================================
class          table                2.x attributes beyond the columns
=============  ===================  ==================================================
``Project``    ``projects``         ``experiments``
``Experiment`` ``experiments``      ``project``, ``metrics``, ``artifacts``, ``fingerprints``
``Metric``     ``metrics``          ``experiment``
``Artifact``   ``artifacts``        ``data_info`` (the 3.0 ``metadata`` column), ``experiment``
``Fingerprint`` ``fingerprints``    ``experiment``
=============  ===================  ==================================================

Columns 2.x had and 3.0 has not (``Project.description``) are absent. Rows written through
these classes are ordinary 3.0 rows; timestamps are UTC-aware as in ``ato.tracker.models``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, relationship

from ato.tracker import models

__all__ = ["Artifact", "Base", "Experiment", "Fingerprint", "Metric", "Project"]


class Base(DeclarativeBase):
    """Declarative base sharing the 3.0 ``MetaData``: ``Base.metadata.create_all(engine)``
    creates the 3.0 tables."""

    metadata = models.Base.metadata


class Project(Base):
    """A project (table ``projects``)."""

    __table__ = models.ProjectRecord.__table__
    experiments: Mapped[list[Experiment]] = relationship(
        back_populates="project", order_by="Experiment.id"
    )


class Experiment(Base):
    """A run (table ``experiments``)."""

    __table__ = models.RunRecord.__table__
    project: Mapped[Project] = relationship(back_populates="experiments")
    metrics: Mapped[list[Metric]] = relationship(back_populates="experiment", order_by="Metric.id")
    artifacts: Mapped[list[Artifact]] = relationship(
        back_populates="experiment", order_by="Artifact.id"
    )
    fingerprints: Mapped[list[Fingerprint]] = relationship(
        back_populates="experiment", order_by="Fingerprint.id"
    )


class Metric(Base):
    """A metric value at a step (table ``metrics``)."""

    __table__ = models.MetricRecord.__table__
    experiment: Mapped[Experiment] = relationship(back_populates="metrics")


class Artifact(Base):
    """An artifact of a run (table ``artifacts``); ``data_info`` is 2.x's name of the
    ``metadata`` column."""

    __table__ = models.ArtifactRecord.__table__
    data_info: Mapped[Any] = column_property(__table__.c.metadata)
    experiment: Mapped[Experiment] = relationship(back_populates="artifacts")


class Fingerprint(Base):
    """A code fingerprint of a run (table ``fingerprints``)."""

    __table__ = models.FingerprintRecord.__table__
    experiment: Mapped[Experiment] = relationship(back_populates="fingerprints")
