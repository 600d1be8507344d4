"""The JSON endpoints and the HTML error pages, through Starlette's TestClient."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ato.dashboard import create_app
from ato.dashboard.errors import DatabaseUnavailableError
from ato.tracker import SQLLogger
from ato.tracker.storage import migrate
from ato.tracker.storage.database import dispose_engines

BASE = "http://127.0.0.1"
KIT: Any = None


def client(url: str) -> TestClient:
    return TestClient(create_app(url), base_url=BASE, raise_server_exceptions=False)


@pytest.fixture(autouse=True)
def _kit(kit: Any) -> None:
    global KIT
    KIT = kit


@pytest.fixture
def api(filled: Any) -> tuple[Any, TestClient]:
    return filled, client(filled.url)


def test_projects_list_counts_runs(api: tuple[Any, TestClient]):
    _, c = api
    body = c.get("/api/projects").json()
    counts = {p["name"]: p["run_count"] for p in body["projects"]}
    assert counts == {"vision": 3 + 7, KIT.xss_script: 1}
    assert all(p["last_activity"] and p["created_at"] for p in body["projects"])


def _rows(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The runs table's columns back as one dict per run id (absent params left out)."""
    cols, rows = body["runs"], {}
    assert all(len(column) == body["count"] for column in cols.values())
    for i, run_id in enumerate(cols["id"]):
        row = {field: column[i] for field, column in cols.items()}
        row["params"] = {
            key: values[i]
            for key, values in body["params"].items()
            if i not in body["params_missing"].get(key, [])
        }
        row["metrics"] = {
            key: {"last": m["last"][i], "best": m["best"][i]} for key, m in body["metrics"].items()
        }
        rows[run_id] = row
    return rows


def test_runs_table_has_params_that_differ_and_metric_summaries(api: tuple[Any, TestClient]):
    filled, c = api
    body = c.get("/api/projects/vision/runs").json()
    assert "optim.lr" in body["differing_param_keys"]
    assert "experiment.project_name" not in body["differing_param_keys"]
    assert {"loss", "accuracy", "val_acc", "train_loss"} <= set(body["metric_keys"])
    assert body["metric_modes"]["loss"] == "min" and body["metric_modes"]["accuracy"] == "max"
    rows = _rows(body)
    assert list(rows) == sorted(rows) and body["count"] == 10 and body["max_compare"] == 100
    assert not [k for k in body["differing_param_keys"] if k.startswith(("__", "experiment."))]
    assert "__num_halved__" in body["param_keys"]  # still offered in the column menu
    fast = rows[filled.runs["fast"]]
    assert fast["params"]["optim.lr"] == 0.1 and fast["params"]["model.depth"] == 2
    assert fast["metrics"]["loss"]["last"] == filled.loss["fast"][-1][1]
    assert fast["metrics"]["loss"]["best"] == min(v for _, v in filled.loss["fast"])
    accuracy = [m for m in (r["metrics"]["accuracy"]["best"] for r in rows.values()) if m]
    assert accuracy and all(0 <= a <= 1 for a in accuracy)
    assert rows[filled.runs["trial-0-0.1"]]["search_id"] == KIT.search_id
    failed = c.get("/api/projects/vision/runs", params={"status": "failed"}).json()
    assert failed["runs"]["id"] == [filled.runs["slow"]] and failed["count"] == 1
    tagged = c.get("/api/projects/vision/runs", params={"tag": "ablation"}).json()
    assert set(tagged["runs"]["id"]) == {filled.runs["slow"], filled.runs["deep"]}


