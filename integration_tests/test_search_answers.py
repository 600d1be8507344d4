"""A search's answer in a real tracker database (SQLite, PostgreSQL, MariaDB; issue 21): the
answer is the run that already holds it (no run is added for it) and carries the ``final``
tag; the ranked value lives under ``search/<metric_key>`` while a trial's own ``val/acc`` stays
one clean curve; a failed top budget is never the answer; a resumed search trains each (trial,
budget) once; a second process resuming the same search is refused (issue 29 item 12)."""

from __future__ import annotations

import math
import pathlib
import subprocess
import sys
import textwrap
import time
import uuid
from collections import Counter
from typing import Any

import pytest

from ato.adict import ADict
from ato.hyperopt import (
    HyperbandSchedule,
    RandomSampler,
    Search,
    SuccessiveHalvingSchedule,
    current_logger,
    trial_context,
)
from ato.tracker import SQLFinder, SQLLogger

KEY = "val/acc"
SPACES = {"lr": dict(param_type="FLOAT", param_range=(1e-4, 1e-1), space_type="LOG")}


def _config(db_url: str) -> ADict:
    project = f"answers-{uuid.uuid4().hex[:10]}"
    return ADict(lr=0.1, experiment=ADict(project_name=project, sql=ADict(db_path=db_url)))


def _runs(config: ADict, search_id: str) -> list[Any]:
    finder = SQLFinder(config)
    runs = finder.get_runs_in_project(config.experiment.project_name)
    return sorted((r for r in runs if f"search:{search_id}" in r.tags), key=lambda r: r.id)


def _tags(run: Any) -> dict[str, str]:
    return dict(tag.split(":", 1) for tag in run.tags if ":" in tag)


def _rule(runs: list[Any], key: str) -> int:
    """The answer rule, read from the database: the best completed value at the largest budget
    any completed run reached; ties to the lower trial, then the lower run id."""
    done = []
    for run in runs:
        values = [m.value for m in run.metrics if m.key == key]
        if run.status == "completed" and values and math.isfinite(values[-1]):
            tags = _tags(run)
            done.append((float(tags["budget"]), values[-1], int(tags["trial"]), run.id))
    top = max(budget for budget, *_ in done)
    return min((d for d in done if d[0] == top), key=lambda d: (-d[1], d[2], d[3]))[3]


def _train(calls: list[tuple[int, Any]] | None = None, stop_at: int = -1, fail: Any = None):
    """Logs its own ``val/acc`` per epoch and returns the last; raises at budget ``fail``."""

    def train(config: Any) -> float:
        ctx = trial_context()
        if calls is not None and len(calls) == stop_at:
            raise KeyboardInterrupt
        if ctx.budget == fail and ctx.trial_id % 2:
            raise RuntimeError("diverged at the top budget")
        value = 0.0
        for epoch in range(ctx.previous_budget or 0, ctx.budget):
            value = 1 - abs(math.log10(config.lr) + 2) / 4 - 0.5 / (epoch + 1)
            current_logger().log_metric(KEY, value, epoch)
        if calls is not None:
            calls.append((ctx.trial_id, ctx.budget))
        return value

    return train


def _search(config: ADict, tracker: Any, **options: Any) -> Search:
    return Search(
        config,
        SPACES,
        sampler=RandomSampler(seed=4),
        schedule=options.pop("schedule", None) or HyperbandSchedule(9, 3),
        tracker=tracker,
        metric_key=KEY,
        progress=False,
        **options,
    )


