"""Planning one job ahead: a worker of a shared ASHA search decides its next job in a thread
while its current job runs (see `ato.hyperopt.shared` and ``DatabaseExecutor(plan_ahead=)``).

The worker's main thread only runs trials: it takes the next job from a one-place slot, runs
it, and hands the result over. The planner thread fills the slot: each decision records the
results handed over since the last one and decides a job, claimed by this worker, in one
transaction under the search's lock (as a worker that decides when it is free does), so the
time a decision takes is spent while a trial runs instead of between trials. Each job is
decided one job earlier than by a worker that waits to be free, with the results recorded by
then; every decision is still ASHA's (Li et al., MLSys 2020, Algorithm 2) on the results
recorded before it. The job in the slot is claimed: the planner heartbeats it until the main
thread takes it, and a worker that stops puts it back in the queue.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .schedules import WAIT

__all__ = ["STOP", "PlanAhead"]

#: A decision's answer when the search has no job left.
STOP = "stop"

#: Seconds the main thread waits for the slot before it looks at its signals again.
_LOOK_S = 0.25


class PlanAhead:
    """The planner thread of one worker and the slot it fills.

    Args:
        decide: one decision (one transaction): a claimed job (a dict with ``job_key``),
            ``WAIT`` or ``STOP``; called with the results to record first.
        wait: ``wait(pause)`` waits after a ``WAIT`` until the search may have changed,
            pausing with ``pause(seconds)``, which returns early, and True, when a result was
            handed over or the worker stops (the wait should then end).
        beat: ``beat(job_key)`` refreshes the claim of the job in the slot.
        beat_every: seconds between two such heartbeats.
    """

    def __init__(
        self,
        decide: Callable[[list[tuple[dict[str, Any], dict[str, Any]]]], Any],
        wait: Callable[[Callable[[float], bool]], None],
        beat: Callable[[str], None],
        beat_every: float,
    ) -> None:
        self._decide, self._wait, self._beat, self._beat_every = decide, wait, beat, beat_every
        self._cond = threading.Condition()
        self._slot: Any = None
        self._results: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self._error: BaseException | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="ato-hyperopt-planner", daemon=True)

    def start(self) -> None:
        """Start deciding the first job."""
        self._thread.start()

    # -- the main thread -------------------------------------------------------------------
    def take(self, interrupted: Callable[[], bool]) -> Any:
        """The next job (or ``STOP``), waiting for the planner; None once ``interrupted()``.

        Raises:
            BaseException: whatever stopped the planner (a database error, a
                ``SearchSettingError`` of the replay).
        """
        with self._cond:
            while self._slot is None and self._error is None:
                if interrupted():
                    return None
                self._cond.wait(_LOOK_S)
            if self._error is not None:
                raise self._error
            step, self._slot = self._slot, None
            self._cond.notify_all()  # the planner decides the next one
            return step

    def done(self, job: dict[str, Any], result: dict[str, Any]) -> None:
        """Hand over ``job``'s result; the next decision records it."""
        with self._cond:
            self._results.append((job, result))
            self._cond.notify_all()

    def close(self) -> tuple[dict[str, Any] | None, list[tuple[dict[str, Any], dict[str, Any]]]]:
        """Stop the planner (after its decision in progress) and return the claimed job left
        in the slot (to put back in the queue) and the results not recorded yet."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join()
        slot = self._slot if isinstance(self._slot, dict) else None
        self._slot = None
        results, self._results = self._results, []
        return slot, results

    # -- the planner thread ----------------------------------------------------------------
    def _run(self) -> None:
        try:
            while self._slot_taken():
                with self._cond:
                    results = list(self._results)
                step = self._decide(results)
                with self._cond:
                    del self._results[: len(results)]
                if step == WAIT:
                    self._wait(self._pause)
                    continue
                with self._cond:
                    self._slot = step
                    self._cond.notify_all()
                if step == STOP:
                    return
        except BaseException as exc:  # handed to the main thread, which raises it
            with self._cond:
                self._error = exc
                self._cond.notify_all()

    def _slot_taken(self) -> bool:
        """Wait until the main thread took the slot's job (heartbeating it meanwhile); False
        when the worker stops."""
        with self._cond:
            while self._slot is not None and not self._stopping:
                if not self._cond.wait(self._beat_every) and isinstance(self._slot, dict):
                    key = self._slot["job_key"]
                    self._cond.release()
                    try:
                        self._beat(key)
                    finally:
                        self._cond.acquire()
            return not self._stopping

    def _pause(self, seconds: float) -> bool:
        """Pause up to ``seconds``; True (at once) when a waiting planner should decide
        again now: a result was handed over, or the worker stops."""
        with self._cond:
            if not (self._stopping or self._results):
                self._cond.wait(seconds)
            return self._stopping or bool(self._results)