def test_runs_table_columns_keep_absent_params_apart_from_null_and_best_follows_the_mode(
    tmp_path: Any,
):
    url = f"sqlite:///{tmp_path / 'cols.db'}"
    configs = [{"a": 1, "b": None}, {"a": 1, "c": {"d": [1, 2]}}, {"a": 1.0, "b": None}]
    logged = [
        {"val_loss": [0.5, 0.2, 0.3], "acc": [0.1, 0.7, 0.6], "err": [float("-inf"), 1.0]},
        {"val_loss": [float("nan")], "acc": [float("inf"), 0.2], "err": [float("inf")]},
        {},
    ]
    logger = SQLLogger({"experiment": {"project_name": "p", "sql": {"db_path": url}}})
    for config, metrics in zip(configs, logged, strict=True):
        logger.run(config=config)
        for key, values in metrics.items():
            for step, value in enumerate(values):
                logger.log_metric(key, value, step)
        logger.finish()
    dispose_engines()
    body = client(url).get("/api/projects/p/runs").json()
    assert body["params_missing"] == {"b": [1], "c.d": [0, 2]}
    assert body["params"]["b"] == [None, None, None]
    assert body["params"]["c.d"] == [None, [1, 2], None]
    assert body["differing_param_keys"] == ["a", "b", "c.d"]  # 1 vs 1.0; absent vs null
    assert body["metric_modes"] == {"acc": "max", "err": "min", "val_loss": "min"}
    assert body["metrics"]["err"] == {"last": [1.0, "inf", None], "best": ["-inf", "inf", None]}
    # NaN and infinities as texts (a diverged run shows so), None where a run lacks the key
    assert body["metrics"]["val_loss"] == {"last": [0.3, "nan", None], "best": [0.2, None, None]}
    assert body["metrics"]["acc"] == {"last": [0.6, 0.2, None], "best": [0.7, "inf", None]}


def test_run_detail_and_series_match_the_database(api: tuple[Any, TestClient]):
    filled, c = api
    run_id = filled.runs["deep"]
    run = c.get(f"/api/runs/{run_id}").json()
    assert run["status"] == "completed" and run["live"] is False
    assert run["config"]["model"]["depth"] == 8 and run["metric_keys"] == ["accuracy", "loss"]
    series = c.get(f"/api/runs/{run_id}/metrics/loss").json()
    assert series["step"] == [s for s, _ in filled.loss["deep"]]
    assert series["value"] == [v for _, v in filled.loss["deep"]]
    assert series["total"] == 30 and series["downsampled"] is False
    small = c.get(f"/api/runs/{run_id}/metrics/loss", params={"max_points": 6}).json()
    assert len(small["step"]) <= 6 and small["downsampled"] is True and small["total"] == 30
    assert small["step"][0] == 0 and small["step"][-1] == 29


def test_since_step_returns_only_the_points_after_it(api: tuple[Any, TestClient]):
    filled, c = api
    run_id = filled.runs["deep"]
    loss = filled.loss["deep"]  # (step, value) for steps 0..29
    url = f"/api/runs/{run_id}/metrics/loss"
    later = c.get(url, params={"since_step": 26}).json()
    assert later["since_step"] == 26 and later["total"] == 3 and later["downsampled"] is False
    assert later["step"] == [27, 28, 29] and later["value"] == [v for s, v in loss if s > 26]
    assert len(later["time"]) == 3 and later["non_finite"] == {"nan": 0, "inf": 0, "-inf": 0}
    nothing = c.get(url, params={"since_step": 29}).json()
    assert nothing["total"] == 0 and nothing["step"] == nothing["value"] == nothing["time"] == []
    whole = c.get(url, params={"since_step": -1}).json()
    assert whole["step"] == list(range(30)) and whole["total"] == 30
    small = c.get(url, params={"since_step": 9, "max_points": 6}).json()
    assert small["total"] == 20 and small["downsampled"] is True and len(small["step"]) <= 6
    assert small["step"][0] == 10 and small["step"][-1] == 29
    assert c.get(url).json()["since_step"] is None
    missing = c.get(f"/api/runs/{run_id}/metrics/nope", params={"since_step": 3})
    assert missing.status_code == 404 and "has no metric 'nope'" in missing.json()["error"]


