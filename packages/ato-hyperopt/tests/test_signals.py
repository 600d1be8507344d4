"""Ctrl-C and SIGTERM during a search are never raised into the trial (see
``ato.hyperopt.interrupts``): a trial, or a library inside it, that swallows
``KeyboardInterrupt`` (scikit-learn's ``partial_fit`` does) still stops the search, its run is
closed ``killed``, nothing completes after the signal, and a resume trains no finished
evaluation again. Each case is a child process that receives a real signal."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import pytest

TESTS = pathlib.Path(__file__).parent

CHILD = textwrap.dedent(
    """
    import itertools, json, pathlib, signal, sys, time, warnings
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
    from helpers import FakeLogger, lr_search, quality
    from ato.hyperopt import HyperbandSchedule, current_logger

    folder, kind, resume = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "resume"
    store = folder / "runs.json"

    class FileLogger(FakeLogger):
        # FakeLogger whose runs outlive the process (what a resumed search reads back)
        def __init__(self):
            super().__init__()
            if store.exists():
                self.runs = {int(k): v for k, v in json.loads(store.read_text()).items()}
            FakeLogger._ids = itertools.count(max(self.runs, default=0) + 1)

        def _open(self, tags, config):
            return super()._open(tags, None)

        def finish(self, status="completed"):
            super().finish(status)
            store.write_text(json.dumps(self.runs))

    def library_step():  # swallows Ctrl-C as sklearn's MLPClassifier.partial_fit does
        try:
            time.sleep(0.01)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user")

    def released():
        return (folder / "release").exists()

    def train(config):
        if config.__trial_id__ == 3 and not resume:
            (folder / "started").touch()
            if kind == "swallow":
                try:
                    while not released():
                        time.sleep(0.01)
                except KeyboardInterrupt:
                    pass
            elif kind == "logs":
                for epoch in itertools.count():
                    library_step()
                    current_logger().log_metric("loss", 1.0 / (epoch + 1), epoch)
                    if released():
                        break
            else:  # "silent": never reaches a cooperative check
                while True:
                    time.sleep(0.01)
            return quality(config)  # a cut-short score, not a finished evaluation
        with (folder / ("resumed" if resume else "trained")).open("a") as out:
            out.write(f"{config.__trial_id__},{config.__budget__}\\n")
        return quality(config)

    search = lr_search(
        HyperbandSchedule(9, 3), tracker=FileLogger(), search_id="sig",
        checkpoint_root=folder / "ckpt", resume=resume,
    )
    search.main(train)()
    print("finished")
    """
)


def _child(
    folder: pathlib.Path, kind: str, mode: str
) -> tuple[subprocess.Popen[str], pathlib.Path]:
    err = folder / f"{mode}.err"
    args = [sys.executable, "-c", CHILD, str(folder), kind, mode]
    paths = [str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}  # the child imports helpers
    with err.open("w") as stream:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stream, text=True, env=env)
    return proc, err


def _wait(ready: object, proc: subprocess.Popen[str]) -> None:
    for _ in range(12_000):  # a bound, not a timing: the child writes what is waited for
        if ready() or proc.poll() is not None:  # type: ignore[operator]
            return
        time.sleep(0.01)


def _pairs(path: pathlib.Path) -> set[tuple[int, int]]:
    lines = path.read_text().split() if path.exists() else []
    return {(int(t), int(b)) for t, b in (line.split(",") for line in lines)}


@pytest.mark.parametrize(
    ("kind", "signum"),
    [
        ("swallow", signal.SIGINT),  # the trial catches KeyboardInterrupt and returns a score
        ("logs", signal.SIGINT),  # a library inside swallows it; the trial logs every epoch
        ("silent", signal.SIGINT),  # no cooperative check: the second Ctrl-C stops it
        ("logs", signal.SIGTERM),
        ("swallow", signal.SIGTERM),
    ],
)
def test_a_signal_stops_the_search_even_when_the_trial_swallows_it(
    tmp_path: pathlib.Path, kind: str, signum: signal.Signals
) -> None:
    name = signal.Signals(signum).name
    proc, err = _child(tmp_path, kind, "run")
    _wait((tmp_path / "started").exists, proc)
    proc.send_signal(signum)
    _wait(lambda: f"{name} received" in err.read_text(), proc)
    if kind == "silent":
        proc.send_signal(signum)
    (tmp_path / "release").touch()
    out, _ = proc.communicate(timeout=120)
    stderr = err.read_text()

    assert proc.returncode != 0 and "finished" not in out, stderr
    assert f"ato.hyperopt: {name} received" in stderr
    assert "search_id='sig', resume=True" in stderr
    assert stderr.rstrip().splitlines()[-1].startswith("ato.hyperopt.errors.SearchInterrupted")
    runs = {int(k): v for k, v in json.loads((tmp_path / "runs.json").read_text()).items()}
    killed = [i for i, r in runs.items() if r["status"] == "killed"]
    assert len(killed) == 1 and "trial:3" in runs[killed[0]]["tags"]
    assert max(runs) == killed[0]  # no evaluation ran, let alone completed, after the signal
    assert all(r["status"] == "completed" for i, r in runs.items() if i != killed[0])
    trained = _pairs(tmp_path / "trained")
    assert (3, 1) not in trained

    resumed, resumed_err = _child(tmp_path, kind, "resume")
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0 and "finished" in out, resumed_err.read_text()
    again = _pairs(tmp_path / "resumed")
    assert (3, 1) in again and not trained & again
