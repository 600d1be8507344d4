"""Time limits of a search: a per-trial ``trial_timeout`` and a whole-search ``timeout``.

Per trial, the limit is enforced with ``SIGALRM`` (``signal.setitimer(ITIMER_REAL)``): when it
fires, [`TrialTimeout`][ato.hyperopt.TrialTimeout] is raised inside the trial function, so the
trial really stops (its ``finally`` blocks and context managers run, its memory is freed) and
the search goes on with the next trial. This was chosen over running each trial in a worker
thread and abandoning it, because an abandoned thread cannot be stopped: it keeps the CPU, the
GPU memory and open files, and may go on writing its checkpoint while the next trial runs.

Limits of this approach:

- POSIX only (Linux, macOS), and only when the search runs in the main thread of the
  process (Python delivers signals to the main thread); otherwise ``trial_timeout`` is a
  [`SearchSettingError`][ato.hyperopt.SearchSettingError] when the search starts.
- Python handles a signal between bytecodes: a trial stuck inside one long C call that does
  not return to the interpreter (a huge matrix product, a lock acquired without timeout in an
  extension) is stopped only when that call returns. ``time.sleep``, socket reads and most
  I/O are interrupted promptly.
- The search owns ``SIGALRM`` while a trial runs (a handler set by the trial's own code is
  replaced for that time and restored afterwards).
- A trial that catches ``BaseException`` and carries on is still recorded as timed out when it
  returns.

The whole-search ``timeout`` needs no signal: the search checks the clock before it starts
each job (a new trial or a promotion) and starts none after the deadline.
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from .errors import SearchSettingError, TrialTimeout

__all__ = ["Deadline", "TimeLimit", "check_seconds", "check_trial_timeout_usable"]


def check_seconds(name: str, value: Any) -> float | None:
    """``value`` as positive finite seconds, or None.

    Raises:
        SearchSettingError: not None and not a positive finite number.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SearchSettingError(f"{name} must be a number of seconds or None, got {value!r}")
    if not 0 < value < math.inf:
        raise SearchSettingError(f"{name} must be positive and finite (seconds), got {value!r}")
    return float(value)


def check_trial_timeout_usable() -> None:
    """Raise if ``SIGALRM`` cannot limit trials here (not POSIX, or not the main thread).

    Raises:
        SearchSettingError: with what to do instead.
    """
    if not hasattr(signal, "setitimer") or sys.platform == "win32":
        raise SearchSettingError(
            "trial_timeout uses SIGALRM, which this platform lacks (POSIX only); run without "
            "trial_timeout, or stop hung trials from inside the trial function"
        )
    if threading.current_thread() is not threading.main_thread():
        raise SearchSettingError(
            "trial_timeout uses SIGALRM, which Python delivers to the main thread only; run "
            "the search in the main thread of its process, or without trial_timeout"
        )


class TimeLimit:
    """Raises [`TrialTimeout`][ato.hyperopt.TrialTimeout] in the main thread ``seconds`` after
    ``armed()`` is entered (no-op when ``seconds`` is None). ``fired`` tells afterwards whether
    the limit was reached."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.fired = False

    @contextlib.contextmanager
    def armed(self) -> Iterator[None]:
        if self.seconds is None:
            yield
            return
        self.fired = False

        def expire(signum: int, frame: Any) -> None:
            self.fired = True
            raise TrialTimeout(f"the trial ran longer than trial_timeout={self.seconds:g} s")

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


class Deadline:
    """The whole-search ``timeout``: ``passed()`` is True once ``seconds`` have elapsed since
    creation (never when ``seconds`` is None)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._end = None if seconds is None else time.monotonic() + seconds

    def passed(self) -> bool:
        return self._end is not None and time.monotonic() >= self._end
