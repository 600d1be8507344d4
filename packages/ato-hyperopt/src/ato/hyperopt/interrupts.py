"""Ctrl-C (SIGINT) and SIGTERM while a search runs: a flag, never an exception raised into a trial.

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be when SIGINT arrives,
so a library inside the trial can catch it: scikit-learn's ``MLPClassifier.partial_fit`` ends
its epoch quietly and the trial returns a cut-short score, which would be recorded as a
completed evaluation while the search runs on. An exception raised from a signal handler can
also land between a lock's ``acquire`` and its ``try`` (see `ato.hyperopt.timeouts`). So, while a
search runs in the main thread, the search's own handler for both signals only sets a flag. The
running trial stops at its next cooperative check (any use of
[`current_logger`][ato.hyperopt.current_logger], or
[`check_trial_time`][ato.hyperopt.check_trial_time]), which raises
[`SearchInterrupted`][ato.hyperopt.SearchInterrupted] in the trial's own code; a trial that
catches it (or never reaches a check) and returns is not recorded as completed either, and no
further trial starts. A second signal raises at once, wherever the main thread is
(``KeyboardInterrupt`` for SIGINT, ``SearchInterrupted`` for SIGTERM), for a trial that reaches
no check. The previous handlers are restored when the search ends; a signal whose handler was
``SIG_IGN`` (a background job's SIGINT) stays ignored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from .errors import SearchInterrupted

__all__ = ["Interrupts"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Also handled in a worker of a shared search: SLURM's usual warning before preemption
#: (``sbatch --signal=USR1@60``).
PREEMPTION_SIGNALS = (signal.SIGUSR1,) if hasattr(signal, "SIGUSR1") else ()


class Interrupts:
    """The stop flag a search's signal handler sets.

    Args:
        preemption: also handle SIGUSR1 (a worker of a shared search: the job scheduler warns
            of preemption; the running trial stops and its job goes back to the queue).

    Attributes:
        received: the name of the first signal received (``"SIGINT"``, ``"SIGTERM"``,
            ``"SIGUSR1"``), or None.
    """

    def __init__(self, preemption: bool = False) -> None:
        self.received: str | None = None
        self.signals = SIGNALS + (PREEMPTION_SIGNALS if preemption else ())

    def error(self) -> SearchInterrupted | None:
        """The exception that stops the search, or None while no signal was received."""
        if self.received is None:
            return None
        return SearchInterrupted(f"received signal {self.received}")

    def check(self) -> None:
        """Raises:
        SearchInterrupted: a signal was received."""
        error = self.error()
        if error is not None:
            raise error

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Handle SIGINT and SIGTERM with this flag inside the ``with`` block (in the main
        thread only: elsewhere Python cannot install handlers and nothing changes)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.getsignal(s) for s in self.signals}
        for signum, handler in previous.items():
            if handler is not signal.SIG_IGN:
                signal.signal(signum, self._handle)
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.received is not None:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            raise SearchInterrupted(f"received signal {name} twice")
        self.received = name
        note = (
            f"ato.hyperopt: {name} received; the running trial stops at its next log through "
            f"current_logger() or check_trial_time(). Send it again to stop at once.\n"
        )
        os.write(2, note.encode())  # async-signal-safe, unlike print() or logging