@pytest.mark.parametrize("tracker_kind", ["factory", "instance"])
def test_the_answer_is_the_run_holding_it_and_the_users_curve_stays_clean(
    db_url: str, tracker_kind: str, tmp_path
) -> None:
    config = _config(db_url)
    tracker = SQLLogger if tracker_kind == "factory" else SQLLogger(config)
    search = _search(config, tracker, search_id="a", checkpoint_root=tmp_path)
    result = search.main(_train(fail=9))()
    runs = _runs(config, "a")
    assert len(runs) == sum(len(log) for log in result.logs)  # no run added for the answer
    for run in runs:
        tags = _tags(run)
        assert (tags["mode"], tags["metric_key"]) == ("max", KEY) and "bracket" in tags
        own = [(m.step, m.value) for m in run.metrics if m.key == KEY]
        ranked = [(m.step, m.value) for m in run.metrics if m.key == "search/" + KEY]
        steps = [step for step, _ in own]
        first = steps[0] if steps else 0
        assert steps == list(range(first, first + len(steps)))  # one curve, epoch by epoch
        if run.status == "completed":
            assert ranked == [(int(tags["rung"]), own[-1][1])]
        else:
            assert run.status == "failed" and ranked == [] and tags["budget"] == "9"
    assert result.run_id == _rule(runs, "search/" + KEY) and result.budget == 9
    answer = next(r for r in runs if r.id == result.run_id)
    assert answer.status == "completed" and _tags(answer)["trial"] == str(result.trial_id)
    tagged = [r.id for r in runs if "final" in r.tags]
    assert tagged == [result.run_id]


@pytest.mark.parametrize(
    ("make_schedule", "stop_at"),
    [
        (lambda: HyperbandSchedule(9, 3), 10),
        (lambda: SuccessiveHalvingSchedule(1 / 3, 1, num_configs=9, max_budget=9), 11),
    ],
)
def test_a_resumed_search_trains_each_trial_budget_once(
    db_url: str, make_schedule: Any, stop_at: int, tmp_path, capsys
) -> None:
    config = _config(db_url)
    reference: list[tuple[int, Any]] = []
    want = _search(config, SQLLogger, schedule=make_schedule(), search_id="ref").main(
        _train(reference)
    )()
    calls: list[tuple[int, Any]] = []
    cut = _search(config, SQLLogger, schedule=make_schedule(), search_id="cut")
    with pytest.raises(KeyboardInterrupt):
        cut.main(_train(calls, stop_at=stop_at))()
    assert "search_id='cut', resume=True" in capsys.readouterr().err
    resumed = _search(config, SQLLogger, schedule=make_schedule(), search_id="cut", resume=True)
    got = resumed.main(_train(calls))()
    assert Counter(calls) == Counter(reference) and set(Counter(calls).values()) == {1}
    assert (got.trial_id, got.budget, got.metric) == (want.trial_id, want.budget, want.metric)
    runs = _runs(config, "cut")
    assert got.run_id == _rule(runs, "search/" + KEY)
    assert [r.status for r in runs].count("killed") == 1
    assert [r.id for r in runs if "final" in r.tags] == [got.run_id]


RESUMER = textwrap.dedent(
    """
    import pathlib, sys, time
    from ato.adict import ADict
    from ato.hyperopt import HyperbandSchedule, RandomSampler, Search
    from ato.tracker import SQLLogger

    url, project, root, folder = sys.argv[1], sys.argv[2], sys.argv[3], pathlib.Path(sys.argv[4])
    config = ADict(lr=0.1, experiment=ADict(project_name=project, sql=ADict(db_path=url)))
    search = Search(
        config,
        {"lr": {"param_type": "FLOAT", "param_range": (1e-4, 1e-1), "space_type": "LOG"}},
        sampler=RandomSampler(seed=0), schedule=HyperbandSchedule(3, 3), tracker=SQLLogger,
        search_id="twin", resume=sys.argv[5] == "resume", checkpoint_root=root, progress=False,
    )

    def train(config):
        (folder / "started").touch()
        while not (folder / "go").exists():
            time.sleep(0.01)
        return config.lr

    print(search.main(train)().run_id)
    """
)


