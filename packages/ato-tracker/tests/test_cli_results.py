"""``ato`` commands for reading results: versions, projects, param columns, sorting, searches,
per-key metric directions, metric export and run export - on SQLite and both servers."""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
from typing import Any

import pytest

from ato.adict import ADict
from ato.tracker import SQLLogger
from ato.tracker.cli import commands, main


def _run(
    db: str,
    project: str,
    config: dict[str, Any],
    tags: list[str],
    metrics: dict[str, list[float]],
    status: str = "completed",
) -> int:
    cfg = ADict(config)
    cfg.experiment = ADict(project_name=project, sql=ADict(db_path=db))
    logger = SQLLogger(cfg)
    run_id = logger.run(tags=tags)
    for key, values in metrics.items():
        for step, value in enumerate(values):
            logger.log_metric(key, value, step)
    logger.finish(status)
    logger.close()
    return run_id


def _trial(lr: float, hidden: int, rnd: int) -> dict[str, Any]:
    return {
        "optim": {"lr": lr, "batch_size": 64},
        "model": {"hidden": hidden},
        "__num_halved__": rnd,
    }


@pytest.fixture
def search_db(db_url: str) -> dict[str, Any]:
    """Project 'digits': search 'abc123' with three round-0 trials, one round-1 trial and its
    final run; one unrelated run. Project 'other' with one run."""
    ids: dict[str, Any] = {"db": db_url}
    ids["t1"] = _run(
        db_url,
        "digits",
        _trial(0.1, 16, 0),
        ["search:abc123", "round:0"],
        {"val/acc": [0.5], "train_loss": [2.0, 1.0]},
    )
    ids["t2"] = _run(
        db_url,
        "digits",
        _trial(0.01, 64, 0),
        ["search:abc123", "round:0"],
        {"val/acc": [0.9], "train_loss": [1.5, 0.5, 0.25]},
    )
    ids["t3"] = _run(
        db_url,
        "digits",
        _trial(0.001, 32, 0),
        ["search:abc123", "round:0"],
        {"val/acc": [0.7], "train_loss": [1.8, 1.2]},
    )
    ids["final"] = _run(
        db_url,
        "digits",
        _trial(0.01, 64, 1),
        ["search:abc123", "round:1", "final"],
        {"val/acc": [0.85], "train_loss": [1.4, 0.3]},
    )
    ids["lone"] = _run(
        db_url,
        "digits",
        _trial(0.3, 8, 0),
        ["a", "b", "c", "d", "e", "f"],
        {"train_loss": [3.0]},
        "failed",
    )
    ids["other"] = _run(db_url, "other", {"x": 1}, [], {"score": [1.0]})
    return ids


