"""A search's life around its trials (issue 21, issue 29 item 12): resume trains no finished
evaluation again, one process at a time per search id (a lock file, stale-lock aware), trial
checkpoints deleted when the search ends (``keep_checkpoints``) or later
(``remove_old_searches``), one printed line per rung off a terminal, and Ctrl-C without a long
traceback."""

from __future__ import annotations

import json
import math
import os
import pathlib
import socket
import subprocess
import sys
import textwrap
import time
from collections import Counter
from typing import Any

import pytest
from helpers import FakeLogger, FakeStream, lr_search, quality

from ato.hyperopt import (
    ASHASchedule,
    HyperbandSchedule,
    Search,
    SearchLockedError,
    SearchSettingError,
    SuccessiveHalvingSchedule,
    remove_old_searches,
    trial_context,
)
from ato.hyperopt.lock import LOCK_NAME, SearchLock


def _search(schedule: Any, **options: Any) -> Search:
    return lr_search(schedule, seed=5, **options)


# -- resume ---------------------------------------------------------------------------------
def _train(done: list[tuple[int, Any]], stop_after: int = -1) -> Any:
    def train(config: Any) -> float:
        if len(done) == stop_after:
            raise KeyboardInterrupt  # mid-bracket, inside a trial
        metric = quality(config)
        done.append((config.__trial_id__, config.__budget__))  # a finished evaluation
        return metric

    return train


@pytest.mark.parametrize(
    ("make_schedule", "stop_after"),
    [
        (lambda: HyperbandSchedule(27, 3), 5),  # rung 0 of the first bracket
        (lambda: HyperbandSchedule(27, 3), 30),  # rung 1 of the first bracket
        (lambda: HyperbandSchedule(27, 3), 60),  # a later bracket
        (lambda: SuccessiveHalvingSchedule(1 / 3, 1, num_configs=27, max_budget=27), 38),
        (lambda: ASHASchedule(27, 3, max_trials=20), 22),
    ],
)
def test_resume_trains_every_evaluation_exactly_once(make_schedule: Any, stop_after: int) -> None:
    reference: list[tuple[int, Any]] = []
    answer = _search(make_schedule()).main(_train(reference))()
    assert set(Counter(reference).values()) == {1}  # uninterrupted: once each

    logger, done = FakeLogger(), []
    with pytest.raises(KeyboardInterrupt):
        _search(make_schedule(), tracker=logger, search_id="cut").main(_train(done, stop_after))()
    assert len(done) == stop_after
    resumed = _search(make_schedule(), tracker=logger, search_id="cut", resume=True).main(
        _train(done)
    )()
    assert Counter(done) == Counter(reference)  # each (trial, budget) exactly once in all
    assert (resumed.trial_id, resumed.budget, resumed.metric) == (
        answer.trial_id,
        answer.budget,
        answer.metric,
    )


# -- one process per search -----------------------------------------------------------------
def test_a_second_holder_of_the_same_search_is_refused_while_the_first_runs(tmp_path) -> None:
    first = SearchLock(tmp_path / "s1")
    first.acquire()
    with pytest.raises(SearchLockedError, match=rf"running in process {os.getpid()} .*delete"):
        SearchLock(tmp_path / "s1").acquire()
    search = _search(HyperbandSchedule(3, 3), search_id="s1", checkpoint_root=tmp_path)
    with pytest.raises(SearchLockedError, match="search 's1' is running in process"):
        search.main(quality)()
    first.release()
    assert not (tmp_path / "s1").exists()  # the lock made the folder, and removed it
    assert search.main(quality)().search_id == "s1"


