"""Artifact paths are file names: ``bytes`` and ``os.PathLike`` paths are decoded with
``os.fsdecode`` (never stored as ``"b'...'"``), and a name that is not valid Unicode is refused
with a clear error instead of the driver's ``UnicodeEncodeError``."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from ato.tracker import ArtifactPathError, SQLFinder, SQLLogger


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (b"/ckpt/model.pt", "/ckpt/model.pt"),
        ("/ckpt/modèle.pt".encode(), "/ckpt/modèle.pt"),
        (Path("/ckpt") / "best.pt", "/ckpt/best.pt"),
        (PurePosixPath("/ckpt/ünï.pt"), "/ckpt/ünï.pt"),
        ("s3://bucket/model.pt", "s3://bucket/model.pt"),
    ],
)
def test_paths_are_stored_as_decoded_file_names(db_url: str, given: object, stored: str):
    with SQLLogger.from_url(db_url, "p") as logger:
        run_id = logger.run()
        logger.log_artifact(None, given, b"model")
    (artifact,) = SQLFinder(db_url).find_run(run_id).artifacts
    assert artifact.path == stored and artifact.data_type == "model"


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        (b"/ckpt/\xff\xfe.pt", "not valid Unicode"),
        ("/ckpt/model-\udce9.pt", "not valid Unicode"),
        (b"/ckpt/latin1-\xe9.pt", "not valid Unicode"),
        ("/ckpt/a\x00b.pt", "NUL"),
    ],
)
def test_names_that_are_not_text_are_refused_clearly(db_url: str, given: object, problem: str):
    with SQLLogger.from_url(db_url, "p") as logger:
        logger.run()
        with pytest.raises(ArtifactPathError, match=f"artifact path .*{problem}"):
            logger.log_artifact(None, given, "model")
        with pytest.raises(ArtifactPathError, match="artifact data_type"):
            logger.log_artifact(None, "/ok.pt", "\udcff")
        assert logger.log_artifact(None, "/ok.pt", "model") > 0  # the logger still works