def ato(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def ato_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = ato(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def rows_of(out: str) -> dict[str, list[str]]:
    rows = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if line.startswith("│") and cells[0]:
            rows[cells[0]] = cells[1:]
    return rows


def header_of(out: str) -> list[str]:
    line = next(line for line in out.splitlines() if line.startswith("┃"))
    return [cell.strip() for cell in line.strip("┃").split("┃")]


def list_ids(capsys: pytest.CaptureFixture[str], db: str, *options: str) -> list[int]:
    runs = ato_json(capsys, "--db", db, "--project", "digits", "runs", "list", *options)
    return [run["id"] for run in runs]


# -- ato --version, ato projects ----------------------------------------------------------


def test_version_lists_every_installed_ato_distribution(capsys):
    code, out, err = ato(capsys, "--version")
    assert code == 0 and err == ""
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    assert lines["ato-tracker"] == importlib.metadata.version("ato-tracker")
    assert lines["ato-adict"] == importlib.metadata.version("ato-adict")
    assert all(name.startswith("ato") for name in lines)


def test_projects_lists_run_counts_and_last_activity(capsys, search_db):
    data = ato_json(capsys, "--db", search_db["db"], "projects")
    assert [(p["name"], p["runs"]) for p in data] == [("digits", 5), ("other", 1)]
    assert data[0]["last_activity"].endswith("+00:00")
    code, out, _ = ato(capsys, "--db", search_db["db"], "projects")
    assert code == 0
    assert rows_of(out)["digits"][0] == "5"


# -- runs list: params --------------------------------------------------------------------


def test_list_shows_differing_params_widest_first_without_bookkeeping(capsys, search_db):
    code, out, err = ato(capsys, "--db", search_db["db"], "--project", "digits", "runs", "list")
    assert code == 0, err
    header = header_of(out)
    # optim.lr has 4 distinct values, model.hidden 4: both shown; batch_size never differs;
    # __num_halved__ and experiment.* are bookkeeping
    assert header[5:7] == ["optim.lr", "model.hidden"]
    assert "optim.batch_size" not in header and "__num_halved__" not in header
    assert not any(column.startswith("experiment") for column in header)
    assert rows_of(out)[str(search_db["t2"])][4:6] == ["0.01", "64"]


def test_list_params_option_picks_columns_by_dotted_path(capsys, search_db):
    db = search_db["db"]
    code, out, _ = ato(
        capsys, "--db", db, "--project", "digits", "runs", "list", "--params", "optim.batch_size"
    )
    assert code == 0
    header = header_of(out)
    assert header[5] == "optim.batch_size" and "optim.lr" not in header
    assert rows_of(out)[str(search_db["t1"])][4] == "64"
    code, out, _ = ato(
        capsys,
        *("--db", db, "--project", "digits", "runs", "list"),
        *("--params", "model.hidden,optim.lr", "--params", "__num_halved__"),
    )
    assert header_of(out)[5:8] == ["model.hidden", "optim.lr", "__num_halved__"]
    code, out, _ = ato(capsys, "--db", db, "--project", "digits", "runs", "list", "--params", "")
    assert "optim.lr" not in header_of(out)  # an empty --params shows no param column


def test_unknown_param_suggests_close_names(capsys, search_db):
    code, out, err = ato(
        capsys, "--db", search_db["db"], "--project", "digits", "runs", "list", "--params", "lr"
    )
    assert code == 1 and out == ""
    assert "unknown param 'lr'" in err and "Did you mean 'optim.lr'?" in err


def test_long_tag_lists_are_truncated_with_a_count(capsys, search_db):
    _code, out, _ = ato(capsys, "--db", search_db["db"], "--project", "digits", "runs", "list")
    assert rows_of(out)[str(search_db["lone"])][3] == "a, b, c +3"


# -- runs list: the default page -----------------------------------------------------------


def caption_of(out: str) -> str:
    return " ".join(line.strip() for line in out.splitlines() if "runs shown" in line)


def test_list_table_shows_a_page_and_counts_the_rest(capsys, search_db, monkeypatch):
    monkeypatch.setattr(commands, "DEFAULT_PAGE", 2)
    s, db = search_db, search_db["db"]
    digits = ("--db", db, "--project", "digits", "runs", "list")
    _code, out, _ = ato(capsys, *digits)
    assert set(rows_of(out)) == {str(s["final"]), str(s["lone"])}  # the newest two
    assert caption_of(out) == "2 of 5 runs shown (the newest); --limit N or --all shows more"
    _code, out, _ = ato(capsys, *digits, "--limit", "3")
    assert set(rows_of(out)) == {str(s["t3"]), str(s["final"]), str(s["lone"])}
    assert caption_of(out).startswith("3 of 5 runs shown (the newest)")
    _code, out, _ = ato(capsys, *digits, "--sort", "optim.lr")  # sorted over every run
    assert list(rows_of(out)) == [str(s["t3"]), str(s["t2"])]
    assert caption_of(out).startswith("2 of 5 runs shown (the first by --sort)")
    for every in (("--all",), ("--limit", "5")):
        code, out, err = ato(capsys, *digits, *every)
        assert code == 0 and len(rows_of(out)) == 5 and caption_of(out) == "", err
    assert list_ids(capsys, db) == [s["t1"], s["t2"], s["t3"], s["final"], s["lone"]]  # --json
    assert len(list_ids(capsys, db, "--all")) == 5
    code, _, err = ato(capsys, *digits, "--all", "--limit", "2")
    assert code == 2 and "not allowed with argument" in err


def test_param_columns_differ_between_the_shown_runs(capsys, search_db, monkeypatch):
    monkeypatch.setattr(commands, "DEFAULT_PAGE", 1)
    db = search_db["db"]
    digits = ("--db", db, "--project", "digits", "runs", "list")
    # the two best trials share lr and hidden (only bookkeeping differs): no param column
    _code, out, _ = ato(capsys, *digits, "--sort", "val/acc", "--limit", "2")
    assert header_of(out)[4:] == ["Tags", "train_loss", "val/acc"]
    _code, out, _ = ato(capsys, *digits, "--limit", "2")
    assert header_of(out)[5:7] == ["optim.lr", "model.hidden"]
    # a param only hidden runs have is still a known name; the shown run lacks it
    code, out, err = ato(capsys, "--db", db, "runs", "list", "--params", "optim.lr")
    assert code == 0, err
    assert header_of(out)[5] == "optim.lr"
    assert rows_of(out)[str(search_db["other"])][4] == "-"
    assert caption_of(out).startswith("1 of 6 runs shown")
    code, _, err = ato(capsys, *digits, "--params", "optim.lrr")
    assert code == 1 and "Did you mean 'optim.lr'?" in err


# -- runs list: sorting -------------------------------------------------------------------


def test_sort_by_a_metric_is_best_first_by_default(capsys, search_db):
    s = search_db
    db = s["db"]
    by_acc = list_ids(capsys, db, "--sort", "val/acc")
    assert by_acc == [s["t2"], s["final"], s["t3"], s["t1"], s["lone"]]  # lone: no value, last
    assert list_ids(capsys, db, "--sort", "val/acc:asc") == [
        s["t1"],
        s["t3"],
        s["final"],
        s["t2"],
        s["lone"],
    ]
    # train_loss is best when smallest: ascending by default, by its last value
    assert list_ids(capsys, db, "--sort", "train_loss")[:2] == [s["t2"], s["final"]]
    assert list_ids(capsys, db, "--sort", "metrics.train_loss:desc")[0] == s["lone"]
    assert list_ids(capsys, db, "--sort", "val/acc", "--limit", "2") == [s["t2"], s["final"]]


def test_sort_by_param_start_duration_and_mode(capsys, search_db):
    s = search_db
    db = s["db"]
    assert list_ids(capsys, db, "--sort", "optim.lr") == [
        s["t3"],
        s["t2"],
        s["final"],
        s["t1"],
        s["lone"],
    ]
    assert list_ids(capsys, db, "--sort", "params.model.hidden:desc")[0] == s["t2"]
    assert list_ids(capsys, db, "--sort", "start:desc")[0] == s["lone"]
    assert sorted(list_ids(capsys, db, "--sort", "duration")) == sorted(
        [s["t1"], s["t2"], s["t3"], s["final"], s["lone"]]
    )
    # --mode flips what "best first" means for a key
    assert list_ids(capsys, db, "--sort", "val/acc", "--mode", "val/acc=min")[0] == s["t1"]


def test_sort_by_an_unknown_column_suggests_names(capsys, search_db):
    code, _, err = ato(
        capsys, "--db", search_db["db"], "--project", "digits", "runs", "list", "--sort", "val_acc"
    )
    assert code == 1
    assert "no metric, param or column named 'val_acc'" in err and "'val/acc'" in err


# -- runs list --search, runs best --search -----------------------------------------------


def test_list_search_shows_its_trials_and_marks_the_answer(capsys, search_db):
    s = search_db
    db = s["db"]
    runs = ato_json(capsys, "--db", db, "runs", "list", "--search", "abc123")
    assert [r["id"] for r in runs] == [s["t1"], s["t2"], s["t3"], s["final"]]
    assert [r["final"] for r in runs] == [False, False, False, True]
    assert [r["answer"] for r in runs] == [False, False, False, True]
    code, out, _ = ato(capsys, "--db", db, "runs", "list", "--search", "abc123")
    assert code == 0
    assert f"{s['final']} ★" in rows_of(out)
    assert "the search's answer" in out


def test_unknown_search_suggests_known_ids(capsys, search_db):
    code, _, err = ato(capsys, "--db", search_db["db"], "runs", "list", "--search", "abc124")
    assert code == 1
    assert "no runs of search 'abc124'" in err and "Did you mean 'abc123'?" in err


def test_best_of_a_search_is_its_final_run(capsys, search_db):
    db = search_db["db"]
    best = ato_json(capsys, "--db", db, "--project", "digits", "runs", "best", "--search", "abc123")
    assert best["run"]["id"] == search_db["final"]  # not the higher-scoring round-0 trial
    code, out, _ = ato(capsys, "--db", db, "runs", "best", "--search", "abc123")
    assert code == 0
    assert f"Answer of search 'abc123' by val/acc (max): run {search_db['final']}" in out
    with_metric = ato_json(
        capsys, "--db", db, "runs", "best", "--search", "abc123", "--metric", "val/acc"
    )
    assert (with_metric["run"]["id"], with_metric["value"]) == (search_db["final"], 0.85)


def test_best_of_a_search_without_final_run(capsys, db_url):
    for lr, acc in ((0.1, 0.4), (0.2, 0.6)):
        _run(db_url, "p", _trial(lr, 8, 0), ["search:s9", "round:0"], {"acc": [acc]})
    guessed = ato_json(capsys, "--db", db_url, "runs", "best", "--search", "s9")
    assert (guessed["metric"], guessed["value"]) == ("acc", 0.6)  # the key logged at its round
    best = ato_json(capsys, "--db", db_url, "runs", "best", "--search", "s9", "--metric", "acc")
    assert best["value"] == 0.6


def test_best_needs_a_metric_or_a_search(capsys, search_db):
    code, _, err = ato(capsys, "--db", search_db["db"], "--project", "digits", "runs", "best")
    assert code == 2 and "--metric" in err


def test_best_of_a_misspelt_metric_suggests_the_key(capsys, search_db):
    code, _, err = ato(
        capsys,
        "--db",
        search_db["db"],
        "--project",
        "digits",
        "runs",
        "best",
        "--metric",
        "val_acc",
    )
    assert code == 1
    assert "Did you mean 'val/acc'?" in err


def test_misspelt_project_suggests_the_name(capsys, search_db):
    code, _, err = ato(capsys, "--db", search_db["db"], "--project", "digit", "runs", "list")
    assert code == 1 and "Did you mean 'digits'?" in err


# -- metric directions ---------------------------------------------------------------------


def test_compare_marks_each_metrics_best_in_its_own_direction(capsys, search_db):
    s = search_db
    db = s["db"]
    data = ato_json(capsys, "--db", db, "runs", "compare", str(s["t1"]), str(s["t2"]))
    assert data["modes"] == {"train_loss": "min", "val/acc": "max"}
    assert data["best_runs"] == {"train_loss": s["t2"], "val/acc": s["t2"]}
    spec = ato_json(
        capsys,
        *("--db", db, "runs", "compare", str(s["t1"]), str(s["t2"])),
        *("--mode", "train_loss=max,val/acc=min"),
    )
    assert spec["best_runs"] == {"train_loss": s["t1"], "val/acc": s["t1"]}
    assert spec["metrics"]["train_loss"][str(s["t1"])]["best"] == 2.0
    every = ato_json(
        capsys, "--db", db, "runs", "compare", str(s["t1"]), str(s["t2"]), "--mode", "min"
    )
    assert every["modes"] == {"train_loss": "min", "val/acc": "min"}
    _code, out, _ = ato(capsys, "--db", db, "runs", "compare", str(s["t1"]), str(s["t2"]))
    assert rows_of(out)["val/acc"] == ["max", "0.5", "0.5", "0.9", "0.9 ★"]


@pytest.mark.parametrize("spec", ["loss", "loss=", "=min", "loss=best", "max,acc"])
def test_malformed_mode_is_a_usage_error(capsys, search_db, spec):
    code, _, err = ato(capsys, "--db", search_db["db"], "runs", "compare", "1", "2", "--mode", spec)
    assert code == 2 and "bad metric direction" in err


# -- runs metrics -------------------------------------------------------------------------


def test_metrics_csv_has_every_row_in_logging_order(capsys, search_db):
    run = str(search_db["t2"])
    code, out, err = ato(capsys, "--db", search_db["db"], "runs", "metrics", run, "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["key"], r["step"], float(r["value"])) for r in rows] == [
        ("val/acc", "0", 0.9),
        ("train_loss", "0", 1.5),
        ("train_loss", "1", 0.5),
        ("train_loss", "2", 0.25),
    ]
    assert all(r["timestamp"].endswith("+00:00") for r in rows)


def test_metrics_key_filter_json_and_table(capsys, search_db):
    db, run = search_db["db"], str(search_db["t2"])
    data = ato_json(capsys, "--db", db, "runs", "metrics", run, "--key", "train_loss")
    assert [(r["step"], r["value"]) for r in data] == [(0, 1.5), (1, 0.5), (2, 0.25)]
    _code, out, _ = ato(capsys, "--db", db, "runs", "metrics", run, "--format", "json")
    assert len(json.loads(out)) == 4
    _code, out, _ = ato(capsys, "--db", db, "runs", "metrics", run, "--key", "val/acc")
    lines = out.splitlines()
    assert lines[0].split() == ["step", "key", "value", "timestamp"]
    assert lines[1].split()[:3] == ["0", "val/acc", "0.9"] and len(lines) == 2


def test_metrics_of_an_unknown_key_or_run(capsys, search_db):
    db, run = search_db["db"], str(search_db["t2"])
    code, out, err = ato(capsys, "--db", db, "runs", "metrics", run, "--key", "train/loss")
    assert code == 1 and out == "" and "Did you mean 'train_loss'?" in err
    code, _, err = ato(capsys, "--db", db, "runs", "metrics", "999")
    assert code == 1 and "no run with id 999" in err and "run ids go from" in err


# -- runs export --------------------------------------------------------------------------


def test_export_csv_has_params_and_metric_summaries(capsys, search_db):
    code, out, err = ato(capsys, "--db", search_db["db"], "runs", "export", "digits")
    assert code == 0, err
    rows = {int(r["run_id"]): r for r in csv.DictReader(io.StringIO(out))}
    assert set(rows) == {search_db[k] for k in ("t1", "t2", "t3", "final", "lone")}
    t2 = rows[search_db["t2"]]
    assert (t2["params.optim.lr"], t2["params.model.hidden"]) == ("0.01", "64")
    assert (t2["metrics.train_loss"], t2["metrics.train_loss.min"]) == ("0.25", "0.25")
    assert t2["metrics.train_loss.max"] == "1.5"
    assert json.loads(t2["tags"]) == ["search:abc123", "round:0"]
    assert rows[search_db["lone"]]["metrics.val/acc"] == ""  # never logged
    assert rows[search_db["lone"]]["status"] == "failed"


def test_export_json_and_param_selection(capsys, search_db):
    db = search_db["db"]
    code, out, err = ato(
        capsys, "--db", db, "runs", "export", "digits", "--format", "json", "--params", "optim.lr"
    )
    assert code == 0, err
    records = json.loads(out)
    assert len(records) == 5
    assert [k for k in records[0] if k.startswith("params.")] == ["params.optim.lr"]
    assert records[0]["metrics.val/acc.max"] == 0.5
    code, _, err = ato(capsys, "--db", db, "runs", "export", "digts")
    assert code == 1 and "Did you mean 'digits'?" in err


# -- default database ---------------------------------------------------------------------


def test_logger_and_command_share_the_default_database(capsys, tmp_path, monkeypatch):
    target = tmp_path / "shared.db"
    monkeypatch.setenv("ATO_DB", f"sqlite:///{target}")
    logger = SQLLogger(ADict(experiment=ADict(project_name="envdb")))  # no db_path
    with logger.start_run():
        pass
    assert target.exists()
    assert [p["name"] for p in ato_json(capsys, "projects")] == ["envdb"]


def test_a_missing_database_is_named_by_its_absolute_path(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = ato(capsys, "--db", "sqlite:///nope.db", "runs", "list")
    assert code == 2 and f"no tracker database at {tmp_path / 'nope.db'}" in err


def test_compare_leaves_out_search_bookkeeping_and_tracker_settings(capsys, search_db):
    s = search_db
    t1, final = str(s["t1"]), str(s["final"])
    data = ato_json(capsys, "--db", s["db"], "runs", "compare", t1, final)
    assert data["config_diff"], "the two runs differ in their parameters"
    assert not [key for key in data["config_diff"] if key.startswith(("__", "experiment."))]
    _code, out, _ = ato(capsys, "--db", s["db"], "runs", "compare", t1, final)
    assert "__num_halved__" not in out and "__budget__" not in out


@pytest.mark.parametrize("width", ["120", "160"])
def test_list_prints_one_line_per_run_when_the_terminal_is_wide_enough(
    capsys, search_db, monkeypatch, width
):
    monkeypatch.setenv("COLUMNS", width)
    _code, out, _ = ato(capsys, "--db", search_db["db"], "runs", "list", "--project", "digits")
    body = [line for line in out.splitlines() if line.startswith("│")]
    assert len(body) == 5  # the five runs of 'digits', each on one line (tags cut, not wrapped)
    assert all(" 20" in line for line in body)  # the whole start time on that line