def test_a_checkpoint_root_that_cannot_hold_a_lock_warns_and_the_search_runs(
    tmp_path, caplog
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    search = _search(HyperbandSchedule(3, 3), search_id="ro", checkpoint_root=blocker / "ckpt")
    assert search.main(quality)().budget == 3
    assert "could not lock search ro" in caplog.text


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize(
    ("owner", "taken"),
    [
        (lambda: f"{_dead_pid()} {socket.gethostname()}", True),  # its process is gone
        (lambda: f"{os.getpid()} {socket.gethostname()}", False),  # alive
        (lambda: f"{_dead_pid()} another-host", False),  # cannot be checked from here
    ],
)
def test_a_stale_lock_is_taken_and_a_live_or_foreign_one_is_not(tmp_path, owner, taken) -> None:
    folder = tmp_path / "s2"
    folder.mkdir()
    (folder / LOCK_NAME).write_text(owner() + "\n")
    lock = SearchLock(folder)
    if taken:
        lock.acquire()
        assert (folder / LOCK_NAME).read_text().split()[0] == str(os.getpid())
        lock.release()
        assert not (folder / LOCK_NAME).exists() and sorted(folder.iterdir()) == []
    else:
        with pytest.raises(SearchLockedError, match="delete the lock file"):
            lock.acquire()


RUNNER = textwrap.dedent(
    """
    import pathlib, sys, time
    from ato.adict import ADict
    from ato.hyperopt import HyperbandSchedule, RandomSampler, Search

    root, folder, resume = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3] == "resume"

    class Tracker:  # resumable, and knows no finished run
        def run(self, tags=None):
            return 1
        def log_metric(self, key, value, step):
            pass
        def finish(self, status="completed"):
            pass
        def search_runs(self, search_id):
            return []

    search = Search(
        ADict(lr=0.1),
        {"lr": {"param_type": "FLOAT", "param_range": (1e-4, 1e-1), "space_type": "LOG"}},
        sampler=RandomSampler(seed=0), schedule=HyperbandSchedule(3, 3), tracker=Tracker(),
        search_id="twin", resume=resume, checkpoint_root=root, progress=False,
    )

    def train(config):
        (folder / "started").touch()
        while not (folder / "go").exists():
            time.sleep(0.01)
        return config.lr

    search.main(train)()
    print("finished")
    """
)


def _runner(tmp_path: pathlib.Path, name: str, mode: str) -> tuple[subprocess.Popen[str], Any]:
    folder = tmp_path / name
    folder.mkdir()
    args = [sys.executable, "-c", RUNNER, str(tmp_path / "ckpt"), str(folder), mode]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, folder


def _wait_for(path: pathlib.Path, proc: subprocess.Popen[str]) -> None:
    for _ in range(12_000):  # a bound, not a timing: the child touches the file when it trains
        if path.exists() or proc.poll() is not None:
            break
        time.sleep(0.01)
    assert path.exists(), proc.communicate()


def test_the_same_search_resumed_from_two_processes_refuses_the_second(tmp_path) -> None:
    first, first_dir = _runner(tmp_path, "a", "run")
    _wait_for(first_dir / "started", first)
    second, second_dir = _runner(tmp_path, "b", "resume")
    (second_dir / "go").touch()
    _, err = second.communicate(timeout=300)
    assert second.returncode != 0 and not (second_dir / "started").exists()
    assert f"SearchLockedError: search 'twin' is running in process {first.pid}" in err
    assert "several processes at once, give each executor=DatabaseExecutor(" in err
    (first_dir / "go").touch()
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0 and "finished" in out, err

    third, third_dir = _runner(tmp_path, "c", "resume")  # the first ended: the lock is free
    (third_dir / "go").touch()
    out, err = third.communicate(timeout=300)
    assert third.returncode == 0 and "finished" in out, err


def test_a_search_killed_with_sigkill_leaves_a_stale_lock_that_a_resume_takes(tmp_path) -> None:
    killed, killed_dir = _runner(tmp_path, "a", "run")
    _wait_for(killed_dir / "started", killed)
    killed.kill()
    killed.communicate(timeout=300)
    assert (tmp_path / "ckpt" / "twin" / LOCK_NAME).read_text().split()[0] == str(killed.pid)
    resumed, resumed_dir = _runner(tmp_path, "b", "resume")
    (resumed_dir / "go").touch()
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0 and "finished" in out, err
    assert not (tmp_path / "ckpt" / "twin" / LOCK_NAME).exists()


# -- trial checkpoints ------------------------------------------------------------------------
def _saving(config: Any) -> float:
    ctx = trial_context()
    (ctx.checkpoint_dir / "model.json").write_text(json.dumps({"epochs": ctx.budget}))
    return quality(config)


def _folders(root: pathlib.Path, search_id: str) -> set[str]:
    return {p.name for p in (root / search_id).iterdir()} if (root / search_id).exists() else set()


@pytest.mark.parametrize(
    ("make_schedule", "keep"),
    [
        (lambda: HyperbandSchedule(27, 3), None),  # the default: the answer's folder only
        (lambda: HyperbandSchedule(27, 3), 3),
        (lambda: SuccessiveHalvingSchedule(0.5, 2, num_configs=8, max_budget=8), 2),
        (lambda: ASHASchedule(9, 3, max_trials=12), 1),
        (lambda: HyperbandSchedule(9, 3), 0),
    ],
)
def test_the_search_keeps_the_checkpoints_of_its_best_trials_only(
    tmp_path, make_schedule: Any, keep: int | None
) -> None:
    options = {} if keep is None else {"keep_checkpoints": keep}
    search = _search(make_schedule(), search_id="k", checkpoint_root=tmp_path, **options)
    result = search.main(_saving)()
    best: dict[int, tuple[float, float]] = {}
    for entry in (e for log in result.logs for e in log):
        key = (-entry.__budget__, -entry.__metric__)
        best[entry.__trial_id__] = min(best.get(entry.__trial_id__, key), key)
    ranked = sorted(best, key=lambda t: (best[t], t))
    expected = {f"trial-{t}" for t in ranked[: 1 if keep is None else keep]}
    assert ranked[0] == result.trial_id
    assert _folders(tmp_path, "k") == expected


def test_keep_all_and_an_interrupted_search_delete_nothing(tmp_path) -> None:
    result = _search(
        HyperbandSchedule(9, 3), search_id="all", checkpoint_root=tmp_path, keep_checkpoints="all"
    ).main(_saving)()
    trials = {e.__trial_id__ for log in result.logs for e in log}
    assert _folders(tmp_path, "all") == {f"trial-{t}" for t in trials}

    def interrupted(config: Any) -> float:
        if config.__trial_id__ == 6:
            raise KeyboardInterrupt
        return _saving(config)

    with pytest.raises(KeyboardInterrupt):
        _search(HyperbandSchedule(9, 3), search_id="cut", checkpoint_root=tmp_path).main(
            interrupted
        )()
    assert _folders(tmp_path, "cut") == {f"trial-{t}" for t in range(6)}  # kept for resume


@pytest.mark.parametrize("bad", [-1, 1.5, "some", True, None])
def test_a_bad_keep_checkpoints_is_refused(bad: Any) -> None:
    with pytest.raises(SearchSettingError, match="keep_checkpoints must be an int >= 0"):
        _search(HyperbandSchedule(9, 3), keep_checkpoints=bad)


def test_old_search_folders_are_removed_and_running_or_recent_ones_kept(tmp_path) -> None:
    day = 86400
    for name, age in (("old", 30), ("older", 90), ("recent", 1), ("running", 90)):
        trial = tmp_path / name / "trial-0"
        trial.mkdir(parents=True)
        (trial / "model.bin").write_bytes(b"x")
        when = time.time() - age * day
        for path in (trial / "model.bin", trial, tmp_path / name):
            os.utime(path, (when, when))
    lock = SearchLock(tmp_path / "running")
    lock.acquire()
    when = time.time() - 90 * day
    os.utime(lock.path, (when, when))
    try:
        listed = remove_old_searches(tmp_path, older_than_days=7, dry_run=True)
        assert [p.name for p in listed] == ["old", "older"] and (tmp_path / "old").exists()
        removed = remove_old_searches(tmp_path, older_than_days=7)
        assert [p.name for p in removed] == ["old", "older"]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["recent", "running"]
        assert [p.name for p in remove_old_searches(tmp_path, older_than_days=0)] == ["recent"]
    finally:
        lock.release()
    assert remove_old_searches(tmp_path / "missing", older_than_days=1) == []


@pytest.mark.parametrize("bad", [-1, math.inf, math.nan, "7", None])
def test_remove_old_searches_needs_an_age_in_days(tmp_path, bad: Any) -> None:
    with pytest.raises(SearchSettingError, match="older_than_days must be a finite number"):
        remove_old_searches(tmp_path, older_than_days=bad)


# -- visible off a terminal -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make_schedule", "progress_lines"),
    [
        (lambda: HyperbandSchedule(9, 3), 3 + 2 + 1),  # one per rung of brackets 2, 1, 0
        (lambda: SuccessiveHalvingSchedule(0.5, 2, num_configs=8, max_budget=8), 4),
        (lambda: ASHASchedule(9, 3, max_trials=12), 3),  # one per rung reached
    ],
)
def test_off_a_terminal_each_rung_and_the_end_print_a_line(
    monkeypatch, make_schedule: Any, progress_lines: int
) -> None:
    stream = FakeStream(is_tty=False)
    monkeypatch.setattr(sys, "stdout", stream)
    result = _search(make_schedule(), search_id="p", progress=None).main(quality)()
    lines = stream.text.splitlines()
    assert len(lines) == progress_lines + 1 and all(
        line.startswith("ato.hyperopt: ") for line in lines
    )
    assert lines[0].startswith("ato.hyperopt: bracket ")
    assert lines[-1].startswith(
        f"ato.hyperopt: search p done: answer trial {result.trial_id} at budget {result.budget}"
    )


