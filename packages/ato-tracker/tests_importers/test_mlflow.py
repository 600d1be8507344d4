"""``from_mlflow`` / ``ato import mlflow`` on stores written with ``mlflow.log_*``."""

from __future__ import annotations

import io
import math
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from stored import points, row_counts, stored_runs

from ato.tracker.cli import main
from ato.tracker.importers import ImportSourceError, from_mlflow

PARAMS = {"optim.lr": 0.001, "optim/wd": 1e-4, "layers": 3, "act": "gelu", "aug": True}


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
