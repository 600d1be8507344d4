"""SQLLogger.from_url / SQLFinder.from_url: explicit constructors without a config object."""

from __future__ import annotations

from pathlib import Path

import pytest

from ato.tracker import SQLFinder, SQLLogger, TrackerConfigError


def test_logger_from_url_records_runs_of_the_project(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    logger = SQLLogger.from_url(url, "vision", flush_interval=0.5, connect_timeout=5)
    assert logger.config is None and logger.project_name == "vision" and logger.db_url == url
    plain = logger.run(tags=["a"])
    logger.log_metric("loss", 0.5, 0)
    logger.finish()
    configured = logger.run(config={"lr": 0.1})
    logger.finish()
    logger.close()
    finder = SQLFinder.from_url(url, must_exist=True)
    runs = {run.id: run for run in finder.get_runs_in_project("vision")}
    assert runs[plain].config.to_dict() == {} and runs[plain].tags == ["a"]
    assert runs[configured].config.to_dict() == {"lr": 0.1}
    assert runs[plain].metric_values("loss") == [0.5]


def test_config_constructor_and_from_url_agree(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    config = {"experiment": {"project_name": "p", "sql": {"db_path": url}}}
    by_config, by_url = SQLLogger(config), SQLLogger.from_url(url, "p")
    try:
        assert (by_config.db_url, by_config.project_name) == (by_url.db_url, by_url.project_name)
        assert by_config.timeouts == by_url.timeouts
        assert by_config.get_or_create_project().id == by_url.get_or_create_project().id
    finally:
        by_config.close()
        by_url.close()


@pytest.mark.parametrize(
    ("url", "project", "options", "match"),
    [
        ("sqlite://", "", {}, "project name"),
        ("sqlite://", None, {}, "project name"),
        (None, "p", {}, "URL string"),
        ("sqlite://", "p", {"statement_timeout": 0}, "statement_timeout"),
        ("sqlite://", "p", {"spool_after": -1.0}, "spool_after"),
    ],
)
def test_bad_arguments(url, project, options, match) -> None:
    with pytest.raises(TrackerConfigError, match=match):
        SQLLogger.from_url(url, project, **options)


def test_finder_from_url_rejects_a_config(tmp_path: Path) -> None:
    with pytest.raises(TrackerConfigError, match="URL string"):
        SQLFinder.from_url({"experiment": {}})  # type: ignore[arg-type]
