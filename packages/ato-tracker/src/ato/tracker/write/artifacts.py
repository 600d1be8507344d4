"""Logging artifacts: files and directories hashed (SHA-256), copied into the database's
artifact store (`ato.tracker.storage.artifact_store`) or recorded as references, and their
rows written in one transaction.

Every file is read (and copied) before any row is written, so a missing, unreadable or too
large input raises before the database changes: what was logged before is never lost. A copy
that an error interrupts may leave files in the store that no row names; they are harmless
(the store is content-addressed, the next log of the same bytes reuses them).
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, func, insert, select

from ..errors import ArtifactPathError
from ..storage import artifact_store
from ..storage.engine import retry_disconnects, run_transaction
from ..storage.models import ArtifactRecord, utcnow
from ..storage.normalize import to_json_value
from .validation import artifact_text

#: Most files one ``log_artifact`` of a directory takes (more raises `ArtifactPathError`).
MAX_FILES = 10_000
CHUNK = 1 << 20  # bytes read at a time while hashing or copying

_log = logging.getLogger("ato.tracker")
_table = cast(Table, ArtifactRecord.__table__)


@dataclass(frozen=True)
class ArtifactFile:
    """One file to record: its artifact ``name``, ``source`` path, ``size`` (bytes) and
    ``sha256`` (``None`` both when unreadable and only referenced), and whether it was
    ``stored`` (copied into the store)."""

    name: str | None
    source: str
    size: int | None
    sha256: str | None
    stored: bool


def prepare(
    path: Any,
    *,
    name: str | None,
    copy: bool,
    root: Path | None,
    max_files: int = MAX_FILES,
    must_exist: bool = True,
    named_by_path: bool = False,
) -> list[ArtifactFile]:
    """The files of ``path`` (a file, or a directory's regular files, recursively), hashed
    and, with ``copy``, copied into the store at ``root``.

    Args:
        path: file or directory (``str``, ``bytes``, ``os.PathLike``) or, for references
            (``copy=False``), any URI.
        name: the artifact's name (a relative POSIX path, see
            `ato.tracker.storage.artifact_store.check_name`); default the file or directory
            name. The files of a directory are named ``<name>/<relative path>``.
        copy: copy into the store (``root`` must not be ``None``), else reference only.
        root: the store directory (created when first needed).
        max_files: most files a directory may hold.
        must_exist: raise for a path that does not exist (else it becomes a reference).
        named_by_path: a file referenced without ``name`` gets no name of its own (readers
            name it by its path, as ato 2.x's references).

    Raises:
        ArtifactPathError: the path does not exist (``must_exist``), is neither a file nor a
            directory, a file cannot be read (when copying), a directory holds more than
            ``max_files`` files or none, or ``name`` is not a safe relative name.
    """
    text = artifact_text(path, "path")
    if name is not None:
        artifact_store.check_name(name)
    source = Path(text)
    if "://" in text or not source.exists():
        if must_exist or copy:
            raise ArtifactPathError(
                "path",
                text,
                "does not exist; check the path (to record a URI or a file that is not "
                "here, log a reference with copy=False)",
            )
        return [ArtifactFile(name, text, None, None, False)]
    if source.is_dir():
        base = name if name is not None else _default_name(source)
        files = _directory_files(source, max_files)
        if not files:
            raise ArtifactPathError("path", text, "is a directory without files; nothing to log")
        return [_one(file, f"{base}/{relative}", copy, root) for relative, file in files]
    if not source.is_file():
        raise ArtifactPathError("path", text, "is neither a regular file nor a directory")
    if name is None and named_by_path and not copy:
        return [replace(_one(source, _default_name(source), copy, root), name=None)]
    return [_one(source, name if name is not None else _default_name(source), copy, root)]


def _default_name(source: Path) -> str:
    default = source.name or source.resolve().name
    if not default:
        raise ArtifactPathError("path", str(source), "has no name; pass name='...'")
    return artifact_store.check_name(default)


def _one(source: Path, name: str, copy: bool, root: Path | None) -> ArtifactFile:
    artifact_store.check_name(name)
    if copy:
        assert root is not None  # noqa: S101 - the logger falls back to references first
        size, digest = store_file(source, root)
        return ArtifactFile(name, str(source), size, digest, True)
    try:
        size, digest = hash_file(source)
    except OSError as error:
        _log.warning("ato.tracker: artifact %s recorded without size and hash: %s", source, error)
        return ArtifactFile(name, str(source), None, None, False)
    return ArtifactFile(name, str(source), size, digest, False)


def _directory_files(directory: Path, max_files: int) -> list[tuple[str, Path]]:
    """``(relative POSIX name, path)`` of the regular files under ``directory`` (symbolic
    links to files followed, to directories not), sorted by name; at most ``max_files`` are
    ever held in memory.

    Raises:
        ArtifactPathError: more than ``max_files`` files, or a directory cannot be listed.
    """
    found: list[tuple[str, Path]] = []
    for relative, file in _walk(directory):
        if len(found) >= max_files:
            raise ArtifactPathError(
                "path",
                str(directory),
                f"holds more than {max_files:,} files; archive it (e.g. a .tar file) and log "
                "the archive, log its subdirectories separately, or raise max_files=",
            )
        found.append((relative, file))
    return sorted(found)


def _walk(directory: Path) -> Iterator[tuple[str, Path]]:
    pending = [(directory, "")]
    while pending:
        current, prefix = pending.pop()
        try:
            entries = os.scandir(current)
        except OSError as error:
            raise ArtifactPathError(
                "path", str(current), f"cannot be listed ({error.strerror}); check its permissions"
            ) from None
        with entries:
            for entry in entries:
                relative = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append((Path(entry.path), relative + "/"))
                elif entry.is_file(follow_symlinks=True):
                    yield relative, Path(entry.path)


def hash_file(source: Path) -> tuple[int, str]:
    """``(size in bytes, SHA-256 hex digest)`` of the file ``source``, read in 1 MiB chunks.

    Raises:
        OSError: the file cannot be read.
    """
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def store_file(source: Path, root: Path) -> tuple[int, str]:
    """Copy ``source`` into the store at ``root`` (to ``objects/ab/cdef...`` by its SHA-256,
    hashed while copied; written to a temporary file, flushed to disk, then renamed, so the
    store never holds a partial object) and return ``(size in bytes, hex digest)``.

    Raises:
        ArtifactPathError: ``source`` cannot be read, or the store cannot be written.
    """
    digest = hashlib.sha256()
    size = 0
    try:
        staging = root / "tmp"
        staging.mkdir(parents=True, exist_ok=True)
        with open(source, "rb") as file:
            handle, temporary = tempfile.mkstemp(dir=staging, prefix="upload-")
            try:
                with os.fdopen(handle, "wb") as out:
                    while chunk := file.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                target = artifact_store.object_path(root, digest.hexdigest())
                target.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(temporary, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
    except OSError as error:
        where = "cannot be read" if error.filename == str(source) else "cannot be stored"
        raise ArtifactPathError(
            "path",
            str(source),
            f"{where} ({error.strerror or error}); check its permissions and the store {root}",
        ) from None
    return size, digest.hexdigest()


def insert_rows(
    engine: Engine, run_id: int, files: list[ArtifactFile], data_type: str, metadata: Any
) -> int:
    """Write one row per file of ``files`` for run ``run_id`` in one transaction, exactly
    once (retried when the connection drops; a retry first looks for the rows of a lost
    attempt by their shared time stamp). Returns the id of the first row."""
    now = utcnow()
    meta = None if metadata is None else to_json_value(metadata)
    rows = [
        {
            "run_id": run_id,
            "path": file.source,
            "data_type": data_type,
            "metadata": meta,
            "timestamp": now,
            "name": file.name,
            "size": file.size,
            "sha256": file.sha256,
            "stored": file.stored,
        }
        for file in files
    ]
    attempts = 0

    def attempt(conn: Connection) -> int:
        if attempts == 1 or _first_id(conn, run_id, now) is None:
            conn.execute(insert(_table), rows)
        first = _first_id(conn, run_id, now)
        assert first is not None  # noqa: S101 - just inserted
        return first

    def once() -> int:
        nonlocal attempts
        attempts += 1
        return run_transaction(engine, attempt)

    return retry_disconnects(once)


def _first_id(conn: Connection, run_id: int, when: datetime) -> int | None:
    found = conn.execute(
        select(func.min(_table.c.id)).where(_table.c.run_id == run_id, _table.c.timestamp == when)
    ).scalar()
    return None if found is None else int(found)
