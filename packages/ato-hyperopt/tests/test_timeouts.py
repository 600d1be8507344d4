"""Per-trial ``trial_timeout`` and whole-search ``timeout`` of a Search (issue 15, item 9;
issue 29, item 3: no exception is delivered asynchronously into a trial's library calls).

Every test is bounded: hanging trials are given limits of a fraction of a second, so a
regression (a limit that never fires) shows up as a failure after at most a few seconds; and
a deadlocked test ends the whole pytest process with every thread's traceback (``GUARD_S``)
instead of hanging CI.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import threading
import time
from typing import Any

import pytest

from ato.adict import ADict
from ato.hyperopt import (
    ASHASchedule,
    GridSampler,
    Search,
    SearchInterrupted,
    SearchSettingError,
    SuccessiveHalvingSchedule,
    TrialTimeout,
    check_trial_time,
    current_logger,
)

X = {"x": dict(param_type="INTEGER", param_range=(0, 5), num_samples=6)}
HANG_S = 3.0  # longer than any limit below; a test that waits this long has failed its point
GUARD_S = 120.0  # a test still running after this is deadlocked: dump tracebacks (shown with
# pytest -s; pytest's capture hides them otherwise) and end the process with status 1


@pytest.fixture(autouse=True)
def _deadlock_guard():
    faulthandler.dump_traceback_later(GUARD_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def _search(schedule: Any = None, **options: Any) -> Search:
    return Search(
        ADict(x=0),
        X,
        sampler=GridSampler(),
        schedule=schedule or SuccessiveHalvingSchedule(0.5, 2, max_budget=4),
        progress=False,
        **options,
    )


def _errors(result: ADict) -> dict[int, str]:
    return {e.x: e.__error__ for log in result.logs for e in log if "__error__" in e}


def _hang_sleeping(config: Any) -> None:
    time.sleep(HANG_S)


def _hang_busy(config: Any) -> None:
    end = time.monotonic() + HANG_S
    while time.monotonic() < end:
        pass


def _hang_swallowing(config: Any) -> None:
    end = time.monotonic() + HANG_S
    while time.monotonic() < end:
        try:
            time.sleep(0.01)
        except BaseException:  # a trial that ignores every interruption ...
            return  # ... and returns a number anyway


def _hang_at_4(hang: Any, **options: Any) -> ADict:
    """The result of a search with ``trial_timeout=0.2`` whose trial x=4 calls ``hang``,
    checked to end well before the hang would."""
    search = _search(trial_timeout=0.2, **options)

    @search.main
    def trial(config):
        if config.x == 4:
            hang(config)
        return float(config.x)

    started = time.monotonic()
    result = trial()
    assert time.monotonic() - started < HANG_S  # one timeout of 0.2 s, not the hang
    return result


@pytest.mark.parametrize("hang", [_hang_sleeping, _hang_busy, _hang_swallowing])
def test_a_hanging_trial_is_stopped_recorded_as_timeout_and_the_search_goes_on(hang) -> None:
    result = _hang_at_4(hang)
    errors = _errors(result)
    assert list(errors) == [4] and errors[4].startswith("TrialTimeout: ")
    assert "trial_timeout=0.2 s" in errors[4]
    assert result.config.x == 5 and result.metric == 5.0 and not result.timed_out
    assert sum(len(log) for log in result.logs) == 6 + 3 + 1  # every other trial ran


@pytest.mark.parametrize(("sleep_s", "limit_s"), [(0.0, 0.05), (0.05, 0.5), (0.3, 1.0)])
def test_trials_finishing_under_the_limit_are_untouched(sleep_s: float, limit_s: float) -> None:
    search = _search(trial_timeout=limit_s)

    @search.main
    def trial(config):
        time.sleep(sleep_s if config.x == 5 else 0.0)
        return float(config.x)

    result = trial()
    assert _errors(result) == {}
    assert result.config.x == 5 and result.metric == 5.0


def test_a_timeout_is_never_fatal_even_with_on_error_raise() -> None:
    search = _search(trial_timeout=0.1, on_error="raise")

    @search.main
    def trial(config):
        if config.x == 0:
            time.sleep(HANG_S)
        return float(config.x)

    assert trial().config.x == 5


def test_a_timed_out_trial_run_is_failed_with_a_timeout_metric_in_the_tracker(
    fake_logger,
) -> None:
    search = _search(trial_timeout=0.2, tracker=fake_logger, search_id="t1")

    @search.main
    def trial(config):
        if config.x in (1, 3):
            time.sleep(HANG_S)
        return float(config.x)

    result = trial()
    runs = fake_logger.runs
    timed_out = [e.__run_id__ for log in result.logs for e in log if "__error__" in e]
    assert len(timed_out) == 2
    for run_id in timed_out:
        assert runs[run_id]["status"] == "failed"
        assert runs[run_id]["metrics"] == [("timeout", 0.2, 0)]
    assert all(r["status"] != "running" for r in runs.values())
    assert sum(r["status"] == "completed" for r in runs.values()) == len(runs) - 2


def test_the_callers_sigalrm_handler_is_restored_and_no_alarm_is_left() -> None:
    calls: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: calls.append(signum))
    try:
        search = _search(trial_timeout=0.5)
        search.main(lambda config: float(config.x))()
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL
        signal.raise_signal(signal.SIGALRM)
        assert calls == [signal.SIGALRM]
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_trial_timeout_works_outside_the_main_thread() -> None:
    results: list[ADict] = []

    def run() -> None:
        search = _search(trial_timeout=0.2)

        @search.main
        def trial(config):
            if config.x == 2:
                time.sleep(HANG_S)
            return float(config.x)

        results.append(trial())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(HANG_S)
    assert not thread.is_alive() and len(results) == 1
    assert list(_errors(results[0])) == [2] and results[0].config.x == 5


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan"), "10", True])
@pytest.mark.parametrize("name", ["trial_timeout", "timeout"])
def test_timeouts_must_be_positive_finite_seconds(name: str, bad: Any) -> None:
    with pytest.raises(SearchSettingError, match=name):
        _search(**{name: bad})


def test_trial_timeout_is_a_base_exception_like_keyboard_interrupt() -> None:
    assert issubclass(TrialTimeout, BaseException) and not issubclass(TrialTimeout, Exception)


# -- whole-search timeout -------------------------------------------------------------------
def test_no_trial_starts_after_the_search_timeout_and_the_best_so_far_is_returned() -> None:
    search = _search(timeout=0.25)
    ran: list[tuple[int, int]] = []

    @search.main
    def trial(config):
        ran.append((config.x, config.__num_halved__))
        time.sleep(0.1)
        return float(10 - config.x)

    started = time.monotonic()
    result = trial()
    assert time.monotonic() - started < 0.25 + 0.1 + 0.15  # the deadline plus one trial
    assert 2 <= len(ran) <= 4 and all(rung == 0 for _, rung in ran)
    assert result.timed_out
    assert result.config.x == 0 and result.metric == 10.0  # best of those run, no re-run
    assert [e.x for log in result.logs for e in log] == [x for x, _ in ran]
    assert all("__error__" not in e for log in result.logs for e in log)


def test_the_best_so_far_prefers_the_highest_rung_reached() -> None:
    search = _search(SuccessiveHalvingSchedule(0.5, 2, max_budget=4), timeout=0.2)

    @search.main
    def trial(config):
        if config.__num_halved__ == 1:
            time.sleep(0.25)  # the first promoted trial runs past the deadline
        return float(config.x) + 100 * config.__num_halved__

    result = trial()
    assert result.timed_out
    assert result.config.__num_halved__ == 1 and result.metric == 105.0
    assert [len(log) for log in result.logs] == [6, 1]


def test_the_search_timeout_stops_asha_and_at_least_one_trial_runs() -> None:
    search = Search(
        ADict(x=0),
        X,
        sampler=GridSampler(),
        schedule=ASHASchedule(max_budget=9, reduction_factor=3, max_trials=6),
        progress=False,
        timeout=0.01,
    )
    ran: list[int] = []

    @search.main
    def trial(config):
        ran.append(config.x)
        time.sleep(0.05)
        return float(config.x)

    result = trial()
    assert ran == [0] and result.timed_out and result.config.x == 0


def test_without_a_timeout_the_search_is_not_marked_timed_out() -> None:
    result = _search(timeout=30.0).main(lambda config: float(config.x))()
    assert result.timed_out is False and result.config.x == 5
    assert sum(len(log) for log in result.logs) == 6 + 3 + 1


# -- whole-search timeout on several ranks (simulated by threads) ---------------------------
class _ThreadExecutor:
    """Two ranks as threads: the collectives a synchronous Search uses."""

    def __init__(self, rank: int, group: dict[str, Any]) -> None:
        self.rank, self.world_size, self.is_root = rank, group["size"], rank == 0
        self._group = group

    def shard(self, num_items: int) -> range:
        return range(self.rank, num_items, self.world_size)

    def all_gather_object(self, obj: Any) -> list[Any]:
        barrier, slots = self._group["barrier"], self._group["slots"]
        barrier.wait()
        slots[self.rank] = obj
        barrier.wait()
        gathered = list(slots)
        barrier.wait()
        return gathered

    def broadcast_object_from_root(self, obj: Any) -> Any:
        return self.all_gather_object(obj)[0]


def test_ranks_whose_clocks_disagree_stop_after_the_same_rung_with_the_same_answer() -> None:
    group = {"size": 2, "barrier": threading.Barrier(2), "slots": [None, None]}
    results: dict[int, Any] = {}

    def rank_main(rank: int) -> None:
        search = Search(
            ADict(x=0),
            X,
            sampler=GridSampler(),
            schedule=SuccessiveHalvingSchedule(0.5, 2, max_budget=4),
            executor=_ThreadExecutor(rank, group),
            progress=False,
            timeout=0.15,
        )

        @search.main
        def trial(config):
            if rank == 1:
                time.sleep(0.1)  # only rank 1 reaches the deadline inside rung 0
            return float(config.x)

        try:
            results[rank] = trial()
        except BaseException as exc:
            results[rank] = exc

    threads = [threading.Thread(target=rank_main, args=(r,)) for r in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert all(isinstance(r, ADict) for r in results.values()), results
    assert results[0].timed_out and results[1].timed_out
    assert results[0].config == results[1].config and results[0].metric == results[1].metric
    ran = [e.x for e in results[0].logs[0]]
    assert len(results[0].logs) == 1 and 4 <= len(ran) < 6  # rank 1 skipped its last job
    assert results[0].config.x == max(ran)


# -- stopping a trial never leaves a lock held (issue 29, item 3) ----------------------------
class _LockingLogger:
    """A logger whose ``log_metric`` holds its lock across an interruptible wait and releases
    it without ``try/finally``, as ``threading.Event.set()`` and C extensions do: an exception
    raised into that window leaves the lock held, and closing the run then blocks on it. Only
    the trial's own ``loss`` calls wait."""

    def __init__(self, fake_logger: Any, block_s: float) -> None:
        self.fake, self.block_s = fake_logger, block_s
        self.lock = threading.Lock()

    def run(self, tags: list[str] | None = None, config: Any = None) -> int:
        return self.fake.run(tags, config)

    def log_metric(self, key: str, value: float, step: int) -> None:
        self.lock.acquire()
        time.sleep(self.block_s if key == "loss" else 0.0)
        self.fake.log_metric(key, value, step)
        self.lock.release()

    def finish(self, status: str = "completed") -> None:
        with self.lock:
            self.fake.finish(status)


