from __future__ import annotations

import math
import time
from datetime import datetime, timezone

import pytest

from ato.tracker import (
    MetricValueError,
    RunStateError,
    SQLFinder,
    SQLLogger,
)


def test_run_lifecycle_records_config_tags_status_and_times(make_config):
    cfg = make_config(model={"backbone": "resnet", "depth": 50})
    logger = SQLLogger(cfg)
    before = datetime.now(timezone.utc)
    run_id = logger.run(tags=["resnet", 7])
    assert logger.get_current_run_id() == run_id
    running = logger.get_current_run()
    assert running.status == "running" and running.end_time is None
    logger.finish()
    after = datetime.now(timezone.utc)

    run = SQLFinder(cfg).find_run(run_id)
    assert run.config.model.depth == 50
    assert run.config.experiment.project_name == "proj"
    assert run.tags == ["resnet", "7"]
    assert run.status == "completed"
    assert run.project_name == "proj"
    for moment in (run.start_time, run.end_time):
        assert moment.tzinfo is not None and moment.utcoffset().total_seconds() == 0
    assert before - _slack() <= run.start_time <= run.end_time <= after + _slack()


def _slack():
    from datetime import timedelta

    return timedelta(seconds=1)  # server clocks may round to whole microseconds or drift


def test_metrics_round_trip_in_order_with_steps_and_timestamps(make_config):
    logger = SQLLogger(make_config())
    run_id = logger.run()
    for step in range(5):
        logger.log_metric("loss", 1.0 / (step + 1), step)
    logger.log_metrics({"acc": 0.5, "lr": 1e-5}, step=4)
    logger.log_metric("no_step", 3)
    logger.finish()

    run = SQLFinder(logger.config).find_run(run_id)
    assert [(m.key, m.value, m.step) for m in run.metrics] == [
        ("loss", 1.0, 0),
        ("loss", 0.5, 1),
        ("loss", 1 / 3, 2),
        ("loss", 0.25, 3),
        ("loss", 0.2, 4),
        ("acc", 0.5, 4),
        ("lr", 1e-5, 4),
        ("no_step", 3.0, None),
    ]
    stamps = [m.timestamp for m in run.metrics]
    assert all(s.tzinfo is not None for s in stamps)
    assert stamps == sorted(stamps)
    assert run.metric_values("loss")[-1] == 0.2
    assert run.best_metric("loss", "min") == 0.2


def test_non_finite_values_read_back_exactly_and_nan_is_ignored_by_best(make_config):
    logger = SQLLogger(make_config())
    run_id = logger.run()
    logger.log_metric("loss", float("nan"), 0)
    logger.log_metric("loss", float("inf"), 1)
    logger.log_metric("loss", 0.3, 2)
    logger.log_metric("loss", float("-inf"), 3)
    logger.finish()
    run = SQLFinder(logger.config).find_run(run_id)
    values = run.metric_values("loss")
    assert math.isnan(values[0]) and values[1:] == [math.inf, 0.3, -math.inf]
    assert run.best_metric("loss") == math.inf
    assert run.best_metric("loss", "min") == -math.inf


class _Scalar:
    """Stands in for a numpy/torch scalar: convertible with float() and operator.index()."""

    def __init__(self, value):
        self.value = value

    def __float__(self):
        return float(self.value)

    def __index__(self):
        return int(self.value)


def test_scalar_like_values_and_steps_are_converted(make_config):
    logger = SQLLogger(make_config())
    run_id = logger.run()
    logger.log_metric("acc", _Scalar(0.75), _Scalar(3))
    logger.finish()
    (metric,) = SQLFinder(logger.config).find_run(run_id).metrics
    assert (metric.value, metric.step) == (0.75, 3)
    assert type(metric.step) is int


def test_non_numeric_value_raises_type_error_naming_the_key(make_config):
    logger = SQLLogger(make_config())
    logger.run()
    with pytest.raises(MetricValueError, match="'acc'") as info:
        logger.log_metric("acc", "high", 0)
    assert isinstance(info.value, TypeError)
    logger.finish()


