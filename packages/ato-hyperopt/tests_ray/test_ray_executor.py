"""RayExecutor against a real local Ray (``ray.init(num_cpus=2)``) and a real tracker database:
every evaluation runs in a Ray worker process, opens its own run there, and the search takes
the same decisions (and answer) as in one process."""

from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import sys
import threading
import time
from typing import Any

import pytest
import ray

from ato.adict import ADict
from ato.hyperopt import (
    ASHASchedule,
    HyperbandSchedule,
    RandomSampler,
    RayExecutor,
    Search,
    SearchInterrupted,
    SearchSettingError,
    SuccessiveHalvingSchedule,
    current_logger,
    trial_context,
)
from ato.tracker import SQLFinder, SQLLogger

# The trial functions below travel to Ray's workers by value: this module is not importable
# there (pytest imports it from its own folder).
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

SPACE = {"lr": {"param_type": "FLOAT", "param_range": (0.0, 1.0)}}


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Any:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def score(config: Any) -> float:
    """A deterministic metric that grows with the budget; logs one extra metric per trial and
    records where it ran."""
    ctx = trial_context()
    logger = current_logger()
    if logger is not None:
        logger.log_metric("pid", float(os.getpid()), ctx.rung)
    time.sleep(0.05)
    return -((config.lr - 0.3) ** 2) + 0.01 * float(config.__budget__)


def broken(config: Any) -> float:
    if config.lr > 0.5:
        raise ValueError(f"lr {config.lr:.3f} too large")
    return float(config.lr)


def _search(tmp_path: pathlib.Path, schedule: Any, **options: Any) -> Search:
    return Search(
        ADict(lr=0.0),
        SPACE,
        sampler=RandomSampler(seed=7),
        schedule=schedule,
        checkpoint_root=tmp_path / "searches",
        progress=False,
        **options,
    )


def _asha() -> ASHASchedule:
    return ASHASchedule(max_budget=4, reduction_factor=2, min_budget=1, max_trials=8)


def _tracker(url: str) -> Any:
    return lambda config: SQLLogger.from_url(url, "ray-search")


def _without_run_id(entry: ADict) -> ADict:
    return ADict({k: v for k, v in entry.items() if k != "__run_id__"})


def _finished_runs(url: str, search_id: str) -> list[Any]:
    runs = SQLFinder(url).get_search_runs(search_id)
    assert {run.status for run in runs} == {"completed"}
    return runs


def _pids(url: str, runs: list[Any]) -> set[int]:
    finder = SQLFinder(url)
    return {int(finder.get_metric_series(run.id, "pid").points[0].value) for run in runs}


