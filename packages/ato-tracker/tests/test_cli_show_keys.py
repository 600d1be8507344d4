"""``ato runs show`` on a run with many metric keys: a page of keys, a filter, all keys, and
reading no more summaries than it shows (on SQLite, PostgreSQL and MariaDB)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event

from ato.tracker import SQLLogger
from ato.tracker.cli import main

KEYS = 2000
DEFAULT_KEYS = 50  # the documented default page of `ato runs show`


@pytest.fixture
def many_keys(make_config: Callable[..., Any], db_url: str) -> tuple[str, int]:
    """A run that logged ``KEYS`` keys ``m/0000``... (value = the key's number) plus
    ``Loss``, ``loss`` and ``val_loss``; its URL and id."""
    logger = SQLLogger(make_config(), batch_size=5000)
    run_id = logger.run()
    for i in range(KEYS):
        logger.log_metric(f"m/{i:04d}", float(i), step=0)
    for key in ("Loss", "loss", "val_loss"):
        logger.log_metric(key, 1.0, step=1)
    logger.finish("completed")
    logger.close()
    return db_url, run_id


def show(capsys: pytest.CaptureFixture[str], url: str, run_id: int, *options: str) -> str:
    code = main(["--db", url, "runs", "show", str(run_id), *options])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def metric_rows(out: str) -> list[str]:
    """The keys of the Metrics table, in printed order."""
    table = out.split("Metrics", 1)[1]
    return [line.split("│")[1].strip() for line in table.splitlines() if line.startswith("│")]


def test_the_table_shows_the_first_keys_and_counts_the_rest(capsys, many_keys):
    out = show(capsys, *many_keys)
    total = KEYS + 3
    assert (
        metric_rows(out) == (["Loss", "loss"] + [f"m/{i:04d}" for i in range(total)])[:DEFAULT_KEYS]
    )
    assert f"{DEFAULT_KEYS} of {total:,} metric keys shown" in out
    assert "--all-keys" in out


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("m/001", [f"m/{i:04d}" for i in range(10, 20)]),  # a prefix
        ("m/19?9", [f"m/19{i}9" for i in range(10)]),  # one character
        ("*loss", ["loss", "val_loss"]),  # case-sensitive: not "Loss"
        ("L", ["Loss"]),
        ("m/1_", []),  # "_" and "%" are no wildcards
        ("%", []),
    ],
)
def test_keys_filters_by_glob_or_prefix(capsys, many_keys, pattern, expected):
    out = show(capsys, *many_keys, "--keys", pattern)
    assert metric_rows(out) == expected
    if not expected:
        assert f"no metric key matches {pattern!r}" in out


def test_a_filter_with_more_matches_than_shown_counts_them(capsys, many_keys):
    out = show(capsys, *many_keys, "--keys", "m/1*", "--max-keys", "5")
    assert metric_rows(out) == [f"m/{i:04d}" for i in range(1000, 1005)]
    assert "5 of 1,000 metric keys matching 'm/1*' shown" in out


def test_all_keys_shows_every_key(capsys, many_keys):
    out = show(capsys, *many_keys, "--all-keys")
    assert len(metric_rows(out)) == KEYS + 3
    assert "metric keys shown" not in out


def test_json_is_complete_unless_limited(capsys, many_keys):
    record = json.loads(show(capsys, *many_keys, "--json"))
    assert len(record["metrics"]) == KEYS + 3
    assert record["metrics"]["m/1234"]["last"] == 1234.0
    assert record["metric_keys"] == KEYS + 3
    record = json.loads(show(capsys, *many_keys, "--json", "--keys", "m/0", "--max-keys", "3"))
    assert list(record["metrics"]) == ["m/0000", "m/0001", "m/0002"]
    assert record["metric_keys"] == 1000


@pytest.fixture
def summary_rows_fetched() -> Iterator[list[int]]:
    """Rows the client fetched from ``metric_summaries`` (one entry per SELECT), counted by
    running each such SELECT again as ``SELECT count(*)``."""
    fetched: list[int] = []

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "metric_summaries" in statement:
            counter = conn.connection.cursor()
            counter.execute(f"SELECT count(*) FROM ({statement}) AS q", parameters)
            fetched.append(counter.fetchone()[0])
            counter.close()

    event.listen(Engine, "after_cursor_execute", count)
    yield fetched
    event.remove(Engine, "after_cursor_execute", count)


@pytest.mark.parametrize(
    ("options", "shown"),
    [((), DEFAULT_KEYS), (("--keys", "m/1"), DEFAULT_KEYS), (("--max-keys", "7"), 7)],
)
def test_show_reads_only_the_summaries_it_shows(
    capsys, many_keys, summary_rows_fetched, options, shown
):
    show(capsys, *many_keys, *options)
    assert sum(summary_rows_fetched) <= shown + 1  # the shown rows and one count


# -- runs compare: the same page of keys over the union of the runs' keys ----------------


@pytest.fixture
def other_run(make_config: Callable[..., Any], many_keys: tuple[str, int]) -> int:
    """A second run beside ``many_keys`` logging ``A`` (before every key of the first run),
    ``m/0003`` = -3 (shared) and ``z`` (after every key); its id."""
    logger = SQLLogger(make_config(), batch_size=5000)
    run_id = logger.run()
    for key, value in (("A", 1.0), ("m/0003", -3.0), ("z", 2.0)):
        logger.log_metric(key, value, step=0)
    logger.finish("completed")
    logger.close()
    return run_id


def compare(capsys: pytest.CaptureFixture[str], url: str, *options: str) -> str:
    code = main(["--db", url, "runs", "compare", *options])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_compare_shows_the_first_keys_of_both_runs_and_counts_the_rest(
    capsys, many_keys, other_run
):
    url, first = many_keys
    out = compare(capsys, url, str(first), str(other_run), "--max-keys", "6")
    assert metric_rows(out) == ["A", "Loss", "loss", "m/0000", "m/0001", "m/0002"]
    assert f"6 of {KEYS + 5:,} metric keys shown" in out
    record = json.loads(
        compare(capsys, url, str(first), str(other_run), "--json", "--keys", "m/000")
    )
    assert list(record["metrics"]) == [f"m/{i:04d}" for i in range(10)]
    assert record["metrics"]["m/0003"] == {
        str(first): {"last": 3.0, "best": 3.0},
        str(other_run): {"last": -3.0, "best": -3.0},
    }
    assert record["metric_keys"] == 10


def test_compare_all_keys_and_json_show_every_key(capsys, many_keys, other_run):
    url, first = many_keys
    out = compare(capsys, url, str(first), str(other_run), "--all-keys")
    assert len(metric_rows(out)) == KEYS + 5
    assert metric_rows(out)[-1] == "z"
    assert "metric keys shown" not in out
    record = json.loads(compare(capsys, url, str(first), str(other_run), "--json"))
    assert len(record["metrics"]) == record["metric_keys"] == KEYS + 5


def test_compare_reads_only_the_summaries_it_shows(
    capsys, many_keys, other_run, summary_rows_fetched
):
    url, first = many_keys
    out = compare(capsys, url, str(first), str(other_run))
    assert len(metric_rows(out)) == DEFAULT_KEYS
    assert sum(summary_rows_fetched) <= 2 * DEFAULT_KEYS + 1  # each run's page and one count