def test_logging_without_a_run_raises(make_config):
    logger = SQLLogger(make_config())
    with pytest.raises(RunStateError, match="run\\(\\)"):
        logger.log_metric("loss", 1.0, 0)
    with pytest.raises(RunStateError):
        logger.log_fingerprint("fwd", "abc")
    with pytest.raises(RunStateError):
        logger.update_status("paused")
    assert logger.get_current_run() is None and logger.get_current_run_id() is None


def test_starting_a_second_run_while_one_is_active_raises(make_config):
    logger = SQLLogger(make_config())
    first = logger.run()
    with pytest.raises(RunStateError, match=str(first)):
        logger.run()
    logger.finish()
    second = logger.run()
    assert second != first
    logger.finish()


def test_finish_is_idempotent_and_keeps_the_first_status(make_config):
    logger = SQLLogger(make_config())
    run_id = logger.run()
    logger.finish("failed")
    end = SQLFinder(logger.config).find_run(run_id).end_time
    logger.finish("completed")
    run = SQLFinder(logger.config).find_run(run_id)
    assert (run.status, run.end_time) == ("failed", end)
    with pytest.raises(RunStateError):
        logger.log_metric("loss", 1.0, 0)


def test_update_status(make_config):
    logger = SQLLogger(make_config())
    run_id = logger.run()
    logger.update_status("paused")
    assert SQLFinder(logger.config).find_run(run_id).status == "paused"
    logger.finish()


def test_start_run_marks_completed(make_config):
    logger = SQLLogger(make_config())
    with logger.start_run(tags=["ctx"]) as run:
        run.log_metric("loss", 0.1, 1)
        run.log_metrics({"acc": 0.9}, 1)
        run.log_artifact("weights.pt", "model")
    found = SQLFinder(logger.config).find_run(run.id)
    assert found.status == "completed" and found.end_time is not None
    assert [m.key for m in found.metrics] == ["loss", "acc"]
    assert found.artifacts[0].path == "weights.pt"


def test_start_run_marks_failed_and_propagates(make_config):
    logger = SQLLogger(make_config())
    with pytest.raises(ZeroDivisionError), logger.start_run() as run:  # noqa: PT012 (fails inside the run)
        run.log_metric("loss", 0.1, 1)
        1 / 0  # noqa: B018
    found = SQLFinder(logger.config).find_run(run.id)
    assert found.status == "failed"
    assert found.metric_values("loss") == [0.1]


def test_logger_context_manager_flushes_and_finishes(make_config):
    cfg = make_config()
    with SQLLogger(cfg, flush_interval=3600) as logger:
        run_id = logger.run()
        logger.log_metric("loss", 1.0, 0)
    run = SQLFinder(cfg).find_run(run_id)
    assert run.status == "completed" and run.metric_values("loss") == [1.0]

    with pytest.raises(KeyError), SQLLogger(cfg) as logger:  # noqa: PT012 (fails inside the block)
        failed_id = logger.run()
        raise KeyError("boom")
    assert SQLFinder(cfg).find_run(failed_id).status == "failed"


def test_batch_size_triggers_a_flush(make_config):
    logger = SQLLogger(make_config(), batch_size=3, flush_interval=3600)
    run_id = logger.run()
    finder = SQLFinder(logger.config)
    for step in range(2):
        logger.log_metric("loss", 1.0, step)
    assert finder.find_run(run_id).metrics == []
    logger.log_metric("loss", 1.0, 2)  # wakes the background flush; log_metric does not wait
    deadline = time.monotonic() + 10
    while len(finder.find_run(run_id).metrics) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(finder.find_run(run_id).metrics) == 3
    logger.finish()


def test_time_threshold_flushes_without_further_logging(make_config):
    logger = SQLLogger(make_config(), flush_interval=0.05)
    run_id = logger.run()
    logger.log_metric("loss", 1.0, 0)
    finder = SQLFinder(logger.config)
    deadline = time.monotonic() + 10
    while not finder.find_run(run_id).metrics and time.monotonic() < deadline:
        time.sleep(0.02)
    assert finder.find_run(run_id).metric_values("loss") == [1.0]
    logger.finish()


