"""Artifacts on the run page and their download route: sizes and hashes listed, stored files
served read-only as attachments, and nothing outside the artifact store ever served (``..``,
absolute names, encoded separators, symbolic links planted in the store), on SQLite,
PostgreSQL and MariaDB."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ato.dashboard import create_app
from ato.tracker import SQLLogger
from ato.tracker.storage.artifact_store import object_path

BASE = "http://127.0.0.1"
WEIGHTS = b"\x00weights\xff" * 100


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> tuple[TestClient, int, Path]:
    store = tmp_path / "store"
    (tmp_path / "model.pt").write_bytes(WEIGHTS)
    (tmp_path / "ckpt" / "sub").mkdir(parents=True)
    (tmp_path / "ckpt" / "sub" / "a b.txt").write_bytes(b"spaced")
    logger = SQLLogger.from_url(db_url, "p", artifact_root=store)
    with logger.start_run() as run:
        logger.log_artifact(tmp_path / "model.pt", "model")
        logger.log_artifact(tmp_path / "ckpt", "checkpoint")
        logger.log_artifact(tmp_path / "model.pt", "model", name="ref.pt", copy=False)
    app = create_app(db_url, artifact_root=str(store))
    return TestClient(app, base_url=BASE, raise_server_exceptions=False), run.id, store


def test_the_run_lists_artifacts_with_size_hash_and_download(served: Any):
    client, run_id, _ = served
    artifacts = client.get(f"/api/runs/{run_id}").json()["artifacts"]
    digest = hashlib.sha256(WEIGHTS).hexdigest()
    assert [(a["name"], a["size"], a["stored"]) for a in artifacts] == [
        ("model.pt", len(WEIGHTS), True),
        ("ckpt/sub/a b.txt", 6, True),
        ("ref.pt", len(WEIGHTS), False),
    ]
    assert artifacts[0]["sha256"] == digest == artifacts[2]["sha256"]
    assert artifacts[0]["download"] == f"/api/runs/{run_id}/artifacts/model.pt"
    assert artifacts[1]["download"] == f"/api/runs/{run_id}/artifacts/ckpt/sub/a%20b.txt"
    assert artifacts[2]["download"] is None


def test_a_stored_file_downloads_as_an_attachment(served: Any):
    client, run_id, _ = served
    response = client.get(f"/api/runs/{run_id}/artifacts/model.pt")
    assert response.status_code == 200 and response.content == WEIGHTS
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert 'filename="model.pt"' in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"
    nested = client.get(f"/api/runs/{run_id}/artifacts/ckpt/sub/a%20b.txt")
    assert nested.status_code == 200 and nested.content == b"spaced"
    assert client.post(f"/api/runs/{run_id}/artifacts/model.pt").status_code == 405


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("..%2F..%2F..%2Fetc%2Fpasswd", 400),
        ("%2E%2E/%2E%2E/etc/passwd", 400),
        ("%2Fetc%2Fpasswd", 400),
        ("/etc/passwd", 400),
        ("ckpt/%2E%2E/model.pt", 400),  # a literal ../ is resolved by the client
        ("ckpt%5C..%5Cmodel.pt", 400),
        ("model.pt%00.txt", 400),
        ("ref.pt", 404),
        ("nothing.pt", 404),
    ],
)
def test_nothing_but_stored_files_is_served(served: Any, path: str, status: int):
    client, run_id, _ = served
    response = client.get(f"/api/runs/{run_id}/artifacts/{path}")
    assert response.status_code == status, response.text
    assert "error" in response.json() and b"root:" not in response.content


def test_a_symlink_planted_in_the_store_is_not_followed_out(served: Any, tmp_path: Path):
    client, run_id, store = served
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"secret")
    target = object_path(store, hashlib.sha256(WEIGHTS).hexdigest())
    target.unlink()
    target.symlink_to(secret)
    response = client.get(f"/api/runs/{run_id}/artifacts/model.pt")
    assert response.status_code == 404 and b"secret" not in response.content


def test_other_runs_and_unknown_runs_serve_nothing(served: Any):
    client, run_id, _ = served
    assert client.get(f"/api/runs/{run_id + 1}/artifacts/model.pt").status_code == 404
    assert client.get("/api/runs/abc/artifacts/model.pt").status_code in (400, 404)
