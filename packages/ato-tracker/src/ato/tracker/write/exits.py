"""Buffered metrics when a process ends: at interpreter exit and in forked children.

At interpreter exit every metric buffer of the process is closed: flushed, or saved to the
spool file when the database cannot be reached (see `ato.tracker.write.buffer`). Rows that neither
could keep are named in an ERROR and the process exits with status 1, so that a scheduler or
a shell sees the loss (an exception cannot reach anyone at that point). That exit uses
``os._exit`` after flushing the log handlers and standard streams: exit handlers registered
before ``ato.tracker`` was imported do not run then.

Forked children (``os.fork``, and multiprocessing's ``fork`` start method: ``Process``,
``Pool``, DataLoader-style workers) may log through a ``SQLLogger`` inherited from the parent.
At the fork each buffer is emptied and gets a writer id of its own (`ato.tracker.write.buffer`), the
engines get fresh connection pools (`ato.tracker.storage.engine`) and the child forgets the parent's
runs for SIGTERM (`ato.tracker.write.signals`): the child writes its own rows, over its own
connections, into the parent's run, and never ends that run. A multiprocessing child ends with
``os._exit()``, which skips exit handlers, so in a forked child ``os._exit`` is wrapped to
close every buffer first (status 1 instead of 0 when rows could be kept neither in the
database nor in the spool file), and SIGTERM (``Pool.terminate()``, ``with Pool(...)``, a
DataLoader shutting its workers down) closes them too. A child killed by SIGKILL loses the rows
it has not flushed; ``flush()`` in the child makes them durable earlier.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
from typing import NoReturn

from ..errors import MetricsNotStoredError
from . import signals
from .buffer import live_buffers

_log = logging.getLogger("ato.tracker")
_real_exit = os._exit
LOST_ROWS_EXIT_STATUS = 1


def close_buffers() -> int:
    """Close every metric buffer of this process (each waits for a flush in progress at most
    its statement and connect timeouts); return how many rows no store could keep (each
    buffer's are logged as an ERROR)."""
    lost = 0
    for buffer in live_buffers():
        if not buffer.needs_closing():  # e.g. closed by its logger's finalizer already
            continue
        try:
            buffer.close(buffer.lock_bound)
        except MetricsNotStoredError as error:
            _log.error("ato.tracker: %s", error)
            lost += error.count
    return lost


def _close_at_exit() -> None:
    lost = close_buffers()
    if lost:
        _log.error(
            "ato.tracker: %d metrics could not be kept; the process exits with status %d",
            lost,
            LOST_ROWS_EXIT_STATUS,
        )
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        _real_exit(LOST_ROWS_EXIT_STATUS)


def _exit_closing_buffers(status: int) -> NoReturn:
    """``os._exit`` in a forked child: close the buffers, then exit with ``status`` (1 instead
    of 0 when rows were lost)."""
    lost = close_buffers()
    _real_exit(LOST_ROWS_EXIT_STATUS if lost and status == 0 else status)


class _ChildBuffers:
    """Stands for this forked child's buffers in `ato.tracker.write.signals`: SIGTERM closes them."""

    def stop_on_signal(self) -> None:
        close_buffers()


_CHILD = _ChildBuffers()


def _in_forked_child() -> None:
    os._exit = _exit_closing_buffers
    if live_buffers():
        signals.track(_CHILD)
        signals.watch_from_thread()


atexit.register(_close_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_in_forked_child)
