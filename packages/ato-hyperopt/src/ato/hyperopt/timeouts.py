"""Time limits of a search: a per-trial ``trial_timeout`` and a whole-search ``timeout``.

Per trial, nothing is ever raised *into* a trial from outside. An exception delivered
asynchronously (from a ``SIGALRM`` handler, or ``PyThreadState_SetAsyncExc``) can land
anywhere, including inside library code between taking a lock and the ``try`` that releases
it — ``threading.Event.set()`` inside a tracker's ``log_metric`` is one such place — and the
search's own timeout handling then blocks forever on that lock. So with ``trial_timeout``:

1. The trial runs in a worker thread (the search waits for it with ``Thread.join(timeout)``,
   a bounded wait that works in any thread and on every platform).
2. When the limit passes, the trial's *stop flag* is set. The trial stops at its next
   cooperative check, where raising is safe because the trial's own code is running there:
   every attribute of [`current_logger`][ato.hyperopt.current_logger] (so a trial that logs
   stops at its next ``log_metric``), and [`check_trial_time`][ato.hyperopt.check_trial_time],
   which a long computation that logs nothing can call. Both raise
   [`TrialTimeout`][ato.hyperopt.TrialTimeout] in the trial's thread.
3. The trial gets a grace period (``min(trial_timeout, 5 s)``) to reach a check and unwind
   (its ``finally`` blocks run). A trial still running after it — blocked in a call that never
   returns, sleeping, or ignoring the flag — is *abandoned*: a warning names it, its run is
   closed ``failed`` and the search goes on while the daemon thread runs to its end. Its
   logger refuses every further call, so it cannot write into later runs.
4. The run is closed by the search thread, with a bound (30 s) on the wait for a logger that
   is itself stuck; every lock the trial held was taken and released by ordinary code, so no
   lock is left held by an interrupted owner.

An abandoned thread still uses CPU, memory and open files until it returns: Python cannot
stop a thread from outside safely. Call ``check_trial_time()`` in long loops that do not log.
Without ``trial_timeout`` the trial runs in the calling thread, as before.

Ctrl-C and SIGTERM set a second stop flag (see `ato.hyperopt.interrupts`), checked at the same
cooperative points before the time limit's; they raise
[`SearchInterrupted`][ato.hyperopt.SearchInterrupted] there, with or without ``trial_timeout``.

The whole-search ``timeout`` needs no flag: the search checks the clock before it starts
each job (a new trial or a promotion) and starts none after the deadline.
"""

from __future__ import annotations

import contextvars
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import SearchSettingError, TrialTimeout
from .interrupts import Interrupts

__all__ = ["Deadline", "TimeLimit", "check_seconds", "check_trial_time", "guarded"]

T = TypeVar("T")
logger = logging.getLogger("ato.hyperopt")

#: Longest grace a stopped trial gets to reach a cooperative check before it is abandoned.
MAX_GRACE_S = 5.0
#: Longest wait for one tracker call that closes a stopped trial's run.
CLOSE_BOUND_S = 30.0


class _Clock:
    """One trial's stop flags: ``stop`` (set once its ``trial_timeout`` passed) and the
    search's ``interrupts``."""

    def __init__(self, seconds: float | None, interrupts: Interrupts) -> None:
        self.seconds = seconds
        self.stop = threading.Event()
        self.interrupts = interrupts

    def message(self) -> str:
        return f"the trial ran longer than trial_timeout={self.seconds or 0:g} s"

    def stopped(self) -> BaseException | None:
        """Why the trial must stop (a signal first, then its time), or None."""
        interrupted = self.interrupts.error()
        if interrupted is not None:
            return interrupted
        return TrialTimeout(self.message()) if self.stop.is_set() else None

    def check(self) -> None:
        error = self.stopped()
        if error is not None:
            raise error


_CLOCK: contextvars.ContextVar[_Clock | None] = contextvars.ContextVar(
    "ato_hyperopt_trial_clock", default=None
)


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


def check_trial_time() -> None:
    """Stop the running trial here if it is past the search's ``trial_timeout`` or the search
    received Ctrl-C or SIGTERM.

    A no-op outside a trial. Call it in long loops that do not log through
    [`current_logger`][ato.hyperopt.current_logger] (whose calls check already).

    Raises:
        SearchInterrupted: the search received SIGINT or SIGTERM (the run is closed ``killed``).
        TrialTimeout: the trial's time is up (the search records it as timed out).
    """
    clock = _CLOCK.get()
    if clock is not None:
        clock.check()


