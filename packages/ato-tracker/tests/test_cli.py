"""The ``ato`` command line, in-process through ``main(argv)`` and as a real subprocess."""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from rich.console import Console

from ato.adict import ADict
from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.cli import main, render_runs_table


def _config(db: str, project: str, **values: Any) -> ADict:
    cfg = ADict(values)
    cfg.experiment = ADict(project_name=project, sql=ADict(db_path=db))
    return cfg


def _record(db: str, project: str, config: dict, tags: list, metrics: dict, status: str) -> int:
    logger = SQLLogger(_config(db, project, **config))
    run_id = logger.run(tags=tags)
    for key, values in metrics.items():
        for step, value in enumerate(values):
            logger.log_metric(key, value, step)
    logger.finish(status)
    logger.close()
    return run_id


@pytest.fixture
def db(sqlite_url: str) -> str:
    """Project 'vision' with runs 1-3 and project 'nlp' with run 4."""
    model = {"depth": 2, "act": "relu"}
    _record(
        sqlite_url,
        "vision",
        {"lr": 0.1, "model": model},
        ["baseline"],
        {"loss": [1.0, 0.5], "acc": [0.6, 0.7]},
        "completed",
    )
    _record(
        sqlite_url,
        "vision",
        {"lr": 0.01, "model": model},
        ["small-lr"],
        {"loss": [0.9, 0.4], "acc": [0.65, 0.8]},
        "completed",
    )
    _record(
        sqlite_url,
        "vision",
        {"lr": 0.1, "model": {"depth": 3, "act": "relu"}, "dropout": 0.2},
        ["deep", "baseline"],
        {"loss": [2.0]},
        "failed",
    )
    _record(sqlite_url, "nlp", {"lr": 0.001}, [], {"bleu": [21.5, 27.25]}, "completed")
    return sqlite_url


