"""The artifact store: files and directories logged with size and SHA-256, copied into a
content-addressed store or kept as references; bad input raises before anything is written;
the run directory. On SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import pytest

from ato.tracker import ArtifactNotFoundError, ArtifactPathError, SQLFinder, SQLLogger
from ato.tracker.storage.artifact_store import ARTIFACT_ROOT_ENV, object_path
from ato.tracker.write import artifacts as artifacts_module
from ato.tracker.write.run_dir import RUN_ROOT_ENV


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def logger(db_url: str, store: Path) -> SQLLogger:
    made = SQLLogger.from_url(db_url, "p", artifact_root=store)
    made.run()
    return made


def _finder(db_url: str, store: Path) -> SQLFinder:
    return SQLFinder(db_url, artifact_root=store)


def test_a_file_is_stored_by_its_hash_with_size_and_name(
    logger: SQLLogger, db_url: str, store: Path, tmp_path: Path
):
    data = b"weights" * 1000
    source = tmp_path / "model.pt"
    source.write_bytes(data)
    artifact_id = logger.log_artifact(source, "model", {"epoch": 3})
    source.unlink()  # the original is gone: the stored copy survives
    run_id = logger.get_current_run_id()
    assert run_id is not None
    finder = _finder(db_url, store)
    (artifact,) = finder.get_artifacts(run_id)
    assert (artifact.id, artifact.name, artifact.data_type) == (artifact_id, "model.pt", "model")
    assert (artifact.size, artifact.sha256, artifact.stored) == (len(data), _sha(data), True)
    assert artifact.metadata == {"epoch": 3}
    stored = finder.artifact_file(run_id, "model.pt")
    assert stored == object_path(store, _sha(data)).resolve()
    assert stored.read_bytes() == data
    assert stored.parent.name == _sha(data)[:2]


def test_a_directory_is_stored_as_its_files_with_relative_names(
    logger: SQLLogger, db_url: str, store: Path, tmp_path: Path
):
    top = tmp_path / "ckpt"
    (top / "sub").mkdir(parents=True)
    (top / "a.txt").write_bytes(b"a")
    (top / "sub" / "b.bin").write_bytes(b"bb")
    (top / "same.txt").write_bytes(b"a")  # identical content: one object
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"s")
    (top / "link").symlink_to(outside, target_is_directory=True)  # not followed
    logger.log_artifact(top, "checkpoint", name="epoch_1")
    run_id = logger.get_current_run_id()
    assert run_id is not None
    found = _finder(db_url, store).get_artifacts(run_id)
    assert [(a.name, a.size, a.stored) for a in found] == [
        ("epoch_1/a.txt", 1, True),
        ("epoch_1/same.txt", 1, True),
        ("epoch_1/sub/b.bin", 2, True),
    ]
    assert len(list((store / "objects").rglob("*"))) == 4  # 2 prefix dirs + 2 objects


def test_copy_false_keeps_a_reference_with_size_and_hash(
    logger: SQLLogger, db_url: str, store: Path, tmp_path: Path
):
    big = tmp_path / "big.ckpt"
    big.write_bytes(b"x" * 5000)
    logger.log_artifact(big, "checkpoint", copy=False)
    logger.log_artifact("s3://bucket/elsewhere.ckpt", "checkpoint", copy=False)
    run_id = logger.get_current_run_id()
    assert run_id is not None
    finder = _finder(db_url, store)
    local, remote = finder.get_artifacts(run_id)
    assert (local.path, local.size, local.sha256, local.stored) == (
        str(big),
        5000,
        _sha(b"x" * 5000),
        False,
    )
    assert (remote.size, remote.sha256, remote.stored) == (None, None, False)
    assert not store.exists()  # nothing copied
    with pytest.raises(ArtifactNotFoundError, match="is a reference, not stored"):
        finder.artifact_file(run_id, "big.ckpt")


def test_the_seed_form_still_records_a_reference(logger: SQLLogger, db_url: str, store: Path):
    logger.log_artifact(None, "ckpt/missing.pt", "checkpoint", {"epoch": 1})
    run_id = logger.get_current_run_id()
    assert run_id is not None
    logger.log_artifact(run_id, "ckpt/other.pt", data_type="model", metadata={"k": 2})
    first, second = _finder(db_url, store).get_artifacts(run_id)
    assert (first.name, first.path, first.data_type, first.metadata) == (
        "ckpt/missing.pt",
        "ckpt/missing.pt",
        "checkpoint",
        {"epoch": 1},
    )
    assert (second.data_type, second.metadata, second.stored) == ("model", {"k": 2}, False)


def test_the_seed_form_names_an_existing_file_by_its_path_too(
    logger: SQLLogger, db_url: str, store: Path, tmp_path: Path
):
    source = tmp_path / "real.pt"
    source.write_bytes(b"real")
    logger.log_artifact(None, source, "model")
    logger.log_artifact(None, source, "model", copy=True)
    run_id = logger.get_current_run_id()
    assert run_id is not None
    reference, stored = _finder(db_url, store).get_artifacts(run_id)
    assert (reference.name, reference.sha256, reference.stored) == (
        str(source),
        _sha(b"real"),
        False,
    )
    assert (stored.name, stored.stored) == ("real.pt", True)


def test_an_empty_directory_is_refused(logger: SQLLogger, tmp_path: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArtifactPathError, match="without files"):
        logger.log_artifact(tmp_path / "empty")


def test_bad_input_raises_and_loses_nothing_already_logged(
    logger: SQLLogger, db_url: str, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    good = tmp_path / "good.txt"
    good.write_bytes(b"kept")
    logger.log_artifact(good)
    with pytest.raises(ArtifactPathError, match="does not exist"):
        logger.log_artifact(tmp_path / "missing.pt")
    for name in ("../escape.txt", "/etc/passwd", "a/../../b", "a//b", "C:/x"):
        with pytest.raises(ArtifactPathError, match="name"):
            logger.log_artifact(good, name=name)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "ok.txt").write_bytes(b"ok")
    (folder / "locked.txt").write_bytes(b"no")
    real_open = open

    def refusing(file: object, *args: object, **kwargs: object) -> object:
        if str(file).endswith("locked.txt"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(artifacts_module, "open", refusing, raising=False)
    with pytest.raises(ArtifactPathError, match="cannot be read"):
        logger.log_artifact(folder)  # one unreadable file: no row of the directory
    run_id = logger.get_current_run_id()
    assert run_id is not None
    finder = _finder(db_url, store)
    assert [a.name for a in finder.get_artifacts(run_id)] == ["good.txt"]
    assert finder.artifact_file(run_id, "good.txt").read_bytes() == b"kept"


def test_a_directory_of_too_many_files_is_refused_before_any_row(
    logger: SQLLogger, db_url: str, store: Path, tmp_path: Path
):
    many = tmp_path / "many"
    many.mkdir()
    for i in range(12):
        (many / f"{i}.txt").write_bytes(b"")
    with pytest.raises(ArtifactPathError, match="holds more than 10 files; archive it"):
        logger.log_artifact(many, max_files=10)
    run_id = logger.get_current_run_id()
    assert run_id is not None
    assert _finder(db_url, store).get_artifacts(run_id) == []
    assert logger.log_artifact(many, max_files=12) > 0


def test_a_directory_of_100000_files_gets_a_clear_error(sqlite_url: str, tmp_path: Path):
    many = tmp_path / "many"
    many.mkdir()
    for i in range(100_000):
        (many / str(i)).touch()
    logger = SQLLogger.from_url(sqlite_url, "p")
    logger.run()
    with pytest.raises(ArtifactPathError, match="holds more than 10,000 files"):
        logger.log_artifact(many)
    logger.finish()


def test_sqlite_stores_next_to_the_file_by_default(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(ARTIFACT_ROOT_ENV, raising=False)
    db = tmp_path / "exp.db"
    logger = SQLLogger.from_url(str(db), "p")
    assert logger.artifact_root == tmp_path / "exp.db.artifacts"
    source = tmp_path / "f.txt"
    source.write_bytes(b"data")
    with logger.start_run() as run:
        run.log_artifact(source, copy=True)
    finder = SQLFinder(str(db))
    assert finder.artifact_file(run.id, "f.txt").is_relative_to(tmp_path / "exp.db.artifacts")
    monkeypatch.setenv(ARTIFACT_ROOT_ENV, str(tmp_path / "elsewhere"))
    assert SQLLogger.from_url(str(db), "p").artifact_root == tmp_path / "elsewhere"


def test_a_server_without_a_store_records_a_reference_and_warns(
    server_db_url: str, tmp_path: Path, monkeypatch, caplog
):
    monkeypatch.delenv(ARTIFACT_ROOT_ENV, raising=False)
    source = tmp_path / "f.txt"
    source.write_bytes(b"data")
    logger = SQLLogger.from_url(server_db_url, "p")
    assert logger.artifact_root is None
    run_id = logger.run()
    with caplog.at_level(logging.WARNING, logger="ato.tracker"):
        logger.log_artifact(source)
    assert "no artifact store" in caplog.text and ARTIFACT_ROOT_ENV in caplog.text
    finder = SQLFinder(server_db_url)
    (artifact,) = finder.get_artifacts(run_id)
    assert (artifact.stored, artifact.sha256) == (False, _sha(b"data"))
    with pytest.raises(ArtifactNotFoundError):
        finder.artifact_file(run_id, "f.txt")


def test_nothing_outside_the_store_is_returned(
    logger: SQLLogger, db_url: str, store: Path, tmp_path: Path
):
    source = tmp_path / "f.txt"
    source.write_bytes(b"inside")
    logger.log_artifact(source)
    run_id = logger.get_current_run_id()
    assert run_id is not None
    finder = _finder(db_url, store)
    with pytest.raises(ArtifactNotFoundError, match="no artifact named"):
        finder.artifact_file(run_id, "../f.txt")
    target = object_path(store, _sha(b"inside"))
    secret = tmp_path / "secret"
    secret.write_bytes(b"secret")
    os.chmod(target, 0o644)
    target.unlink()
    target.symlink_to(secret)  # a link planted in the store, pointing out of it
    with pytest.raises(ArtifactNotFoundError, match="missing from the artifact store"):
        finder.artifact_file(run_id, "f.txt")


def test_run_dir_is_made_lazily_and_recorded(db_url: str, tmp_path: Path, monkeypatch):
    monkeypatch.setenv(RUN_ROOT_ENV, str(tmp_path / "runs"))
    logger = SQLLogger.from_url(db_url, "team/a b")
    run_id = logger.run()
    assert not (tmp_path / "runs").exists()
    path = logger.run_dir
    assert path == tmp_path / "runs" / "team_a_b" / str(run_id) and path.is_dir()
    assert logger.run_dir == path
    logger.finish()
    run = SQLFinder(db_url).find_run(run_id)
    assert run is not None and run.provenance["run_dir"] == str(path)
    other = SQLLogger.from_url(db_url, "p", run_root=tmp_path / "given")
    with other.start_run() as active:
        assert active.run_dir == tmp_path / "given" / "p" / str(active.id)


@pytest.mark.parametrize(
    "call",
    [
        lambda log, rid: log.log_artifact(rid, "ckpt/a.pt", "model", metadata={"lr": 0.1}),
        lambda log, rid: log.log_artifact(rid, "ckpt/a.pt", "model", {"lr": 0.1}),
        lambda log, rid: log.log_artifact(
            None, "ckpt/a.pt", data_type="model", metadata={"lr": 0.1}
        ),
    ],
)
def test_the_2x_form_keeps_data_type_and_metadata_however_they_are_passed(tmp_path, call):
    logger = SQLLogger.from_url(f"sqlite:///{tmp_path / 'db.sqlite'}", "legacy")
    run_id = logger.run()
    call(logger, run_id)
    logger.finish()
    (artifact,) = SQLFinder(f"sqlite:///{tmp_path / 'db.sqlite'}").find_run(run_id).artifacts
    assert (artifact.data_type, dict(artifact.metadata)) == ("model", {"lr": 0.1})