def test_flush_returns_the_number_written(make_config):
    logger = SQLLogger(make_config(), batch_size=10, flush_interval=3600)
    logger.run()
    logger.log_metrics({"a": 1, "b": 2, "c": 3}, 0)
    assert logger.flush() == 3
    assert logger.flush() == 0
    logger.finish()


def test_project_is_created_once(make_config):
    cfg = make_config(project="shared")
    first = SQLLogger(cfg).get_or_create_project()
    second = SQLLogger(cfg).get_or_create_project()
    assert first == second and first.name == "shared"
    assert first.created_at.tzinfo is not None


def test_artifacts_with_metadata_for_explicit_run(make_config):
    logger = SQLLogger(make_config())
    run_id = logger.run()
    from pathlib import Path

    artifact_id = logger.log_artifact(run_id, Path("out") / "model.pt", "model", {"epoch": (1, 2)})
    logger.finish()
    (artifact,) = SQLFinder(logger.config).find_run(run_id).artifacts
    assert artifact.id == artifact_id
    assert (artifact.path, artifact.data_type, artifact.metadata) == (
        str(Path("out") / "model.pt"),
        "model",
        {"epoch": [1, 2]},
    )
    assert artifact.timestamp.tzinfo is not None


def test_fingerprints_from_mapping_and_scope_like_object(make_config):
    logger = SQLLogger(make_config())
    run_id = logger.run()
    logger.log_fingerprint("loss_fn", "f00", "runtime")

    class ScopeLike:
        fingerprints = {"forward": ("static", "abc"), "init": "def", "both": {"runtime": "r1"}}

    assert logger.log_fingerprints(ScopeLike()) == 3
    logger.finish()
    found = SQLFinder(logger.config).find_run(run_id).fingerprints
    assert [(f.trace_id, f.trace_type, f.fingerprint) for f in found] == [
        ("loss_fn", "runtime", "f00"),
        ("forward", "static", "abc"),
        ("init", "static", "def"),
        ("both", "runtime", "r1"),
    ]


def test_bad_fingerprint_shape_raises_type_error(make_config):
    from ato.tracker import FingerprintFormatError

    logger = SQLLogger(make_config())
    logger.run()
    with pytest.raises(FingerprintFormatError, match="'fwd'"):
        logger.log_fingerprints({"fwd": 42})
    with pytest.raises(TypeError, match=r"an object with a 'fingerprints' mapping, got int$"):
        logger.log_fingerprints(42)
    logger.finish()


def test_bad_status_raises_value_error(make_config):
    from ato.tracker import InvalidStatusError

    logger = SQLLogger(make_config())
    logger.run()
    with pytest.raises(InvalidStatusError, match="32 characters"):
        logger.update_status("x" * 33)
    with pytest.raises(InvalidStatusError, match="non-empty string"):
        logger.finish("")
    logger.finish()


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"flush_interval": 0}])
def test_bad_buffer_settings_raise_value_error(make_config, kwargs):
    from ato.tracker import BufferSettingsError

    with pytest.raises(BufferSettingsError, match="batch_size") as info:
        SQLLogger(make_config(), **kwargs)
    assert isinstance(info.value, ValueError)


def test_a_too_long_metric_key_is_refused_before_it_can_block_later_flushes(make_config):
    from ato.tracker import MetricKeyError

    logger = SQLLogger(make_config(), flush_interval=3600)
    run_id = logger.run()
    with pytest.raises(MetricKeyError, match="300 characters") as info:
        logger.log_metric("k" * 300, 1.0, 0)
    assert isinstance(info.value, ValueError)
    logger.log_metric("k" * 255, 2.0, 1)
    assert logger.flush() == 1
    logger.finish()
    assert SQLFinder(logger.config).find_run(run_id).metric_values("k" * 255) == [2.0]
