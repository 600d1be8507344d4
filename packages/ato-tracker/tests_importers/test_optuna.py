"""``from_optuna`` / ``ato import optuna`` on studies made by Optuna itself."""

from __future__ import annotations

import io
from datetime import timezone
from pathlib import Path
from typing import Any

import optuna
import pytest
from stored import points, row_counts, stored_runs

from ato.tracker.cli import main
from ato.tracker.importers import ImportSourceError, from_optuna
from ato.tracker.importers import target as target_module

optuna.logging.set_verbosity(optuna.logging.ERROR)
STUDY = "lr-search"


def _objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -3.0, 3.0)
    trial.suggest_int("layers", 1, 4)
    trial.suggest_categorical("act", ["relu", "gelu"])
    for step in range(4):
        trial.report(x * x + 1.0 / (step + 1), step * 10)
    if trial.number % 4 == 1:
        raise optuna.TrialPruned()
    if trial.number % 4 == 2:
        raise RuntimeError("diverged")
    return x * x


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An Optuna SQLite storage with completed, pruned and failed trials and one running."""
    url = f"sqlite:///{tmp_path_factory.mktemp('optuna') / 'optuna.db'}"
    study = optuna.create_study(study_name=STUDY, storage=url, direction="minimize")
    study.optimize(_objective, n_trials=8, catch=(RuntimeError,))
    study.ask()  # left running
    optuna.create_study(study_name="pareto", storage=url, directions=["minimize", "maximize"])
    return url


def _utc(moment: Any) -> Any:
    return moment.astimezone(timezone.utc)


def test_every_trial_value_step_and_time_round_trips(db_url: str, storage: str) -> None:
    report = from_optuna(storage, STUDY, db_url)
    trials = optuna.load_study(study_name=STUDY, storage=storage).trials
    finished = [t for t in trials if t.state != optuna.trial.TrialState.RUNNING]
    runs = {int(r.provenance["import"]["trial"]): r for r in stored_runs(db_url, STUDY)}
    assert (report.runs, len(runs)) == (len(finished), len(finished))
    assert report.skipped == [(f"optuna:{STUDY}/8", "trial 8 is running, not finished")]
    for trial in finished:
        run = runs[trial.number]
        moment = _utc(trial.datetime_complete)
        expected = [("value", v, s, moment) for s, v in sorted(trial.intermediate_values.items())]
        if trial.value is not None:
            expected.append(("search/value", trial.value, None, moment))
        assert points(run) == expected
        assert dict(run.config) == trial.params
        assert (run.start_time, run.end_time) == (_utc(trial.datetime_start), moment)
        assert run.tags[:4] == [
            f"search:{STUDY}",
            f"trial:{trial.number}",
            "mode:min",
            "metric_key:value",
        ]
        state = trial.state.name
        assert run.status == {"COMPLETE": "completed", "PRUNED": "pruned"}.get(state, "failed")
        assert ("pruned" in run.tags) == (state == "PRUNED")
    assert report.metrics == sum(len(points(r)) for r in runs.values())


def test_importing_again_imports_nothing_twice(db_url: str, storage: str) -> None:
    first = from_optuna(storage, STUDY, db_url, project="p")
    counts = row_counts(db_url)
    again = from_optuna(storage, STUDY, db_url, project="p")
    assert (again.runs, again.metrics) == (0, 0)
    assert len(again.skipped) == first.runs + 1
    assert row_counts(db_url) == counts


def test_an_interrupted_import_is_finished_by_running_it_again(
    db_url: str, storage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uninterrupted = from_optuna(storage, STUDY, f"sqlite:///{tmp_path / 'reference.db'}")
    write = target_module.ImportTarget._write_metrics
    calls = []

    def interrupted(self: Any, logger: Any, values: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        write(self, logger, values)

    monkeypatch.setattr(target_module.ImportTarget, "_write_metrics", interrupted)
    with pytest.raises(KeyboardInterrupt):
        from_optuna(storage, STUDY, db_url)
    assert row_counts(db_url)[1] == 3  # two complete runs, one incomplete
    monkeypatch.undo()
    resumed = from_optuna(storage, STUDY, db_url)
    runs = stored_runs(db_url, STUDY)
    assert resumed.runs == 6
    assert sorted(int(r.provenance["import"]["trial"]) for r in runs) == list(range(8))
    assert all(r.provenance["import"]["complete"] for r in runs)
    assert row_counts(db_url)[2] == uninterrupted.metrics


@pytest.mark.parametrize(
    ("study", "storage_of", "message"),
    [
        ("nope", lambda s: s, "no Optuna study named 'nope'"),
        (STUDY, lambda s: "sqlite:////nonexistent/optuna.db", "does not exist"),
        (STUDY, lambda s: "notadialect://x/y", "cannot open the Optuna storage"),
        ("pareto", lambda s: s, "2 objectives"),
    ],
)
def test_a_bad_source_gives_one_error_and_leaves_the_database_unchanged(
    db_url: str, storage: str, study: str, storage_of: Any, message: str
) -> None:
    from_optuna(storage, STUDY, db_url, project="before")
    counts = row_counts(db_url)
    with pytest.raises(ImportSourceError, match=message):
        from_optuna(storage_of(storage), study, db_url)
    assert row_counts(db_url) == counts


def test_a_non_optuna_sqlite_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    other.write_text("not a database")
    target = f"sqlite:///{tmp_path / 'tracker.db'}"
    with pytest.raises(ImportSourceError, match="cannot open the Optuna storage"):
        from_optuna(f"sqlite:///{other}", STUDY, target)
    assert not (tmp_path / "tracker.db").exists()


def test_cli_reports_counts_and_fails_cleanly(storage: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    out = io.StringIO()
    args = ["import", "optuna", "--storage", storage, "--study", STUDY, "--db", db]
    assert main(args, stdout=out) == 0
    assert out.getvalue().startswith("optuna: 8 runs, ")
    assert "skipped optuna:lr-search/8: trial 8 is running" in out.getvalue()
    assert main([*args[:5], "missing", "--db", db], stdout=io.StringIO()) == 2
