"""``ato runs artifacts RUN`` and ``ato runs get RUN NAME``: listing, fetching with the hash
checked, and the errors (unknown name, reference only, damaged file, existing output)."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import pytest

from ato.tracker import SQLLogger
from ato.tracker.cli import main
from ato.tracker.cli.artifacts import format_size
from ato.tracker.storage.artifact_store import object_path


def _ato(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), stdout=out), out.getvalue()


@pytest.fixture
def recorded(db_url: str, tmp_path: Path) -> tuple[str, str, int]:
    store = str(tmp_path / "store")
    source = tmp_path / "model.pt"
    source.write_bytes(b"weights-v1")
    logger = SQLLogger.from_url(db_url, "p", artifact_root=store)
    with logger.start_run() as run:
        logger.log_artifact(source, "model", name="ckpt/model.pt")
        logger.log_artifact(source, "model", name="ref.pt", copy=False)
    return db_url, store, run.id


def test_artifacts_lists_name_size_hash_and_kind(recorded, capsys):
    db, store, run_id = recorded
    code, text = _ato("runs", "artifacts", str(run_id), "--db", db, "--artifact-root", store)
    digest = hashlib.sha256(b"weights-v1").hexdigest()
    assert code == 0
    assert "ckpt/model.pt" in text and digest[:12] in text and "stored" in text
    assert "reference:" in text and "10 B" in text
    code, text = _ato("runs", "artifacts", str(run_id), "--db", db, "--json")
    rows = json.loads(text)
    assert [(r["name"], r["stored"], r["size"], r["sha256"]) for r in rows] == [
        ("ckpt/model.pt", True, 10, digest),
        ("ref.pt", False, 10, digest),
    ]


def test_get_copies_the_stored_file_out(recorded, tmp_path: Path, capsys):
    db, store, run_id = recorded
    target = tmp_path / "out"
    target.mkdir()
    argv = ["runs", "get", str(run_id), "ckpt/model.pt", "--db", db, "--artifact-root", store]
    code, text = _ato(*argv, "-o", str(target))
    assert code == 0 and "sha256 verified" in text
    assert (target / "model.pt").read_bytes() == b"weights-v1"
    code, _ = _ato(*argv, "-o", str(target))
    assert code == 2 and "already exists" in capsys.readouterr().err
    assert _ato(*argv, "-o", str(target), "--force")[0] == 0


def test_get_errors_are_clear(recorded, tmp_path: Path, capsys):
    db, store, run_id = recorded
    base = ["--db", db, "--artifact-root", store, "-o", str(tmp_path / "x")]
    assert _ato("runs", "get", str(run_id), "nope.pt", *base)[0] == 1
    assert "no artifact named 'nope.pt'" in capsys.readouterr().err
    assert _ato("runs", "get", str(run_id), "ref.pt", *base)[0] == 1
    assert "is a reference, not stored" in capsys.readouterr().err
    stored = object_path(Path(store), hashlib.sha256(b"weights-v1").hexdigest())
    os.chmod(stored, 0o644)
    stored.write_bytes(b"tampered!!")
    assert _ato("runs", "get", str(run_id), "ckpt/model.pt", *base)[0] == 2
    assert "was changed or damaged" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert _ato("runs", "artifacts", "999", "--db", db)[0] == 1


def test_sizes_read_well():
    assert [format_size(n) for n in (None, 0, 1023, 1536, 5 * 2**30)] == [
        "?",
        "0 B",
        "1023 B",
        "1.5 KiB",
        "5.0 GiB",
    ]
