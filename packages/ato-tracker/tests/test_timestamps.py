"""Every stored timestamp reads back as timezone-aware UTC, on every backend and session zone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import make_url

from ato.adict import ADict
from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.storage.models import UTCDateTime, as_utc

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


def _reader(dialect):
    """The one function UTCDateTime reads a driver's value with on ``dialect``."""
    return UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)


TOKYO = timezone(timedelta(hours=9))
MOMENT = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)


@pytest.mark.parametrize("dialect", [postgresql.dialect(), mysql.dialect()])
def test_one_reader_per_server_dialect_gives_aware_utc(dialect):
    read = _reader(dialect)
    assert read(None) is None
    for value in (MOMENT.replace(tzinfo=None), MOMENT.astimezone(TOKYO)):
        moment = read(value)
        assert moment == MOMENT and moment.tzinfo is timezone.utc, (value, moment)
    assert read(MOMENT) is MOMENT  # already UTC: kept as it is


def test_sqlite_text_reads_as_aware_utc_also_in_shapes_the_fast_parser_refuses():
    read = _reader(sqlite.dialect())
    assert read(None) is None
    # the stored shape, and text with an offset (written by another tool): the fast parser
    # refuses the latter, SQLAlchemy's own parser reads its naive part, taken as UTC
    for text in ("2024-05-06 07:08:09.123456", "2024-05-06 07:08:09.123456+00:00"):
        moment = read(text)
        assert moment == MOMENT and moment.tzinfo is timezone.utc, (text, moment)


def test_as_utc_is_what_process_result_value_does():
    convert = UTCDateTime().process_result_value
    for value in (None, MOMENT, MOMENT.replace(tzinfo=None), MOMENT.astimezone(TOKYO)):
        assert convert(value, sqlite.dialect()) == as_utc(value)
    assert as_utc(MOMENT.astimezone(TOKYO)).tzinfo is timezone.utc