def test_a_second_process_resuming_the_same_search_is_refused(db_url: str, tmp_path) -> None:
    config = _config(db_url)
    project = config.experiment.project_name

    def start(name: str, mode: str) -> tuple[subprocess.Popen[str], pathlib.Path]:
        folder = tmp_path / name
        folder.mkdir()
        args = [RESUMER, db_url, project, str(tmp_path / "ckpt"), str(folder), mode]
        proc = subprocess.Popen(
            [sys.executable, "-c", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        return proc, folder

    first, first_dir = start("first", "run")
    for _ in range(30_000):  # a bound, not a timing: the child touches the file in its trial
        if (first_dir / "started").exists() or first.poll() is not None:
            break
        time.sleep(0.01)
    assert (first_dir / "started").exists(), first.communicate()
    second, second_dir = start("second", "resume")
    (second_dir / "go").touch()
    _, err = second.communicate(timeout=300)
    assert second.returncode != 0 and not (second_dir / "started").exists()
    assert f"search 'twin' is running in process {first.pid}" in err
    (first_dir / "go").touch()
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    runs = _runs(config, "twin")
    assert int(out.split()[-1]) in {r.id for r in runs}
    assert all(r.status == "completed" for r in runs)  # the refused process opened no run


def _two_objectives(calls: list[tuple[int, Any]] | None = None, stop_at: int = -1):
    """Loss falls with lr near 1e-2 and with budget, cost grows with lr; constraint lr <= 0.05."""

    def train(config: Any) -> dict[str, float]:
        ctx = trial_context()
        if calls is not None and len(calls) == stop_at:
            raise KeyboardInterrupt
        if calls is not None:
            calls.append((ctx.trial_id, ctx.budget))
        loss = abs(math.log10(config.lr) + 2) + 1 / ctx.budget
        return {"loss": loss, "cost": config.lr * 100, "over": config.lr - 0.05}

    return train


def _two_objective_search(config: ADict, tmp_path: pathlib.Path, **options: Any) -> Search:
    return Search(
        config,
        SPACES,
        sampler=RandomSampler(seed=4),
        schedule=HyperbandSchedule(9, 3),
        tracker=SQLLogger(config),
        mode={"loss": "min", "cost": "min"},
        constraint_keys=["over"],
        progress=False,
        checkpoint_root=tmp_path,
        **options,
    )


def test_a_multi_objective_search_and_the_tracker_agree_on_the_front(
    db_url: str, tmp_path: pathlib.Path
) -> None:
    config = _config(db_url)
    result = _two_objective_search(config, tmp_path, search_id="mo").main(_two_objectives())()
    answer = SQLFinder(config).find_search_answer("mo")
    assert [e.run_id for e in answer.front] == [m.run_id for m in result.front]
    assert answer.run_id == result.run_id and answer.budget == 9 == result.budget
    assert [e.values for e in answer.front] == [
        (m.metric.loss, m.metric.cost, m.metric.over) for m in result.front
    ]
    assert all(m.metric.over <= 0 for m in result.front)
    tagged = [r.id for r in _runs(config, "mo") if "final" in r.tags]
    assert tagged == [result.run_id]


def test_a_resumed_multi_objective_search_reads_every_value_back(
    db_url: str, tmp_path: pathlib.Path
) -> None:
    config = _config(db_url)
    reference = _two_objective_search(ADict(config), tmp_path / "ref").main(_two_objectives())()
    calls: list[tuple[int, Any]] = []
    with pytest.raises(KeyboardInterrupt):
        _two_objective_search(config, tmp_path, search_id="mo-r").main(
            _two_objectives(calls, stop_at=12)
        )()
    resumed_calls: list[tuple[int, Any]] = []
    resumed = _two_objective_search(config, tmp_path, search_id="mo-r", resume=True).main(
        _two_objectives(resumed_calls)
    )()
    assert not set(calls) & set(resumed_calls)
    assert [(m.trial_id, m.metric) for m in resumed.front] == [
        (m.trial_id, m.metric) for m in reference.front
    ]
