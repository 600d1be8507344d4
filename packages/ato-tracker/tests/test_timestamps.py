"""Every stored timestamp reads back as timezone-aware UTC, on every backend and session zone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import make_url

from ato.adict import ADict
from ato.tracker import SQLFinder, SQLLogger

SLACK = timedelta(seconds=2)  # server clocks may round or drift slightly


def _assert_utc_between(moment: datetime, before: datetime, after: datetime) -> None:
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0), moment
    assert before - SLACK <= moment <= after + SLACK, (before, moment, after)


def _record_everything(config) -> tuple[int, datetime, datetime]:
    before = datetime.now(timezone.utc)
    logger = SQLLogger(config)
    run_id = logger.run()
    logger.log_metric("loss", 0.5, 0)
    logger.log_artifact(run_id, "model.pt", "model")
    logger.log_fingerprint("forward", "abc")
    logger.finish()
    return run_id, before, datetime.now(timezone.utc)


def _check_all_timestamps(config, run_id, before, after) -> None:
    finder = SQLFinder(config)
    run = finder.find_run(run_id)
    moments = [run.start_time, run.end_time, finder.find_project("proj").created_at]
    moments += [m.timestamp for m in run.metrics]
    moments += [a.timestamp for a in run.artifacts] + [f.timestamp for f in run.fingerprints]
    assert len(moments) == 6
    for moment in moments:
        _assert_utc_between(moment, before, after)


def test_all_timestamps_are_aware_utc_write_times(make_config):
    config = make_config()
    _check_all_timestamps(config, *_record_everything(config))


def test_a_non_utc_postgresql_session_zone_changes_nothing(postgres_url):
    # PostgreSQL hands TIMESTAMPTZ values back in the session's zone; they must still be UTC.
    url = make_url(postgres_url).update_query_dict({"options": "-c TimeZone=Asia/Tokyo"})
    tokyo = url.render_as_string(hide_password=False)
    config = ADict(experiment=ADict(project_name="proj", sql=ADict(db_path=tokyo)))
    with SQLFinder(tokyo).engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "Asia/Tokyo"
    _check_all_timestamps(config, *_record_everything(config))
