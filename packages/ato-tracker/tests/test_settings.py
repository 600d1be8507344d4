from __future__ import annotations

import dataclasses

import pytest

from ato.adict import ADict
from ato.tracker import SQLLogger, TrackerConfigError
from ato.tracker.storage.database import normalize_url
from ato.tracker.storage.settings import DEFAULT_DB_URL, read_settings


def test_missing_project_name_shows_expected_shape():
    with pytest.raises(TrackerConfigError, match=r"experiment\.project_name") as info:
        SQLLogger(ADict(experiment=ADict(sql=ADict(db_path="sqlite://"))))
    assert isinstance(info.value, ValueError)
    assert "project_name: my_project" in str(info.value)


def test_missing_experiment_section():
    with pytest.raises(TrackerConfigError, match="'experiment'"):
        read_settings({"model": {}}, need_project=False)


def test_wrong_types_are_reported():
    with pytest.raises(TrackerConfigError, match="project_name"):
        read_settings({"experiment": {"project_name": 3}}, need_project=True)
    with pytest.raises(TrackerConfigError, match="db_path"):
        read_settings(
            {"experiment": {"project_name": "p", "sql": {"db_path": 3}}}, need_project=True
        )


def test_default_url_and_project():
    settings = read_settings({"experiment": {"project_name": "p"}}, need_project=True)
    assert (settings.db_url, settings.project_name) == (DEFAULT_DB_URL, "p")
    assert DEFAULT_DB_URL == "sqlite:///experiments.db"


def test_dataclass_config_and_bare_url():
    @dataclasses.dataclass
    class Sql:
        db_path: str = "sqlite:///x.db"

    @dataclasses.dataclass
    class Experiment:
        project_name: str = "dc"
        sql: Sql = dataclasses.field(default_factory=Sql)

    @dataclasses.dataclass
    class Cfg:
        experiment: Experiment = dataclasses.field(default_factory=Experiment)

    settings = read_settings(Cfg(), need_project=True)
    assert (settings.db_url, settings.project_name) == ("sqlite:///x.db", "dc")
    assert read_settings("sqlite:///y.db", need_project=False).db_url == "sqlite:///y.db"
    with pytest.raises(TrackerConfigError):
        read_settings("sqlite:///y.db", need_project=True)


def test_bare_path_means_sqlite():
    assert normalize_url("runs/exp.db") == "sqlite:///runs/exp.db"
    assert normalize_url("postgresql://h/db") == "postgresql://h/db"


def test_stored_config_hides_the_database_password():
    from ato.tracker.storage.settings import redact_db_password

    cfg = {"experiment": {"project_name": "p", "sql": {"db_path": "postgresql://u:secret@h/db"}}}
    assert redact_db_password(cfg)["experiment"]["sql"]["db_path"] == "postgresql://u:***@h/db"
    untouched = {"experiment": {"project_name": "p"}}
    assert redact_db_password(untouched) == {"experiment": {"project_name": "p"}}


def test_finder_must_exist_refuses_a_missing_sqlite_file(tmp_path):
    from ato.tracker import DatabaseNotFoundError, SQLFinder

    url = f"sqlite:///{tmp_path / 'missing.db'}"
    with pytest.raises(DatabaseNotFoundError, match=r"missing\.db") as info:
        SQLFinder(url, must_exist=True)
    assert isinstance(info.value, FileNotFoundError)
    assert not (tmp_path / "missing.db").exists()
    SQLFinder(url)
    assert SQLFinder(url, must_exist=True).list_projects() == []
