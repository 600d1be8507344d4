"""The heartbeat thread of a shared-search worker (ato.hyperopt.beats): one thread for the
worker's life beats the claim of the job that runs, none between jobs, and a failed beat
does not stop the next."""

from __future__ import annotations

import threading

from ato.hyperopt.beats import ClaimBeats


def test_one_thread_beats_the_running_job_and_survives_a_failed_beat() -> None:
    beaten: list[str] = []
    twice = threading.Event()

    def beat(key: str) -> None:
        beaten.append(key)
        if len(beaten) == 1:
            raise ConnectionError("a missed beat")
        twice.set()

    beats = ClaimBeats(beat, 0.001)
    with beats.running("trial-0/rung-0"):
        assert twice.wait(30)
    done = len(beaten)
    with beats.running("trial-1/rung-0"):
        pass
    beats.close()
    assert set(beaten[:done]) == {"trial-0/rung-0"}
    assert set(beaten[done:]) <= {"trial-1/rung-0"}
    names = [t.name for t in threading.enumerate()]
    assert "ato-hyperopt-heartbeat" not in names  # closed


def test_no_beat_between_jobs() -> None:
    beaten: list[str] = []
    beats = ClaimBeats(beaten.append, 0.001)
    with beats.running("trial-0/rung-0"):
        pass
    thread = beats._thread
    assert thread is not None
    count = len(beaten)
    for _ in range(3):  # the thread wakes without a running job: no beat
        with beats._cond:
            beats._cond.notify_all()
    beats.close()
    assert len(beaten) == count and not thread.is_alive()
