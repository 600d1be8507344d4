"""The heartbeat of a shared-search worker's running job: one thread for the worker's whole
life (see `ato.hyperopt.shared`), which refreshes the claim of whichever job runs, instead of
a thread started and joined around each job (a thread start costs about a millisecond of the
worker's time between two trials on a loaded machine)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

__all__ = ["ClaimBeats"]


class ClaimBeats:
    """Refreshes, every ``every`` seconds, the claim of the job set by `running` with
    ``beat(job_key)`` (a failed beat is skipped: the next one tries again). A beat may come
    less than ``every`` seconds after the claim was taken, never later.

    Args:
        beat: refreshes the claim of one job (a database statement).
        every: seconds between two beats.
    """

    def __init__(self, beat: Callable[[str], object], every: float) -> None:
        self._beat, self._every = beat, every
        self._cond = threading.Condition()
        self._key: str | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def running(self, job_key: str) -> Iterator[None]:
        """Heartbeat ``job_key``'s claim while the block runs (the thread starts on first use)."""
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="ato-hyperopt-heartbeat", daemon=True
                )
                self._thread.start()
            self._key = job_key
        try:
            yield
        finally:
            with self._cond:
                self._key = None

    def close(self) -> None:
        """Stop the thread (after a beat in progress)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                self._cond.wait(self._every)
                key = self._key
                if key is None or self._closed:
                    continue
                self._cond.release()
                try:
                    with contextlib.suppress(Exception):  # a missed beat: the next one tries
                        self._beat(key)
                finally:
                    self._cond.acquire()