@pytest.mark.parametrize(("is_tty", "progress"), [(True, None), (False, False)])
def test_on_a_terminal_or_with_progress_false_nothing_is_printed(
    monkeypatch, is_tty: bool, progress: Any
) -> None:
    stream = FakeStream(is_tty=is_tty)
    monkeypatch.setattr(sys, "stdout", stream)
    _search(HyperbandSchedule(9, 3), progress=progress).main(quality)()
    assert stream.text == ""


CTRL_C = textwrap.dedent(
    """
    import os, signal
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
    from ato.adict import ADict
    from ato.hyperopt import HyperbandSchedule, RandomSampler, Search

    def train(config):
        if config.__trial_id__ == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return config.lr

    search = Search(
        ADict(lr=0.1),
        {"lr": {"param_type": "FLOAT", "param_range": (1e-4, 1e-1), "space_type": "LOG"}},
        sampler=RandomSampler(seed=0), schedule=HyperbandSchedule(9, 3),
        search_id="cc", checkpoint_root=%r, progress=False,
    )
    search.main(train)()
    """
)


@pytest.mark.parametrize("tracker", [False, True])
def test_ctrl_c_prints_the_resume_hint_without_a_long_traceback(tmp_path, tracker: bool) -> None:
    script = CTRL_C % str(tmp_path)
    if tracker:
        script = script.replace(
            "search_id=",
            "tracker=type('T', (), {'run': lambda s, tags=None: 1, "
            "'log_metric': lambda s, k, v, st: None, 'finish': lambda s, status='': None})(), "
            "search_id=",
        )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "ato.hyperopt: search cc interrupted" in proc.stderr
    assert proc.stderr.rstrip().endswith(
        "SearchInterrupted: search cc stopped: received signal SIGINT"
    )
    frames = [line for line in proc.stderr.splitlines() if line.lstrip().startswith("File ")]
    assert len(frames) <= 3 and not any("trials.py" in f or "targets.py" in f for f in frames)