class _Guarded:
    """A trial's view of its tracker logger: every attribute first checks the trial's stop flags
    (raising [`SearchInterrupted`][ato.hyperopt.SearchInterrupted] or
    [`TrialTimeout`][ato.hyperopt.TrialTimeout] in the trial's own code, never inside the
    logger), then is the logger's own."""

    def __init__(self, target: Any, clock: _Clock) -> None:
        object.__setattr__(self, "_ato_target", target)
        object.__setattr__(self, "_ato_clock", clock)

    def __getattr__(self, name: str) -> Any:
        self._ato_clock.check()
        return getattr(self._ato_target, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._ato_clock.check()
        setattr(self._ato_target, name, value)

    def __repr__(self) -> str:
        return f"<guarded {self._ato_target!r}>"


def guarded(target: Any) -> Any:
    """``target`` as the running trial should see it: behind its stop flags inside a search's
    trial, else ``target`` itself (also when it is None)."""
    clock = _CLOCK.get()
    return target if clock is None or target is None else _Guarded(target, clock)


class _Ending:
    """How a trial's worker thread ended: a value or an exception."""

    def __init__(self) -> None:
        self.value: Any = None
        self.error: BaseException | None = None

    def capture(self, func: Callable[[], Any]) -> None:
        try:
            self.value = func()
        except BaseException as exc:  # handed to the waiting thread, which re-raises it
            self.error = exc

    def result(self, clock: _Clock) -> Any:
        if isinstance(self.error, (KeyboardInterrupt, SystemExit)):
            raise self.error
        stopped = clock.stopped()
        if stopped is not None:  # interrupted or past the limit, however the trial ended
            raise stopped from self.error
        if self.error is not None:
            raise self.error
        return self.value


class TimeLimit:
    """Runs trials under ``seconds`` each (no limit when None), as the module docstring says.

    Attributes:
        seconds: the limit, or None.
        interrupts: the search's Ctrl-C/SIGTERM flag (see `ato.hyperopt.interrupts`).
        grace: seconds a stopped trial gets to reach a cooperative check before it is
            abandoned (default ``min(seconds, 5)``).
        fired: the last trial ran past the limit.
        abandoned: the last trial was still running after the grace period.
    """

    def __init__(
        self,
        seconds: float | None,
        grace: float | None = None,
        interrupts: Interrupts | None = None,
    ) -> None:
        self.seconds = seconds
        self.interrupts = interrupts or Interrupts()
        default_grace = 0.0 if seconds is None else min(seconds, MAX_GRACE_S)
        self.grace = default_grace if grace is None else grace
        self.fired = False
        self.abandoned = False

    def call(self, func: Callable[[], T]) -> T:
        """``func()``: in this thread without a limit, else in a worker thread that is asked to
        stop when the limit passes (see the module docstring). Not started after a signal.

        Raises:
            SearchInterrupted: a signal was received before ``func`` started, while it ran or
                before it returned (also when ``func`` caught it and returned).
            TrialTimeout: the limit passed, whether ``func`` then raised, returned or is still
                running (abandoned).
            BaseException: whatever ``func`` raised before the limit (``KeyboardInterrupt`` and
                ``SystemExit`` always).
        """
        self.fired = self.abandoned = False
        self.interrupts.check()
        clock = _Clock(self.seconds, self.interrupts)
        ending = _Ending()
        if self.seconds is None:
            token = _CLOCK.set(clock)
            try:
                ending.capture(func)
            finally:
                _CLOCK.reset(token)
            return ending.result(clock)  # type: ignore[no-any-return]
        context = contextvars.copy_context()
        context.run(_CLOCK.set, clock)
        worker = threading.Thread(
            target=context.run, args=(ending.capture, func), name="ato-hyperopt-trial", daemon=True
        )
        worker.start()
        try:
            worker.join(self.seconds)
        except BaseException:  # Ctrl-C while waiting: stop the trial as well
            self._stop(worker, clock)
            raise
        if worker.is_alive():
            self.fired = True
            self._stop(worker, clock)
            if self.abandoned:
                raise clock.stopped() or TrialTimeout(clock.message())
        result: T = ending.result(clock)
        return result

    def _stop(self, worker: threading.Thread, clock: _Clock) -> None:
        clock.stop.set()
        worker.join(self.grace)
        self.abandoned = worker.is_alive()
        if self.abandoned:
            logger.warning(
                "a trial did not stop within %g s after its trial_timeout=%g s (it neither logs "
                "through current_logger() nor calls check_trial_time()); its thread %s is "
                "abandoned and runs on by itself",
                self.grace,
                clock.seconds,
                worker.name,
            )

    def close(self, close_run: Callable[[], None], opening: threading.Lock) -> None:
        """Call ``close_run`` (which closes the last trial's tracker run). After an abandoned
        trial, first wait for ``opening`` (held while the trial opens its run) and then for
        ``close_run``, each at most ``CLOSE_BOUND_S``, logging an error when a wait runs out.
        """
        if not self.abandoned:
            close_run()
            return
        if not opening.acquire(timeout=CLOSE_BOUND_S):
            logger.error("an abandoned trial is still opening its run; it was not closed")
            return
        try:
            closer = threading.Thread(target=close_run, name="ato-hyperopt-close", daemon=True)
            closer.start()
            closer.join(CLOSE_BOUND_S)
            if closer.is_alive():
                logger.error(
                    "closing an abandoned trial's run took over %g s (its logger is blocked); "
                    "the search goes on without waiting",
                    CLOSE_BOUND_S,
                )
        finally:
            opening.release()


class Deadline:
    """The whole-search ``timeout``: ``passed()`` is True once ``seconds`` have elapsed since
    creation (never when ``seconds`` is None)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._end = None if seconds is None else time.monotonic() + seconds

    def passed(self) -> bool:
        return self._end is not None and time.monotonic() >= self._end
