"""``SQLLogger.run(config=...)``: one logger records many trials, each with its own config."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from ato.adict import ADict
from ato.tracker import RunStateError, SQLFinder, SQLLogger, TrackerConfigError, structural_hash


@dataclasses.dataclass
class Trial:
    lr: float
    depth: int


def test_each_run_stores_the_config_it_was_given(make_config):
    logger = SQLLogger(make_config(lr=0.5))
    ids = []
    for trial in (ADict(lr=0.1, depth=2), {"lr": 0.01, "depth": 3}, Trial(lr=0.001, depth=4)):
        ids.append(logger.run(tags=["trial"], config=trial))
        logger.log_metric("acc", 0.5, 0)
        logger.finish()

    runs = SQLFinder(logger.config).find_runs(ids)
    assert [run.config.to_dict() for run in runs] == [
        {"lr": 0.1, "depth": 2},
        {"lr": 0.01, "depth": 3},
        {"lr": 0.001, "depth": 4},
    ]
    assert {run.project_name for run in runs} == {"proj"}
    assert len({run.structural_hash for run in runs}) == 1
    assert runs[0].structural_hash == structural_hash({"lr": 0.1, "depth": 2})
    assert [r.id for r in SQLFinder(logger.config).find_similar_runs(run_id=ids[0])] == ids[1:]


def test_without_config_the_loggers_own_config_is_stored(make_config):
    logger = SQLLogger(make_config(lr=0.5))
    run_id = logger.run(config=None)
    logger.finish()
    config = SQLFinder(logger.config).find_run(run_id).config
    assert config.lr == 0.5 and config.experiment.project_name == "proj"


def test_start_run_passes_the_config_on(make_config):
    logger = SQLLogger(make_config())
    with logger.start_run(tags=["ctx"], config={"batch": 32}) as run:
        run.log_metric("loss", 1.0, 0)
    found = SQLFinder(logger.config).find_run(run.id)
    assert found.config.to_dict() == {"batch": 32} and found.tags == ["ctx"]
    assert found.status == "completed"


def test_a_trial_config_with_a_database_url_has_its_password_hidden(make_config):
    logger = SQLLogger(make_config())
    trial = {"experiment": {"sql": {"db_path": "postgresql://user:secret@host/db"}}, "lr": 1}
    run_id = logger.run(config=trial)
    logger.finish()
    stored = SQLFinder(logger.config).find_run(run_id).config
    assert stored.experiment.sql.db_path == "postgresql://user:***@host/db"
    assert trial["experiment"]["sql"]["db_path"].endswith("secret@host/db")  # caller's copy kept


def test_run_with_config_still_refuses_a_second_active_run(make_config):
    logger = SQLLogger(make_config())
    logger.run(config={"a": 1})
    with pytest.raises(RunStateError):
        logger.run(config={"a": 2})
    logger.finish()


def test_run_signature_advertises_config_for_callers_that_probe_it(make_config):
    # ato-hyperopt passes config= only when the signature of run() has that parameter.
    params = inspect.signature(SQLLogger(make_config()).run).parameters
    assert list(params) == ["tags", "config", "start_time"]
    assert params["start_time"].kind is inspect.Parameter.KEYWORD_ONLY  # for importers only


def test_update_config_adds_keys_to_the_started_run_and_rehashes_it(make_config):
    logger = SQLLogger(make_config())
    run_id = logger.run(config={"lr": 0.1, "model": {"depth": 2}})
    stored = logger.update_config({"model": {"depth": 3, "width": 8}, "seed": 7})
    logger.finish()
    expected = {"lr": 0.1, "model": {"depth": 3, "width": 8}, "seed": 7}
    assert stored == expected
    run = SQLFinder(logger.config).find_run(run_id)
    assert run.config.to_dict() == expected
    assert run.structural_hash == structural_hash(expected)


def test_update_config_takes_dataclasses_and_also_works_after_finish(make_config):
    logger = SQLLogger(make_config())
    run_id = logger.run(config={})
    logger.finish()
    logger.update_config(Trial(lr=0.5, depth=1))
    assert SQLFinder(logger.config).find_run(run_id).config.to_dict() == {"lr": 0.5, "depth": 1}


def test_update_config_hides_a_database_password(make_config):
    logger = SQLLogger(make_config())
    run_id = logger.run(config={})
    logger.update_config({"experiment": {"sql": {"db_path": "postgresql://u:s3cret@h/db"}}})
    logger.finish()
    config = SQLFinder(logger.config).find_run(run_id).config
    assert config.experiment.sql.db_path == "postgresql://u:***@h/db"


def test_update_config_needs_a_run_and_a_mapping(make_config):
    logger = SQLLogger(make_config())
    with pytest.raises(RunStateError, match=r"update_config\(\) needs a run"):
        logger.update_config({"lr": 0.1})
    logger.run(config={})
    with pytest.raises(TrackerConfigError, match=r"update_config takes a mapping.*got list"):
        logger.update_config([1, 2])
    logger.finish()