def _log_in_a_tight_loop(config: Any) -> None:
    end = time.monotonic() + HANG_S
    while time.monotonic() < end:
        current_logger().log_metric("loss", 1.0, 0)


def _log_ignoring_the_flag(config: Any) -> None:
    end = time.monotonic() + HANG_S
    while time.monotonic() < end:
        try:
            check_trial_time()
            current_logger().log_metric("loss", 1.0, 0)
        except BaseException:  # a trial that ignores its stop flag
            time.sleep(0.001)


def _wait_holding_a_lock(config: Any) -> None:
    lock = threading.Lock()
    with lock:
        threading.Event().wait(HANG_S)


@pytest.mark.parametrize(
    ("hang", "block_s"),
    [
        (_log_in_a_tight_loop, 0.01),  # inside the logger's locked window most of the time
        (_log_in_a_tight_loop, 1.0),  # blocked in a lock-holding call past the limit
        (_log_ignoring_the_flag, 0.001),
        (_hang_sleeping, 0.0),
        (_wait_holding_a_lock, 0.0),
    ],
)
def test_a_stopped_trial_leaves_no_lock_held_its_run_is_failed_and_the_search_goes_on(
    fake_logger, hang, block_s: float
) -> None:
    tracker = _LockingLogger(fake_logger, block_s)
    result = _hang_at_4(hang, tracker=tracker)
    assert result.config.x == 5 and sum(len(log) for log in result.logs) == 6 + 3 + 1
    (stopped,) = [e.__run_id__ for log in result.logs for e in log if "__error__" in e]
    _join_trial_threads()  # an abandoned trial has ended: its later calls are all in
    runs = fake_logger.runs
    assert runs[stopped]["status"] == "failed"
    assert runs[stopped]["metrics"][-1] == ("timeout", 0.2, 0)
    assert all(r["status"] == "completed" for i, r in runs.items() if i != stopped)
    assert all(m[0] != "loss" for i, r in runs.items() if i != stopped for m in r["metrics"])
    assert not tracker.lock.locked()


