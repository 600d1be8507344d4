"""System metrics (``SQLLogger(system_metrics=...)``, ``ATO_SYSTEM_METRICS``): sampled on a
background thread under ``system/``, through the buffered write path, stopped at finish."""

from __future__ import annotations

import logging
import math
import subprocess
import sys
import threading
import time
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest

from ato.tracker import MissingDependencyError, SQLFinder, SQLLogger, TrackerConfigError
from ato.tracker.write import system_metrics
from ato.tracker.write.buffer import MetricBuffer
from ato.tracker.write.system_metrics import (
    DEFAULT_INTERVAL_S,
    ENV_VAR,
    GpuReader,
    HostReader,
    open_gpus,
    sampling_interval,
)

HOST_KEYS = {
    "system/cpu_percent",
    "system/process_cpu_percent",
    "system/process_memory_rss_bytes",
    "system/memory_used_bytes",
    "system/memory_available_bytes",
    "system/memory_percent",
    "system/disk_read_bytes",
    "system/disk_write_bytes",
    "system/network_sent_bytes",
    "system/network_received_bytes",
}


@pytest.fixture(autouse=True)
def _no_env_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def _wait_for_samples(logger: SQLLogger, count: int, deadline_s: float = 30.0) -> None:
    """Wait (not a timing assertion: a generous bound) until ``count`` samples were logged."""
    sampler = logger._sampler
    assert sampler is not None
    end = time.monotonic() + deadline_s
    while sampler.samples < count:
        assert time.monotonic() < end, f"only {sampler.samples} samples in {deadline_s} s"
        time.sleep(0.01)


def _metrics(db_url: str, run_id: int) -> list[Any]:
    run = SQLFinder(db_url).find_run(run_id)
    assert run is not None
    return list(run.metrics)


def _system_rows(db_url: str, run_id: int) -> list[Any]:
    return [m for m in _metrics(db_url, run_id) if m.key.startswith("system/")]


def test_samples_are_logged_under_system_with_sample_steps_and_real_values(db_url: str) -> None:
    logger = SQLLogger.from_url(db_url, "proj", system_metrics=0.05)
    run_id = logger.run()
    logger.log_metric("loss", 0.5, 0)
    _wait_for_samples(logger, 3)
    logger.finish()

    rows = _system_rows(db_url, run_id)
    by_key: dict[str, list[Any]] = {}
    for row in rows:
        by_key.setdefault(row.key, []).append(row)
    assert set(by_key) == HOST_KEYS  # no GPU on this machine: no gpu keys
    counts = {len(series) for series in by_key.values()}
    assert len(counts) == 1 and counts.pop() >= 3  # every key in every sample
    for series in by_key.values():
        steps = sorted(row.step for row in series)
        assert steps == list(range(len(series)))  # the sample number, each once: never doubled
        by_step = sorted(series, key=lambda row: row.step)
        stamps = [row.timestamp for row in by_step]
        assert stamps == sorted(stamps)  # wall-clock x axis, increasing with the step
    assert all(math.isfinite(row.value) for row in rows)
    last = {key: max(series, key=lambda r: r.step).value for key, series in by_key.items()}
    assert last["system/process_memory_rss_bytes"] > 1_000_000  # a Python process: > 1 MB
    assert last["system/memory_used_bytes"] > 0 and last["system/memory_available_bytes"] > 0
    assert 0 <= last["system/cpu_percent"] <= 100
    assert 0 < last["system/memory_percent"] < 100
    for key in ("disk_read_bytes", "disk_write_bytes", "network_sent_bytes"):
        assert last[f"system/{key}"] >= 0  # counters since sampling began
    assert [m.key for m in _metrics(db_url, run_id)].count("loss") == 1


def test_sampling_stops_at_finish(db_url: str) -> None:
    logger = SQLLogger.from_url(db_url, "proj", system_metrics=0.02)
    run_id = logger.run()
    _wait_for_samples(logger, 2)
    sampler = logger._sampler
    assert sampler is not None
    logger.finish()
    assert not sampler.thread.is_alive() and logger._sampler is None
    stored = len(_system_rows(db_url, run_id))
    assert stored == sampler.samples * len(HOST_KEYS)
    logger.close()  # flushes anything still buffered: nothing was
    assert len(_system_rows(db_url, run_id)) == stored


def test_each_run_gets_its_own_sampler_and_steps(sqlite_url: str) -> None:
    logger = SQLLogger.from_url(sqlite_url, "proj", system_metrics=0.02)
    with logger.start_run() as first:
        _wait_for_samples(logger, 2)
    with logger.start_run() as second:
        _wait_for_samples(logger, 2)
    for run_id in (first.id, second.id):
        steps = Counter(row.step for row in _system_rows(sqlite_url, run_id))
        assert sorted(steps) == list(range(len(steps)))
        assert set(steps.values()) == {len(HOST_KEYS)}


def test_no_sample_is_taken_on_the_callers_thread_and_a_slow_sample_blocks_nothing(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    readers: list[int] = []
    release = threading.Event()
    real_read = HostReader.read

    def read(self: HostReader) -> Any:
        readers.append(threading.get_ident())
        release.wait(30)  # the first sample hangs until the caller has logged and flushed
        return real_read(self)

    monkeypatch.setattr(HostReader, "read", read)
    logger = SQLLogger.from_url(db_url, "proj", system_metrics=0.01)
    run_id = logger.run()
    end = time.monotonic() + 30
    while not readers:  # the sampler is now inside a hanging read
        assert time.monotonic() < end
        time.sleep(0.01)
    for step in range(2000):
        logger.log_metric("loss", float(step), step)
    logger.flush()
    assert len(_metrics(db_url, run_id)) == 2000  # logged while it hung
    release.set()
    _wait_for_samples(logger, 2)
    sampler = logger._sampler
    assert sampler is not None
    logger.finish()
    assert threading.get_ident() not in readers
    assert set(readers) == {sampler.thread.ident}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", DEFAULT_INTERVAL_S),
        ("true", DEFAULT_INTERVAL_S),
        (" TRUE ", DEFAULT_INTERVAL_S),
        ("yes", DEFAULT_INTERVAL_S),
        ("2.5", 2.5),
        ("30", 30.0),
        ("1.0", 1.0),
        ("0", None),
        ("false", None),
        ("off", None),
        ("", None),
    ],
)
def test_the_environment_switch(
    raw: str, expected: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, raw)
    assert sampling_interval(None) == expected


