"""ato 2.x calls over the 3.0 tracker: ``SQLLogger.session`` with the classes of
``ato.db_routers.sql.schema``, rows written through them, and finder results read with the
2.x attribute names."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from ato.db_routers.sql.manager import SQLFinder, SQLLogger
from ato.db_routers.sql.schema import Artifact, Experiment, Fingerprint, Metric, Project
from ato.tracker.storage.normalize import normalize_config, structural_hash

RUN_COLUMNS = ("id", "project_id", "config", "structural_hash", "tags", "status")
RUN_TIMES = ("start_time", "end_time")


def _logged(config, values: list[float], tags: list[str] | None = None) -> SQLLogger:
    logger = SQLLogger(config)
    run_id = logger.run(tags=tags or [])
    for step, value in enumerate(values):
        logger.log_metric("acc", value, step)
    logger.log_artifact(run_id, f"ckpt/{run_id}.pt", "model", {"epoch": len(values)})
    logger.log_fingerprint("forward", f"v{run_id % 2}", "static")
    return logger


def test_session_queries_see_unflushed_metrics_and_later_writes(make_config) -> None:
    logger = _logged(make_config("legacy", lr=0.1), [0.5, 0.75])
    session = logger.session
    run = session.query(Experiment).filter(Experiment.id == logger.get_current_run_id()).one()
    assert (run.status, run.config["lr"], run.project.name) == ("running", 0.1, "legacy")
    assert [m.value for m in run.metrics] == [0.5, 0.75]  # still buffered in 3.0
    logger.log_metric("acc", 0.9, 2)
    assert session.query(func.max(Metric.value)).filter(Metric.run_id == run.id).scalar() == 0.9
    logger.finish()
    again = session.query(Experiment).filter_by(id=run.id).one()
    assert again is run and run.status == "completed" and run.end_time is not None
    assert session.query(Metric).filter_by(run_id=run.id, key="acc").count() == 3
    assert [a.data_info for a in run.artifacts] == [{"epoch": 2}]
    assert [f.fingerprint for f in run.fingerprints] == [f"v{run.id % 2}"]
    assert logger.session is session
    logger.close()


def test_session_filters_and_orders_like_2x(make_config) -> None:
    ids = []
    for lr, values in ((0.1, [0.2, 0.6]), (0.2, [0.9]), (0.3, [0.1])):
        logger = _logged(make_config("legacy", lr=lr), values, tags=[f"lr{lr}"])
        ids.append(logger.get_current_run_id())
        logger.log_metric("loss", float("nan"), 0)  # 2.x refused NaN; 3.0 reads it back
        logger.finish()
    session = logger.session
    project = session.query(Project).filter_by(name="legacy").one()
    assert [r.id for r in project.runs] == ids
    best = (
        session.query(Experiment, Metric.value)
        .join(Metric, Experiment.id == Metric.run_id)
        .filter(Experiment.project_id == project.id, Metric.key == "acc")
        .order_by(Metric.value.desc())
        .first()
    )
    assert best is not None and best[0].id == ids[1] and best[1] == 0.9
    nan_values = [m.value for m in session.query(Metric).filter_by(run_id=ids[2], key="loss")]
    assert len(nan_values) == 1 and math.isnan(nan_values[0])
    completed = session.query(Experiment).filter(Experiment.status == "completed").count()
    assert completed == 3
    logger.close()


def test_rows_added_through_the_session_are_3_0_rows(make_config, db_url) -> None:
    logger = SQLLogger(make_config("legacy"))
    session = logger.session
    project = Project(name="hand-made")
    run = Experiment(project=project, config={"lr": 0.5, "model": {"depth": 2}})
    for step, value in enumerate((0.25, float("inf"), float("nan"), 0.5)):
        run.metrics.append(Metric(key="acc", value=value, step=step))
    run.artifacts.append(Artifact(path="model.pt", data_info={"size": 3}))
    run.fingerprints.append(Fingerprint(trace_id="f", trace_type="static", fingerprint="ab"))
    session.add(project)
    session.commit()
    assert (run.status, run.tags) == ("running", []) and run.start_time.tzinfo is not None
    assert isinstance(project.created_at, datetime)
    finder = SQLFinder(db_url)
    found = finder.find_run(run.id)
    assert found is not None and found.config.model.depth == 2
    assert found.structural_hash == structural_hash(normalize_config(run.config))
    values = found.metric_values("acc")
    assert values[:2] == [0.25, math.inf] and math.isnan(values[2]) and values[3] == 0.5
    summary = finder.get_metric_summaries([run.id])[run.id]["acc"]
    assert (summary.count, summary.max, summary.last) == (4, math.inf, 0.5)
    assert found.artifacts[0].data_type == "unknown"
    assert finder.find_best_run("hand-made", "acc").id == run.id
    session.delete(run.metrics[-1])
    session.commit()
    assert finder.get_metric_summaries([run.id])[run.id]["acc"].count == 3
    logger.close()


def test_find_best_run_results_answer_to_2x_attribute_names(make_config) -> None:
    first = _logged(make_config("legacy", lr=0.1), [0.5, 0.8])
    first.finish()
    second = _logged(make_config("legacy", lr=0.2), [0.3])
    second.finish()
    finder = SQLFinder(make_config("legacy"))
    best = finder.find_best_run("legacy", "acc")
    with first.session as session:
        row = session.get(Experiment, first.get_current_run_id())
        assert row is not None
        for name in RUN_COLUMNS:
            assert getattr(best, name) == getattr(row, name), name
        for name in RUN_TIMES:
            assert abs(getattr(best, name) - getattr(row, name)).total_seconds() < 1e-3, name
        assert [a.data_info for a in best.artifacts] == [a.data_info for a in row.artifacts]
        assert [(m.key, m.value, m.step) for m in best.metrics] == [
            (m.key, m.value, m.step) for m in row.metrics
        ]
    assert best.config["lr"] == 0.1 and best.start_time <= datetime.now(timezone.utc)
    worst = finder.find_best_run("legacy", "acc", mode="min")
    assert worst.id == second.get_current_run_id()


@pytest.mark.parametrize(
    ("project", "trace_id", "static"),
    [("legacy", "forward", 2), ("legacy", "x", 0), ("no", "forward", 0)],
)
def test_trace_statistics_name_the_project_like_2x(make_config, project, trace_id, static) -> None:
    for _ in range(3):
        _logged(make_config("legacy"), [0.1]).finish()
    stats = SQLFinder(make_config("legacy")).get_trace_statistics(project, trace_id)
    assert stats["project_name"] == project and stats["trace_id"] == trace_id
    assert (stats["static_trace_versions"], stats["runtime_trace_versions"]) == (static, 0)


def test_session_closes_with_the_logger(make_config) -> None:
    logger = _logged(make_config("legacy"), [0.1])
    session = logger.session
    session.query(Experiment).all()
    logger.finish()
    logger.close()
    assert not session.in_transaction()
    assert select(Experiment.id) is not None


def test_a_database_of_ato_2_2_1_reads_through_the_2x_classes_after_upgrade(tmp_path) -> None:
    import shutil
    from pathlib import Path

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from ato.tracker.storage.migrate import upgrade

    target = tmp_path / "ato2.db"
    shutil.copy(Path(__file__).parent / "data" / "ato-2.2.1-sqlite.db", target)
    url = f"sqlite:///{target}"
    upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session:
        project = session.query(Project).filter_by(name="legacy_cls").one()
        assert [run.tags for run in project.runs] == [
            ["baseline", "r0"],
            ["baseline", "r1"],
            ["baseline", "r2"],
        ]
        first = project.runs[0]
        assert first.config["model"] == {"name": "resnet18", "depth": 18}
        assert [a.data_info for a in first.artifacts] == [{"epoch": 4}]
        assert {m.key for m in first.metrics} == {"loss", "acc"}
        top = session.query(Metric).filter_by(key="acc").order_by(Metric.value.desc()).first()
        best = SQLFinder(url).find_best_run("legacy_cls", "acc")
        assert top is not None and best is not None and best.id == top.run.id
        assert best.artifacts[0].data_info == {"epoch": 4}
    engine.dispose()
