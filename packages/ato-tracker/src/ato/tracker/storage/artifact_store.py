"""Where a tracker database keeps the files of its artifacts, and how a stored file is found.

An artifact store is a directory of content-addressed files: a file whose SHA-256 digest
is ``abcdef...`` (64 hex digits) lives at ``<root>/objects/ab/cdef...``, so identical files
are kept once and a stored file can be checked against the digest recorded with its row.

The root of a database's store is, in this order: the ``artifact_root`` given to the logger
or finder, ``$ATO_ARTIFACT_ROOT``, and for a SQLite file ``<file>.artifacts`` next to it
(``experiments.db`` -> ``experiments.db.artifacts/``). A server database (PostgreSQL,
MySQL/MariaDB) or an in-memory SQLite database has no default root: without a configured
one, artifacts are recorded as references only.

Artifact names (the name a run's artifact is listed and fetched by) are relative POSIX paths
such as ``model.pt`` or ``checkpoints/epoch_3/weights.bin``; `check_name` refuses the rest.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import ArtifactNotFoundError, ArtifactPathError
from .database import Database

#: Environment variable naming the artifact store's root directory.
ARTIFACT_ROOT_ENV = "ATO_ARTIFACT_ROOT"
#: Suffix of the default store directory of a SQLite file (``experiments.db.artifacts``).
SQLITE_SUFFIX = ".artifacts"
OBJECTS = "objects"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def store_root(database: Database, root: str | os.PathLike[str] | None = None) -> Path | None:
    """The store directory of ``database`` (see the module docstring), absolute; ``None``
    when none is configured for a server or in-memory database. Nothing is created."""
    if root is None:
        root = os.environ.get(ARTIFACT_ROOT_ENV) or None
    if root is not None:
        return Path(root).expanduser().absolute()
    if database.sqlite_path is None:
        return None
    path = database.sqlite_path.absolute()
    return path.with_name(path.name + SQLITE_SUFFIX)


def object_path(root: Path, sha256: str) -> Path:
    """Where the file with SHA-256 digest ``sha256`` (64 lowercase hex digits) is kept.

    Raises:
        ArtifactPathError: ``sha256`` is not 64 lowercase hex digits.
    """
    if not isinstance(sha256, str) or _SHA256.fullmatch(sha256) is None:
        raise ArtifactPathError("digest", str(sha256), "is not a SHA-256 digest (64 hex digits)")
    return root / OBJECTS / sha256[:2] / sha256[2:]


def stored_file(root: Path, sha256: str) -> Path:
    """The stored file of digest ``sha256``, checked to be a regular file inside ``root``
    once every symbolic link is resolved (so a link placed in the store that points outside
    it is never followed out).

    Raises:
        ArtifactPathError: ``sha256`` is not a digest.
        ArtifactNotFoundError: no such file in the store, or it resolves outside ``root``.
    """
    path = object_path(root, sha256)
    real_root = root.resolve()
    real = path.resolve()
    if not real.is_relative_to(real_root / OBJECTS) or not real.is_file():
        raise ArtifactNotFoundError(
            f"the stored file {sha256[:12]}... is missing from the artifact store {root}"
            " (moved or deleted?); point ATO_ARTIFACT_ROOT at the store that holds it"
        )
    return real


def check_name(name: str) -> str:
    """``name`` if it can name an artifact: a relative POSIX path of non-empty parts, none
    of them ``.`` or ``..``, without backslashes or NUL.

    Raises:
        ArtifactPathError: what is wrong, e.g. ``'../x'`` climbs out of the run's artifacts.
    """
    if not isinstance(name, str) or not name:
        raise ArtifactPathError("name", str(name), "is empty; give a relative name like 'model.pt'")
    if "\x00" in name or "\\" in name:
        raise ArtifactPathError("name", name, "contains NUL or a backslash; use '/' between parts")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        raise ArtifactPathError(
            "name", name, "is absolute; give a name relative to the run, like 'ckpt/last.pt'"
        )
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ArtifactPathError(
            "name", name, "has an empty, '.' or '..' part; give a plain relative name"
        )
    return name