def ato(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def ato_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = ato(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def table_rows(out: str) -> dict[str, list[str]]:
    """Body rows of a rich table keyed by their first cell (the run id or the key)."""
    rows = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if line.startswith("│") and cells[0]:
            rows[cells[0]] = cells[1:]
    return rows


# -- runs list ---------------------------------------------------------------------------


def test_list_table_shows_every_run_with_last_metric_values(capsys, db):
    code, out, err = ato(capsys, "--db", db, "runs", "list")
    assert code == 0, err
    header = next(line for line in out.splitlines() if "ID" in line)
    for column in ("Project", "Status", "Started (UTC)", "Duration", "Tags", "acc", "bleu", "loss"):
        assert column in header
    rows = table_rows(out)
    assert set(rows) == {"1", "2", "3", "4"}
    # columns: project, status, started, duration, tags, then the params that differ most
    # (lr, model.depth: 3 distinct values; model.act, dropout: 2), then acc, bleu, loss
    assert rows["1"][0:2] == ["vision", "completed"]
    assert rows["1"][4:] == ["baseline", "0.1", "2", "relu", "-", "0.7", "-", "0.5"]
    assert rows["2"][9:] == ["0.8", "-", "0.4"]
    assert rows["3"][1] == "failed"
    assert rows["3"][4:] == ["deep, baseline", "0.1", "3", "relu", "0.2", "-", "-", "2"]
    assert rows["4"][0] == "nlp"
    assert rows["4"][5:] == ["0.001", "-", "-", "-", "-", "27.25", "-"]


def test_list_json_is_machine_readable(capsys, db):
    runs = ato_json(capsys, "--db", db, "runs", "list")
    assert [run["id"] for run in runs] == [1, 2, 3, 4]
    first = runs[0]
    assert first["project"] == "vision"
    assert first["status"] == "completed"
    assert first["tags"] == ["baseline"]
    assert first["config"]["model"] == {"depth": 2, "act": "relu"}
    assert first["metrics"]["acc"] == {
        "last": 0.7,
        "last_step": 1,
        "min": 0.6,
        "max": 0.7,
        "count": 2,
    }
    assert first["start_time"].endswith("+00:00")
    assert first["duration_s"] >= 0


def test_list_filters_by_project_status_tag_and_limit(capsys, db):
    def ids(*options: str) -> list[int]:
        return [run["id"] for run in ato_json(capsys, "--db", db, "runs", "list", *options)]

    assert ids("--project", "vision") == [1, 2, 3]
    assert ids("--project", "nlp") == [4]
    assert ids("--status", "failed") == [3]
    assert ids("--tag", "baseline") == [1, 3]
    assert ids("--tag", "baseline", "--tag", "deep") == [3]
    assert ids("--limit", "2") == [3, 4]
    assert ids("--limit", "0") == []


def test_list_of_one_project_has_no_project_column_and_chosen_metrics(capsys, db):
    code, out, _ = ato(capsys, "runs", "list", "--db", db, "--project", "vision", "--metric", "acc")
    assert code == 0
    header = next(line for line in out.splitlines() if "ID" in line)
    assert "Project" not in header and "loss" not in header and "acc" in header
    assert table_rows(out)["2"][-1] == "0.8"


def test_database_url_defaults_to_the_ato_db_variable(capsys, db, monkeypatch):
    monkeypatch.setenv("ATO_DB", db)
    assert [run["id"] for run in ato_json(capsys, "runs", "list", "--project", "nlp")] == [4]


def test_render_runs_table_prints_what_runs_list_prints(capsys, db, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)  # the CLI's width when piped
    code, cli_out, _ = ato(
        capsys, "--db", db, "--project", "vision", "runs", "list", "--params", "model.depth,lr"
    )
    assert code == 0
    runs = SQLFinder(db).get_runs_in_project("vision")
    buffer = io.StringIO()
    table = render_runs_table(runs, params=["model.depth", "lr"])
    Console(file=buffer, width=160, highlight=False).print(table)
    assert buffer.getvalue() == cli_out


# -- runs show ---------------------------------------------------------------------------


def test_show_prints_overview_config_and_metric_summaries(capsys, db):
    code, out, err = ato(capsys, "--db", db, "runs", "show", "3")
    assert code == 0, err
    rows = table_rows(out)
    assert rows["Project"] == ["vision"]
    assert rows["Status"] == ["failed"]
    assert rows["Tags"] == ["deep, baseline"]
    assert rows["model.depth"] == ["3"]
    assert rows["dropout"] == ["0.2"]
    assert rows["experiment.project_name"] == ["vision"]
    assert rows["loss"] == ["2", "0", "2", "2", "1"]  # last, last step, min, max, count


def test_show_json_includes_artifacts_and_fingerprints(capsys, sqlite_url):
    logger = SQLLogger(_config(sqlite_url, "p", lr=0.5))
    with logger.start_run(tags=["x"]) as run:
        run.log_metric("score", float("nan"), step=0)
        run.log_artifact("ckpt/best.pt", "model", {"epoch": 3})
        run.log_fingerprint("forward", "abc123", "static")
    record = ato_json(capsys, "--db", sqlite_url, "runs", "show", str(run.id))
    assert record["id"] == run.id
    assert record["config"]["lr"] == 0.5
    assert record["metrics"]["score"] == {
        "last": "NaN",  # JSON has no NaN: spelled as a string
        "last_step": 0,
        "min": None,
        "max": None,
        "count": 1,
    }
    assert record["artifacts"] == [
        {"path": "ckpt/best.pt", "data_type": "model", "metadata": {"epoch": 3}}
    ]
    assert record["fingerprints"] == [
        {"trace_id": "forward", "trace_type": "static", "fingerprint": "abc123"}
    ]


# -- runs best ---------------------------------------------------------------------------


def test_best_by_max_and_min(capsys, db):
    best = ato_json(capsys, "--db", db, "--project", "vision", "runs", "best", "--metric", "acc")
    assert (best["run"]["id"], best["value"], best["mode"]) == (2, 0.8, "max")
    lowest = ato_json(
        capsys,
        "--db",
        db,
        "--project",
        "vision",
        "runs",
        "best",
        "--metric",
        "loss",
        "--mode",
        "min",
    )
    assert (lowest["run"]["id"], lowest["value"]) == (2, 0.4)
    by_default = ato_json(
        capsys, "--db", db, "--project", "vision", "runs", "best", "--metric", "loss"
    )
    assert (by_default["run"]["id"], by_default["value"], by_default["mode"]) == (2, 0.4, "min")
    highest = ato_json(
        capsys,
        *("--db", db, "--project", "vision", "runs", "best", "--metric", "loss", "--mode", "max"),
    )
    assert (highest["run"]["id"], highest["value"]) == (3, 2.0)


def test_best_table_names_the_run_and_value(capsys, db):
    code, out, _ = ato(capsys, "--db", db, "--project", "nlp", "runs", "best", "--metric", "bleu")
    assert code == 0
    assert "run 4 with bleu = 27.25" in out
    assert table_rows(out)["4"][-1] == "27.25"


def test_best_uses_the_only_project_without_project_option(capsys, sqlite_url):
    run_id = _record(sqlite_url, "solo", {"lr": 1}, [], {"acc": [0.3]}, "completed")
    best = ato_json(capsys, "--db", sqlite_url, "runs", "best", "--metric", "acc")
    assert (best["project"], best["run"]["id"]) == ("solo", run_id)


def test_best_needs_a_project_when_there_are_several(capsys, db):
    code, out, err = ato(capsys, "--db", db, "runs", "best", "--metric", "acc")
    assert code == 2 and out == ""
    assert "several projects ('vision', 'nlp'); pass --project" in err


def test_best_of_a_metric_nobody_logged_is_not_found(capsys, db):
    code, _, err = ato(capsys, "--db", db, "--project", "nlp", "runs", "best", "--metric", "acc")
    assert code == 1
    assert "no run of project 'nlp' logged metric 'acc'" in err


def test_best_rejects_an_unknown_mode(capsys, db):
    code, _, err = ato(capsys, "--db", db, "runs", "best", "--metric", "acc", "--mode", "avg")
    assert code == 2
    assert "bad metric direction 'avg'" in err


# -- runs compare ------------------------------------------------------------------------


def test_compare_shows_only_differing_config_keys_and_metrics(capsys, db):
    code, out, err = ato(capsys, "--db", db, "runs", "compare", "1", "3")
    assert code == 0, err
    rows = table_rows(out)
    assert "lr" not in rows and "model.act" not in rows  # equal values are not listed
    assert rows["model.depth"] == ["2", "3"]
    assert rows["dropout"] == ["-", "0.2"]
    # direction, run 1 last/best, run 3 last/best; loss is best when smallest
    assert rows["loss"] == ["min", "0.5", "0.5 ★", "2", "2"]
    assert rows["acc"] == ["max", "0.7", "0.7 ★", "-", "-"]


def test_compare_json(capsys, db):
    data = ato_json(capsys, "--db", db, "runs", "compare", "1", "2", "--mode", "min")
    assert data["runs"] == [1, 2]
    assert data["config_diff"] == {"lr": {"1": 0.1, "2": 0.01}}
    assert data["metrics"]["loss"] == {
        "1": {"last": 0.5, "best": 0.5},
        "2": {"last": 0.4, "best": 0.4},
    }
    missing = ato_json(capsys, "--db", db, "runs", "compare", "1", "3")
    assert missing["config_diff"]["dropout"] == {"3": 0.2}  # run 1 has no such key
    assert missing["metrics"]["acc"] == {"1": {"last": 0.7, "best": 0.7}}


def test_compare_of_identical_configs_says_so(capsys, sqlite_url):
    first = _record(sqlite_url, "p", {"lr": 1}, [], {}, "completed")
    second = _record(sqlite_url, "p", {"lr": 1}, [], {}, "completed")
    code, out, _ = ato(capsys, "--db", sqlite_url, "runs", "compare", str(first), str(second))
    assert code == 0
    assert "(identical configs; ato's __x__ keys such as __budget__ are not compared)" in out


def test_compare_needs_two_runs(capsys, db):
    code, _, err = ato(capsys, "--db", db, "runs", "compare", "1")
    assert code == 2
    assert "at least two run ids" in err


# -- errors ------------------------------------------------------------------------------


def test_missing_database_file_is_an_error_and_is_not_created(capsys, tmp_path):
    path = tmp_path / "absent.db"
    code, out, err = ato(capsys, "--db", f"sqlite:///{path}", "runs", "list")
    assert code == 2 and out == ""
    assert "no tracker database" in err and str(path) in err
    assert not path.exists()


def test_unknown_run_id(capsys, db):
    code, out, err = ato(capsys, "--db", db, "runs", "show", "99")
    assert code == 1 and out == ""
    assert err.startswith("ato: error: no run with id 99")


def test_run_of_another_project(capsys, db):
    code, _, err = ato(capsys, "--db", db, "--project", "nlp", "runs", "show", "1")
    assert code == 1
    assert "run 1 belongs to project 'vision', not 'nlp'" in err


def test_unknown_project_lists_the_known_ones(capsys, db):
    code, _, err = ato(capsys, "--db", db, "--project", "audio", "runs", "list")
    assert code == 1
    assert "no project named 'audio'" in err and "'vision', 'nlp'" in err


def test_bad_url_and_usage_errors(capsys, tmp_path):
    code, _, err = ato(capsys, "--db", "nosuchdialect://x/y", "runs", "list")
    assert code == 2 and "nosuchdialect" in err
    code, _, err = ato(capsys, "runs")
    assert code == 2 and "required" in err
    code, _, _ = ato(capsys, "runs", "show", "one")
    assert code == 2
    code, _, err = ato(capsys, "runs", "list", "--limit", "-1")
    assert code == 2 and "expected a whole number >= 0, got '-1'" in err


def test_unreadable_database_is_reported(capsys, tmp_path):
    code, out, err = ato(capsys, "--db", f"sqlite:///{tmp_path}", "runs", "list")  # a directory
    assert code == 2 and out == ""
    assert err.startswith("ato: error: cannot read sqlite:///")


# -- console script ----------------------------------------------------------------------


def _subprocess(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "ATO_DB"}
    return subprocess.run(
        [sys.executable, "-m", "ato.tracker.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_module_entry_point_runs_as_a_subprocess(db):
    proc = _subprocess("--db", db, "runs", "list", "--json", "--project", "vision")
    assert proc.returncode == 0, proc.stderr
    assert [run["status"] for run in json.loads(proc.stdout)] == [
        "completed",
        "completed",
        "failed",
    ]

    proc = _subprocess("--db", db, "runs", "show", "42")
    assert proc.returncode == 1
    assert "no run with id 42" in proc.stderr

    proc = _subprocess("--db", db, "runs", "best", "--project", "vision", "--metric", "acc")
    assert proc.returncode == 0
    assert table_rows(proc.stdout)["2"][-1] == "0.8"


def test_ato_console_script_is_declared():
    (entry,) = [
        ep for ep in importlib.metadata.entry_points(group="console_scripts") if ep.name == "ato"
    ]
    assert entry.value == "ato.tracker.cli:main"
    assert entry.load() is main


def _tables_and_journal(path) -> tuple[list[str], str]:
    import sqlite3

    with sqlite3.connect(path) as con:
        tables = [row[0] for row in con.execute("SELECT name FROM sqlite_master ORDER BY name")]
        return tables, con.execute("PRAGMA journal_mode").fetchone()[0]


def test_another_programs_sqlite_file_is_refused_and_left_untouched(capsys, tmp_path):
    import sqlite3

    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE notes (text TEXT)")
    before = _tables_and_journal(path)
    assert before == (["notes"], "delete")
    for argv in (["runs", "list"], ["runs", "show", "1"], ["runs", "best", "--metric", "m"]):
        code, out, err = ato(capsys, "--db", f"sqlite:///{path}", *argv)
        assert code == 2 and out == ""
        assert f"the database 'sqlite:///{path}' has no tracker tables" in err
        assert "nothing was written" in err
    assert _tables_and_journal(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]  # no -wal/-shm files


def test_a_database_missing_some_tracker_tables_names_them(capsys, sqlite_url):
    import sqlite3

    SQLFinder(sqlite_url).list_projects()  # creates the schema
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as con:
        con.execute("DROP TABLE fingerprints")
        con.execute("DROP TABLE artifacts")
    code, _, err = ato(capsys, "--db", sqlite_url, "runs", "list")
    assert code == 2
    assert "lacks the tracker tables artifacts, fingerprints" in err


def test_a_file_that_is_not_sqlite_is_reported(capsys, tmp_path):
    path = tmp_path / "text.db"
    path.write_text("not a database\n" * 100)
    code, out, err = ato(capsys, "--db", str(path), "runs", "list")
    assert code == 2 and out == ""
    assert err.startswith(f"ato: error: cannot read {path}: file is not a database")
    assert path.read_text() == "not a database\n" * 100


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_output_piped_into_a_reader_that_stops_early_ends_quietly(sqlite_url, fmt):
    # `ato runs metrics 1 | head -2`: the reader exits while ato still writes; 30,000 rows
    # are far more than a pipe's buffer, so a write fails after the reader has gone.
    run_id = _record(sqlite_url, "p", {}, [], {"loss": [i / 7 for i in range(30_000)]}, "completed")
    env = {key: value for key, value in os.environ.items() if key != "ATO_DB"}
    command = [sys.executable, "-m", "ato.tracker.cli", "--db", sqlite_url, "runs", "metrics"]
    proc = subprocess.Popen(
        [*command, str(run_id), "--format", fmt],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()  # the reader takes one line, then goes away
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
