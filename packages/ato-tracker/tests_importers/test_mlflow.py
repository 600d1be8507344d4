"""``from_mlflow`` / ``ato import mlflow`` on stores written with ``mlflow.log_*``."""

from __future__ import annotations

import io
import math
import os
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import mlflow
import pytest
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from stored import points, row_counts, stored_runs

from ato.tracker.cli import main
from ato.tracker.importers import ImportSourceError, from_mlflow, mlflow_store
from ato.tracker.importers.target import delete_runs
from ato.tracker.storage.database import get_engine

PARAMS = {"optim.lr": 0.001, "optim/wd": 1e-4, "layers": 3, "act": "gelu", "aug": True}


@pytest.fixture(autouse=True, scope="module")
def _mlflow_environment() -> Iterator[None]:
    """``mlflow.set_tracking_uri``/``set_experiment`` set ``MLFLOW_*`` variables, which child
    processes of later test modules (the docs page examples) would inherit: put them back."""
    before = {k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")}
    yield
    for key in [k for k in os.environ if k.startswith("MLFLOW_")]:
        del os.environ[key]
    os.environ.update(before)


def _experiment(client: MlflowClient, name: str, tmp: Path) -> None:
    """Make the experiment with its artifacts under ``tmp`` (not ./mlruns) and select it."""
    if client.get_experiment_by_name(name) is None:
        client.create_experiment(name, artifact_location=(tmp / "artifacts" / name).as_uri())
    mlflow.set_experiment(name)


def _log_runs(uri: str, tmp: Path) -> None:
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    _experiment(client, "vision", tmp)
    with mlflow.start_run(run_name="baseline"):
        mlflow.log_params(PARAMS)
        mlflow.set_tag("team", "cv")
        for step in range(50):
            mlflow.log_metrics({"loss": 1 / (step + 1), "acc": step / 50}, step=step * 2)
        mlflow.log_metric("edge", float("nan"), step=0)
        mlflow.log_metric("edge", float("inf"), step=1)
        (tmp / "model.txt").write_text("weights")
        mlflow.log_artifact(str(tmp / "model.txt"), artifact_path="ckpt")
    with mlflow.start_run(run_name="diverged"):
        mlflow.log_param("optim.lr", 10)
        mlflow.log_metric("loss", 1e30)
        mlflow.end_run("FAILED")
    _experiment(client, "nlp", tmp)
    with mlflow.start_run():
        mlflow.log_metric("loss", 2.0, step=7)
        mlflow.end_run("KILLED")
    client.create_run(client.get_experiment_by_name("nlp").experiment_id)  # left running


@pytest.fixture(scope="module")
def mlruns(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A local mlruns folder with finished, failed, killed and running runs."""
    tmp = tmp_path_factory.mktemp("mlflow")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        _log_runs((tmp / "mlruns").as_uri(), tmp)
    finally:
        del os.environ["MLFLOW_ALLOW_FILE_STORE"]
    return str(tmp / "mlruns")


def _source_runs(uri: str) -> list[Any]:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        client = MlflowClient(Path(uri).as_uri() if "://" not in uri else uri)
        runs = [
            r for e in client.search_experiments() for r in client.search_runs([e.experiment_id])
        ]
        history = {
            r.info.run_id: [
                (k, m.value, m.step, m.timestamp)
                for k in sorted(r.data.metrics)
                for m in client.get_metric_history(r.info.run_id, k)
            ]
            for r in runs
        }
    finally:
        del os.environ["MLFLOW_ALLOW_FILE_STORE"]
    return [(r, history[r.info.run_id]) for r in runs]


def _ms(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, timezone.utc)


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _check_round_trip(uri: str, db_url: str) -> None:
    stored = {
        r.provenance["import"]["id"]: r for p in ("vision", "nlp") for r in stored_runs(db_url, p)
    }
    finished = [(r, h) for r, h in _source_runs(uri) if r.info.status != "RUNNING"]
    assert len(stored) == len(finished) == 3
    for run, history in finished:
        mine = stored[run.info.run_id]
        expected = [(k, v, s, _ms(t)) for k, v, s, t in history]
        got = points(mine)
        assert [(k, s, t) for k, _, s, t in got] == [(k, s, t) for k, _, s, t in expected]
        assert all(_same(a[1], b[1]) for a, b in zip(got, expected, strict=True))
        assert (mine.start_time, mine.end_time) == (
            _ms(run.info.start_time),
            _ms(run.info.end_time),
        )
        assert mine.status == {"FINISHED": "completed", "FAILED": "failed"}.get(
            run.info.status, "killed"
        )
        assert mine.provenance["import"]["name"] == run.info.run_name


def test_every_value_step_and_time_round_trips(db_url: str, mlruns: str) -> None:
    report = from_mlflow(mlruns, db_url)
    assert (report.runs, report.artifacts, len(report.skipped)) == (3, 1, 1)
    assert "is running, not finished" in report.skipped[0][1]
    _check_round_trip(mlruns, db_url)
    (baseline,) = [r for r in stored_runs(db_url, "vision") if r.status == "completed"]
    assert baseline.config.to_dict() == {
        "optim": {"lr": 0.001, "wd": 0.0001},
        "layers": 3,
        "act": "gelu",
        "aug": True,
    }
    assert baseline.tags == ["team:cv"]
    (artifact,) = baseline.artifacts
    assert artifact.path.endswith("/ckpt/model.txt") and artifact.metadata["size"] == 7
    assert len(artifact.metadata["sha256"]) == 64


def test_importing_again_imports_nothing_twice(db_url: str, mlruns: str) -> None:
    from_mlflow(mlruns, db_url, experiments=["nlp"])
    first = row_counts(db_url)
    again = from_mlflow(mlruns, db_url)
    assert (again.runs, row_counts(db_url)[1]) == (2, first[1] + 2)
    final = row_counts(db_url)
    assert from_mlflow(mlruns, db_url).runs == 0
    assert row_counts(db_url) == final


def test_an_mlflow_sqlite_store_round_trips(mlruns: str, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    _log_runs(store, tmp_path)
    db = f"sqlite:///{tmp_path / 'tracker.db'}"
    assert from_mlflow(store, db).runs == 3
    _check_round_trip(store, db)
    via_client = f"sqlite:///{tmp_path / 'via-client.db'}"
    args = ["import", "mlflow", "--from", store, "--db", via_client, "--via-client"]
    assert main(args, stdout=io.StringIO()) == 0
    _check_round_trip(store, via_client)


def _not_mlflow(tmp: Path) -> str:
    (tmp / "notes.txt").write_text("hello")
    (tmp / "sub").mkdir()
    return str(tmp)


@pytest.mark.parametrize(
    ("make_uri", "experiments", "message"),
    [
        (lambda tmp, ml: str(tmp / "missing"), None, "is not a directory"),
        (lambda tmp, ml: _not_mlflow(tmp), None, "is not an MLflow store"),
        (lambda tmp, ml: f"sqlite:///{tmp / 'none.db'}", None, "does not exist"),
        (lambda tmp, ml: ml, ["vision", "audio"], "no MLflow experiment named 'audio'"),
        (lambda tmp, ml: "bogus-scheme://host/x", None, "cannot read the MLflow store"),
    ],
)
def test_a_bad_source_gives_one_error_and_leaves_the_database_unchanged(
    db_url: str, mlruns: str, tmp_path: Path, make_uri: Any, experiments: Any, message: str
) -> None:
    from_mlflow(mlruns, db_url, experiments=["nlp"])
    counts = row_counts(db_url)
    with pytest.raises(ImportSourceError, match=message):
        from_mlflow(make_uri(tmp_path, mlruns), db_url, experiments=experiments)
    assert row_counts(db_url) == counts


def test_cli_imports_the_named_experiments(mlruns: str, tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    out = io.StringIO()
    args = ["import", "mlflow", "--from", mlruns, "--db", db, "--experiment", "vision"]
    assert main(args, stdout=out) == 0
    assert out.getvalue() == "mlflow: 2 runs, 103 metric values, 1 artifacts imported; 0 skipped\n"
    assert main(["import", "mlflow", "--from", str(tmp_path / "x"), "--db", db]) == 2


def _log_edge_cases(uri: str, tmp: Path) -> None:
    """Runs the direct reader must read as MLflow's client does: ties in time, ±inf and NaN,
    a deleted run, a tag without value, a history longer than a read batch, keys a locale
    would sort otherwise than Python."""
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    _experiment(client, "edges", tmp)
    with mlflow.start_run(run_name="ties") as run:
        mlflow.set_tags({"empty": "", "note": "a/b c"})
        mlflow.log_params({"a.b": "1", "a.c": "[1, 2]", "path/x": "None"})
        same_ms = 1_700_000_000_000
        client.log_batch(
            run.info.run_id,
            metrics=[
                Metric("tie", value, same_ms, step)
                for step, value in [(2, 1.0), (1, 3.0), (1, -2.0), (0, float("-inf"))]
            ]
            + [Metric("nan", float("nan"), same_ms + i, i) for i in range(3)]
            + [Metric("long", i / 7, same_ms + i, i) for i in range(40)]
            + [Metric(key, 1.0, same_ms, 0) for key in ("Big", "_under", "Ä", "a b")],
        )
    with mlflow.start_run(run_name="gone") as run:
        mlflow.log_metric("loss", 0.5, step=1)
    client.delete_run(run.info.run_id)


def _import_both_ways(
    store: str, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Any], list[Any]]:
    """What the client path stores and what the direct path stores, from one MLflow store
    into ``db_url`` (the client's import removed again before the direct one)."""
    experiments = ("vision", "nlp", "edges")

    def snapshot() -> list[Any]:
        return sorted(
            (
                r.provenance["import"]["id"],
                r.status,
                r.start_time,
                r.end_time,
                r.tags,
                r.config.to_dict(),
                dict(r.provenance["import"]),
                [(k, repr(v), s, t) for k, v, s, t in points(r)],
                [(a.path, a.data_type, a.metadata) for a in r.artifacts],
            )
            for p in experiments
            for r in stored_runs(db_url, p)
        )

    client_report = from_mlflow(store, db_url, via_client=True)
    by_client = snapshot()
    delete_runs(get_engine(db_url), client_report.run_ids)
    monkeypatch.setattr(mlflow_store, "_client", None)  # the direct path makes no client
    direct_report = from_mlflow(store, db_url)
    assert (direct_report.runs, direct_report.metrics, direct_report.artifacts) == (
        client_report.runs,
        client_report.metrics,
        client_report.artifacts,
    )
    return by_client, snapshot()


def test_the_direct_reader_stores_what_the_client_path_stores(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    _log_runs(store, tmp_path)
    _log_edge_cases(store, tmp_path)
    monkeypatch.setattr(mlflow_store, "BATCH_SIZE", 7)  # histories span several read batches
    monkeypatch.setattr(mlflow_store, "PAGE", 2)  # runs span several pages
    by_client, direct = _import_both_ways(store, db_url, monkeypatch)
    assert len(direct) == 5 and direct == by_client
    edges = {run[6]["name"]: run for run in direct}
    assert [p[:3] for p in edges["ties"][7] if p[0] == "tie"] == [
        ("tie", "-1.7976931348623157e+308", 0),  # MLflow stores -inf as the lowest float
        ("tie", "-2.0", 1),
        ("tie", "3.0", 1),
        ("tie", "1.0", 2),
    ]
    assert edges["ties"][4] == ["empty", "note:a/b c"]


def test_an_mlflow_postgresql_store_is_read_directly_as_the_client_reads_it(
    postgres_mlflow_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _log_runs(postgres_mlflow_uri, tmp_path)
    _log_edge_cases(postgres_mlflow_uri, tmp_path)
    monkeypatch.setattr(mlflow_store, "BATCH_SIZE", 7)  # several fetches of a server-side cursor
    by_client, direct = _import_both_ways(
        postgres_mlflow_uri, f"sqlite:///{tmp_path / 't.db'}", monkeypatch
    )
    assert len(direct) == 5 and direct == by_client


def test_an_mlflow_database_at_an_unknown_revision_is_refused_unchanged(
    db_url: str, tmp_path: Path
) -> None:
    store = tmp_path / "mlflow.db"
    _log_runs(f"sqlite:///{store}", tmp_path)
    with sqlite3.connect(store) as conn:
        conn.execute("update alembic_version set version_num = 'f00000000000'")
    counts = row_counts(db_url)
    with pytest.raises(ImportSourceError, match=r"revision is f00000000000.*--via-client"):
        from_mlflow(f"sqlite:///{store}", db_url)
    other = tmp_path / "other.db"
    sqlite3.connect(other).close()
    with pytest.raises(ImportSourceError, match="no alembic_version table"):
        from_mlflow(f"sqlite:///{other}", db_url)
    assert row_counts(db_url) == counts
