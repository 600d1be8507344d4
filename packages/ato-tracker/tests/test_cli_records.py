"""Pure helpers behind the CLI output: metric summaries, flat configs, config diffs, formats."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from ato.adict import ADict
from ato.tracker.cli.records import (
    MISSING,
    config_diff,
    flatten_config,
    json_number,
    summarize,
)
from ato.tracker.cli.tables import format_duration, format_number, format_value
from ato.tracker.read.results import Metric, Run

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _run(run_id: int, config: dict, seconds: float | None = None) -> Run:
    end = None if seconds is None else T0 + timedelta(seconds=seconds)
    return Run(
        id=run_id,
        project_id=1,
        project_name="p",
        config=ADict(config),
        structural_hash="h",
        tags=[],
        status="completed",
        start_time=T0,
        end_time=end,
    )


def test_summarize_matches_the_sql_summary_semantics():
    nan = float("nan")
    metrics = [Metric("a", 1.0, 0, T0), Metric("a", 3.0, 1, T0), Metric("a", nan, 2, T0)]
    metrics.append(Metric("b", 5.0, None, T0))
    summary = summarize(metrics)
    assert math.isnan(summary["a"].last) and summary["a"].last_step == 2
    assert (summary["a"].min, summary["a"].max, summary["a"].count) == (1.0, 3.0, 3)
    assert summary["b"].best("min") == 5.0
    assert summarize([Metric("c", nan, 0, T0)])["c"].max is None


def test_flatten_config_uses_dotted_paths_and_keeps_lists_and_empty_sections():
    config = {"model": {"enc": {"depth": 2}, "layers": [1, 2]}, "empty": {}, "lr": 0.1}
    assert flatten_config(config) == {
        "model.enc.depth": 2,
        "model.layers": [1, 2],
        "empty": {},
        "lr": 0.1,
    }


def test_flatten_config_reads_keys_that_shadow_adict_methods():
    assert flatten_config(ADict({"items": 3, "update": {"x": 1}})) == {"items": 3, "update.x": 1}


def test_config_diff_keeps_differing_keys_and_marks_missing_ones():
    runs = [_run(1, {"lr": 0.1, "a": 1}), _run(2, {"lr": 0.2, "a": 1, "extra": True})]
    assert config_diff(runs) == {"extra": [MISSING, True], "lr": [0.1, 0.2]}


def test_config_diff_tells_numbers_and_booleans_apart():
    runs = [_run(1, {"flag": 1}), _run(2, {"flag": True}), _run(3, {"flag": 1.0})]
    assert config_diff(runs) == {"flag": [1, True, 1.0]}
    assert config_diff(runs[:1] + runs[:1]) == {}


def test_json_number_spells_non_finite_values_as_strings():
    values = (1.5, float("nan"), float("inf"), float("-inf"), None)
    assert [json_number(v) for v in values] == [1.5, "NaN", "Infinity", "-Infinity", None]


def test_formats():
    assert format_number(0.123456789) == "0.123457"
    assert format_number(1_500_000.0) == "1.5e+06"
    assert format_number(None) == "-"
    assert [format_number(float(v)) for v in ("nan", "inf", "-inf")] == ["nan", "inf", "-inf"]
    assert format_value("relu") == "relu"
    assert format_value([1, "a", None]) == '[1, "a", null]'
    assert format_value({"k": False}) == '{"k": false}'
    assert format_duration(_run(1, {}, 9.34)) == "9.3s"
    assert format_duration(_run(1, {}, 309)) == "5m09s"
    assert format_duration(_run(1, {}, 7509)) == "2h05m09s"
    assert format_duration(_run(1, {})) == "-"
