"""``ato.db_routers.sql.schema``: the 2.x ORM classes over the 3.0 tables."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import Session

from ato.db_routers.sql.schema import Artifact, Base, Experiment, Fingerprint, Metric, Project
from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.storage import models


def _config(url: str) -> dict:
    return {"experiment": {"project_name": "legacy", "sql": {"db_path": url}}, "lr": 0.1}


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/runs.db"


def test_classes_map_the_3_0_tables() -> None:
    assert Base.metadata is models.Base.metadata
    tables = {c.__table__.name for c in (Project, Experiment, Metric, Artifact, Fingerprint)}
    assert tables == {"projects", "experiments", "metrics", "artifacts", "fingerprints"}


def test_rows_written_by_the_logger_read_through_2x_classes(url: str) -> None:
    logger = SQLLogger(_config(url))
    run_id = logger.run(tags=["a"])
    for step in range(3):
        logger.log_metric("loss", 1.0 / (step + 1), step)
    logger.log_artifact(run_id, "/tmp/model.pt", "model", {"size": 3})
    logger.finish()
    with Session(create_engine(url)) as session:
        project = session.scalars(select(Project).where(Project.name == "legacy")).one()
        (run,) = project.runs
        assert run.id == run_id and run.project is project and run.status == "completed"
        assert run.config["lr"] == 0.1 and run.tags == ["a"]
        assert [(m.key, m.step) for m in run.metrics] == [("loss", 0), ("loss", 1), ("loss", 2)]
        assert run.metrics[0].run is run
        (artifact,) = run.artifacts
        assert artifact.data_info == {"size": 3} and artifact.data_type == "model"
        assert session.query(Metric).filter_by(run_id=run_id, key="loss").count() == 3


def test_2x_code_creates_tables_and_writes_rows_3_0_reads(url: str) -> None:
    from datetime import datetime, timezone

    engine = create_engine(url)
    Base.metadata.create_all(engine)
    assert set(inspect(engine).get_table_names()) >= {"projects", "experiments", "metrics"}
    now = datetime.now(timezone.utc)
    with Session(engine) as session:
        project = Project(name="made-by-2x", created_at=now)
        run = Experiment(
            project=project,
            config={"lr": 0.5},
            structural_hash="h",
            tags=[],
            status="completed",
            start_time=now,
        )
        run.metrics.append(Metric(key="acc", value=0.9, step=1, timestamp=now))
        run.fingerprints.append(
            Fingerprint(trace_id="f", trace_type="static", fingerprint="ab", timestamp=now)
        )
        session.add(project)
        session.commit()
        run_id = run.id
    finder = SQLFinder(_config(url))
    found = finder.find_run(run_id)
    assert found is not None and found.config.lr == 0.5
    assert [m.value for m in found.metrics] == [0.9]
