"""Finish runs on SIGTERM: the signal SLURM, Kubernetes and ``timeout`` send before killing.

On SIGTERM every active run of this process is flushed and marked ``'killed'`` (rows that
cannot reach the database go to the spool file), then the previous handler runs: a Python
handler is called, the default action terminates the process by the signal as it would have
without ato. A process that ignored SIGTERM keeps ignoring it (no handler is installed).
The handler is installed from the main thread only (Python's rule for signal handlers).
A forked child forgets the parent's runs: it never ends them (see ``ato.tracker.write.exits``).

CPython runs a Python signal handler only between bytecodes of the main thread. A forked worker
whose main thread waits in C (a ``multiprocessing.Pool`` worker in its untimed task-queue wait)
can miss a SIGTERM that lands just before that wait: without more, ``Pool.terminate()`` would
then wait for it forever. So in a forked child that has metric buffers, `watch_from_thread`
also receives SIGTERM through the signal module's wakeup file descriptor on a daemon thread:
if the main thread has not handled the signal after ``WATCH_GRACE_S`` seconds, that thread
saves the buffers and ends the process with status ``128 + SIGTERM`` (143); if the main thread
still holds the stop lock after ``WATCH_LOCK_S`` seconds, it ends the process without saving
rather than let it hang.
"""

from __future__ import annotations

import os
import signal
import threading
import weakref
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

from ..storage.statuses import RunStatus

KILLED = RunStatus.KILLED.value

_Handler = Callable[[int, "FrameType | None"], Any] | int | signal.Handlers | None


class _Stoppable(Protocol):
    def stop_on_signal(self) -> None: ...


WATCH_GRACE_S = 0.5
WATCH_LOCK_S = 120.0
_stop_lock = threading.Lock()
_stopped = threading.Event()
_active: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()  # -> tracking pid
_previous: _Handler = signal.SIG_DFL


def track(logger: _Stoppable) -> None:
    """Finish ``logger``'s active run on SIGTERM (installs the handler when possible)."""
    _active[logger] = os.getpid()
    _install()


def untrack(logger: _Stoppable) -> None:
    """``logger`` has no active run any more."""
    _active.pop(logger, None)


def _install() -> None:
    global _previous
    if threading.current_thread() is not threading.main_thread():
        return
    current = signal.getsignal(signal.SIGTERM)
    if current is _on_sigterm or current is None or current == signal.SIG_IGN:
        return  # ours already, set outside Python, or ignored on purpose
    _previous = current
    signal.signal(signal.SIGTERM, _on_sigterm)


def _forget_parents_runs() -> None:
    global _stop_lock
    _active.clear()
    _stopped.clear()
    _stop_lock = threading.Lock()  # another thread of the parent may have held it at the fork


def watch_from_thread() -> None:
    """In this (forked) process, also act on SIGTERM from a daemon thread (see the module
    docstring). Does nothing off the main thread, when SIGTERM is not handled by
    `_on_sigterm`, or when a wakeup file descriptor is set already (e.g. by asyncio)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not _on_sigterm:
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    except ValueError:
        previous = -2
    if previous != -1:  # someone else's: leave it in place
        if previous != -2:
            signal.set_wakeup_fd(previous)
        os.close(read_end)
        os.close(write_end)
        return
    threading.Thread(
        target=_watch, args=(read_end,), name="ato-tracker-sigterm", daemon=True
    ).start()


def _watch(read_end: int) -> None:
    while signal.SIGTERM not in os.read(read_end, 64):
        pass
    if _stopped.wait(WATCH_GRACE_S):
        return  # the main thread handled it and ends the process
    # The main thread may hold the lock for a flush (bounded by the timeouts) or be stuck
    # in its handler: past WATCH_LOCK_S the process ends without saving rather than hang.
    if _stop_lock.acquire(timeout=WATCH_LOCK_S):
        try:
            if _stopped.is_set():
                return
            _stop_tracked()
            _stopped.set()
        finally:
            _stop_lock.release()
    os._exit(128 + signal.SIGTERM)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parents_runs)


def _stop_tracked() -> None:
    # A SIGTERM can reach a just-forked child before its fork hooks cleared the parent's
    # runs: only the loggers this very process tracked are stopped.
    pid = os.getpid()
    for logger, tracked_by in list(_active.items()):
        if tracked_by == pid:
            logger.stop_on_signal()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    with _stop_lock:
        _stop_tracked()
        _stopped.set()
    previous = _previous
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