def test_no_environment_switch_means_off() -> None:
    assert sampling_interval(None) is None


@pytest.mark.parametrize("raw", ["maybe", "-1", "0.0.1", "nan", "inf", "-0.5", "10s"])
def test_a_bad_environment_value_is_a_clear_error(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, raw)
    with pytest.raises(TrackerConfigError, match=f"{ENV_VAR}={raw!r}") as caught:
        sampling_interval(None)
    assert isinstance(caught.value, ValueError)
    with pytest.raises(TrackerConfigError, match=ENV_VAR):
        SQLLogger.from_url("sqlite://", "proj")


@pytest.mark.parametrize(
    ("setting", "expected"),
    [(True, DEFAULT_INTERVAL_S), (False, None), (3, 3.0), (0.25, 0.25)],
)
def test_the_argument(setting: bool | float, expected: float | None) -> None:
    assert sampling_interval(setting) == expected


@pytest.mark.parametrize("setting", [0, -1.0, math.nan, math.inf, "10", [1]])
def test_a_bad_argument_is_a_clear_error(setting: Any) -> None:
    with pytest.raises(TrackerConfigError, match=f"system_metrics={setting!r}".replace("[", r"\[")):
        sampling_interval(setting)


def test_the_argument_wins_over_the_environment(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, "1")
    on = SQLLogger.from_url(sqlite_url, "proj")
    with on.start_run():
        assert on._sampler is not None and on._sampler.interval == DEFAULT_INTERVAL_S
    off = SQLLogger.from_url(sqlite_url, "proj", system_metrics=False)
    with off.start_run():
        assert off._sampler is None


def test_missing_psutil_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)  # import psutil now raises ImportError
    with pytest.raises(MissingDependencyError, match=r"ato-tracker\[system\]"):
        SQLLogger.from_url("sqlite://", "proj", system_metrics=True)
    SQLLogger.from_url("sqlite://", "proj")  # not asked for: no psutil needed


def test_importing_the_tracker_imports_no_psutil_or_nvml() -> None:
    code = "import sys, ato.tracker; print(sorted({'psutil', 'pynvml'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_gpu_gives_no_reader_and_one_debug_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(system_metrics, "_gpu_absence_logged", False)
    with caplog.at_level(logging.DEBUG, logger="ato.tracker"):
        assert open_gpus() is None  # this machine has no NVIDIA driver
        assert open_gpus() is None
    notes = [r for r in caplog.records if "no GPU system metrics" in r.getMessage()]
    assert len(notes) == 1 and notes[0].levelno == logging.DEBUG


class _FakeNvml:
    """An NVML double with two devices; device 1 cannot report its power."""

    NVML_TEMPERATURE_GPU = 0

    class NVMLError(Exception):
        pass

    def __init__(self) -> None:
        self.shut = False

    def nvmlInit(self) -> None:  # noqa: N802 - NVML's names
        pass

    def nvmlShutdown(self) -> None:  # noqa: N802
        self.shut = True

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return 2

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:  # noqa: N802
        return index

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> Any:  # noqa: N802
        return SimpleNamespace(gpu=40 + handle, memory=10)

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:  # noqa: N802
        return SimpleNamespace(used=2 * 2**30, total=8 * 2**30, free=6 * 2**30)

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:  # noqa: N802
        return 60

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:  # noqa: N802
        if handle == 1:
            raise self.NVMLError("Not Supported")
        return 123_456  # milliwatts


def test_gpu_readings_per_device_in_standard_units(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeNvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    reader = open_gpus()
    assert isinstance(reader, GpuReader)
    values = dict(reader.read())
    assert values["gpu0/utilization_percent"] == 40.0
    assert values["gpu1/utilization_percent"] == 41.0
    assert values["gpu0/memory_used_bytes"] == 2 * 2**30
    assert values["gpu0/memory_total_bytes"] == 8 * 2**30
    assert values["gpu0/memory_percent"] == 25.0
    assert values["gpu1/temperature_celsius"] == 60.0
    assert values["gpu0/power_watts"] == pytest.approx(123.456)
    assert "gpu1/power_watts" not in values  # unsupported reading: left out, no error
    reader.close()
    assert fake.shut


def test_samples_are_written_by_the_flush_thread_never_by_the_sampler(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushers: list[int] = []
    real_flush = MetricBuffer.flush

    def flush(self: MetricBuffer, *, lock_timeout: float = -1) -> int:
        flushers.append(threading.get_ident())
        return real_flush(self, lock_timeout=lock_timeout)

    monkeypatch.setattr(MetricBuffer, "flush", flush)
    logger = SQLLogger.from_url(db_url, "proj", flush_interval=0.05, system_metrics=0.02)
    run_id = logger.run()
    sampler = logger._sampler
    assert sampler is not None
    end = time.monotonic() + 30
    while len(_system_rows(db_url, run_id)) < 2 * len(HOST_KEYS):  # the caller stays idle
        assert time.monotonic() < end, "samples were not written by the flush thread"
        time.sleep(0.02)
    logger.finish()
    assert sampler.thread.ident not in flushers