def test_hyperband_on_ray_takes_the_decisions_of_one_process(tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    alone = _search(tmp_path, HyperbandSchedule(4, 2, 1), search_id="alone").main(score)()
    on_ray = _search(
        tmp_path,
        HyperbandSchedule(4, 2, 1),
        search_id="on-ray",
        tracker=_tracker(url),
        executor=RayExecutor(max_concurrent=2),
    ).main(score)()

    # a synchronous schedule decides the same at any speed
    assert [[_without_run_id(e) for e in rung] for rung in on_ray.logs] == alone.logs
    assert (on_ray.config.lr, on_ray.metric, on_ray.budget) == (
        alone.config.lr,
        alone.metric,
        alone.budget,
    )
    runs = _finished_runs(url, "on-ray")
    assert len(runs) == sum(len(rung) for rung in on_ray.logs)
    assert os.getpid() not in _pids(url, runs)  # every evaluation ran in a Ray worker
    assert on_ray.run_id in {run.id for run in runs}


def test_asha_on_ray_runs_every_trial_and_answers_by_the_rule(tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    result = _search(
        tmp_path,
        _asha(),
        search_id="asha-ray",
        tracker=_tracker(url),
        executor=RayExecutor(max_concurrent=2),
    ).main(score)()

    entries = [entry for rung in result.logs for entry in rung]
    assert sum(entry.__num_halved__ == 0 for entry in entries) == 8  # max_trials
    top = max(entry.__budget__ for entry in entries)
    best = max(entries, key=lambda e: (e.__budget__ == top, e.__metric__))
    assert (result.config.lr, result.metric, result.budget) == (best.lr, best.__metric__, top)
    runs = _finished_runs(url, "asha-ray")
    assert len(runs) == len(entries)
    assert os.getpid() not in _pids(url, runs)


def test_a_rung_batch_runs_its_jobs_at_once(tmp_path: pathlib.Path) -> None:
    def slow(config: Any) -> float:
        time.sleep(1.0)
        return float(config.lr)

    schedule = SuccessiveHalvingSchedule(reduction_factor=4, num_configs=4)
    started = time.monotonic()
    result = _search(tmp_path, schedule, executor=RayExecutor(max_concurrent=2)).main(slow)()
    elapsed = time.monotonic() - started

    assert [len(rung) for rung in result.logs] == [4, 1]
    assert result.config.lr == max(entry.lr for entry in result.logs[0])
    assert elapsed < 4.5  # 5 jobs of 1 s, 2 at a time: 3 s plus Ray's overhead, not 5 s


def test_a_failing_trial_is_recorded_and_the_search_goes_on(tmp_path: pathlib.Path) -> None:
    schedule = SuccessiveHalvingSchedule(reduction_factor=8, num_configs=8)
    result = _search(tmp_path, schedule, executor=RayExecutor(max_concurrent=2)).main(broken)()

    entries = result.logs[0]
    failed = [e for e in entries if "__error__" in e]
    assert len(failed) == sum(e.lr > 0.5 for e in entries) > 0
    assert all(e.__error__.startswith("ValueError: lr ") for e in failed)
    assert result.config.lr == max(e.lr for e in entries if e.lr <= 0.5)


def test_on_error_raise_raises_the_trial_s_own_exception(tmp_path: pathlib.Path) -> None:
    schedule = SuccessiveHalvingSchedule(reduction_factor=8, num_configs=8)
    search = _search(tmp_path, schedule, executor=RayExecutor(max_concurrent=2), on_error="raise")
    with pytest.raises(ValueError, match="too large"):
        search.main(broken)()


def test_a_logger_object_as_tracker_is_refused(tmp_path: pathlib.Path) -> None:
    logger = SQLLogger.from_url(f"sqlite:///{tmp_path / 'runs.db'}", "ray-search")
    search = _search(tmp_path, _asha(), tracker=logger, executor=RayExecutor(max_concurrent=1))
    with pytest.raises(SearchSettingError, match="logger factory"):
        search.main(score)()


def test_a_trial_argument_that_cannot_be_pickled_is_refused(tmp_path: pathlib.Path) -> None:
    search = _search(tmp_path, _asha(), executor=RayExecutor(max_concurrent=1))
    with pytest.raises(SearchSettingError, match="cannot be sent to a Ray task"):
        search.main(lambda config, lock: 1.0)(threading.Lock())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_concurrent": 0}, "max_concurrent must be a positive int, got 0"),
        ({"max_concurrent": 1.5}, "max_concurrent must be a positive int, got 1.5"),
        ({"num_cpus": 0}, "each task needs some resource"),
        ({"max_retries": -1}, "max_retries must be an int >= 0, got -1"),
        ({"cancel_grace": -1.0}, "cancel_grace must be seconds >= 0, got -1.0"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SearchSettingError, match=message):
        RayExecutor(**kwargs)


def test_concurrency_defaults_to_the_cluster_cpus_per_task() -> None:
    assert RayExecutor().concurrency() == 2
    assert RayExecutor(num_cpus=2).concurrency() == 1
    assert RayExecutor(max_concurrent=5).concurrency() == 5


def _stopped_by_sigterm(tmp_path: pathlib.Path, trial: Any, search_id: str) -> list[str]:
    """Run a search of two trials (both running at once) that calls ``trial``, send the
    driver SIGTERM once both opened their runs, and return the runs' statuses as the search
    left them (when SearchInterrupted reached the caller)."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    schedule = SuccessiveHalvingSchedule(reduction_factor=2, num_configs=2)
    search = _search(
        tmp_path,
        schedule,
        search_id=search_id,
        tracker=_tracker(url),
        executor=RayExecutor(max_concurrent=2, cancel_grace=1.0),
    )
    finder = SQLFinder(url)

    def stop_when_both_run() -> None:
        while True:  # pytest's own timeout bounds a search that never starts both
            runs = finder.get_search_runs(search_id) if (tmp_path / "runs.db").exists() else []
            if len(runs) == 2 and all(
                finder.get_metric_series(r.id, "started").total for r in runs
            ):
                break
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=stop_when_both_run, daemon=True).start()
    with pytest.raises(SearchInterrupted, match="SIGTERM"):
        search.main(trial)()
    return [run.status for run in finder.get_search_runs(search_id)]


def test_sigterm_in_the_driver_cancels_running_tasks_and_closes_their_runs(
    tmp_path: pathlib.Path,
) -> None:
    def steps(config: Any) -> float:
        current_logger().log_metric("started", 1.0, 0)
        for _ in range(4000):  # 200 s of Python steps: Ray's cancel lands between two
            time.sleep(0.05)
        return float(config.lr)

    # each run closed 'killed' when the search stops: by its task (the cancel landed within
    # cancel_grace) or by the driver (the task was cancelled by force), whatever the load
    assert _stopped_by_sigterm(tmp_path, steps, "stopped") == ["killed", "killed"]


def test_a_task_deaf_to_the_cancel_is_killed_and_its_run_closed_by_the_driver(
    tmp_path: pathlib.Path,
) -> None:
    def deaf(config: Any) -> float:
        current_logger().log_metric("started", 1.0, 0)
        while True:  # swallows Ray's cancel (KeyboardInterrupt), as a stuck C call would
            with contextlib.suppress(KeyboardInterrupt):
                time.sleep(0.05)

    assert _stopped_by_sigterm(tmp_path, deaf, "deaf") == ["killed", "killed"]