def test_compare_lists_config_differences(api: tuple[Any, TestClient]):
    filled, c = api
    ids = f"{filled.runs['fast']},{filled.runs['deep']}"
    body = c.get("/api/compare", params={"runs": ids}).json()
    assert [r["id"] for r in body["runs"]] == [filled.runs["fast"], filled.runs["deep"]]
    assert body["config_keys"] == ["model.depth", "optim.lr"]
    assert body["config"]["optim.lr"] == [0.1, 0.01]
    everything = c.get("/api/compare", params={"runs": ids, "all": "1"}).json()
    assert "experiment.project_name" in everything["config_keys"]


def test_compare_shows_the_first_metric_keys_matching_its_filter(api: tuple[Any, TestClient]):
    filled, c = api
    ids = f"{filled.runs['fast']},{filled.runs['deep']}"
    body = c.get("/api/compare", params={"runs": ids}).json()
    assert body["metric_keys"] == ["accuracy", "loss"] and body["metric_key_count"] == 2
    assert set(body["runs"][0]["metrics"]) == {"accuracy", "loss"}
    one = c.get("/api/compare", params={"runs": ids, "metric_limit": "1"}).json()
    assert one["metric_keys"] == ["accuracy"] and one["metric_key_count"] == 2
    assert [set(run["metrics"]) for run in one["runs"]] == [{"accuracy"}, {"accuracy"}]
    glob = c.get("/api/compare", params={"runs": ids, "metrics": "*oss"}).json()
    assert glob["metric_keys"] == ["loss"] and glob["metric_key_count"] == 1
    none = c.get("/api/compare", params={"runs": ids, "metrics": "nothing"}).json()
    assert none["metric_keys"] == [] and none["metric_key_count"] == 0
    assert none["runs"][0]["metrics"] == {}
    for bad in ("0", "101", "x"):
        wrong = c.get("/api/compare", params={"runs": ids, "metric_limit": bad})
        assert wrong.status_code == 400 and "metric_limit" in wrong.json()["error"]


def test_search_rounds_links_and_best(api: tuple[Any, TestClient]):
    filled, c = api
    body = c.get(f"/api/searches/{KIT.search_id}").json()
    assert body["metric"] == "val_acc" and body["mode"] == "max"
    assert body["params"] == ["optim.lr"] and body["x_axis"] == "round"
    assert [len(r["trials"]) for r in body["rounds"]] == [4, 2, 1]
    runs = filled.runs
    assert [runs["trial-0-0.01"], runs["trial-1-0.01"]] in body["links"]
    assert [runs["trial-1-0.01"], runs["trial-2-0.01"]] in body["links"]
    assert [runs["trial-0-0.001"], runs["trial-1-0.001"]] in body["links"]
    assert len(body["links"]) == 3
    assert body["best"]["run_id"] == runs["trial-2-0.01"]
    assert body["best"]["params"] == {"optim.lr": 0.01}
    by_loss = c.get(f"/api/searches/{KIT.search_id}", params={"metric": "train_loss"}).json()
    assert by_loss["mode"] == "min"


def test_search_with_trial_budget_and_rung_tags(sqlite_url: str):
    for trial, rung, budget, score in [("t1", 0, 3, 0.5), ("t2", 0, 3, 0.7), ("t2", 1, 9, 0.8)]:
        logger = SQLLogger({"experiment": {"project_name": "p", "sql": {"db_path": sqlite_url}}})
        tags = ["search:x", f"trial_id:{trial}", f"rung:{rung}", f"budget:{budget}"]
        logger.run(tags=tags, config={"seed": trial})
        logger.log_metric("score", score, rung)
        logger.finish()
    body = client(sqlite_url).get("/api/searches/x").json()
    assert body["x_axis"] == "budget"
    assert [(r["round"], r["budget"]) for r in body["rounds"]] == [(0, 3.0), (1, 9.0)]
    assert body["links"] == [[2, 3]] and body["best"]["run_id"] == 3


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/api/projects/nope/runs", 404, "no project named 'nope'"),
        ("/api/runs/999999", 404, "no run with id 999999"),
        ("/api/runs/1/metrics/nope", 404, "has no metric 'nope'"),
        ("/api/runs/1/metrics/loss?max_points=2", 400, "at least 4"),
        ("/api/runs/1/metrics/loss?max_points=x", 400, "whole number"),
        ("/api/runs/1/metrics/loss?since_step=x", 400, "since_step must be a whole number"),
        ("/api/runs/1/metrics/loss?since_step=1.5", 400, "optionally after '-'"),
        ("/api/runs/1/metrics/loss?since_step=9223372036854775808", 400, "64-bit"),
        ("/api/compare?runs=1,x", 400, "whole numbers"),
        ("/api/compare", 400, "?runs=1,2,3"),
        ("/api/compare?runs=1,999999", 404, "999999"),
        ("/api/searches/nope", 404, "search:nope"),
        ("/api/searches/s?mode=best", 400, "'max' or 'min'"),
        ("/api/nothing", 404, "no such page"),
    ],
)
def test_json_errors_are_clear(api: tuple[Any, TestClient], path: str, status: int, text: str):
    _, c = api
    response = c.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert text in response.json()["error"] and response.json()["status"] == status
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/projects/nope", 404),
        ("/runs/999999", 404),
        ("/compare?runs=a", 400),
        ("/searches/nope", 404),
        ("/no/such/page", 404),
    ],
)
def test_html_errors_are_pages(api: tuple[Any, TestClient], path: str, status: int):
    _, c = api
    response = c.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert "error-message" in response.text and "Traceback" not in response.text