def _join_trial_threads() -> None:
    for thread in threading.enumerate():
        if thread.name == "ato-hyperopt-trial":
            thread.join(HANG_S)


@pytest.mark.parametrize("checks", ["check_trial_time", "current_logger"])
def test_a_cooperative_trial_stops_at_its_next_check_and_unwinds(fake_logger, checks) -> None:
    unwound: list[int] = []
    search = _search(trial_timeout=0.2, tracker=fake_logger)

    @search.main
    def trial(config):
        try:
            while config.x == 1:
                if checks == "check_trial_time":
                    check_trial_time()
                else:
                    current_logger().log_metric("loss", 1.0, 0)
        finally:
            unwound.append(config.x)
        return float(config.x)

    result = trial()
    assert list(_errors(result)) == [1] and 1 in unwound
    assert not [t for t in threading.enumerate() if t.name == "ato-hyperopt-trial"]


def test_check_trial_time_is_a_no_op_outside_a_time_limited_trial() -> None:
    check_trial_time()
    result = _search().main(lambda config: check_trial_time() or float(config.x))()
    assert result.config.x == 5 and _errors(result) == {}


def _sigterm_to_the_process() -> None:
    os.kill(os.getpid(), signal.SIGTERM)  # as SLURM or Kubernetes send it


@pytest.mark.parametrize("block_s", [0.01, 1.0])
def test_sigterm_while_a_time_limited_trial_logs_ends_the_search_and_closes_its_run(
    fake_logger, block_s: float
) -> None:
    tracker = _LockingLogger(fake_logger, block_s)
    search = _search(trial_timeout=HANG_S * 10, tracker=tracker)

    @search.main
    def trial(config):
        if config.x == 2:
            threading.Timer(0.3, _sigterm_to_the_process).start()
            _log_in_a_tight_loop(config)
        return float(config.x)

    started = time.monotonic()
    with pytest.raises(SearchInterrupted):
        trial()
    assert time.monotonic() - started < HANG_S
    _join_trial_threads()
    interrupted = [r for r in fake_logger.runs.values() if r["config"].x == 2]
    assert [r["status"] for r in interrupted] == ["killed"]
    assert all(r["status"] != "running" for r in fake_logger.runs.values())
    assert not tracker.lock.locked()
