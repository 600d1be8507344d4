"""One process at a time per search: a lock file in the search's checkpoint folder.

``<checkpoint_root>/<search_id>/search.lock`` holds ``<pid> <host>`` of the process running
the search. It is created complete and atomically (written to a private file, then
``os.link``-ed to its name, which fails if the name exists: the ``O_EXCL`` of lock files), and
removed when the search ends. A second process that starts (or resumes) the same search while
the first runs is refused with [`SearchLockedError`][ato.hyperopt.SearchLockedError].

A lock left by a process that died (SIGKILL, power loss) is *stale*: when its pid no longer
runs on this host, the next search moves it aside and takes the lock. A lock written on
another host is never taken as stale (its pid cannot be checked from here); the error says
which file to delete. The lock guards searches that share a checkpoint folder (one machine,
or a shared disk). A search shared through the database (``DatabaseExecutor``) takes no lock:
any number of processes run it at once. Where the folder cannot be written (a read-only
disk), the search logs a warning and runs without the lock.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import socket
import uuid

from .errors import SearchLockedError

LOCK_NAME = "search.lock"


def _owner_text() -> str:
    return f"{os.getpid()} {socket.gethostname()}"


def _read(path: pathlib.Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as another user
        return True
    except OSError:  # the platform cannot tell: assume it runs
        return True
    return True


def is_stale(owner: str) -> bool:
    """Whether the lock ``owner`` (``"<pid> <host>"``) names a process of this host that no
    longer runs."""
    pid, _, host = owner.partition(" ")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not pid_alive(int(pid))


def is_locked(search_dir: pathlib.Path) -> bool:
    """Whether a running process holds the lock of the search in ``search_dir``."""
    owner = _read(search_dir / LOCK_NAME)
    return owner is not None and not is_stale(owner)


class SearchLock:
    """The lock of one search folder; `acquire` then `release` (or use it as a context
    manager).

    Args:
        search_dir: ``<checkpoint_root>/<search_id>`` (created if missing).
    """

    def __init__(self, search_dir: pathlib.Path) -> None:
        self.search_dir = pathlib.Path(search_dir)
        self.path = self.search_dir / LOCK_NAME
        self._held = False
        self._made_dirs: list[pathlib.Path] = []

    def acquire(self) -> None:
        """Take the lock.

        Raises:
            SearchLockedError: another running process holds it.
        """
        self._make_dirs()
        mine = _owner_text()
        for _ in range(3):
            if self._link(mine):
                self._held = True
                return
            owner = _read(self.path)
            if owner is None:  # released meanwhile: try again
                continue
            if not is_stale(owner):
                raise SearchLockedError(self._message(owner))
            self._break(owner)
        raise SearchLockedError(self._message(_read(self.path) or "another process"))

    def release(self) -> None:
        """Remove the lock (if held), and the search folder and checkpoint root if the lock
        made them and they are empty now."""
        if not self._held:
            return
        self._held = False
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        for folder in reversed(self._made_dirs):
            with contextlib.suppress(OSError):  # not empty: checkpoints live there
                folder.rmdir()

    def __enter__(self) -> SearchLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _make_dirs(self) -> None:
        missing = []
        folder = self.search_dir
        while not folder.exists() and folder != folder.parent:
            missing.append(folder)
            folder = folder.parent
        self.search_dir.mkdir(parents=True, exist_ok=True)
        self._made_dirs = list(reversed(missing))

    def _link(self, text: str) -> bool:
        """Create the lock file holding ``text``; False if it exists."""
        private = self.search_dir / f".{LOCK_NAME}.{uuid.uuid4().hex}"
        private.write_text(text + "\n", encoding="utf-8")
        try:
            os.link(private, self.path)
            return True
        except FileExistsError:
            return False
        finally:
            private.unlink()

    def _break(self, owner: str) -> None:
        """Move a stale lock aside; if what was moved is not that stale lock any more (a
        process took the lock meanwhile), put it back."""
        aside = self.search_dir / f".{LOCK_NAME}.stale.{uuid.uuid4().hex}"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        if _read(aside) != owner:
            with contextlib.suppress(FileExistsError):
                os.link(aside, self.path)
        aside.unlink()

    def _message(self, owner: str) -> str:
        pid, _, host = owner.partition(" ")
        return (
            f"search {self.search_dir.name!r} is running in process {pid} on {host or '?'} "
            f"(lock file {self.path}); a search runs in one process at a time. Wait for it to "
            f"end, or, if that process is gone, delete the lock file and resume again. To run "
            f"one search from several processes at once, give each "
            f"executor=DatabaseExecutor(SearchJobQueue(url)) (docs/hyperopt.md, 'Running on a "
            f"cluster')"
        )