def test_every_page_renders(api: tuple[Any, TestClient]):
    filled, c = api
    run_id = filled.runs["fast"]
    for path in [
        "/",
        "/projects/vision",
        f"/runs/{run_id}",
        f"/compare?runs={run_id},1",
        f"/searches/{KIT.search_id}",
    ]:
        response = c.get(path)
        assert response.status_code == 200, path
        assert "default-src 'none'" in response.headers["content-security-policy"]


def test_user_strings_are_escaped_in_html(api: tuple[Any, TestClient]):
    filled, c = api
    for path in [f"/projects/{KIT.xss_script}", f"/runs/{filled.runs['xss']}"]:
        html = c.get(path).text
        assert KIT.xss_script not in html and KIT.xss_img not in html
        if "projects" in path:
            assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in html


def test_project_without_runs_has_no_activity(sqlite_url: str):
    SQLLogger(
        {"experiment": {"project_name": "p", "sql": {"db_path": sqlite_url}}}
    ).get_or_create_project()
    body = client(sqlite_url).get("/api/projects").json()
    assert [(p["name"], p["run_count"], p["last_activity"]) for p in body["projects"]] == [
        ("p", 0, None)
    ]


def test_tables_without_projects_say_so(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    fill_empty_schema(url)
    assert client(url).get("/api/projects").json()["projects"] == []
    assert client(url).get("/").status_code == 200  # the page says so (see the browser tests)


def fill_empty_schema(url: str) -> None:
    from sqlalchemy import create_engine

    from ato.tracker.storage.models import Base

    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()


def test_not_a_tracker_database_is_a_409_everywhere(tmp_path: Path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    c = client(str(path))
    api_response = c.get("/api/projects")
    assert api_response.status_code == 409
    assert "not an ato tracker database" in api_response.json()["error"]
    page = c.get("/")
    assert page.status_code == 409 and "not an ato tracker database" in page.text


OLD_DATABASES = Path(__file__).parents[2] / "ato-tracker" / "tests" / "data"


@pytest.mark.parametrize(
    ("fixture", "revision"), [("ato-2.2.1-sqlite.db", "0001"), ("ato-3.0.0-sqlite.db", "0002")]
)
def test_an_older_schema_says_to_upgrade_and_shows_once_upgraded(
    tmp_path: Path, fixture: str, revision: str
):
    path = tmp_path / fixture
    shutil.copy(OLD_DATABASES / fixture, path)
    c = client(str(path))
    api_response = c.get("/api/projects")
    assert api_response.status_code == 409
    error = api_response.json()["error"]
    assert f"schema revision {revision}" in error and "ato db upgrade --db" in error
    page = c.get("/")
    assert page.status_code == 409 and "ato db upgrade" in page.text
    migrate.upgrade(f"sqlite:///{path}")  # while the dashboard runs
    dispose_engines()
    projects = c.get("/api/projects").json()["projects"]
    assert projects and all(p["run_count"] >= 1 for p in projects)
    runs = c.get(f"/api/projects/{projects[0]['name']}/runs").json()
    assert runs["count"] == projects[0]["run_count"] and runs["metric_keys"]


def test_missing_sqlite_file_is_reported_and_not_created(tmp_path: Path):
    path = tmp_path / "missing.db"
    response = client(str(path)).get("/api/projects")
    assert response.status_code == 409 and "does not exist" in response.json()["error"]
    assert not path.exists()


def test_garbage_file_is_reported(tmp_path: Path):
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a database" * 100)
    response = client(str(path)).get("/api/projects")
    assert response.status_code == 409 and "cannot read" in response.json()["error"]


def test_bad_urls_are_refused_up_front():
    with pytest.raises(DatabaseUnavailableError, match="in-memory"):
        create_app("sqlite://")
    with pytest.raises(DatabaseUnavailableError, match="not a database URL"):
        create_app("postgresql://u:pw@host:notaport/db")
    with pytest.raises(DatabaseUnavailableError, match="cannot open nope://u:\\*\\*\\*@h/db"):
        create_app("nope://u:secret@h/db")


def test_password_in_url_is_never_shown(sqlite_url: str, monkeypatch: Any):
    from ato.dashboard.database import ReadOnlyDatabase

    db = ReadOnlyDatabase("postgresql+psycopg://user:s3cret-pw@127.0.0.1:1/db")
    assert "s3cret-pw" not in db.display_url and "***" in db.display_url
    SQLLogger({"experiment": {"project_name": "p", "sql": {"db_path": sqlite_url}}}).run(
        config={"remote": "postgresql://u:s3cret-pw@host/db"}
    )
    c = client(sqlite_url)
    assert "s3cret-pw" not in c.get("/api/runs/1").text
    assert "s3cret-pw" not in c.get("/api/projects/p/runs").text


def test_foreign_host_header_is_refused(api: tuple[Any, TestClient]):
    filled, _ = api
    c = TestClient(create_app(filled.url), base_url="http://evil.example")
    assert c.get("/api/projects").status_code == 400


def test_static_files_are_served_from_the_package(api: tuple[Any, TestClient]):
    _, c = api
    script = c.get("/static/vendor/uPlot.iife.min.js")
    assert script.status_code == 200 and "uPlot (v1.6.32)" in script.text[:200]
    assert c.get("/static/../database.py").status_code == 404


def test_metric_keys_with_slashes_and_spaces(sqlite_url: str):
    logger = SQLLogger({"experiment": {"project_name": "p/q", "sql": {"db_path": sqlite_url}}})
    run_id = logger.run()
    for step, value in enumerate([0.5, 0.25]):
        logger.log_metric("val/top 1%", value, step)
    logger.finish()
    c = client(sqlite_url)
    body = c.get(f"/api/runs/{run_id}/metrics/val%2Ftop%201%25").json()
    assert body["key"] == "val/top 1%" and body["value"] == [0.5, 0.25]
    assert c.get("/api/projects/p%2Fq/runs").json()["project"] == "p/q"
    assert c.get("/projects/p%2Fq").status_code == 200


def test_series_json_shows_non_finite_values_as_gaps_and_counts_them(tmp_path: Any):
    url = f"sqlite:///{tmp_path / 'gaps.db'}"
    values = [0.5, float("nan"), 0.25, float("inf"), float("-inf"), 0.125]
    logger = SQLLogger({"experiment": {"project_name": "p", "sql": {"db_path": url}}})
    run_id = logger.run()
    for step, value in enumerate(values):
        logger.log_metric("loss", value, step)
    logger.finish()
    dispose_engines()
    c = client(url)
    whole = c.get(f"/api/runs/{run_id}/metrics/loss").json()
    assert whole["value"] == [0.5, None, 0.25, None, None, 0.125]
    assert whole["non_finite"] == {"nan": 1, "inf": 1, "-inf": 1}
    small = c.get(f"/api/runs/{run_id}/metrics/loss", params={"max_points": 4}).json()
    assert small["downsampled"] and small["total"] == 6
    assert small["non_finite"]["nan"] == 1  # the bucket's NaN is kept as a gap
    summary = c.get(f"/api/runs/{run_id}").json()["metrics"]["loss"]
    assert summary == {"last": 0.125, "last_step": 5, "min": "-inf", "max": "inf", "count": 6}


def test_run_detail_has_the_provenance_with_passwords_hidden(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
):
    url = f"sqlite:///{tmp_path / 'prov.db'}"
    argv = ["train.py", "--db", "postgresql://ann:s3cret@db.example/ml", "lr=0.1"]
    monkeypatch.setattr("sys.argv", argv)
    logger = SQLLogger({"experiment": {"project_name": "p", "sql": {"db_path": url}}})
    run_id = logger.run()
    logger.finish()
    dispose_engines()
    body = client(url).get(f"/api/runs/{run_id}").json()
    provenance = body["provenance"]
    assert provenance["argv"][0] == "train.py" and provenance["argv"][3] == "lr=0.1"
    assert "s3cret" not in str(provenance) and "ann:" in provenance["argv"][2]
    assert provenance["cwd"] and provenance["python"]["version"]


@pytest.mark.parametrize(
    "steps",
    [
        [*range(9, 27), 3],  # a search appended its value at step=rung after the epochs
        list(range(20, 0, -1)),  # logged backwards
        [0, 5, 1, 6, 2, 7, 3, 8, 4, 9, 2, 12, 10, 11],  # interleaved, step 2 twice
    ],
    ids=["appended-early-step", "reversed", "interleaved"],
)
def test_series_are_ordered_by_step_then_time(db_url: str, steps: list[int]):
    logger = SQLLogger({"experiment": {"project_name": "p", "sql": {"db_path": db_url}}})
    run_id = logger.run()
    for n, step in enumerate(steps):
        logger.log_metric("val/acc", n / 100, step)
    logger.finish()
    dispose_engines()
    c = client(db_url)
    by_step = sorted(range(len(steps)), key=lambda n: (steps[n], n))  # ties: logged first
    whole = c.get(f"/api/runs/{run_id}/metrics/val%2Facc").json()
    assert whole["step"] == [steps[n] for n in by_step]
    assert whole["value"] == [n / 100 for n in by_step]
    small = c.get(f"/api/runs/{run_id}/metrics/val%2Facc", params={"max_points": 6}).json()
    assert small["downsampled"] and small["step"] == sorted(small["step"])
    assert (small["step"][0], small["step"][-1]) == (min(steps), max(steps))


# Layouts of (trial, bracket, rung, budget, value, status) and the answer's (trial, bracket, rung).
_LAYOUTS = {
    "failed-top": (
        [
            (0, 0, 0, 3, 0.7, "completed"),
            (1, 0, 0, 3, 0.8, "completed"),
            (0, 0, 1, 9, 0.99, "failed"),
            (1, 0, 1, 9, 0.985, "killed"),
            (2, 1, 0, 9, float("nan"), "completed"),
            (3, 1, 0, 9, 0.6, "completed"),
        ],
        (3, 1, 0),
    ),
    "ties": (
        [
            (5, 0, 0, 3, 0.9, "completed"),
            (2, 1, 0, 3, 0.9, "completed"),
            (7, 1, 0, 3, 0.4, "completed"),
        ],
        (2, 1, 0),
    ),
    "asha-failed-top-rung": (
        [
            (0, 0, 0, 1, 0.5, "completed"),
            (1, 0, 0, 1, 0.9, "completed"),
            (1, 0, 1, 3, 0.8, "completed"),
            (0, 0, 1, 3, 0.6, "completed"),
            (1, 0, 2, 9, None, "failed"),
        ],
        (1, 0, 1),
    ),
}


@pytest.mark.parametrize("layout", ["hyperband", *_LAYOUTS])
def test_search_answer_is_the_best_completed_at_the_largest_budget(db_url: str, layout: str):
    evaluations, where = (
        (KIT.hyperband, KIT.hyperband_answer) if layout == "hyperband" else _LAYOUTS[layout]
    )
    ids = KIT.fill_search(db_url, evaluations)
    body = client(db_url).get("/api/searches/hb").json()
    assert body["metric"] == "search/val/acc" and body["mode"] == "max" and body["contract"]
    assert body["best"]["run_id"] == ids[where]
    assert (body["best"]["bracket"], body["best"]["round"]) == where[1:]
    groups = [(r["bracket"], r["round"], r["budget"]) for r in body["rounds"]]
    assert groups == sorted(groups) and len(groups) == len({(e[1], e[2]) for e in evaluations})
    assert body["budgets"] == sorted({float(e[3]) for e in evaluations})


def test_search_page_groups_hyperband_by_bracket_and_budget_and_shows_the_final_tag(db_url: str):
    ids = KIT.fill_search(db_url, KIT.hyperband)
    answer = ids[KIT.hyperband_answer]
    SQLLogger({"experiment": {"project_name": "digits", "sql": {"db_path": db_url}}}).add_tags(
        ["final"], run_id=answer
    )
    body = client(db_url).get("/api/searches/hb").json()
    assert body["brackets"] == [0, 1, 2, 3] and body["best"]["final"]
    by_group = {(r["bracket"], r["budget"]): len(r["trials"]) for r in body["rounds"]}
    assert by_group == {
        (0, 1.0): 9, (0, 3.0): 3, (0, 9.0): 1, (0, 27.0): 1,
        (1, 3.0): 3, (1, 9.0): 1, (1, 27.0): 1,
        (2, 9.0): 2, (2, 27.0): 2,
        (3, 27.0): 1,
    }  # fmt: skip
    own = client(db_url).get("/api/searches/hb", params={"metric": "search/val/acc"}).json()
    assert own["metric"] == "search/val/acc" and own["best"]["run_id"] == answer


@pytest.mark.parametrize("query", ["metric=val/acc", "metric=val%2Facc", "metric=val%2facc"])
def test_search_metric_menu_key_is_honoured(db_url: str, query: str):
    """A key of ``metric_keys`` other than the search's own is ranked by as logged (here the
    user's ``val/acc``, 0.999 in every trial: the tie goes to the earliest trial at budget 27)."""
    ids = KIT.fill_search(db_url, KIT.hyperband)
    body = client(db_url).get(f"/api/searches/hb?{query}").json()
    assert body["metric_keys"] == ["search/val/acc", "val/acc"]
    assert (body["metric"], body["mode"]) == ("val/acc", "max")
    done = [
        (t, b, r, budget) for t, b, r, budget, _, status in KIT.hyperband if status == "completed"
    ]
    at_27 = [(t, b, r) for t, b, r, budget in done if budget == 27]
    first = min(at_27, key=lambda where: (where[0], ids[where]))
    assert body["best"]["run_id"] == ids[first] != ids[KIT.hyperband_answer]
    assert body["best"]["metric"] == 0.999
    for unknown in ("val/loss", "val", "search/val", "VAL/ACC", "val%2Facc%20"):
        response = client(db_url).get(f"/api/searches/hb?metric={unknown}")
        assert response.status_code == 404
        assert "no trial of search hb logged a metric" in response.json()["error"]


@pytest.mark.parametrize(
    "layout",
    [
        [(0, 0, 0, 1, None, "failed"), (1, 0, 0, 1, None, "killed")],
        [(0, 0, 0, 1, float("nan"), "completed"), (1, 0, 0, 1, 0.9, "failed")],
    ],
    ids=["failed-killed", "nan-failed"],
)
def test_search_without_a_completed_evaluation_has_no_answer(db_url: str, layout: list[Any]):
    KIT.fill_search(db_url, layout)
    body = client(db_url).get("/api/searches/hb").json()
    assert body["best"] is None
    assert "no evaluation completed with a finite value of 'search/val/acc'" in body["no_answer"]
