"""Runs recorded after the fact: ``run(start_time=)``, ``finish(end_time=)`` and
``log_metric(timestamp=)`` store the given times exactly (to the microsecond)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ato.tracker import MetricValueError, SQLFinder, SQLLogger

START = datetime(2021, 3, 4, 5, 6, 7, 890123, tzinfo=timezone.utc)
# Millisecond times as MLflow keeps them, microsecond ones, a whole second, one near the
# end of a second (rounds up), and the epoch itself.
TIMES = [1700000000.123, 1700000000.999, 1614834367.890123, 1600000000.0, 1700000000.9999996, 0.0]


def test_given_times_are_stored_exactly(db_url: str) -> None:
    logger = SQLLogger.from_url(db_url, "p")
    run_id = logger.run(start_time=START)
    for step, moment in enumerate(TIMES):
        logger.log_metric("loss", step / 3, step, timestamp=moment)
    logger.finish("failed", end_time=START.replace(tzinfo=None) + timedelta(hours=1))
    run = SQLFinder(db_url).find_run(run_id)
    assert run is not None
    assert (run.start_time, run.end_time) == (START, START + timedelta(hours=1))
    assert run.status == "failed"
    expected = [datetime.fromtimestamp(t, timezone.utc) for t in TIMES]
    assert [m.timestamp for m in run.metrics] == expected
    assert expected[0].microsecond == 123000  # rounded, not truncated to 122999


def test_other_time_zones_are_stored_as_utc(db_url: str) -> None:
    logger = SQLLogger.from_url(db_url, "p")
    local = START.astimezone(timezone(timedelta(hours=-7)))
    run_id = logger.run(start_time=local)
    logger.finish(end_time=local + timedelta(seconds=1))
    run = SQLFinder(db_url).find_run(run_id)
    assert run is not None and (run.start_time, run.end_time) == (
        START,
        START + timedelta(seconds=1),
    )


@pytest.mark.parametrize("moment", [-1.0, float("nan"), float("inf"), 253402300800.0, 1e300])
def test_a_timestamp_no_backend_stores_is_refused_when_logged(
    sqlite_url: str, moment: float
) -> None:
    logger = SQLLogger.from_url(sqlite_url, "p")
    logger.run()
    with pytest.raises(MetricValueError, match=r"'loss'.*not a storable timestamp"):
        logger.log_metric("loss", 1.0, timestamp=moment)


@pytest.mark.parametrize("moment", ["yesterday", None.__class__, [1.0]])
def test_a_timestamp_that_is_not_a_number_is_a_type_error(sqlite_url: str, moment: object) -> None:
    logger = SQLLogger.from_url(sqlite_url, "p")
    logger.run()
    with pytest.raises(TypeError, match="timestamp must be seconds since the Unix epoch"):
        logger.log_metric("loss", 1.0, timestamp=moment)  # type: ignore[arg-type]


@pytest.mark.parametrize("moment", ["2021-01-01", 1614834367.0])
def test_start_and_end_times_must_be_datetimes(sqlite_url: str, moment: object) -> None:
    logger = SQLLogger.from_url(sqlite_url, "p")
    with pytest.raises(TypeError, match="expected a datetime"):
        logger.run(start_time=moment)  # type: ignore[arg-type]
    logger.run()
    with pytest.raises(TypeError, match="expected a datetime"):
        logger.finish(end_time=moment)  # type: ignore[arg-type]
