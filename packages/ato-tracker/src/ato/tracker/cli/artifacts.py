"""``ato runs artifacts RUN`` (a run's artifacts as a table) and ``ato runs get RUN NAME``
(copy a stored artifact out of the database's artifact store, checking its SHA-256)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path, PurePosixPath

from rich.table import Table

from ..errors import ArtifactIntegrityError, ArtifactNotFoundError, UsageError
from ..read.results import Artifact
from .commands import Context
from .tables import format_time

CHUNK = 1 << 20
SHA_SHOWN = 12  # hex digits of the digest the table shows


def format_size(size: int | None) -> str:
    """``1536`` -> ``'1.5 KiB'``; ``None`` -> ``'?'`` (not readable when logged)."""
    if size is None:
        return "?"
    if size < 1024:
        return f"{size} B"
    value, unit = size / 1024, "KiB"
    for larger in ("MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{value:.1f} {unit}"


def _record(artifact: Artifact) -> dict[str, object]:
    return {
        "id": artifact.id,
        "name": artifact.name,
        "path": artifact.path,
        "data_type": artifact.data_type,
        "size": artifact.size,
        "sha256": artifact.sha256,
        "stored": artifact.stored,
        "metadata": artifact.metadata,
        "timestamp": artifact.timestamp.isoformat(),
    }


def list_artifacts(ctx: Context, run_id: int) -> None:
    """``ato runs artifacts RUN``: name, size, SHA-256 prefix, stored or reference, type.

    Raises:
        RunNotFoundError: no such run (or not in ``--project``).
    """
    ctx.load_run(run_id)
    found = ctx.finder.get_artifacts(run_id)
    table = Table(title=f"artifacts of run {run_id}")
    for column in ("name", "size", "sha256", "kept", "type", "logged"):
        table.add_column(column, justify="right" if column == "size" else "left")
    for a in found:
        kept = "stored" if a.stored else f"reference: {a.path}"
        digest = (a.sha256 or "")[:SHA_SHOWN] or "?"
        table.add_row(
            a.name, format_size(a.size), digest, kept, a.data_type, format_time(a.timestamp)
        )
    ctx.emit([_record(a) for a in found], table if found else f"run {run_id} has no artifacts")


def get_artifact(
    ctx: Context, run_id: int, name: str, output: str | None, *, force: bool = False
) -> Path:
    """``ato runs get RUN NAME [-o PATH]``: copy the stored file to ``output`` (default: its
    base name in the working directory; into it when ``output`` is a directory), checking
    its SHA-256 against the one recorded; returns where it was written.

    Raises:
        RunNotFoundError: no such run.
        ArtifactNotFoundError: no artifact ``name``, a reference only, or not in the store.
        ArtifactIntegrityError: the stored file's digest differs (nothing is written).
        UsageError: the destination exists (pass ``--force``) or cannot be written.
    """
    ctx.load_run(run_id)
    source = ctx.finder.artifact_file(run_id, name)
    artifact = ctx.finder.find_artifact(run_id, name)
    if artifact is None or artifact.sha256 is None:  # artifact_file found it just before
        raise ArtifactNotFoundError(f"run {run_id} has no artifact named {name!r}")
    target = Path(output) if output else Path(PurePosixPath(name).name)
    if target.is_dir():
        target = target / PurePosixPath(name).name
    if target.exists() and not force:
        raise UsageError(f"{target} already exists; pass --force to overwrite it or -o PATH")
    _copy_checked(source, target, artifact.sha256)
    data = {"run": run_id, "name": name, "path": str(target), "sha256": artifact.sha256}
    ctx.emit(data, f"wrote {target} ({format_size(artifact.size)}, sha256 verified)")
    return target


def _copy_checked(source: Path, target: Path, sha256: str) -> None:
    digest = hashlib.sha256()
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent or Path("."), prefix=".ato-get-")
    except OSError as error:
        raise UsageError(f"cannot write into {target.parent}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as out, open(source, "rb") as file:
            while chunk := file.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ArtifactIntegrityError(
                f"the stored file {source} has SHA-256 {digest.hexdigest()[:SHA_SHOWN]}..., "
                f"not the {sha256[:SHA_SHOWN]}... recorded: it was changed or damaged; "
                "nothing was written"
            )
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
