"""ato.tracker.integrations.optuna.AtoCallback on studies Optuna itself runs."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import optuna
import pytest

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.cli import main
from ato.tracker.importers import ImportSourceError, from_optuna
from ato.tracker.importers.optuna_study import trial_tags
from ato.tracker.integrations.optuna import AtoCallback

optuna.logging.set_verbosity(optuna.logging.ERROR)
STUDY = "cb-search"
STATUS = {"COMPLETE": "completed", "PRUNED": "pruned", "FAIL": "failed"}


def _objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -3.0, 3.0)
    trial.suggest_categorical("act", ["relu", "gelu"])
    for step in range(3):
        trial.report(x * x + 1.0 / (step + 1), step * 10)
    if trial.number % 4 == 1:
        trial.report(-1.0, 30)  # Optuna keeps it as the pruned trial's value: the lowest
        raise optuna.TrialPruned()
    if trial.number % 4 == 2:
        raise RuntimeError("diverged")
    return x * x + 1.0


def _study(callback: AtoCallback, n_trials: int = 8, **kwargs: Any) -> optuna.Study:
    study = optuna.create_study(
        study_name=STUDY, sampler=optuna.samplers.RandomSampler(seed=1), **kwargs
    )
    study.optimize(_objective, n_trials=n_trials, callbacks=[callback], catch=(RuntimeError,))
    return study


def _runs(url: str) -> dict[int, Any]:
    runs = SQLFinder(url).get_runs_in_project(STUDY)
    return {int(run.provenance["import"]["trial"]): run for run in runs}


def test_each_finished_trial_is_a_run_with_its_params_values_state_and_tags(db_url: str) -> None:
    study = _study(AtoCallback(db_url))
    runs = _runs(db_url)
    assert sorted(runs) == list(range(8))
    for trial in study.trials:
        run = runs[trial.number]
        assert run.config.to_dict() == trial.params
        assert run.status == STATUS[trial.state.name]
        assert run.tags == trial_tags(STUDY, trial.number, "min", "value") + (
            ["pruned"] if trial.state.name == "PRUNED" else []
        )
        series = [(m.step, m.value) for m in run.metrics if m.key == "value"]
        assert series == sorted(trial.intermediate_values.items())
        values = [(m.step, m.value) for m in run.metrics if m.key == "search/value"]
        assert values == ([] if trial.value is None else [(None, trial.value)])
        assert run.start_time.timestamp() == pytest.approx(
            trial.datetime_start.timestamp(), abs=1e-3
        )


def test_the_search_answer_is_optuna_s_best_trial_not_a_pruned_one(db_url: str) -> None:
    study = _study(AtoCallback(db_url))
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert min(t.value for t in pruned) < study.best_value  # a pruned value would win
    answer = SQLFinder(db_url).find_search_answer(STUDY)
    assert answer.trial == str(study.best_trial.number)
    assert answer.value == study.best_value
    assert answer.run_id == _runs(db_url)[study.best_trial.number].id


def test_ato_runs_best_search_names_the_best_trial(sqlite_url: str) -> None:
    study = _study(AtoCallback(sqlite_url))
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["runs", "best", "--db", sqlite_url, "--search", STUDY, "--json"])
    assert code in (0, None)
    shown = json.loads(out.getvalue())
    assert shown["run"]["id"] == _runs(sqlite_url)[study.best_trial.number].id
    assert (shown["search"]["trial"], shown["value"]) == (
        str(study.best_trial.number),
        study.best_value,
    )


def test_a_maximised_study_with_a_named_metric(sqlite_url: str) -> None:
    callback = AtoCallback(sqlite_url, project="p", metric_key="val/acc")
    study = optuna.create_study(study_name=STUDY, direction="maximize")
    study.optimize(
        lambda t: -((t.suggest_float("x", -1, 1) - 0.2) ** 2), n_trials=4, callbacks=[callback]
    )
    runs = SQLFinder(sqlite_url).get_search_runs(STUDY)
    assert [r.tags[2:] for r in runs] == [["mode:max", "metric_key:val/acc"]] * 4
    answer = SQLFinder(sqlite_url).find_search_answer(STUDY)
    assert (answer.key, answer.value) == ("search/val/acc", study.best_value)
    assert callback.report.runs == 4


def test_several_objectives_log_each_value(sqlite_url: str) -> None:
    study = optuna.create_study(study_name=STUDY, directions=["minimize", "maximize"])
    study.set_metric_names(["loss", "acc"])
    study.optimize(
        lambda t: (t.suggest_float("x", 0, 1), 1 - t.suggest_float("y", 0, 1)),
        n_trials=3,
        callbacks=[AtoCallback(sqlite_url)],
    )
    finder = SQLFinder(sqlite_url)
    for trial, listed in zip(study.trials, finder.get_search_runs(STUDY), strict=True):
        run = finder.find_run(listed.id)
        assert [(m.key, m.value) for m in run.metrics] == [
            ("search/loss", trial.values[0]),
            ("search/acc", trial.values[1]),
        ]
        assert run.tags[2:] == ["mode:min", "metric_key:loss"]


def test_a_wrong_number_of_metric_keys_is_refused(sqlite_url: str) -> None:
    study = optuna.create_study(directions=["minimize", "maximize"])
    with pytest.raises(ImportSourceError, match=r"names 1 key.*2 objective"):
        study.optimize(
            lambda t: (0.0, 1.0), n_trials=1, callbacks=[AtoCallback(sqlite_url, metric_key="loss")]
        )


def test_importing_the_study_afterwards_adds_nothing_twice(sqlite_url: str, tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    _study(AtoCallback(SQLLogger.from_url(sqlite_url, STUDY)), n_trials=5, storage=storage)
    optuna.load_study(study_name=STUDY, storage=storage).optimize(
        _objective, n_trials=1, catch=(RuntimeError,)
    )  # one trial without the callback
    report = from_optuna(storage, STUDY, sqlite_url, show_progress=False)
    assert (report.runs, len(report.skipped)) == (1, 5)
    assert sorted(_runs(sqlite_url)) == list(range(6))
