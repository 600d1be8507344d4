"""No metric lost, duplicated or blocked: rows the database would refuse are refused at
``log_metric`` (item 1), a batch refused for its data writes its good rows (item 1), and
SIGTERM flushes and marks runs ``killed`` (item 5). On SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest

from ato.tracker import MetricKeyError, MetricValueError, SQLFinder, SQLLogger

POISON = [
    ("step 2**63", "loss", 1.0, 2**63, MetricValueError),
    ("step -2**63 - 1", "loss", 1.0, -(2**63) - 1, MetricValueError),
    ("step 10**30", "loss", 1.0, 10**30, MetricValueError),
    ("NUL in key", "lo\x00ss", 1.0, 0, MetricKeyError),
    ("lone surrogate", "loss\ud800", 1.0, 0, MetricKeyError),
    ("low surrogate", "\udcff", 1.0, 0, MetricKeyError),
    ("256-character key", "k" * 256, 1.0, 0, MetricKeyError),
    ("value 10**400", "loss", 10**400, 0, MetricValueError),
    ("value -10**400", "loss", -(10**400), 0, MetricValueError),
    ("value not a number", "loss", "high", 0, MetricValueError),
]


@pytest.mark.parametrize(
    ("key", "value", "step", "error"),
    [case[1:] for case in POISON],
    ids=[case[0] for case in POISON],
)
def test_a_row_no_backend_stores_is_refused_at_log_time_and_blocks_nothing(
    make_config, key, value, step, error
):
    logger = SQLLogger(make_config(), batch_size=100)
    run_id = logger.run()
    for i in range(150):
        logger.log_metric("loss", 1.0, i)
    with pytest.raises(error) as info:
        logger.log_metric(key, value, step)
    assert "metric" in str(info.value)
    for i in range(150, 300):
        logger.log_metric("loss", 1.0, i)
    logger.finish()
    run = SQLFinder(logger.config).find_run(run_id)
    assert [m.step for m in run.metrics] == list(range(300))
    assert run.status == "completed"


@pytest.mark.parametrize(
    ("key", "value", "step"),
    [
        ("loss", 1.0, 2**63 - 1),
        ("loss", 1.0, -(2**63)),
        ("ключ/λ/🚀", 2.5, 1),
        ("k" * 255, 3.0, 2),
        ("loss", 1.7976931348623157e308, 3),
        ("loss", Decimal("1e400"), 4),  # float() gives inf, which is stored exactly
    ],
)
def test_edge_values_every_backend_stores_are_accepted(make_config, key, value, step):
    logger = SQLLogger(make_config())
    run_id = logger.run()
    logger.log_metric(key, value, step)
    logger.finish()
    (metric,) = SQLFinder(logger.config).find_run(run_id).metrics
    assert (metric.key, metric.value, metric.step) == (key, float(value), step)


@pytest.mark.parametrize("bad_positions", [[500], [0, 999], [10, 11, 12, 700]])
def test_a_batch_refused_for_its_data_writes_its_good_rows_and_reports_the_bad(
    make_config, bad_positions, caplog
):
    logger = SQLLogger(make_config(), batch_size=10_000, flush_interval=3600)
    run_id = logger.run()
    buffer = logger._buffer
    for i in range(1000):
        if i in bad_positions:  # bypass log_metric's checks: a row the database refuses
            buffer.pending.append((run_id, "loss", 1.0, 2**63 + i, 0.0, buffer.next_seq()))
        else:
            logger.log_metric("loss", float(i), i)
    assert logger.flush() == 1000 - len(bad_positions)
    assert logger.flush() == 0  # the refused rows are not retried
    assert [r.row[3] - 2**63 for r in logger.rejected_metrics] == bad_positions
    assert "refused metric 'loss'" in caplog.text
    logger.finish()
    run = SQLFinder(logger.config).find_run(run_id)
    assert [m.step for m in run.metrics] == [i for i in range(1000) if i not in bad_positions]
    assert run.status == "completed"


# -- SIGTERM ---------------------------------------------------------------------------------
CHILD = """
import signal, sys, time
from ato.tracker import SQLLogger
url, previous, loggers = sys.argv[1], sys.argv[2], int(sys.argv[3])
if previous == "python":
    def handler(signum, frame):
        print("previous handler ran", flush=True)
        sys.exit(3)
    signal.signal(signal.SIGTERM, handler)
runs = []
for n in range(loggers):
    logger = SQLLogger({"experiment": {"project_name": "term", "sql": {"db_path": url}}},
                       flush_interval=3600)
    runs.append((logger, logger.run()))
for logger, _ in runs:
    for step in range(1000):
        logger.log_metric("loss", float(step), step)
print(" ".join(str(run_id) for _, run_id in runs), flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize(
    ("previous", "loggers", "expected_code"),
    [("default", 1, -signal.SIGTERM), ("default", 2, -signal.SIGTERM), ("python", 1, 3)],
)
def test_sigterm_flushes_marks_runs_killed_then_defers(db_url, previous, loggers, expected_code):
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CHILD), db_url, previous, str(loggers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_ids = [int(word) for word in child.stdout.readline().split()]
    os.kill(child.pid, signal.SIGTERM)
    out, err = child.communicate(timeout=60)
    assert child.returncode == expected_code, err
    if previous == "python":
        assert "previous handler ran" in out
    finder = SQLFinder(db_url)
    for run_id in run_ids:
        run = finder.find_run(run_id)
        assert len(run.metrics) == 1000
        assert run.status == "killed" and run.end_time is not None


def test_an_ignored_sigterm_stays_ignored(sqlite_url):
    code = textwrap.dedent(
        """
        import os, signal, sys
        from ato.tracker import SQLLogger
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        logger = SQLLogger({"experiment": {"project_name": "t", "sql": {"db_path": sys.argv[1]}}})
        logger.run()
        os.kill(os.getpid(), signal.SIGTERM)
        logger.log_metric("loss", 1.0, 0)
        logger.finish()
        print(signal.getsignal(signal.SIGTERM) == signal.SIG_IGN)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code, sqlite_url], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
    (run,) = SQLFinder(sqlite_url).get_runs_in_project("t")
    assert run.status == "completed" and len(run.metrics) == 1


def test_log_metric_checks_values_quickly_for_plain_floats(make_config):
    logger = SQLLogger(make_config())
    logger.run()
    logger.log_metric("loss", math.nan, 0)
    with pytest.raises(MetricValueError, match="64-bit"):
        logger.log_metric("loss", 1.0, 2**64)
    logger.finish()
